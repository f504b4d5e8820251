//===- ReportEmitter.cpp - report.html: the plan for a person -------------===//
//
// A self-contained page (inline CSS, SVG and script, no external files):
// the summary (makespan, lower bound, single-device plans, speed-up), a Gantt
// chart with one row per device queue and per link (drawn by the shared
// timeline script of ReportScript.h from a JSON block: legend per kernel
// family, labels on the bars, time axis, zoom), per-device utilization,
// memory per arena over time, the tasks that fell back from the device the
// partitioner preferred, and a table of the tasks with their cost on every
// device and the reason for their placement (explainPlacement, as loomc
// --explain-placement prints it). Deterministic: no dates, no randomness.
//
//===----------------------------------------------------------------------===//
#include "loom/Emit/Placement.h"
#include "loom/Emit/PlanEmitter.h"
#include "loom/Emit/ReportScript.h"
#include "loom/Target/Target.h"

#include "Plan/PlanOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <numeric>
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

double attrUs(Operation *op, StringRef name) {
  auto a = op->getAttrOfType<FloatAttr>(name);
  return a ? a.getValueAsDouble() : 0.0;
}

/// Rows of the task table (the longest tasks of a larger plan): plans of
/// thousands of tasks keep a small page.
constexpr size_t kMaxTableRows = 500;

/// Colours of the kernel families (target::OpClass, in its order), then of
/// transfers: the legend of the schedule.
constexpr const char *kFamilyColours[] = {"#4e79a7", "#f28e2b", "#e15759",
                                          "#76b7b2", "#59a14f", "#edc948",
                                          "#b07aa1", "#9c755f", "#d4d4d4"};
constexpr size_t kTransferFamily = loom::target::kNumOpClasses;
static_assert(std::size(kFamilyColours) == kTransferFamily + 1);

size_t familyOf(Operation *op, StringRef kernel) {
  if (isa<TransferOp>(op))
    return kTransferFamily;
  return size_t(
      loom::target::kernelClass(kernel).value_or(loom::target::OpClass::Other));
}

std::string familyName(size_t f) {
  if (f == kTransferFamily)
    return "transfer";
  return loom::target::opClassName(loom::target::OpClass(f)).str();
}

/// 1536 -> "1.5 KiB".
std::string humanBytes(double bytes) {
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  size_t u = 0;
  while (bytes >= 1024 && u + 1 < std::size(units)) {
    bytes /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", bytes)
                : fmt::format("{:.1f} {}", bytes, units[u]);
}

/// A bar of the Gantt chart: a task or a transfer on its row.
struct TimelineBar {
  size_t row;
  double start, end;
  std::string name, kernel;
  Operation *op;
};

/// The Gantt chart: its legend, the data of the timeline script
/// (ReportScript.h) and where the script draws it.
void writeSchedule(const std::vector<std::string> &rows,
                   const std::vector<TimelineBar> &bars, double makespan,
                   llvm::raw_ostream &os) {
  using loom::emit::jsonString;
  using loom::emit::jsonTime;
  std::vector<bool> used(kTransferFamily + 1, false);
  for (const TimelineBar &b : bars)
    used[familyOf(b.op, b.kernel)] = true;
  os << "<h2>Schedule</h2>\n<div class=\"legend\">";
  for (size_t f = 0; f <= kTransferFamily; ++f)
    if (used[f])
      os << "<span><span class=\"sw\" style=\"background:" << kFamilyColours[f]
         << "\"></span>" << familyName(f) << "</span>";
  os << "</div>\n";
  if (bars.size() > loom::emit::kTimelineMaxBars)
    os << fmt::format("<p class=\"note\">{} tasks and transfers: the chart "
                      "draws the {} longest of the time window it shows; "
                      "zoom in to see the shorter ones.</p>\n",
                      bars.size(), loom::emit::kTimelineMaxBars);
  loom::emit::writeTimelineHead(os, "loom-schedule", "µs", "1", makespan, rows);
  for (size_t f = 0; f <= kTransferFamily; ++f)
    os << (f ? ", " : "") << "{\"name\": " << jsonString(familyName(f))
       << ", \"color\": \"" << kFamilyColours[f] << "\"}";
  os << "],\n\"bars\": [\n";
  for (size_t i = 0; i < bars.size(); ++i) {
    const TimelineBar &b = bars[i];
    std::string tip = fmt::format("{} ({}): {:.2f}–{:.2f} µs", b.name, b.kernel,
                                  b.start, b.end);
    os << "[" << b.row << ", " << jsonTime(b.start) << ", " << jsonTime(b.end)
       << ", " << familyOf(b.op, b.kernel) << ", " << jsonString(b.name) << ", "
       << jsonString(tip) << ", 0]" << (i + 1 < bars.size() ? ",\n" : "\n");
  }
  os << "],\n\"marks\": []}\n</script>\n"
     << "<div class=\"loom-timeline\" data-src=\"loom-schedule\"></div>\n"
     << "<noscript><p>The schedule chart needs JavaScript; trace.json has the "
        "same schedule for Perfetto.</p></noscript>\n";
}

/// Per arena: the bytes of live buffers over the predicted schedule (a
/// small step chart, the maximum per pixel column), against the planned
/// peak (offsets included: what the runtime allocates).
void writeMemoryOverTime(ModuleOp module, Block &body, double makespan,
                         llvm::raw_ostream &os) {
  struct Life {
    double first = -1, last = -1, written = -1;
    uint64_t size = 0;
    std::string arena;
  };
  llvm::DenseMap<Value, size_t> index;
  std::vector<Life> lives;
  for (Operation &op : body)
    if (auto alloc = dyn_cast<AllocOp>(op)) {
      index[alloc.getBuffer()] = lives.size();
      Life l;
      l.size = uint64_t(alloc.getSizeInBytes());
      l.arena = alloc.getArena().str();
      lives.push_back(l);
    }
  auto touch = [&](Value v, Operation *step, bool write) {
    auto it = index.find(rootBuffer(v));
    if (it == index.end())
      return;
    Life &l = lives[it->second];
    double s = attrUs(step, "start_us"), e = attrUs(step, "end_us");
    if (write) {
      if (l.first < 0 || s < l.first)
        l.first = s;
      l.written = std::max(l.written, e);
    } else {
      l.last = std::max(l.last, e);
    }
  };
  for (Operation &op : body) {
    if (auto task = dyn_cast<TaskOp>(op)) {
      for (Value v : task.getInputs())
        touch(v, &op, false);
      for (Value v : task.getOutputs())
        touch(v, &op, true);
      forEachBodyAccess(task,
                        [&](Value v, bool write) { touch(v, &op, write); });
    } else if (auto transfer = dyn_cast<TransferOp>(op)) {
      touch(transfer.getSource(), &op, false);
      touch(transfer.getTarget(), &op, true);
    }
  }
  auto whole = [&](Value v) {
    auto it = index.find(rootBuffer(v));
    if (it != index.end()) {
      lives[it->second].first = 0;
      lives[it->second].last = makespan;
    }
  };
  for (Operation &op : body) {
    if (auto in = dyn_cast<InputOp>(op))
      whole(in.getBuffer());
    else if (auto out = dyn_cast<OutputOp>(op))
      whole(out.getBuffer());
  }
  for (Life &l : lives) {
    if (l.first < 0)
      l.first = 0; // never written: alive from the start
    l.last = std::max({l.last, l.written, l.first});
  }

  os << "<h2>Memory over time</h2>\n<p class=\"note\">Bytes of the buffers "
        "alive in each arena over the predicted schedule (a buffer lives from "
        "its first write to its last read; graph inputs and outputs for the "
        "whole run). Dashed: the arena's planned peak, offsets included, which "
        "is what the runtime allocates.</p>\n";
  const int width = 600, height = 90, left = 70, top = 8;
  for (auto arena : module.getOps<ArenaOp>()) {
    // Sweep the allocations and frees in time order (frees first).
    std::vector<std::pair<double, int64_t>> events;
    for (const Life &l : lives)
      if (l.arena == arena.getSymName() && l.size) {
        events.push_back({l.first, int64_t(l.size)});
        events.push_back({l.last, -int64_t(l.size)});
      }
    std::sort(events.begin(), events.end());
    uint64_t peak = arena.getPeakBytes().value_or(0);
    os << "<figure style=\"margin:.5em 0\"><figcaption><b>"
       << escape(arena.getSymName()) << "</b> (" << escape(arena.getDevice())
       << "): ";
    if (events.empty()) {
      os << "no buffers.</figcaption></figure>\n";
      continue;
    }
    // Max live bytes per pixel column.
    std::vector<int64_t> column(width, 0);
    double span = makespan > 0 ? makespan : 1;
    auto col = [&](double t) {
      return std::clamp(int(t / span * width), 0, width - 1);
    };
    int64_t live = 0, maxLive = 0;
    for (size_t i = 0; i < events.size(); ++i) {
      live += events[i].second;
      double from = events[i].first;
      double to = i + 1 < events.size() ? events[i + 1].first : span;
      if (to > from || i + 1 == events.size())
        for (int c = col(from), e = col(to); c <= e; ++c)
          column[size_t(c)] = std::max(column[size_t(c)], live);
      maxLive = std::max(maxLive, live);
    }
    double top_ = double(std::max<uint64_t>(peak, uint64_t(maxLive)));
    auto y = [&](double bytes) {
      return top + height - (top_ > 0 ? bytes / top_ * height : 0);
    };
    os << "at most " << humanBytes(double(maxLive)) << " alive, planned peak "
       << humanBytes(double(peak)) << "</figcaption>\n"
       << fmt::format("<svg class=\"memory\" width=\"{}\" height=\"{}\" "
                      "font-size=\"11\" role=\"img\">\n",
                      left + width + 10, top + height + 18);
    std::string path = fmt::format("M{} {:.1f}", left, y(0));
    std::string last;
    for (int c = 0; c < width; ++c) {
      std::string level = fmt::format("{:.1f}", y(double(column[size_t(c)])));
      if (level != last)
        path += fmt::format("H{}V{}", left + c, level);
      last = level;
    }
    path += fmt::format("H{}V{:.1f}Z", left + width, y(0));
    os << "<path d=\"" << path
       << "\" fill=\"#9ecae1\" stroke=\"#3182bd\" stroke-width=\"1\"/>\n"
       << fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" "
                      "stroke=\"#c00\" stroke-dasharray=\"4,3\"/>\n",
                      left, left + width, y(double(peak)), y(double(peak)))
       << fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" "
                      "stroke=\"#444\"/><line x1=\"{0}\" x2=\"{3}\" y1=\"{2}\" "
                      "y2=\"{2}\" stroke=\"#444\"/>\n",
                      left, top, top + height, left + width)
       << fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}"
                      "</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">0"
                      "</text>\n",
                      left - 4, y(top_) + 4, humanBytes(top_), left - 4,
                      top + height)
       << fmt::format("<text x=\"{}\" y=\"{}\">0</text><text x=\"{}\" y=\"{}\" "
                      "text-anchor=\"end\">{:.1f} µs</text>\n",
                      left, top + height + 14, left + width, top + height + 14,
                      makespan)
       << "</svg></figure>\n";
  }
}

/// Every task (the longest kMaxTableRows of a larger plan) by start: its
/// kernel, device, times, estimated cost on every device and the reason
/// for its placement.
void writeTaskTable(ModuleOp module, Block &body, llvm::raw_ostream &os) {
  std::vector<TaskOp> tasks;
  for (Operation &op : body)
    if (auto task = dyn_cast<TaskOp>(op))
      tasks.push_back(task);
  auto duration = [](TaskOp t) {
    return attrUs(t, "end_us") - attrUs(t, "start_us");
  };
  std::vector<size_t> order(tasks.size());
  std::iota(order.begin(), order.end(), 0);
  if (tasks.size() > kMaxTableRows) {
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return duration(tasks[a]) > duration(tasks[b]);
    });
    order.resize(kMaxTableRows);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    double sa = attrUs(tasks[a], "start_us"), sb = attrUs(tasks[b], "start_us");
    return sa != sb ? sa < sb : a < b;
  });
  os << "<h2>Tasks</h2>\n<p class=\"note\">";
  if (tasks.size() > kMaxTableRows)
    os << "The " << kMaxTableRows << " longest of " << tasks.size()
       << " tasks (plan.json lists them all), ";
  else
    os << "All " << tasks.size() << " tasks, ";
  os << "by predicted start; click a header to sort. Estimated µs on every "
        "device (bold: where it runs; -: the device cannot run it) and the "
        "reason for the placement, as <code>loomc --explain-placement</code> "
        "prints it.</p>\n<table class=\"sortable tasks\"><thead><tr>"
        "<th>#</th><th>task</th><th>kernel</th><th>device</th>"
        "<th>start (µs)</th><th>duration (µs)</th>";
  for (auto dev : module.getOps<DeviceOp>())
    os << "<th>" << escape(dev.getSymName()) << " (µs)</th>";
  os << "<th>placement</th></tr></thead><tbody>\n";
  for (size_t i = 0; i < order.size(); ++i) {
    TaskOp t = tasks[order[i]];
    loom::emit::PlacementExplanation e =
        loom::emit::explainPlacement(module, t);
    double start = attrUs(t, "start_us"), d = duration(t);
    os << fmt::format(
        "<tr><td data-v=\"{0}\">{0}</td><td style=\"text-align:"
        "left\">{1}</td><td style=\"text-align:left\">{2}</td>"
        "<td style=\"text-align:left\">{3}[{4}]</td>"
        "<td data-v=\"{5}\">{6:.2f}</td><td data-v=\"{7}\">{8:.2f}"
        "</td>",
        i, escape(t.getName()), escape(t.getKernel()), escape(t.getDevice()),
        t.getQueue(), loom::emit::jsonTime(start), start,
        loom::emit::jsonTime(d), d);
    for (const auto &[device, us] : e.costs) {
      if (!us) {
        os << "<td data-v=\"Infinity\">-</td>";
        continue;
      }
      os << fmt::format("<td{} data-v=\"{}\">{:.2f}</td>",
                        device == e.chosen ? " class=\"here\"" : "",
                        loom::emit::jsonTime(*us), *us);
    }
    os << "<td class=\"reason\">" << escape(e.reason) << "</td></tr>\n";
  }
  os << "</tbody></table>\n";
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
  using Bar = TimelineBar;
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
                    name, kernel, &op});
  }
  // A control task's bodies (both branches of an if, a loop's body) get
  // rows of their own, each as predicted for one run of the body.
  std::function<void(TaskOp, const std::string &)> bodyRows =
      [&](TaskOp control, const std::string &prefix) {
        for (Region &region : control.getBodies()) {
          std::string key =
              prefix + " / " +
              control.getBodyYield(region.getRegionNumber()).getName().str();
          rowOf[key] = rows.size();
          rows.push_back(key);
          for (auto inner : region.front().getOps<TaskOp>()) {
            bars.push_back({rowOf[key], attrUs(inner, "start_us"),
                            attrUs(inner, "end_us"), inner.getName().str(),
                            inner.getKernel().str(), inner});
            if (inner.isControl())
              bodyRows(inner, key + " / " + inner.getName().str());
          }
        }
      };
  for (auto task : body.getOps<TaskOp>())
    if (task.isControl())
      bodyRows(task, fmt::format("{}[{}] {} '{}'", task.getDevice().str(),
                                 task.getQueue(), task.getKernel().str(),
                                 task.getName().str()));

  os << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n<title>Loom "
        "plan: "
     << escape(source ? *source : "model") << "</title>\n"
     << "<style>body{font-family:sans-serif;margin:2em;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        "th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}"
     << kReportStyle << "</style>\n"
     << kReportErrorHook << "</head><body>\n";
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
  writeSchedule(rows, bars, makespan, os);

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
                      dev.getQueues(), b,
                      makespan > 0 && dev.getQueues() > 0
                          ? 100 * b / (makespan * double(dev.getQueues()))
                          : 0.0,
                      peak);
  }
  os << "</table>\n";

  os << "<h2>Fallbacks</h2>\n";
  if (fallbacks.empty()) {
    os << "<p>None: every task runs where the partitioner preferred.</p>\n";
  } else {
    // One row per reason (a float model on an i8/bf16 NPU gives every task
    // the same one), in the order the reasons first appear.
    std::vector<std::pair<std::string, std::vector<std::string>>> byReason;
    for (auto &[name, why] : fallbacks) {
      auto it = llvm::find_if(byReason, [&](const auto &r) { return r.first == why; });
      if (it == byReason.end())
        byReason.push_back({why, {name}});
      else
        it->second.push_back(name);
    }
    size_t numTasks = 0;
    for (Operation &op : body)
      numTasks += isa<TaskOp>(op);
    for (auto &[why, names] : byReason)
      if (names.size() == numTasks && numTasks > 1 &&
          why.find("dtype not supported") != std::string::npos)
        os << "<p>Every task has the same reason below: the device runs none of this "
              "model's element types. Quantize the model (<code>--quantize=int8</code> "
              "with <code>--calibration-data</code>, or <code>--quantize=dynamic</code>; "
              "docs/quantization.md) to use it.</p>\n";
    os << "<table><tr><th>reason</th><th>tasks</th><th>for example</th></tr>\n";
    for (auto &[why, names] : byReason) {
      std::string examples;
      for (size_t i = 0; i < names.size() && i < 3; ++i)
        examples += (i ? ", " : "") + names[i];
      if (names.size() > 3)
        examples += ", …";
      os << "<tr><td>" << escape(why) << "</td><td>" << names.size() << "</td><td>"
         << escape(examples) << "</td></tr>\n";
    }
    os << "</table>\n";
  }
  writeMemoryOverTime(module, body, makespan, os);
  writeTaskTable(module, body, os);
  // Device precision (loomc --device-precision=auto): what runs in a
  // device's 16-bit float, and its accuracy against the f32 plan.
  if (auto p = module->getAttrOfType<DictionaryAttr>("loom.device_precision")) {
    double db = p.getAs<FloatAttr>("sqnr_db").getValueAsDouble();
    std::string sqnr = std::isinf(db) ? std::string(db > 0 ? "inf" : "-inf")
                                      : llvm::formatv("{0:F1}", db).str();
    bool kept = p.getAs<BoolAttr>("kept_exact").getValue();
    os << "<h2>Device precision</h2>\n<p>"
       << (kept ? "Every task computes in f32: the plan below was made again "
                  "in f32, because running these tasks in the device's "
                  "16-bit float gave an SQNR of "
                : "Tasks in a device's 16-bit float (the rest in f32); the "
                  "plan's SQNR against the same plan in f32: ")
       << escape(sqnr) << " dB at output <code>"
       << escape(p.getAs<StringAttr>("output").getValue().str())
       << "</code> (two seeded input sets)"
       << (kept ? ", below 30 dB." : ".") << "</p>\n"
       << "<table><tr><th>device</th><th>type</th><th>tasks</th></tr>\n";
    for (Attribute a : p.getAs<ArrayAttr>("devices")) {
      auto d = cast<DictionaryAttr>(a);
      os << "<tr><td>" << escape(d.getAs<StringAttr>("device").getValue().str())
         << "</td><td>" << escape(d.getAs<StringAttr>("type").getValue().str())
         << "</td><td>" << d.getAs<IntegerAttr>("tasks").getInt()
         << "</td></tr>\n";
    }
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
       << "</code>, " << num("quantized_kernels") << " quantized kernels"
       << (num("calibration_sets")
               ? ", calibrated on " + std::to_string(num("calibration_sets")) +
                     " input sets"
               : std::string())
       << "; quantized vs float plan on " << num("input_sets")
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
    // Per quantized layer: its own output against the same op in f32
    // reading the same input.
    if (auto layers = q.getAs<ArrayAttr>("layers"); layers && !layers.empty()) {
      os << "<p>Per layer: each quantized layer's output against the same "
            "op in f32 reading the same input (the quantized model's own), "
            "on "
         << num("layer_input_sets") << " input sets (" << escape(str("inputs"))
         << ")";
      if (!str("tuning_inputs").empty())
        os << "; the equalized pairs, bias correction and the layers kept "
              "f32 were chosen on "
           << escape(str("tuning_inputs")) << " inputs";
      os << ".</p>\n<table><tr><th>layer</th><th>kind</th><th>format</th>"
            "<th>SQNR (dB)</th><th>bias correction (dB before &rarr; "
            "after)</th><th>equalized with the conv before (dB with / "
            "without)</th><th>f32 weight bytes</th></tr>\n";
      for (Attribute a : layers) {
        auto d = dyn_cast<DictionaryAttr>(a);
        if (!d)
          continue;
        auto text = [&](StringRef key) {
          auto v = d.getAs<StringAttr>(key);
          return v ? escape(v.getValue().str()) : std::string("-");
        };
        auto db = [&](StringRef key) -> std::string {
          auto v = d.getAs<FloatAttr>(key);
          return v ? fmt::format("{:.2f}", v.getValueAsDouble()) : "-";
        };
        std::string sqnr = d.get("kept_float")
                               ? "kept f32 (quantized: " +
                                     db("quantized_sqnr_db") + ")"
                               : db("sqnr_db");
        if (d.get("smoothed"))
          sqnr += " (activation smoothed)";
        if (d.get("alone_output_sqnr_db"))
          sqnr += "; outputs with it alone quantized: " +
                  db("alone_output_sqnr_db");
        std::string bias = "-";
        if (auto c = d.getAs<BoolAttr>("bias_correction"))
          bias = std::string(c.getValue() ? "applied" : "not applied") + " (" +
                 db("uncorrected_sqnr_db") + " &rarr; " +
                 db("corrected_sqnr_db") + ")";
        std::string equalized = "-";
        if (auto e = d.getAs<BoolAttr>("equalized")) {
          equalized = e.getValue() ? "yes" : "no";
          if (d.get("equalized_sqnr_db"))
            equalized += " (" + db("equalized_sqnr_db") + " / " +
                         db("unequalized_sqnr_db") + ")";
        }
        auto bytes = d.getAs<IntegerAttr>("float_weight_bytes");
        os << "<tr><td>" << text("name") << "</td><td>" << text("kind")
           << "</td><td>" << text("format") << "</td><td>" << sqnr
           << "</td><td>" << bias << "</td><td>" << equalized << "</td><td>"
           << (bytes ? std::to_string(bytes.getInt()) : std::string("-"))
           << "</td></tr>\n";
      }
      os << "</table>\n";
    }
  }
  os << kReportScript << "</body></html>\n";
  return success();
}
