/*===- DeviceKernel.h - The C interface of device kernels --------*- C -*-===//
 *
 * A device kernel is a plain C function that runs one task of a plan:
 *
 *   int loom_npu_attention_f32(const LoomKernelCall *call);
 *
 * `loomc --emit=stubs` generates one such function per (device, kernel,
 * input dtype) the plan uses, whose default body runs the runtime's CPU
 * kernel (`loom_cpu_kernel`), and the model class that hands them to the
 * runtime. A vendor backend replaces a device's generated file, or links a
 * library defining the same symbols (the generated defaults are weak).
 *
 * A kernel reads `inputs` and writes `outputs` (dense, row-major, in the
 * plan's memory; shapes as the compiler computed them) and returns 0, or
 * non-zero after `loom_set_error` when it cannot run the call.
 *
 *===----------------------------------------------------------------------===*/
#ifndef LOOM_RUNTIME_DEVICEKERNEL_H
#define LOOM_RUNTIME_DEVICEKERNEL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Element types, in the order of loom::rt::DType. */
typedef enum LoomDType {
  LOOM_F32, LOOM_F64, LOOM_F16, LOOM_BF16, LOOM_I8, LOOM_I16, LOOM_I32,
  LOOM_I64, LOOM_U8, LOOM_U16, LOOM_U32, LOOM_U64, LOOM_BOOL
} LoomDType;

/** One operand. An absent optional operand has present == 0, data == 0. */
typedef struct LoomTensor {
  void *data;
  const int64_t *shape;
  int32_t rank;
  int32_t dtype; /* LoomDType */
  int32_t present;
} LoomTensor;

/** One call of a kernel on one task. */
typedef struct LoomKernelCall {
  const char *task;   /* the task's name (ONNX node) */
  const char *kernel; /* the kernel name, e.g. "attention" */
  const char *device; /* the device the task is placed on */
  int32_t num_inputs;
  const LoomTensor *inputs;
  int32_t num_outputs;
  const LoomTensor *outputs;
  int32_t threads;    /* threads the kernel may use */
  const void *impl;   /* the runtime's view of the call (attributes, CPU kernel) */
} LoomKernelCall;

typedef int (*LoomKernelFn)(const LoomKernelCall *call);

/** Runs the runtime's CPU kernel for `call` (the default of every stub).
 *  Returns 0, or non-zero with the message in loom_last_error(). */
int loom_cpu_kernel(const LoomKernelCall *call);

/** The task's attributes (names as in plan.json); `dflt` when absent. */
int64_t loom_attr_int(const LoomKernelCall *call, const char *name, int64_t dflt);
double loom_attr_float(const LoomKernelCall *call, const char *name, double dflt);
/** A string attribute, or `dflt`; valid during the call. */
const char *loom_attr_string(const LoomKernelCall *call, const char *name,
                             const char *dflt);
/** An integer-list attribute: its length (0 when absent), `*values` set to
 *  its elements (valid during the call). */
int32_t loom_attr_ints(const LoomKernelCall *call, const char *name,
                       const int64_t **values);

/** Records the message of a failing kernel (for this thread). */
void loom_set_error(const char *message);
/** The message of this thread's last failure ("" if none). */
const char *loom_last_error(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LOOM_RUNTIME_DEVICEKERNEL_H */
