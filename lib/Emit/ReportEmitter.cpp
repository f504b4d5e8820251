//===- ReportEmitter.cpp - report.html: the plan for a person -------------===//
//
// A self-contained page (inline CSS and SVG, no scripts, no external files):
// the summary (makespan, lower bound, single-device plans, speed-up), a Gantt
// chart with one row per device queue and per link, per-device utilization,
// memory per arena, and the tasks that fell back from the device the
// partitioner preferred. Deterministic: no dates, no randomness.
//
//===----------------------------------------------------------------------===//
#include "loom/Emit/PlanEmitter.h"

#include "Plan/PlanOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/Path.h"

#include <fmt/format.h>

#include <map>
#include <string>
#include <vector>

using namespace mlir;
using namespace loom::plan;

namespace {

std::string escape(StringRef text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    default: out += c;
    }
  }
  return out;
}

/// A stable colour per kernel name (FNV-1a hash to a hue).
std::string colour(StringRef kernel) {
  uint32_t h = 2166136261u;
  for (char c : kernel)
    h = (h ^ uint8_t(c)) * 16777619u;
  return fmt::format("hsl({}, 55%, 62%)", h % 360);
}

double attrUs(Operation *op, StringRef name) {
  auto a = op->getAttrOfType<FloatAttr>(name);
  return a ? a.getValueAsDouble() : 0.0;
}

} // namespace

LogicalResult loom::emit::emitReport(ModuleOp module, llvm::raw_ostream &os) {
  FailureOr<ScheduleOp> found = getPlanSchedule(module);
  if (failed(found))
    return failure();
  ScheduleOp schedule = *found;
  Block &body = schedule.getBodyBlock();
  double makespan =
      schedule.getMakespanUs() ? schedule.getMakespanUs()->convertToDouble() : 0;
  double bound = attrUs(schedule, "lower_bound_us");
  auto sourceAttr = module->getAttrOfType<StringAttr>("loom.source");
  std::optional<StringRef> source;
  if (sourceAttr)
    source = llvm::sys::path::filename(sourceAttr.getValue());
  auto target = module->getAttrOfType<StringAttr>("plan.target");

  // Rows of the Gantt chart: device queues, then links in order of use.
  std::vector<std::string> rows;
  std::map<std::string, size_t> rowOf;
  std::map<std::string, double> busy;
  for (auto dev : module.getOps<DeviceOp>())
    for (uint64_t q = 0; q < dev.getQueues(); ++q) {
      std::string key = fmt::format("{}[{}]", dev.getSymName().str(), q);
      rowOf[key] = rows.size();
      rows.push_back(key);
    }
  struct Bar {
    size_t row;
    double start, end;
    std::string name, kernel;
  };
  std::vector<Bar> bars;
  std::vector<std::pair<std::string, std::string>> fallbacks;
  for (Operation &op : body) {
    std::string key, name, kernel;
    if (auto task = dyn_cast<TaskOp>(op)) {
      key = fmt::format("{}[{}]", task.getDevice().str(), task.getQueue());
      name = task.getName().str();
      kernel = task.getKernel().str();
      busy[task.getDevice().str()] += attrUs(&op, "end_us") - attrUs(&op, "start_us");
      if (auto why = op.getAttrOfType<StringAttr>("fallback"))
        fallbacks.push_back({name, why.getValue().str()});
    } else if (auto transfer = dyn_cast<TransferOp>(op)) {
      key = "link " + transfer.getLink();
      name = transfer.getName().str();
      kernel = "copy";
    } else {
      continue;
    }
    if (!rowOf.count(key)) {
      rowOf[key] = rows.size();
      rows.push_back(key);
    }
    bars.push_back({rowOf[key], attrUs(&op, "start_us"), attrUs(&op, "end_us"),
                    name, kernel});
  }

  os << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n<title>Loom plan: "
     << escape(source ? *source : "model") << "</title>\n"
     << "<style>body{font-family:sans-serif;margin:2em;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        "th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}"
        "</style></head><body>\n";
  // The header says what loomc's summary says: the model as given, tasks
  // and transfers counted apart.
  size_t numTransfers = 0;
  for (Operation &op : body)
    numTransfers += isa<TransferOp>(op);
  os << "<h1>Loom plan</h1>\n<p>Model <code>"
     << escape(sourceAttr ? sourceAttr.getValue() : "?")
     << "</code>, target <code>"
     << escape(target ? target.getValue() : "?") << "</code>, "
     << bars.size() - numTransfers << " tasks (+" << numTransfers
     << " transfers).</p>\n";

  // Summary.
  os << "<h2>Predicted latency</h2>\n<table><tr><th>plan</th><th>makespan (µs)</th>"
        "<th>vs. this plan</th></tr>\n";
  os << fmt::format("<tr><td>this plan</td><td>{:.1f}</td><td>1.00×</td></tr>\n",
                    makespan);
  os << fmt::format("<tr><td>lower bound</td><td>{:.1f}</td><td>{}</td></tr>\n",
                    bound, makespan > 0 ? fmt::format("{:.2f}×", bound / makespan) : "-");
  if (auto singles = schedule->getAttrOfType<DictionaryAttr>("single_device_us"))
    for (NamedAttribute s : singles) {
      auto f = dyn_cast<FloatAttr>(s.getValue());
      os << fmt::format("<tr><td>everything on {}</td><td>{}</td><td>{}</td></tr>\n",
                        escape(s.getName().getValue()),
                        f ? fmt::format("{:.1f}", f.getValueAsDouble()) : "cannot run",
                        f && makespan > 0
                            ? fmt::format("{:.2f}×", f.getValueAsDouble() / makespan)
                            : "-");
    }
  os << "</table>\n";

  // Gantt chart.
  const double width = 1000, rowHeight = 22, left = 130;
  double scale = makespan > 0 ? (width - left - 10) / makespan : 0;
  double height = rowHeight * double(rows.size()) + 30;
  os << "<h2>Schedule</h2>\n"
     << fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" "
                    "height=\"{}\" font-size=\"11\">\n",
                    width, height);
  for (size_t r = 0; r < rows.size(); ++r)
    os << fmt::format("<text x=\"4\" y=\"{:.1f}\">{}</text>\n",
                      rowHeight * double(r) + 15, escape(rows[r]));
  for (const Bar &b : bars)
    os << fmt::format(
        "<rect x=\"{:.2f}\" y=\"{:.1f}\" width=\"{:.2f}\" height=\"{:.1f}\" "
        "fill=\"{}\" stroke=\"#555\" stroke-width=\"0.3\"><title>{} ({}): "
        "{:.2f}–{:.2f} µs</title></rect>\n",
        left + b.start * scale, rowHeight * double(b.row) + 3,
        std::max(0.5, (b.end - b.start) * scale), rowHeight - 6,
        colour(b.kernel), escape(b.name), escape(b.kernel), b.start, b.end);
  os << fmt::format("<text x=\"{}\" y=\"{:.1f}\">0</text><text x=\"{:.1f}\" "
                    "y=\"{:.1f}\" text-anchor=\"end\">{:.1f} µs</text>\n",
                    left, height - 6, width - 10, height - 6, makespan);
  os << "</svg>\n";

  // Devices and memory.
  os << "<h2>Devices</h2>\n<table><tr><th>device</th><th>kind</th><th>queues</th>"
        "<th>busy (µs)</th><th>utilization</th><th>arena peak (bytes)</th></tr>\n";
  for (auto dev : module.getOps<DeviceOp>()) {
    int64_t peak = 0;
    for (auto arena : module.getOps<ArenaOp>())
      if (arena.getDevice() == dev.getSymName())
        peak += int64_t(arena.getPeakBytes().value_or(0));
    double b = busy[dev.getSymName().str()];
    os << fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.1f}</td>"
                      "<td>{:.0f}%</td><td>{}</td></tr>\n",
                      escape(dev.getSymName()), escape(dev.getKind()),
                      dev.getQueues(), b, makespan > 0 ? 100 * b / makespan : 0.0,
                      peak);
  }
  os << "</table>\n";

  os << "<h2>Fallbacks</h2>\n";
  if (fallbacks.empty()) {
    os << "<p>None: every task runs where the partitioner preferred.</p>\n";
  } else {
    os << "<table><tr><th>task</th><th>reason</th></tr>\n";
    for (auto &[name, why] : fallbacks)
      os << "<tr><td>" << escape(name) << "</td><td>" << escape(why)
         << "</td></tr>\n";
    os << "</table>\n";
  }
  // Accuracy of a quantized model against the float one (loomc --quantize).
  if (auto q = module->getAttrOfType<DictionaryAttr>("loom.quantization")) {
    auto str = [&](StringRef key) {
      auto a = q.getAs<StringAttr>(key);
      return a ? a.getValue().str() : std::string();
    };
    auto num = [&](StringRef key) {
      auto a = q.getAs<IntegerAttr>(key);
      return a ? a.getInt() : int64_t(0);
    };
    os << "<h2>Quantization</h2>\n<p>Mode <code>" << escape(str("mode"))
       << "</code>, " << num("quantized_kernels")
       << " quantized kernels; quantized vs float plan on " << num("input_sets")
       << " input sets (" << escape(str("inputs")) << ").</p>\n"
       << "<table><tr><th>output</th><th>SQNR (dB)</th><th>max abs error</th>"
          "<th>top-1 agreement</th></tr>\n";
    if (auto outputs = q.getAs<ArrayAttr>("outputs"))
      for (Attribute a : outputs) {
        auto d = dyn_cast<DictionaryAttr>(a);
        if (!d)
          continue;
        auto f = [&](StringRef key) -> std::string {
          auto v = d.getAs<FloatAttr>(key);
          return v ? fmt::format("{:.3g}", v.getValueAsDouble()) : "-";
        };
        auto top1 = d.getAs<FloatAttr>("top1_agreement");
        os << "<tr><td>" << escape(d.getAs<StringAttr>("name").getValue().str())
           << "</td><td>" << f("sqnr_db") << "</td><td>" << f("max_abs_error")
           << "</td><td>"
           << (top1 ? fmt::format("{:.1f}%", 100 * top1.getValueAsDouble())
                    : std::string("-"))
           << "</td></tr>\n";
      }
    os << "</table>\n";
  }
  os << "</body></html>\n";
  return success();
}
