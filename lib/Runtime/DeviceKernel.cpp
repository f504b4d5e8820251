//===- DeviceKernel.cpp - Running C device kernels (DeviceKernel.h) -------===//
//
// A device kernel sees a LoomKernelCall built from the task's KernelArgs;
// `impl` points to the runtime's side of the call (the arguments and the
// CPU kernel the registry chose), which loom_cpu_kernel and the attribute
// accessors use.
//
//===----------------------------------------------------------------------===//
#include "loom/Runtime/DeviceKernel.h"
#include "loom/Runtime/Session.h"

#include <string>
#include <variant>
#include <vector>

using namespace loom::rt;

namespace {

struct CallImpl {
  KernelArgs *args;
  const KernelEntry *cpu;
};

thread_local std::string lastError;

const Attrs &attrsOf(const LoomKernelCall *call) {
  return static_cast<const CallImpl *>(call->impl)->args->attrs;
}

} // namespace

extern "C" {

int loom_cpu_kernel(const LoomKernelCall *call) {
  const auto *impl = static_cast<const CallImpl *>(call->impl);
  if (!impl || !impl->cpu) {
    loom_set_error("no CPU kernel for this call");
    return 1;
  }
  try {
    impl->cpu->fn(*impl->args);
  } catch (const KernelError &e) {
    loom_set_error(e.message.c_str());
    return 1;
  }
  return 0;
}

int64_t loom_attr_int(const LoomKernelCall *call, const char *name,
                      int64_t dflt) {
  return attrsOf(call).getInt(name, dflt);
}

double loom_attr_float(const LoomKernelCall *call, const char *name,
                       double dflt) {
  return attrsOf(call).getFloat(name, dflt);
}

const char *loom_attr_string(const LoomKernelCall *call, const char *name,
                             const char *dflt) {
  const AttrValue *v = attrsOf(call).find(name);
  const auto *s = v ? std::get_if<std::string>(v) : nullptr;
  return s ? s->c_str() : dflt;
}

int32_t loom_attr_ints(const LoomKernelCall *call, const char *name,
                       const int64_t **values) {
  const AttrValue *v = attrsOf(call).find(name);
  const auto *ints = v ? std::get_if<std::vector<int64_t>>(v) : nullptr;
  *values = ints ? ints->data() : nullptr;
  return ints ? int32_t(ints->size()) : 0;
}

void loom_set_error(const char *message) { lastError = message ? message : ""; }

const char *loom_last_error(void) { return lastError.c_str(); }

} // extern "C"

KernelFn loom::rt::wrapDeviceKernel(LoomKernelFn fn, const PlanTask &task,
                                    const KernelEntry *cpu) {
  std::string name = task.name, kernel = task.kernel, device = task.device;
  return [=](KernelArgs &args) {
    auto tensors = [](const std::vector<TensorRef> &refs) {
      std::vector<LoomTensor> out;
      for (const TensorRef &r : refs)
        out.push_back(LoomTensor{r.data, r.shape.data(), int32_t(r.shape.size()),
                                 int32_t(r.dtype), r.present ? 1 : 0});
      return out;
    };
    std::vector<LoomTensor> ins = tensors(args.inputs);
    std::vector<LoomTensor> outs = tensors(args.outputs);
    CallImpl impl{&args, cpu};
    LoomKernelCall call{name.c_str(),  kernel.c_str(),      device.c_str(),
                        int32_t(ins.size()), ins.data(), int32_t(outs.size()),
                        outs.data(),   int32_t(args.threads), &impl};
    lastError.clear();
    if (fn(&call) != 0)
      throw KernelError{"device kernel for " + device + " failed: " +
                        (lastError.empty() ? "no message" : lastError)};
  };
}
