//===- ReportScript.h - The timeline shared by the HTML reports -*- C++ -*-===//
//
// report.html of a plan (lib/Emit/ReportEmitter.cpp) and of a scenario
// (lib/Scenario/Output.cpp) draw their schedules with one small inline
// script: rows (device queues, links, jobs), bars coloured by group with
// their label written on them where it fits, a time axis with ticks,
// marks (deadlines, releases), zoom (buttons, or drag across the chart)
// and, for plans with thousands of bars, only the longest ones of the
// visible window. The data is a JSON block in the page, so the HTML files
// stay deterministic and small; the drawing happens in the browser.
//
// Page contract (docs/tools.md "report.html"):
//   <script type="application/json" id="ID">{...}</script>
//   <div class="loom-timeline" data-src="ID"></div>
// with the data
//   {"unit": "µs", "scale": 1, "end": T, "maxBars": N,
//    "rows": ["cpu[0]", ...],
//    "groups": [{"name": "matmul", "color": "#4e79a7"}, ...],
//    "bars": [[row, start, end, group, "label", "tooltip", missed], ...],
//    "marks": [[row, time, "deadline"|"release", "tooltip"], ...]}
// (times in µs; `scale` converts them to `unit` for the axis). Once every
// timeline is drawn, the script appends
//   <div id="loom-report-ok" data-bars="N" data-errors="E">
// (N bars drawn, E script errors so far); an error before that leaves no
// marker, and any error is also listed in
//   <div id="loom-report-errors" data-errors="E">
// which is how the headless-browser tests (test/Emit/report-browser.test)
// know the page really drew.
//
// Header-only (no library to link): the scenario library has no MLIR.
//
//===----------------------------------------------------------------------===//
#ifndef LOOM_EMIT_REPORTSCRIPT_H
#define LOOM_EMIT_REPORTSCRIPT_H

#include "llvm/ADT/StringRef.h"

#include <cmath>
#include <cstdio>
#include <string>

namespace loom::emit {

/// The `maxBars` the reports give the timeline: at most this many bars are
/// drawn at once (the longest of the visible window), so a plan of
/// thousands of tasks keeps a fast chart.
inline constexpr size_t kTimelineMaxBars = 2000;

/// CSS of the timeline, the legend and the sortable tables; goes into
/// <style>.
inline constexpr llvm::StringLiteral kReportStyle =
    ".legend{display:flex;flex-wrap:wrap;gap:4px 14px;margin:.5em 0;"
    "font-size:13px}.legend span.sw{display:inline-block;width:14px;"
    "height:10px;margin-right:4px;border:1px solid #555;vertical-align:-1px}"
    ".tl-bar{display:flex;gap:6px;align-items:center;font-size:13px;"
    "margin:.3em 0}.tl-bar button{font-size:12px;padding:1px 8px}"
    ".tl-note{color:#555;font-size:12px}.loom-timeline svg{display:block;"
    "user-select:none}table.sortable th{cursor:pointer}"
    "table.tasks td{font-size:12px;padding:2px 6px}"
    "table.tasks td.reason,table.tasks th:last-child{text-align:left}"
    "table.tasks td.reason{max-width:34em}"
    "table.tasks td.here{font-weight:bold}.note{color:#555;font-size:13px}";

/// Goes first in <head>: records every script error of the page.
inline constexpr llvm::StringLiteral kReportErrorHook =
    "<script>window.loomErrors=[];window.addEventListener('error',function(e)"
    "{window.loomErrors.push(String(e.message));var d=document.getElementById"
    "('loom-report-errors');if(!d){d=document.createElement('div');"
    "d.id='loom-report-errors';d.style.color='#c00';(document.body||"
    "document.documentElement).appendChild(d);}d.setAttribute('data-errors',"
    "String(window.loomErrors.length));d.textContent='Script error: '+"
    "window.loomErrors.join('; ');});</script>\n";

/// Goes last in <body>: draws every `.loom-timeline`, makes every
/// `table.sortable` sortable by its headers, then writes the marker.
inline constexpr llvm::StringLiteral kReportScript = R"js(<script>
(function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  var ROW = 22, TOP = 24, FONT = '11px sans-serif';
  var ctx = document.createElement('canvas').getContext('2d'), clipCount = 0;
  function textWidth(s) { ctx.font = FONT; return ctx.measureText(s).width; }
  function svgEl(tag, attrs, parent) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function niceStep(span, n) {
    var raw = span / n, p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }
  function fmtTime(v, step) {
    var d = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step)));
    return v.toFixed(d);
  }
  // `s`, or what fits of it in `w` pixels: a name like
  // /layers.0/attn/q_proj/MatMul keeps its end ("\u2026/q_proj/MatMul"),
  // anything else its longest prefix, with an ellipsis.
  function fit(s, w) {
    if (textWidth(s) <= w) return s;
    // A split op's part keeps its " [part 1/2]" while there is room.
    var m = /^(.*?)( \[[^\]]*\])?$/.exec(s), part = m[2] || '';
    s = m[1];
    for (var k = part ? 0 : 1; k < 2; ++k)
      for (var i = s.indexOf('/', 1); i > 0 && i < s.length - 1; i = s.indexOf('/', i + 1)) {
        var tail = '\u2026' + s.slice(i) + (k ? '' : part);
        if (textWidth(tail) <= w) return tail;
      }
    var slash = s.lastIndexOf('/');
    if (slash >= 0 && slash < s.length - 1) s = s.slice(slash + 1);
    if (textWidth(s) <= w) return s;
    var lo = 0, hi = s.length;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (textWidth(s.slice(0, mid) + '\u2026') <= w) lo = mid; else hi = mid - 1;
    }
    return lo >= 3 ? s.slice(0, lo) + '\u2026' : '';
  }

  function Timeline(holder) {
    var data = JSON.parse(document.getElementById(holder.getAttribute('data-src')).textContent);
    this.holder = holder;
    this.data = data;
    this.end = data.end > 0 ? data.end : 1;
    this.from = 0;
    this.to = this.end;
    this.width = Math.max(600, Math.min(1400, holder.clientWidth || 1100));
    var left = 0;
    data.rows.forEach(function (r) { left = Math.max(left, textWidth(r)); });
    this.left = Math.min(220, Math.ceil(left) + 12);
    var bar = document.createElement('div');
    bar.className = 'tl-bar';
    var self = this;
    function button(text, title, fn) {
      var b = document.createElement('button');
      b.textContent = text; b.title = title;
      b.addEventListener('click', function () { fn(); self.draw(); });
      bar.appendChild(b);
    }
    function zoom(f) {
      var c = (self.from + self.to) / 2, h = (self.to - self.from) * f / 2;
      h = Math.min(Math.max(h, self.end * 1e-6), self.end / 2);
      self.from = Math.max(0, c - h); self.to = Math.min(self.end, self.from + 2 * h);
      self.from = Math.max(0, self.to - 2 * h);
    }
    function pan(f) {
      var w = self.to - self.from, d = w * f;
      self.from = Math.min(Math.max(0, self.from + d), self.end - w);
      self.to = self.from + w;
    }
    button('zoom in', 'show half of the time range', function () { zoom(0.5); });
    button('zoom out', 'show twice the time range', function () { zoom(2); });
    button('\u25c0', 'earlier', function () { pan(-0.5); });
    button('\u25b6', 'later', function () { pan(0.5); });
    button('whole schedule', 'show everything', function () { self.from = 0; self.to = self.end; });
    this.note = document.createElement('span');
    this.note.className = 'tl-note';
    bar.appendChild(this.note);
    holder.appendChild(bar);
  }

  Timeline.prototype.x = function (t) {
    return this.left + (t - this.from) * (this.width - this.left - 8) / (this.to - this.from);
  };

  // Draws the visible window; returns the number of bars drawn.
  Timeline.prototype.draw = function () {
    var d = this.data, self = this, scale = d.scale || 1;
    if (this.svg) this.holder.removeChild(this.svg);
    var height = TOP + ROW * d.rows.length + 6;
    var svg = svgEl('svg', {width: this.width, height: height, 'font-size': 11,
                            'font-family': 'sans-serif', role: 'img'});
    this.svg = svg;
    this.holder.appendChild(svg);
    // Rows and their names.
    d.rows.forEach(function (name, r) {
      var y = TOP + ROW * r;
      if (r % 2) svgEl('rect', {x: 0, y: y, width: self.width, height: ROW, fill: '#f6f6f6'}, svg);
      svgEl('text', {x: 4, y: y + 15}, svg).textContent = fit(name, self.left - 8);
    });
    // Axis: ticks at round times, grid lines through the rows.
    var span = (this.to - this.from) * scale;
    var step = niceStep(span, Math.max(2, Math.floor((this.width - this.left) / 90)));
    var first = Math.ceil(this.from * scale / step) * step;
    for (var v = first; v <= this.to * scale + step * 1e-9; v += step) {
      var x = this.x(v / scale);
      svgEl('line', {x1: x, x2: x, y1: TOP - 4, y2: height - 6, stroke: '#ddd'}, svg);
      svgEl('text', {x: x, y: TOP - 8, fill: '#444',
                     'text-anchor': x > this.width - 30 ? 'end' : 'middle'}, svg)
          .textContent = fmtTime(v, step) + (v === first ? ' ' + d.unit : '');
    }
    // Bars overlapping the window; at most maxBars, the longest (visible part).
    var visible = [];
    d.bars.forEach(function (b, i) {
      if (b[2] >= self.from && b[1] <= self.to) visible.push(i);
    });
    var max = d.maxBars || 2000, shown = visible;
    if (visible.length > max) {
      var len = function (i) {
        var b = d.bars[i];
        return Math.min(b[2], self.to) - Math.max(b[1], self.from);
      };
      shown = visible.slice().sort(function (a, b) { return len(b) - len(a) || a - b; })
                     .slice(0, max).sort(function (a, b) { return a - b; });
    }
    var clip = 'loom-clip-' + (++clipCount);
    var cp = svgEl('clipPath', {id: clip}, svg);
    svgEl('rect', {x: this.left, y: 0, width: this.width - this.left, height: height}, cp);
    var g = svgEl('g', {'clip-path': 'url(#' + clip + ')'}, svg);
    shown.forEach(function (i) {
      var b = d.bars[i], grp = d.groups[b[3]] || {color: '#999'};
      var x0 = Math.max(self.x(b[1]), self.left - 1), x1 = Math.min(self.x(b[2]), self.width);
      // Narrow bars keep their colour: an outline would hide it.
      var w = Math.max(1.5, x1 - x0), y = TOP + ROW * b[0] + 3;
      var r = svgEl('rect', {x: x0.toFixed(2), y: y, width: w.toFixed(2), height: ROW - 6,
                             fill: grp.color, 'class': 'tl-b',
                             stroke: b[6] ? '#c00' : w < 4 ? 'none' : '#333',
                             'stroke-width': b[6] ? 2 : 0.4}, g);
      svgEl('title', {}, r).textContent = b[5];
      var label = w > 14 ? fit(b[4], w - 6) : '';
      if (label)
        svgEl('text', {x: (x0 + 3).toFixed(2), y: y + 12, fill: '#000',
                       'pointer-events': 'none'}, g).textContent = label;
    });
    (d.marks || []).forEach(function (m) {
      if (m[1] < self.from || m[1] > self.to) return;
      var x = self.x(m[1]), y = TOP + ROW * m[0];
      var dl = m[2] === 'deadline';
      var l = svgEl('line', {x1: x, x2: x, y1: y + (dl ? 0 : 12), y2: y + ROW,
                             stroke: dl ? '#c00' : '#333', 'stroke-width': dl ? 2 : 1}, g);
      if (dl) svgEl('path', {d: 'M' + (x - 4) + ',' + y + 'h8l-4,5z', fill: '#c00'}, g);
      svgEl('title', {}, l).textContent = m[3];
    });
    // Drag across the chart to zoom into that range.
    var sel = null, band = null;
    svg.addEventListener('mousedown', function (e) {
      sel = e.offsetX;
      band = svgEl('rect', {x: sel, y: TOP - 4, width: 0, height: height - TOP,
                            fill: 'rgba(30,120,220,.15)'}, svg);
    });
    svg.addEventListener('mousemove', function (e) {
      if (band) {
        band.setAttribute('x', Math.min(sel, e.offsetX));
        band.setAttribute('width', Math.abs(e.offsetX - sel));
      }
    });
    svg.addEventListener('mouseup', function (e) {
      if (sel === null) return;
      var a = Math.min(sel, e.offsetX), b = Math.max(sel, e.offsetX);
      sel = null;
      if (b - a < 5) { svg.removeChild(band); band = null; return; }
      var t = function (px) {
        return self.from + (Math.max(px, self.left) - self.left) * (self.to - self.from) /
               (self.width - self.left - 8);
      };
      var f = t(a), to = Math.min(self.end, t(b));
      if (to > f) { self.from = f; self.to = to; }
      self.draw();
    });
    this.note.textContent = (shown.length < visible.length
        ? 'showing the ' + shown.length + ' longest of ' + visible.length +
          ' bars in this window (zoom in for the rest); '
        : '') +
        'window ' + fmtTime(this.from * scale, step / 10) + '\u2013' +
        fmtTime(this.to * scale, step / 10) + ' ' + d.unit + '; drag across the chart to zoom';
    return shown.length;
  };

  function sortable(table) {
    var heads = table.querySelectorAll('th');
    heads.forEach(function (th, col) {
      th.title = 'sort by ' + th.textContent;
      th.addEventListener('click', function () {
        var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
        var dir = th.getAttribute('data-dir') === 'asc' ? -1 : 1;
        heads.forEach(function (h) { h.removeAttribute('data-dir'); });
        th.setAttribute('data-dir', dir > 0 ? 'asc' : 'desc');
        var key = function (tr) {
          var c = tr.cells[col], v = c && c.getAttribute('data-v');
          return v !== null && v !== undefined ? parseFloat(v) : (c ? c.textContent : '');
        };
        rows.sort(function (a, b) {
          var x = key(a), y = key(b);
          if (typeof x === 'number' && typeof y === 'number') return dir * (x - y);
          return dir * String(x).localeCompare(String(y));
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }

  var bars = 0;
  document.querySelectorAll('.loom-timeline').forEach(function (h) {
    bars += new Timeline(h).draw();
  });
  document.querySelectorAll('table.sortable').forEach(sortable);
  var ok = document.createElement('div');
  ok.id = 'loom-report-ok';
  ok.setAttribute('data-bars', String(bars));
  ok.setAttribute('data-errors', String(window.loomErrors ? window.loomErrors.length : 0));
  ok.hidden = true;
  document.body.appendChild(ok);
})();
</script>
)js";

/// `s` as a JSON string that is safe inside <script> ("</" is written
/// "<\/").
inline std::string jsonString(llvm::StringRef s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '/':
      out += (i > 0 && s[i - 1] == '<') ? "\\/" : "/";
      break;
    default:
      if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      } else {
        out += char(c);
      }
    }
  }
  return out + "\"";
}

/// A time for the timeline's data: µs rounded to 1 ns, without trailing
/// zeros (byte-identical between runs).
inline std::string jsonTime(double us) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", std::round(us * 1000) / 1000);
  std::string s = buf;
  while (!s.empty() && s.back() == '0')
    s.pop_back();
  if (!s.empty() && s.back() == '.')
    s.pop_back();
  return s == "-0" ? "0" : s;
}

/// Opens the timeline's JSON block `id` up to its "groups" list: the time
/// unit shown, the scale from µs to it, the end (µs), the bar cap and the
/// row names. The caller writes the groups and bars and closes the block.
template <typename Stream, typename Rows>
void writeTimelineHead(Stream &os, const char *id, const char *unit, const char *scale,
                       double endUs, const Rows &rows) {
  os << "<script type=\"application/json\" id=\"" << id << "\">\n"
     << "{\"unit\": \"" << unit << "\", \"scale\": " << scale
     << ", \"end\": " << jsonTime(endUs) << ", \"maxBars\": " << kTimelineMaxBars
     << ",\n\"rows\": [";
  for (size_t r = 0; r < rows.size(); ++r)
    os << (r ? ", " : "") << jsonString(rows[r]);
  os << "],\n\"groups\": [";
}

} // namespace loom::emit

#endif // LOOM_EMIT_REPORTSCRIPT_H
