"""stubs.test's driver.

  stubs_driver.py generate DIR LOOM_DIR TEST...   compiles each ONNX backend
      test's model with `loomc --emit=plan,stubs --stub-name=mN` into DIR/mN,
      writes its inputs as raw files, and writes DIR/main.cpp (one program
      running every model through its typed API: reads the raw inputs,
      writes the raw outputs) and DIR/CMakeLists.txt;
  stubs_driver.py check DIR                        runs the program and
      compares every output with the test's expected output_N.pb."""
import json
import os
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

CTYPES = {"f32": ("float", np.float32), "f64": ("double", np.float64),
          "i64": ("int64_t", np.int64), "i32": ("int32_t", np.int32)}


def ident(name):
    s = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return "_" + s if not s or s[0].isdigit() else s


def generate(out, tests):
    models = []
    for i, test in enumerate(tests):
        name = "m%d" % i
        subprocess.run(["loomc", os.path.join(test, "model.onnx"), "-o",
                        os.path.join(out, name), "--emit=plan,stubs",
                        "--stub-name=" + name, "--quiet"], check=True)
        plan = json.load(open(os.path.join(out, name, "plan.json")))
        data = os.path.join(test, "test_data_set_0")
        for k, v in enumerate(plan["inputs"]):
            t = numpy_helper.to_array(onnx.load_tensor(os.path.join(data, "input_%d.pb" % k)))
            t.astype(CTYPES[v["dtype"]][1]).tofile(os.path.join(out, name, "in%d.raw" % k))
        models.append((name, test, plan))
    cls = lambda n: n[0].upper() + n[1:]
    src = ['#include <cstdio>', '#include <fstream>', '#include <string>']
    src += ['#include "%s.h"' % m[0] for m in models]
    src += ['',
            'template <typename T> void readRaw(const std::string &p, std::vector<T> &v) {',
            '  std::ifstream f(p, std::ios::binary);',
            '  f.read(reinterpret_cast<char *>(v.data()), std::streamsize(v.size() * sizeof(T)));',
            '}',
            'template <typename T> void writeRaw(const std::string &p, const std::vector<T> &v) {',
            '  std::ofstream f(p, std::ios::binary);',
            '  f.write(reinterpret_cast<const char *>(v.data()), std::streamsize(v.size() * sizeof(T)));',
            '}',
            '', 'int main(int argc, char **argv) {', '  std::string dir = argv[1];']
    for name, test, plan in models:
        c = cls(name)
        src.append('  {')
        src.append('    auto m = %s::load(dir + "/%s");' % (c, name))
        src.append('    %sInputs in;' % c)
        for k, v in enumerate(plan["inputs"]):
            n = int(np.prod(v["shape"])) if v["shape"] else 1
            src.append('    in.%s.resize(%d);' % (ident(v["name"]), n))
            src.append('    readRaw(dir + "/%s/in%d.raw", in.%s);' % (name, k, ident(v["name"])))
        src.append('    %sOutputs out;' % c)
        src.append('    m->run(in, out);')
        for k, v in enumerate(plan["outputs"]):
            src.append('    writeRaw(dir + "/%s/out%d.raw", out.%s);' % (name, k, ident(v["name"])))
        src.append('  }')
    src += ['  std::printf("ran %d models\\n");' % len(models), '}']
    open(os.path.join(out, "main.cpp"), "w").write("\n".join(src) + "\n")
    cm = ["cmake_minimum_required(VERSION 3.16)", "project(stubs_test CXX)",
          "find_package(Loom REQUIRED)"]
    cm += ["add_subdirectory(%s/runtime)" % m[0] for m in models]
    cm += ["add_executable(run_models main.cpp)",
           "target_link_libraries(run_models PRIVATE %s)" %
           " ".join(m[0] + "_runtime" for m in models)]
    open(os.path.join(out, "CMakeLists.txt"), "w").write("\n".join(cm) + "\n")
    json.dump([[m[0], m[1]] for m in models], open(os.path.join(out, "models.json"), "w"))


def check(out):
    subprocess.run([os.path.join(out, "build", "run_models"), out], check=True,
                   stdout=subprocess.DEVNULL)
    for name, test in json.load(open(os.path.join(out, "models.json"))):
        plan = json.load(open(os.path.join(out, name, "plan.json")))
        for k, v in enumerate(plan["outputs"]):
            want = numpy_helper.to_array(onnx.load_tensor(
                os.path.join(test, "test_data_set_0", "output_%d.pb" % k)))
            got = np.fromfile(os.path.join(out, name, "out%d.raw" % k),
                              dtype=CTYPES[v["dtype"]][1]).reshape(want.shape)
            ok = np.allclose(got, want, rtol=1e-4, atol=1e-5)
            print("%s %s: output_%d %s" % (name, os.path.basename(test), k,
                                           "matches" if ok else "MISMATCH"))


if sys.argv[1] == "generate":
    generate(sys.argv[2], sys.argv[4:])
else:
    check(sys.argv[2])
