//===- LoomAll.td - Every op of the loom dialect ------------*- tablegen -*-===//
// One tablegen unit for the whole dialect: hand-written ops (LoomOps.td) and
// the ops generated from ONNX schemas (LoomOnnxOps.td).
#ifndef LOOM_ALL
#define LOOM_ALL
include "LoomOps.td"
include "LoomOnnxOps.td"
#endif
