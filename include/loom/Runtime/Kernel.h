//===- Kernel.h - Tensors, attributes and the kernel registry ---*- C++ -*-===//
//
// The runtime's view of one kernel call: typed tensor views over arena memory,
// the attributes the plan stores for the task, and the registry that maps a
// kernel name (the `loom` op mnemonic, e.g. "conv", "matmul", "add") and the
// input dtypes to an implementation. No MLIR dependency.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_RUNTIME_KERNEL_H
#define LOOM_RUNTIME_KERNEL_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace loom::rt {

/// Element types the runtime knows. Names ("f32", "i64", "bool", ...) are the
/// ones plan.json uses.
enum class DType : uint8_t {
  F32, F64, F16, BF16, I8, I16, I32, I64, U8, U16, U32, U64, Bool
};

size_t dtypeSize(DType t);
const char *dtypeName(DType t);
std::optional<DType> parseDType(std::string_view name);
bool isFloat(DType t);
bool isSigned(DType t);

using Shape = std::vector<int64_t>;
int64_t numElements(const Shape &shape);

/// A non-owning view of one tensor. An absent optional input or output has
/// `present == false` and `data == nullptr`.
struct TensorRef {
  DType dtype = DType::F32;
  Shape shape;
  void *data = nullptr;
  bool present = true;

  int64_t numElements() const { return loom::rt::numElements(shape); }
  size_t byteSize() const { return size_t(numElements()) * dtypeSize(dtype); }
  size_t rank() const { return shape.size(); }
  template <typename T> T *as() const { return static_cast<T *>(data); }
};

/// A tensor that owns its bytes (attribute values, test data, outputs).
struct Tensor {
  DType dtype = DType::F32;
  Shape shape;
  std::vector<uint8_t> bytes;

  TensorRef ref() { return {dtype, shape, bytes.data(), true}; }
  int64_t numElements() const { return loom::rt::numElements(shape); }
};

/// One attribute value as stored in the plan.
using AttrValue =
    std::variant<int64_t, double, std::string, std::vector<int64_t>,
                 std::vector<double>, std::vector<std::string>, DType, Tensor>;

/// The attributes of one task. Lookups with a default return the default when
/// the attribute is absent; `require*` throw KernelError when it is absent.
class Attrs {
public:
  void set(std::string name, AttrValue v) { values[std::move(name)] = std::move(v); }
  bool has(std::string_view name) const { return values.count(std::string(name)) != 0; }
  const AttrValue *find(std::string_view name) const;

  int64_t getInt(std::string_view name, int64_t dflt) const;
  double getFloat(std::string_view name, double dflt) const;
  std::string getString(std::string_view name, std::string dflt) const;
  std::vector<int64_t> getInts(std::string_view name, std::vector<int64_t> dflt = {}) const;
  std::vector<double> getFloats(std::string_view name, std::vector<double> dflt = {}) const;
  std::vector<std::string> getStrings(std::string_view name) const;
  std::optional<DType> getDType(std::string_view name) const;
  const Tensor *getTensor(std::string_view name) const;

  int64_t requireInt(std::string_view name) const;
  const std::map<std::string, AttrValue, std::less<>> &all() const { return values; }

private:
  std::map<std::string, AttrValue, std::less<>> values;
};

/// Thrown by kernels on inputs they cannot handle (the executor turns it into
/// an error message naming the task).
struct KernelError {
  std::string message;
};

/// Everything one kernel call sees. Output tensors are allocated by the caller
/// with the shapes the compiler computed; a kernel fills them.
struct KernelArgs {
  const Attrs &attrs;
  std::vector<TensorRef> inputs;
  std::vector<TensorRef> outputs;
  /// Threads the kernel may use (fast paths only; references are serial).
  int threads = 1;
};

using KernelFn = std::function<void(KernelArgs &)>;

/// Which implementation a registered kernel is.
enum class KernelImpl { Reference, Fast };

struct KernelEntry {
  std::string name;
  /// Input dtypes this entry accepts; empty = any (the kernel dispatches).
  std::vector<DType> inputDTypes;
  KernelImpl impl = KernelImpl::Reference;
  KernelFn fn;
  /// For fast paths: whether this call can take the fast path (shapes,
  /// attributes, dtypes). Null = always.
  std::function<bool(const KernelArgs &)> accepts;
};

class KernelRegistry {
public:
  static KernelRegistry &global();
  void add(KernelEntry entry);
  /// The best entry for a call: a fast path whose `accepts` holds, else the
  /// reference. Null when no kernel of that name exists.
  const KernelEntry *lookup(std::string_view name, const KernelArgs &args,
                            bool allowFast = true) const;
  const KernelEntry *lookupReference(std::string_view name,
                                     const std::vector<DType> &inputs) const;
  std::vector<std::string> names() const;

private:
  std::multimap<std::string, KernelEntry, std::less<>> entries;
};

/// Registers every built-in kernel exactly once (reference and fast paths).
void registerBuiltinKernels();

} // namespace loom::rt

#endif // LOOM_RUNTIME_KERNEL_H
