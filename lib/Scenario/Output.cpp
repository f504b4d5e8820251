//===- Output.cpp - scenario.json, trace.json, report.html ----------------===//
//
// Formats: docs/scenarios.md. Times are µs rounded to 1 ns so that the
// files stay readable and byte-identical between runs.
//
//===----------------------------------------------------------------------===//
#include "loom/Scenario/Output.h"
#include "loom/Emit/ReportScript.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace loom::scenario;
namespace json = llvm::json;

namespace {

double r3(double us) { return std::round(us * 1000) / 1000; }

std::string jobLabel(const ScenarioProblem &P, size_t j) {
  const Job &job = P.jobs[j];
  const Workload &w = P.workloads[size_t(job.workload)];
  std::string s = w.name;
  if (job.role == Job::Role::Prefill && w.isGenerate() &&
      w.prefillChunks() > 1)
    return s + " prefill " + std::to_string(job.instance + 1) + "/" +
           std::to_string(w.prefillChunks());
  if (job.role == Job::Role::Prefill)
    return s + " prefill";
  if (job.role == Job::Role::Decode)
    return s + " token " + std::to_string(job.instance);
  return s + " #" + std::to_string(job.instance);
}

std::vector<size_t> startOrder(const PolicyResult &R) {
  std::vector<size_t> order(R.jobs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (R.jobs[a].start != R.jobs[b].start)
      return R.jobs[a].start < R.jobs[b].start;
    return R.jobs[a].release < R.jobs[b].release;
  });
  return order;
}

std::string html(llvm::StringRef s) {
  std::string o;
  for (char c : s) {
    if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '&')
      o += "&amp;";
    else if (c == '"')
      o += "&quot;";
    else
      o += c;
  }
  return o;
}

std::string ms(double us, int digits = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, us / 1000);
  return buf;
}

/// "1 miss", "2 misses", "0 misses".
std::string missCount(int n) {
  return std::to_string(n) + (n == 1 ? " miss" : " misses");
}

/// Colours of the models on the timeline (tab10), in scenario order.
constexpr const char *kModelColours[] = {
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

/// The written schedule as a timeline (ReportScript.h): one row per device
/// queue with the job instances' tasks (consecutive tasks of one job on a
/// queue drawn as one bar), one per link with transfers, and one per model
/// with each job instance from its start to its end, its release (black
/// tick; decode steps have none, their predecessor's end releases them) and
/// its deadline (red mark); missed jobs are outlined in red.
void writeScheduleTimeline(const ScenarioProblem &P, const PolicyResult &R,
                           llvm::raw_ostream &os) {
  using loom::emit::jsonString;
  using loom::emit::jsonTime;
  int p = int(P.platform.devices.size());
  std::vector<std::string> rows;
  std::vector<int> firstRow; // device d, queue q: row firstRow[d] + q
  for (int d = 0; d < p; ++d) {
    firstRow.push_back(int(rows.size()));
    int queues = std::max(1, P.platform.devices[size_t(d)].queues);
    for (int q = 0; q < queues; ++q)
      rows.push_back(P.platform.devices[size_t(d)].name + "[" +
                     std::to_string(q) + "]");
  }
  std::vector<int> linkRow(size_t(p * p), -1);
  for (const PlacedTransfer &t : R.transfers) {
    int l = t.fromDevice * p + t.toDevice;
    if (linkRow[size_t(l)] < 0)
      linkRow[size_t(l)] = -2; // used; numbered below in link order
  }
  for (int l = 0; l < p * p; ++l)
    if (linkRow[size_t(l)] == -2) {
      linkRow[size_t(l)] = int(rows.size());
      rows.push_back("link " + P.platform.devices[size_t(l / p)].name + " -> " +
                     P.platform.devices[size_t(l % p)].name);
    }
  int jobRows = int(rows.size());
  for (const Workload &wl : P.workloads)
    rows.push_back("jobs: " + wl.name);

  struct Bar {
    int row;
    double start, end;
    size_t job;
    std::string label, tip;
  };
  std::vector<Bar> bars;
  double end = std::max(P.horizonUs, R.makespanUs);
  std::vector<size_t> order = startOrder(R);
  // Device rows: tasks, merged per job while they follow each other.
  std::vector<Bar> taskBars;
  for (size_t jb : order)
    for (const PlacedTask &t : R.jobs[jb].tasks)
      taskBars.push_back(
          {firstRow[size_t(t.device)] + t.queue, t.start, t.end, jb, "", ""});
  std::stable_sort(taskBars.begin(), taskBars.end(),
                   [](const Bar &a, const Bar &b) {
                     return a.row != b.row ? a.row < b.row : a.start < b.start;
                   });
  std::vector<int> tasksIn;
  for (const Bar &b : taskBars) {
    if (!bars.empty() && bars.back().row == b.row && bars.back().job == b.job &&
        b.start <= bars.back().end + 1e-6) {
      bars.back().end = std::max(bars.back().end, b.end);
      ++tasksIn.back();
      continue;
    }
    bars.push_back(b);
    tasksIn.push_back(1);
  }
  for (size_t i = 0; i < bars.size(); ++i) {
    bars[i].label = jobLabel(P, bars[i].job);
    bars[i].tip = bars[i].label + ": " + std::to_string(tasksIn[i]) +
                  (tasksIn[i] == 1 ? " task, " : " tasks, ") +
                  ms(bars[i].start) + "–" + ms(bars[i].end) + " ms";
  }
  for (const PlacedTransfer &t : R.transfers)
    bars.push_back({linkRow[size_t(t.fromDevice * p + t.toDevice)], t.start,
                    t.end, size_t(t.job), "copy",
                    "copy for " + jobLabel(P, size_t(t.job)) + ": " +
                        ms(t.start) + "–" + ms(t.end) + " ms"});
  // Job rows, with release and deadline marks.
  std::string marks;
  for (size_t jb : order) {
    const Job &job = P.jobs[jb];
    const JobResult &r = R.jobs[jb];
    int row = jobRows + job.workload;
    std::string label = jobLabel(P, jb);
    bars.push_back({row, r.start, r.end, jb, label,
                    label + ": released " + ms(r.release) + " ms, ran " +
                        ms(r.start) + "–" + ms(r.end) + " ms, deadline " +
                        ms(r.deadline) + " ms" +
                        (r.missed ? " (missed)" : "")});
    end = std::max({end, r.end, r.deadline});
    auto mark = [&](double t, const char *kind, const std::string &tip) {
      marks += (marks.empty() ? "[" : ",\n[") + std::to_string(row) + ", " +
               jsonTime(t) + ", \"" + kind + "\", " + jsonString(tip) + "]";
    };
    // A decode step is released by its predecessor's end: no mark of its own.
    if (job.role != Job::Role::Decode)
      mark(r.release, "release",
           label + " released at " + ms(r.release) + " ms");
    mark(r.deadline, "deadline", label + " deadline " + ms(r.deadline) + " ms");
  }

  os << "<div class=\"legend\">";
  for (size_t w = 0; w < P.workloads.size(); ++w)
    os << "<span><span class=\"sw\" style=\"background:"
       << kModelColours[w % std::size(kModelColours)] << "\"></span>"
       << html(P.workloads[w].name) << "</span>";
  os << "<span><span class=\"sw\" style=\"background:#fff;border:2px solid "
        "#c00\"></span>missed its deadline</span><span style=\"color:#c00\">"
        "&#9660; deadline</span><span>| release</span></div>\n";
  loom::emit::writeTimelineHead(os, "loom-scenario-schedule", "ms", "0.001", end, rows);
  for (size_t w = 0; w < P.workloads.size(); ++w)
    os << (w ? ", " : "") << "{\"name\": " << jsonString(P.workloads[w].name)
       << ", \"color\": \"" << kModelColours[w % std::size(kModelColours)]
       << "\"}";
  os << "],\n\"bars\": [\n";
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar &b = bars[i];
    os << "[" << b.row << ", " << jsonTime(b.start) << ", " << jsonTime(b.end)
       << ", " << P.jobs[b.job].workload << ", " << jsonString(b.label) << ", "
       << jsonString(b.tip) << ", " << (R.jobs[b.job].missed ? 1 : 0) << "]"
       << (i + 1 < bars.size() ? ",\n" : "\n");
  }
  os << "],\n\"marks\": [\n"
     << marks << "]}\n</script>\n"
     << "<div class=\"loom-timeline\" data-src=\"loom-scenario-schedule\">"
        "</div>\n<noscript><p>The timeline needs JavaScript; trace.json has "
        "the same schedule for Perfetto.</p></noscript>\n";
  // The misses, by name (the first 20).
  std::vector<size_t> missed;
  for (size_t jb : order)
    if (R.jobs[jb].missed)
      missed.push_back(jb);
  if (!missed.empty()) {
    os << "<p class=\"miss\">Missed: ";
    for (size_t i = 0; i < missed.size() && i < 20; ++i) {
      const JobResult &r = R.jobs[missed[i]];
      os << (i ? "; " : "") << html(jobLabel(P, missed[i])) << " (ended "
         << ms(r.end) << " ms, deadline " << ms(r.deadline) << " ms)";
    }
    if (missed.size() > 20)
      os << "; and " << missed.size() - 20 << " more";
    os << ".</p>\n";
  }
}

} // namespace

void loom::scenario::writeScenarioJson(const ScenarioProblem &P,
                                       const std::vector<PolicyResult> &results,
                                       size_t chosen, const OutputInfo &info,
                                       llvm::raw_ostream &os) {
  const PolicyResult &R = results[chosen];
  json::OStream j(os, 2);
  j.object([&] {
    j.attribute("format", "loom-scenario");
    j.attribute("version", kScenarioFormatVersion);
    j.attribute("producer", info.producer);
    j.attribute("scenario", info.scenarioName);
    j.attribute("source", info.source);
    j.attribute("target", info.target);
    j.attributeArray("devices", [&] {
      for (const auto &d : P.platform.devices)
        j.object([&] {
          j.attribute("name", d.name);
          j.attribute("queues", d.queues);
        });
    });
    j.attribute("hyperperiod_us", r3(P.hyperperiodUs));
    j.attribute("horizon_us", r3(P.horizonUs));
    j.attribute("horizon_capped", P.horizonCapped);
    j.attribute("requested_policy", info.requestedPolicy);
    j.attribute("policy", policyName(R.policy));
    j.attributeArray("analysis", [&] {
      for (const std::string &a : info.analysis)
        j.value(a);
    });
    j.attributeArray("models", [&] {
      for (size_t w = 0; w < P.workloads.size(); ++w) {
        const Workload &wl = P.workloads[w];
        const auto &gs = P.workloadGraphs[w];
        j.object([&] {
          j.attribute("name", wl.name);
          j.attribute("kind", wl.isRequest() ? "request" : "periodic");
          j.attribute("priority", wl.priority);
          auto graph = [&](const char *key, int g, const ModelFile *f) {
            j.attributeObject(key, [&] {
              j.attribute("plan", info.graphDirs[size_t(g)]);
              if (f) {
                j.attribute("file", f->file);
                j.attribute("quantize", f->quantize);
              }
              j.attribute("tasks", int64_t(P.graphs[size_t(g)].tasks.size()));
              j.attribute("makespan_us", r3(P.graphs[size_t(g)].makespanUs));
              j.attribute("critical_path_us",
                          r3(criticalPathUs(P.graphs[size_t(g)])));
            });
          };
          if (!wl.isRequest()) {
            graph("model", gs[0], &wl.model);
            j.attribute("period_us", r3(wl.periodMs * 1000));
            j.attribute("deadline_us", r3(wl.deadlineMs * 1000));
            j.attribute("offset_us", r3(wl.offsetMs * 1000));
          } else {
            if (wl.isGenerate()) {
              j.attributeObject("generate", [&] {
                j.attribute("program", "models/" + wl.name + ".generate");
                j.attribute("file", wl.program.file);
                j.attribute("max_context", wl.maxContext);
                j.attribute("prefill_chunk", wl.prefillChunk);
                j.attributeArray("const_inputs", [&] {
                  for (const std::string &c : wl.program.constInputs)
                    j.value(c);
                });
                j.attributeArray("contexts", [&] {
                  for (size_t c = 0; c < wl.capacities.size(); ++c)
                    j.object([&] {
                      j.attribute("capacity", wl.capacities[c]);
                      graph("prefill", gs[2 * c], nullptr);
                      graph("decode", gs[2 * c + 1], nullptr);
                    });
                });
              });
            } else {
              graph("prefill", gs[0], &wl.prefill);
              graph("decode", gs[1], &wl.decode);
            }
            j.attribute("prefill_tokens", wl.prefillTokens);
            if (wl.isGenerate())
              j.attribute("prefill_chunks", wl.prefillChunks());
            j.attribute("decode_tokens", wl.decodeTokens);
            j.attribute("at_us", r3(wl.atMs * 1000));
            j.attribute("ttft_us", r3(wl.ttftMs * 1000));
            j.attribute("per_token_us", r3(wl.perTokenMs * 1000));
          }
        });
      }
    });
    j.attributeArray("policies", [&] {
      for (const PolicyResult &pr : results) {
        std::vector<WorkloadStats> stats = workloadStats(P, pr);
        j.object([&] {
          j.attribute("name", policyName(pr.policy));
          j.attribute("misses", pr.misses);
          j.attribute("total_lateness_us", r3(pr.totalLatenessUs));
          j.attribute("worst_ttft_us", r3(pr.worstTtftUs));
          j.attribute("makespan_us", r3(pr.makespanUs));
          if (pr.policy == Policy::Joint)
            j.attribute("moved_tasks", pr.movedTasks);
          if (pr.policy == Policy::Utilization)
            j.attributeArray("model_devices", [&] {
              for (size_t g = 0; g < P.graphs.size(); ++g)
                j.object([&] {
                  j.attribute("model", P.graphs[g].name);
                  int d = pr.graphDevice[g];
                  if (d >= 0)
                    j.attribute("device", P.platform.devices[size_t(d)].name);
                  else
                    j.attribute("device", nullptr);
                });
            });
          j.attributeArray("models", [&] {
            for (size_t w = 0; w < P.workloads.size(); ++w)
              j.object([&] {
                const WorkloadStats &s = stats[w];
                j.attribute("name", P.workloads[w].name);
                j.attribute("jobs", s.jobs);
                j.attribute("misses", s.misses);
                j.attribute("latency_min_us", r3(s.minUs));
                j.attribute("latency_median_us", r3(s.medianUs));
                j.attribute("latency_p95_us", r3(s.p95Us));
                j.attribute("latency_max_us", r3(s.maxUs));
                if (P.workloads[w].isRequest()) {
                  j.attribute("ttft_us", r3(s.ttftUs));
                  j.attribute("tokens_per_s",
                              std::round(s.tokensPerS * 100) / 100);
                }
              });
          });
        });
      }
    });
    j.attributeArray("jobs", [&] {
      std::vector<size_t> order = startOrder(R);
      for (size_t i = 0; i < order.size(); ++i) {
        size_t jb = order[i];
        const Job &job = P.jobs[jb];
        const JobResult &r = R.jobs[jb];
        const ModelGraph &g = P.graphs[size_t(job.graph)];
        j.object([&] {
          j.attribute("id", int64_t(i));
          j.attribute("model", P.workloads[size_t(job.workload)].name);
          j.attribute("plan", info.graphDirs[size_t(job.graph)]);
          j.attribute("role", roleName(job.role));
          j.attribute("instance", job.instance);
          if (job.position >= 0) {
            j.attribute("position", job.position);
            j.attribute("tokens", job.tokens);
          }
          j.attribute("release_us", r3(r.release));
          j.attribute("deadline_us", r3(r.deadline));
          j.attribute("start_us", r3(r.start));
          j.attribute("end_us", r3(r.end));
          j.attribute("missed", r.missed);
          j.attributeArray("tasks", [&] {
            for (size_t v = 0; v < r.tasks.size(); ++v) {
              const PlacedTask &t = r.tasks[v];
              j.object([&] {
                j.attribute("task", g.tasks[v].planId);
                j.attribute("device",
                            P.platform.devices[size_t(t.device)].name);
                j.attribute("queue", t.queue);
                j.attribute("start_us", r3(t.start));
                j.attribute("end_us", r3(t.end));
              });
            }
          });
        });
      }
    });
  });
  os << "\n";
}

void loom::scenario::writeScenarioTrace(const ScenarioProblem &P,
                                        const PolicyResult &R,
                                        const OutputInfo &info,
                                        llvm::raw_ostream &os) {
  int p = int(P.platform.devices.size());
  json::OStream j(os, 1);
  j.object([&] {
    j.attributeArray("traceEvents", [&] {
      for (int d = 0; d < p; ++d) {
        j.object([&] {
          j.attribute("name", "process_name");
          j.attribute("ph", "M");
          j.attribute("pid", d);
          j.attributeObject("args", [&] {
            j.attribute("name", P.platform.devices[size_t(d)].name);
          });
        });
        for (int q = 0; q < std::max(1, P.platform.devices[size_t(d)].queues);
             ++q)
          j.object([&] {
            j.attribute("name", "thread_name");
            j.attribute("ph", "M");
            j.attribute("pid", d);
            j.attribute("tid", q);
            j.attributeObject("args", [&] {
              j.attribute("name", "queue " + std::to_string(q));
            });
          });
      }
      // Links with transfers: pid p + from * p + to.
      std::vector<bool> used(size_t(p * p), false);
      for (const PlacedTransfer &t : R.transfers)
        used[size_t(t.fromDevice * p + t.toDevice)] = true;
      for (int l = 0; l < p * p; ++l)
        if (used[size_t(l)])
          j.object([&] {
            j.attribute("name", "process_name");
            j.attribute("ph", "M");
            j.attribute("pid", p + l);
            j.attributeObject("args", [&] {
              j.attribute("name",
                          "link " + P.platform.devices[size_t(l / p)].name +
                              " -> " + P.platform.devices[size_t(l % p)].name);
            });
          });
      std::vector<size_t> order = startOrder(R);
      std::vector<int64_t> idOf(R.jobs.size());
      for (size_t i = 0; i < order.size(); ++i)
        idOf[order[i]] = int64_t(i);
      for (size_t i = 0; i < order.size(); ++i) {
        size_t jb = order[i];
        const Job &job = P.jobs[jb];
        const ModelGraph &g = P.graphs[size_t(job.graph)];
        std::string label = jobLabel(P, jb);
        for (size_t v = 0; v < g.tasks.size(); ++v) {
          const PlacedTask &t = R.jobs[jb].tasks[v];
          j.object([&] {
            j.attribute("name", label + ": " + g.tasks[v].name);
            j.attribute("cat", P.workloads[size_t(job.workload)].name);
            j.attribute("ph", "X");
            j.attribute("pid", t.device);
            j.attribute("tid", t.queue);
            j.attribute("ts", r3(t.start));
            j.attribute("dur", r3(t.end - t.start));
            j.attributeObject("args", [&] {
              j.attribute("job", int64_t(i));
              j.attribute("plan", info.graphDirs[size_t(job.graph)]);
              j.attribute("task", g.tasks[v].planId);
              j.attribute("missed", R.jobs[jb].missed);
            });
          });
        }
      }
      for (const PlacedTransfer &t : R.transfers)
        j.object([&] {
          j.attribute("name", "copy (" + jobLabel(P, size_t(t.job)) + ")");
          j.attribute("cat", "transfer");
          j.attribute("ph", "X");
          j.attribute("pid", p + t.fromDevice * p + t.toDevice);
          j.attribute("tid", 0);
          j.attribute("ts", r3(t.start));
          j.attribute("dur", r3(t.end - t.start));
          j.attributeObject("args",
                            [&] { j.attribute("job", idOf[size_t(t.job)]); });
        });
    });
    j.attribute("displayTimeUnit", "ms");
  });
  os << "\n";
}

void loom::scenario::writeScenarioReport(
    const ScenarioProblem &P, const std::vector<PolicyResult> &results,
    size_t chosen, const OutputInfo &info, llvm::raw_ostream &os) {
  std::vector<std::vector<WorkloadStats>> stats;
  for (const PolicyResult &r : results)
    stats.push_back(workloadStats(P, r));
  static const char *const colors[] = {"#888888", "#1f77b4", "#ff7f0e",
                                       "#2ca02c", "#d62728", "#9467bd"};
  os << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n<title>Loom "
        "scenario "
     << html(info.source) << "</title>\n"
     << "<style>body{font-family:sans-serif;margin:2em;max-width:1100px}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid "
        "#ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}"
        "td.l,th.l{text-align:left}.miss{color:#c00;font-weight:bold}"
        ".chosen{background:#eef6ff}"
     << loom::emit::kReportStyle << "</style>\n"
     << loom::emit::kReportErrorHook << "</head><body>\n";
  os << "<h1>Scenario " << html(info.source) << " on " << html(info.target)
     << "</h1>\n<p>Horizon " << ms(P.horizonUs) << " ms"
     << (P.horizonCapped ? " (capped: the hyperperiod is longer)" : "") << "; "
     << P.jobs.size()
     << " job instances; policy requested: " << html(info.requestedPolicy)
     << ", schedule written: <b>" << policyName(results[chosen].policy)
     << "</b>. All numbers are predictions of the cost model.</p>\n";
  {
    const PolicyResult &R = results[chosen];
    os << "<h2>Written schedule</h2>\n<p>" << policyName(R.policy) << ": <b"
       << (R.misses ? " class=miss" : "") << ">" << missCount(R.misses)
       << "</b> in " << R.jobs.size() << " job instances; makespan "
       << ms(R.makespanUs) << " ms.</p>\n";
    writeScheduleTimeline(P, R, os);
  }
  if (!info.analysis.empty()) {
    os << "<h2>Feasibility warnings</h2><ul>\n";
    for (const std::string &a : info.analysis)
      os << "<li>" << html(a) << "</li>\n";
    os << "</ul>\n";
  }
  // Summary per policy.
  os << "<h2>Policies</h2>\n<table><tr><th class=l>policy</th><th>deadline "
        "misses</th><th>total lateness (ms)</th><th>worst TTFT "
        "(ms)</th><th>makespan (ms)</th></tr>\n";
  for (size_t i = 0; i < results.size(); ++i) {
    const PolicyResult &r = results[i];
    os << "<tr" << (i == chosen ? " class=chosen" : "") << "><td class=l>"
       << policyName(r.policy) << (i == chosen ? " (chosen)" : "") << "</td><td"
       << (r.misses ? " class=miss" : "") << ">" << r.misses << "</td><td>"
       << ms(r.totalLatenessUs) << "</td><td>"
       << (r.worstTtftUs > 0 ? ms(r.worstTtftUs) : "-") << "</td><td>"
       << ms(r.makespanUs) << "</td></tr>\n";
  }
  os << "</table>\n";
  // Misses chart.
  {
    int maxMiss = 1;
    for (const PolicyResult &r : results)
      maxMiss = std::max(maxMiss, r.misses);
    int w = 520, rowH = 22;
    os << "<svg width=\"" << w + 200 << "\" height=\""
       << rowH * results.size() + 30 << "\" role=\"img\">\n";
    for (size_t i = 0; i < results.size(); ++i) {
      int bw = int(double(results[i].misses) / maxMiss * w);
      os << "<text x=\"0\" y=\"" << i * rowH + 16 << "\" font-size=\"12\">"
         << policyName(results[i].policy) << "</text><rect x=\"110\" y=\""
         << i * rowH + 4 << "\" width=\"" << bw << "\" height=\"" << rowH - 6
         << "\" fill=\"" << colors[i % 6] << "\"/><text x=\"" << 115 + bw
         << "\" y=\"" << i * rowH + 16 << "\" font-size=\"12\">"
         << missCount(results[i].misses) << "</text>\n";
    }
    os << "</svg>\n";
  }
  // Per model.
  os << "<h2>Models</h2>\n";
  for (size_t w = 0; w < P.workloads.size(); ++w) {
    const Workload &wl = P.workloads[w];
    double deadline =
        wl.isRequest() ? wl.perTokenMs * 1000 : wl.deadlineMs * 1000;
    os << "<h3>" << html(wl.name) << "</h3>\n<p>";
    if (wl.isGenerate())
      os << "LLM request on the generation program of "
         << html(wl.program.file) << " (models/" << html(wl.name)
         << ".generate: contexts of " << [&] {
              std::string t;
              for (int64_t c : wl.capacities)
                t += (t.empty() ? "" : ", ") + std::to_string(c);
              return t;
            }() << " positions): a prompt of " << wl.prefillTokens
         << " tokens in " << wl.prefillChunks() << " prefill chunk"
         << (wl.prefillChunks() == 1 ? "" : "s") << " of at most "
         << wl.prefillChunk
         << " (a short last one as decode steps where the plans predict "
            "that cheaper), then "
         << wl.decodeTokens
         << " decode steps, each on the smallest context that holds its "
            "tokens; TTFT target "
         << ms(wl.ttftMs * 1000) << " ms, per-token target "
         << ms(wl.perTokenMs * 1000) << " ms";
    else if (wl.isRequest())
      os << "LLM request: prefill " << html(wl.prefill.file) << " ("
         << wl.prefillTokens << " tokens), then " << wl.decodeTokens
         << " decode steps of " << html(wl.decode.file) << "; TTFT target "
         << ms(wl.ttftMs * 1000) << " ms, per-token target "
         << ms(wl.perTokenMs * 1000) << " ms";
    else
      os << "Periodic: " << html(wl.model.file) << " every "
         << ms(wl.periodMs * 1000) << " ms, deadline "
         << ms(wl.deadlineMs * 1000) << " ms";
    os << "; priority " << wl.priority << ".</p>\n";
    os << "<table><tr><th class=l>policy</th><th>jobs</th><th>misses</th>"
          "<th>min (ms)</th><th>median (ms)</th><th>p95 (ms)</th><th>max "
          "(ms)</th>";
    if (wl.isRequest())
      os << "<th>TTFT (ms)</th><th>tokens/s</th>";
    os << "</tr>\n";
    double maxLat = deadline;
    for (size_t i = 0; i < results.size(); ++i) {
      const WorkloadStats &s = stats[i][w];
      maxLat = std::max(maxLat, s.maxUs);
      os << "<tr" << (i == chosen ? " class=chosen" : "") << "><td class=l>"
         << policyName(results[i].policy) << "</td><td>" << s.jobs << "</td><td"
         << (s.misses ? " class=miss" : "") << ">" << s.misses << "</td><td>"
         << ms(s.minUs) << "</td><td>" << ms(s.medianUs) << "</td><td>"
         << ms(s.p95Us) << "</td><td>" << ms(s.maxUs) << "</td>";
      if (wl.isRequest()) {
        char tps[32];
        std::snprintf(tps, sizeof tps, "%.1f", s.tokensPerS);
        os << "<td" << (s.ttftUs > wl.ttftMs * 1000 + 1e-6 ? " class=miss" : "")
           << ">" << ms(s.ttftUs) << "</td><td>" << tps << "</td>";
      }
      os << "</tr>\n";
    }
    os << "</table>\n";
    if (wl.isGenerate()) {
      // The plans the written schedule's jobs run, with their positions:
      // the predicted cost of a step grows with its context.
      os << "<table><tr><th class=l>plan</th><th class=l>jobs</th>"
            "<th>positions</th><th>predicted run (ms)</th></tr>\n";
      const PolicyResult &R = results[chosen];
      for (size_t gi = 0; gi < P.workloadGraphs[w].size(); ++gi) {
        const int g = P.workloadGraphs[w][gi];
        const bool decodePlan = gi % 2 == 1; // per context: prefill, decode
        int count = 0, prefills = 0;
        int64_t first = -1, last = -1;
        double sum = 0;
        for (size_t jb = 0; jb < P.jobs.size(); ++jb) {
          const Job &job = P.jobs[jb];
          if (job.graph != g)
            continue;
          ++count;
          prefills += job.role == Job::Role::Prefill;
          if (first < 0)
            first = job.position;
          last = job.position + job.tokens - 1;
          sum += R.jobs[jb].end - R.jobs[jb].start;
        }
        if (!count)
          continue;
        auto plural = [](int n, const char *what) {
          return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
        };
        // Prompt tokens on a decode plan: a short last chunk run as steps.
        std::string what;
        if (prefills)
          what = decodePlan ? plural(prefills, "prompt token step")
                            : plural(prefills, "prefill chunk");
        if (count > prefills)
          what += (what.empty() ? "" : ", ") + plural(count - prefills, "decode step");
        os << "<tr><td class=l>" << html(info.graphDirs[size_t(g)])
           << "</td><td class=l>" << what << "</td><td>" << first << "–"
           << last << "</td><td>" << ms(sum / count) << "</td></tr>\n";
      }
      os << "</table>\n";
    }
    // Latency chart: min-max bar, median and p95 ticks, deadline line.
    int width = 520, rowH = 22, x0 = 110;
    double scale = maxLat > 0 ? width / (maxLat * 1.05) : 1;
    os << "<svg width=\"" << x0 + width + 40 << "\" height=\""
       << rowH * results.size() + 30 << "\" role=\"img\">\n";
    for (size_t i = 0; i < results.size(); ++i) {
      const WorkloadStats &s = stats[i][w];
      double y = double(i * rowH);
      os << "<text x=\"0\" y=\"" << y + 16 << "\" font-size=\"12\">"
         << policyName(results[i].policy) << "</text>"
         << "<rect x=\"" << x0 + s.minUs * scale << "\" y=\"" << y + 6
         << "\" width=\"" << std::max(1.0, (s.maxUs - s.minUs) * scale)
         << "\" height=\"" << rowH - 10 << "\" fill=\"" << colors[i % 6]
         << "\" opacity=\"0.5\"/>"
         << "<line x1=\"" << x0 + s.medianUs * scale << "\" x2=\""
         << x0 + s.medianUs * scale << "\" y1=\"" << y + 3 << "\" y2=\""
         << y + rowH - 1 << "\" stroke=\"black\" stroke-width=\"2\"/>"
         << "<line x1=\"" << x0 + s.p95Us * scale << "\" x2=\""
         << x0 + s.p95Us * scale << "\" y1=\"" << y + 3 << "\" y2=\""
         << y + rowH - 1 << "\" stroke=\"black\" stroke-dasharray=\"2,2\"/>\n";
    }
    double dx = x0 + deadline * scale;
    os << "<line x1=\"" << dx << "\" x2=\"" << dx << "\" y1=\"0\" y2=\""
       << rowH * results.size() << "\" stroke=\"#c00\"/>"
       << "<text x=\"" << dx - 30 << "\" y=\"" << rowH * results.size() + 14
       << "\" font-size=\"11\" fill=\"#c00\">deadline " << ms(deadline)
       << " ms</text>\n</svg>\n<p style=\"font-size:smaller\">Bars: min to max "
          "latency (end - release"
       << (wl.isRequest() ? ", decode steps" : "")
       << "); solid tick: median; dashed: p95.</p>\n";
  }
  os << "<h2>Notes</h2><ul><li>back-to-back: each model's compiled plan, "
        "one job at a time in release order (the baseline).</li><li>edf, "
        "fixed-priority: task-level list scheduling on the compiled devices, "
        "by absolute deadline or by priority.</li><li>utilization: every "
        "model on one device, balancing utilization, then edf.</li><li>joint: "
        "edf; a job that would miss on its compiled devices, or an LLM "
        "prefill, may have its tasks moved (each to the device where it "
        "finishes first, or all to one device) when that ends it "
        "sooner.</li></ul>\n"
     << loom::emit::kReportScript << "</body></html>\n";
}
