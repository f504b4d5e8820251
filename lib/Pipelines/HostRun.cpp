//===- HostRun.cpp - Run a loom graph on the host, in process -------------===//
#include "loom/Pipelines/HostRun.h"

#include "loom/Emit/PlanEmitter.h"
#include "loom/Pipelines/Pipelines.h"
#include "loom/Runtime/Session.h"
#include "loom/Runtime/TensorProtoIO.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <fstream>
#include <thread>

using namespace mlir;

namespace {

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The `.pb` files of a folder, sorted by name.
std::vector<std::string> pbFiles(llvm::StringRef dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec))
    if (llvm::sys::path::extension(it->path()) == ".pb")
      files.push_back(it->path());
  std::sort(files.begin(), files.end());
  return files;
}

/// Whether `file` is an expected output of the ONNX test-data layout
/// (`output_N.pb`); returns N.
std::optional<size_t> outputIndex(llvm::StringRef file) {
  llvm::StringRef stem = llvm::sys::path::stem(file);
  size_t n = 0;
  if (!stem.consume_front("output_") || stem.getAsInteger(10, n))
    return std::nullopt;
  return n;
}

llvm::Expected<onnx::TensorProto> readProto(const std::string &file) {
  std::ifstream in(file, std::ios::binary);
  onnx::TensorProto proto;
  if (!in || !proto.ParseFromIstream(&in))
    return error("'" + file + "' is not a serialized ONNX TensorProto");
  return proto;
}

llvm::Expected<loom::InputSet>
readSet(llvm::StringRef dir, const std::vector<std::string> &inputNames,
        std::vector<loom::rt::Tensor> *references) {
  loom::InputSet set;
  std::vector<std::string> files = pbFiles(dir);
  size_t position = 0;
  for (const std::string &file : files) {
    std::optional<size_t> output = outputIndex(file);
    if (output && !references)
      continue;
    llvm::Expected<onnx::TensorProto> proto = readProto(file);
    if (!proto)
      return proto.takeError();
    loom::rt::Tensor tensor;
    try {
      tensor = loom::rt::tensorFromProto(*proto);
    } catch (const std::exception &e) {
      return error("'" + file + "': " + e.what());
    }
    if (output) {
      if (references->size() <= *output)
        references->resize(*output + 1);
      (*references)[*output] = std::move(tensor);
      continue;
    }
    std::string name = proto->name();
    if (std::find(inputNames.begin(), inputNames.end(), name) ==
        inputNames.end()) {
      if (!name.empty() || position >= inputNames.size())
        return error("'" + file + "': " +
                     (name.empty() ? std::string("more files than inputs")
                                   : "no graph input named '" + name + "'"));
      name = inputNames[position];
    }
    ++position;
    set[name] = std::move(tensor);
  }
  if (set.empty())
    return error("'" + dir + "' has no input .pb files");
  return set;
}

} // namespace

llvm::Expected<std::vector<loom::InputSet>>
loom::readInputSets(const std::vector<std::string> &folders,
                    const std::vector<std::string> &inputNames,
                    std::vector<std::vector<rt::Tensor>> *references) {
  std::vector<InputSet> sets;
  for (const std::string &folder : folders) {
    if (!llvm::sys::fs::is_directory(folder))
      return error("'" + folder + "' is not a folder");
    std::vector<std::string> subdirs;
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(folder, ec), end; it != end && !ec;
         it.increment(ec))
      if (llvm::sys::path::filename(it->path()).starts_with("test_data_set_") &&
          llvm::sys::fs::is_directory(it->path()))
        subdirs.push_back(it->path());
    std::sort(subdirs.begin(), subdirs.end());
    if (subdirs.empty())
      subdirs.push_back(folder);
    for (const std::string &dir : subdirs) {
      if (references)
        references->emplace_back();
      llvm::Expected<InputSet> set =
          readSet(dir, inputNames, references ? &references->back() : nullptr);
      if (!set)
        return set.takeError();
      sets.push_back(std::move(*set));
    }
  }
  return sets;
}

/// The `loom.name` of each argument (or result) of @main, in order
/// (`input3` / `output3` where there is none).
static std::vector<std::string> mainValueNames(ModuleOp module, bool results) {
  std::vector<std::string> names;
  auto func = module.lookupSymbol<func::FuncOp>("main");
  if (!func)
    return names;
  unsigned count = results ? func.getNumResults() : func.getNumArguments();
  for (unsigned i = 0; i < count; ++i) {
    auto name = results ? func.getResultAttrOfType<StringAttr>(i, "loom.name")
                        : func.getArgAttrOfType<StringAttr>(i, "loom.name");
    names.push_back(name ? name.str()
                         : (results ? "output" : "input") + std::to_string(i));
  }
  return names;
}

std::vector<std::string> loom::graphInputNames(ModuleOp module) {
  return mainValueNames(module, /*results=*/false);
}

std::vector<std::string> loom::graphOutputNames(ModuleOp module) {
  return mainValueNames(module, /*results=*/true);
}

llvm::Expected<std::vector<loom::HostRunResult>>
loom::runOnHost(ModuleOp module, const std::vector<InputSet> &inputs,
                ArrayRef<Value> observe, int threads) {
  IRMapping mapping;
  OwningOpRef<ModuleOp> copy = cast<ModuleOp>(module->clone(mapping));
  auto func = copy->lookupSymbol<func::FuncOp>("main");
  if (!func || func.isExternal())
    return error("the module has no func.func @main with a body");
  // Observed values become extra outputs of the copy.
  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  unsigned firstObserved = ret.getNumOperands();
  SmallVector<Value> results(ret.getOperands());
  for (Value v : observe) {
    Value mapped = mapping.lookupOrNull(v);
    if (!mapped)
      return error("an observed value is not in the module");
    results.push_back(mapped);
  }
  ret->setOperands(results);
  SmallVector<Type> resultTypes;
  for (Value v : results)
    resultTypes.push_back(v.getType());
  func.setFunctionType(
      FunctionType::get(module.getContext(), func.getArgumentTypes(), resultTypes));
  SmallVector<DictionaryAttr> resultAttrs;
  for (unsigned i = 0; i < firstObserved; ++i)
    resultAttrs.push_back(func.getResultAttrDict(i));
  Builder b(module.getContext());
  for (unsigned i = firstObserved; i < results.size(); ++i)
    resultAttrs.push_back(b.getDictionaryAttr(b.getNamedAttr(
        "loom.name",
        b.getStringAttr("__observed_" + std::to_string(i - firstObserved)))));
  func.setAllResultAttrs(resultAttrs);

  PassManager pm(module.getContext());
  PlanPipelineOptions options;
  options.target = "host";
  options.split = false;
  addPlanPipeline(pm, options);
  // Diagnostics of the copy reach the context's handler (loomc prints them).
  if (failed(pm.run(*copy)))
    return error("cannot build the host plan to run the model");
  std::string planJson, weights;
  {
    llvm::raw_string_ostream planOs(planJson), weightsOs(weights);
    if (failed(emit::emitPlan(*copy, planOs, weightsOs)))
      return error("cannot emit the host plan to run the model");
  }

  std::vector<HostRunResult> runs;
  try {
    rt::SessionOptions sessionOptions;
    sessionOptions.threads =
        threads > 0 ? threads
                    : int(std::max(1u, std::thread::hardware_concurrency()));
    auto session = rt::Session::loadEmbedded(planJson, weights.data(),
                                             weights.size(), "<host run>",
                                             sessionOptions);
    const auto &outs = session->outputs();
    for (const InputSet &set : inputs) {
      for (const auto &info : session->inputs()) {
        auto it = set.find(info.name);
        if (it != set.end())
          session->setInput(info.name, it->second);
      }
      session->run();
      HostRunResult r;
      for (size_t i = 0; i < outs.size(); ++i) {
        if (i < firstObserved)
          r.outputs[outs[i].name] = session->getOutput(i);
        else
          r.observed.push_back(session->getOutput(i));
      }
      runs.push_back(std::move(r));
    }
  } catch (const std::exception &e) {
    return error(llvm::Twine("running the model on the host: ") + e.what());
  }
  return runs;
}
