"""Self-contained HTML reports of benchmark and experiment folders.

One file, no network at view time: Plotly's offline bundle (the installed ``plotly`` package's
``plotly.min.js``) is inlined once, the data is one JSON object, thumbnails are small JPEG data
URIs. A report shows the metric table, success and precision curves of every run, a sweep plot
for one-key experiments, and a per-sequence table whose rows open a sequence view: IoU with the
ground truth and the backbone's score along the frames, each reasoning event a marker; clicking
(or hovering) a marker shows the frames the reasoner saw, its think text, decision, answer, the
text before and after, and the latency. An annotated video beside the run
(``videos/<seq>.mp4``) is linked (relative path), not embedded.

Size: thumbnails are at most ``THUMB_SIDE`` px on the longer side at JPEG quality 70, for at most
``MAX_EVENT_THUMBS`` events per sequence and ``MAX_THUMB_SEQUENCES`` sequences (events past the
cap show their text only); a 4.8 MB script bundle dominates small reports.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..config import ConfigError, load_yaml
from ..experiments.runs import BenchmarkRun, evaluate_runs, find_runs, read_scores
from ..fileio import jsonable
from . import REPORT_NAME

__all__ = ["write_benchmark_report", "write_experiment_report", "write_comparison_report", "build_report_data", "render"]

THUMB_SIDE = 128
MAX_EVENT_THUMBS = 40
MAX_THUMB_SEQUENCES = 60


def _thumbnail(path: Path) -> str | None:
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        return None
    h, w = image.shape[:2]
    scale = THUMB_SIDE / max(h, w)
    if scale < 1:
        image = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 70])
    return "data:image/jpeg;base64," + base64.b64encode(data.tobytes()).decode("ascii") if ok else None


def _iou(pred: np.ndarray, truth: np.ndarray) -> list[float | None]:
    from ..geometry import iou

    n = min(len(pred), len(truth))
    values = iou(pred[:n], truth[:n])
    valid = (truth[:n, 2] > 0) & (truth[:n, 3] > 0)
    return [round(float(v), 4) if ok else None for v, ok in zip(values, valid)]


def _event_view(event: dict) -> dict:
    keys = ("frame", "template_frame", "triggers", "status", "think", "decision", "answer", "text_before",
            "text_applied", "latency_s", "error", "format_ok", "applied_from")
    return {k: event.get(k) for k in keys}


def build_report_data(runs: list[BenchmarkRun], title: str, about: str = "", summary: dict | None = None,
                      sweep: dict | None = None) -> dict:
    """Everything the page shows, as one JSON-ready mapping."""
    from ..evaluation.results import read_boxes
    from ..pipeline.config import BenchmarkConfig
    from ..pipeline.runner import load_dataset

    report = evaluate_runs(runs)
    proto = report.protocol
    dataset = load_dataset(BenchmarkConfig.from_dict(runs[0].config))
    data: dict[str, Any] = {
        "title": title,
        "about": about,
        "benchmark": report.benchmark,
        "protocol": proto.name,
        "pr_label": report.pr_label,
        "npr_label": report.npr_label,
        "success_x": np.asarray(proto.success_thresholds).tolist(),
        "precision_x": np.asarray(proto.precision_thresholds).tolist(),
        "runs": [],
        "sequences": report.sequences,
        "seq": {},
        "thumbs": {},
        "sweep": sweep,
    }
    rows = {row["name"]: row for row in (summary or {}).get("variants", [])}
    for run in runs:
        t = report.trackers[run.label]
        stats = run.stats()
        data["runs"].append({
            "label": run.label,
            "overall": t.overall.as_dict(),
            "success": np.asarray(t.overall.success).tolist(),
            "precision": np.asarray(t.overall.precision).tolist(),
            "per_sequence": {n: s.as_dict() for n, s in t.per_sequence.items()},
            "reasoning": stats["reasoning"],
            "fps": stats["fps"],
            "overrides": rows.get(run.label, {}).get("overrides", {}),
            "backbone": run.config.get("backbone", run.config.get("tracker")),
            "reasoner": run.config.get("reasoner"),
        })
    for index, name in enumerate(report.sequences):
        sequence = dataset.load(name)
        truth = np.asarray(sequence.ground_truth, dtype=np.float64)
        frames = sequence.frames
        per_run = {}
        wanted: set[int] = set()
        for run in runs:
            boxes = read_boxes(run.results_dir / f"{name}.txt")
            events = [_event_view(e) for e in run.events(name)]
            video = run.folder / "videos" / f"{name}.mp4"
            per_run[run.label] = {"iou": _iou(boxes, truth), "score": read_scores(run, name), "events": events,
                                  "video": str(video) if video.is_file() else None}
            for e in events[:MAX_EVENT_THUMBS]:
                for key in ("frame", "template_frame"):
                    if isinstance(e.get(key), int):
                        wanted.add(e[key])
        data["seq"][name] = {"frames": len(truth), "description": sequence.description or "", "runs": per_run}
        if index < MAX_THUMB_SEQUENCES and frames:
            thumbs = {}
            for i in sorted(wanted):
                if 0 <= i < len(frames):
                    uri = _thumbnail(frames[i])
                    if uri:
                        thumbs[str(i)] = uri
            data["thumbs"][name] = thumbs
    return data


def _finite(value):
    """NaN/inf (not JSON) become null."""
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, (np.floating, np.integer)):
        return _finite(value.item())
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _plotly_js() -> str:
    try:
        from plotly.offline import get_plotlyjs
    except ImportError as exc:  # pragma: no cover -- plotly is in the [report] and [dev] extras
        raise ConfigError("HTML reports need plotly: pip install 'reasoningtrack[report]'") from exc
    return get_plotlyjs()


def render(data: dict) -> str:
    """The whole page (the data JSON is escaped so no string can close the script element)."""
    payload = json.dumps(_finite(data), default=jsonable, allow_nan=False).replace("</", "<\\/")
    return (_PAGE.replace("%TITLE%", html.escape(data["title"]))
            .replace("%PLOTLY%", _plotly_js().replace("</script", "<\\/script"))
            .replace("%DATA%", payload))


def _write(path: Path, text: str) -> Path:
    from ..fileio import atomic_write_text as write_text_atomic

    return write_text_atomic(path, text)


def _relative_videos(data: dict, out: Path) -> None:
    import os

    for seq in data["seq"].values():
        for run in seq["runs"].values():
            if run["video"]:
                run["video"] = os.path.relpath(run["video"], out.parent)


def write_benchmark_report(folder, output=None) -> Path:
    """``FOLDER/report.html`` for a benchmark folder."""
    folder = Path(folder)
    runs = find_runs(folder)
    out = Path(output) if output else folder / REPORT_NAME
    config = runs[0].config
    title = f"{folder.name}: {config.get('backbone', config.get('tracker'))} + {config.get('reasoner')} on {config.get('dataset')}"
    data = build_report_data(runs, title)
    _relative_videos(data, out)
    return _write(out, render(data))


def write_experiment_report(folder, output=None) -> Path:
    """``FOLDER/report.html`` for an experiment folder (finished variants)."""
    folder = Path(folder)
    summary_path = folder / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else None
    done = {r["name"] for r in (summary or {}).get("variants", []) if r.get("metrics")}
    runs = [r for r in find_runs(folder) if summary is None or r.label in done]
    if not runs:
        raise ConfigError(f"experiment {folder} has no finished variant to report")
    sweep = None
    if summary is not None:
        from ..experiments.summary import sweep_key

        key = sweep_key(summary)
        if key:
            rows = [r for r in summary["variants"] if r.get("metrics")]
            sweep = {"key": key, "values": [r["overrides"][key] for r in rows], "names": [r["name"] for r in rows],
                     "metrics": {m: [r["metrics"][m] for r in rows] for m in ("SR", "PR", "NPR")}}
    spec = load_yaml(folder / "experiment.yaml")
    out = Path(output) if output else folder / REPORT_NAME
    data = build_report_data(runs, f"experiment {folder.name}", spec.get("about") or "", summary, sweep)
    _relative_videos(data, out)
    return _write(out, render(data))


def write_comparison_report(comparison, output) -> Path:
    out = Path(output)
    data = build_report_data(comparison.runs, "comparison: " + ", ".join(r.label for r in comparison.runs))
    _relative_videos(data, out)
    return _write(out, render(data))


_PAGE = r"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>%TITLE%</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.2em;color:#222}
table{border-collapse:collapse;margin:.6em 0}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}
tr.seq{cursor:pointer} tr.seq:hover{background:#eef}
tr.sel{background:#dde}
.charts{display:flex;flex-wrap:wrap;gap:1em}
.chart{width:560px;height:400px}
#event{border:1px solid #aaa;padding:.6em;margin-top:.6em;min-height:3em;max-width:1100px}
#event img{margin-right:.5em;border:1px solid #888}
.k{color:#666}
pre{white-space:pre-wrap;margin:.2em 0}
</style>
<script>%PLOTLY%</script>
</head><body>
<h1 id="title"></h1><p id="about"></p>
<h2>Scores</h2><table id="metrics"></table>
<div class="charts"><div id="success" class="chart"></div><div id="precision" class="chart"></div><div id="sweep" class="chart" style="display:none"></div></div>
<h2>Sequences</h2>
<p>Click a row to open the sequence: IoU with the ground truth and the backbone's score per frame; markers are reasoning events (click one for what the reasoner saw and said).</p>
<label>Run: <select id="runsel"></select></label>
<table id="seqs"></table>
<div id="seqview" style="display:none"><h3 id="seqtitle"></h3><div id="timeline" style="width:1100px;height:380px"></div>
<div id="video"></div><div id="event">Click a reasoning marker.</div></div>
<script id="report-data" type="application/json">%DATA%</script>
<script>
const D = JSON.parse(document.getElementById('report-data').textContent);
const esc = s => String(s === null || s === undefined ? '' : s).replace(/[&<>"']/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
const f2 = v => (v === null || v === undefined) ? '-' : Number(v).toFixed(2);
document.getElementById('title').textContent = D.title;
document.getElementById('about').textContent = D.about + ' ' + D.benchmark + ', ' + D.sequences.length + ' sequences, protocol ' + D.protocol + '.';
let m = '<tr><th>Run</th><th>SR (AUC)</th><th>' + esc(D.pr_label) + '</th><th>' + esc(D.npr_label) + '</th><th>calls</th><th>updates</th><th>failed</th><th>fps</th></tr>';
for (const r of D.runs) m += '<tr class="run"><td>' + esc(r.label) + '</td><td>' + f2(r.overall.SR) + '</td><td>' + f2(r.overall.PR) + '</td><td>' + f2(r.overall.NPR) + '</td><td>' + r.reasoning.calls + '</td><td>' + r.reasoning.updates + '</td><td>' + r.reasoning.failed + '</td><td>' + f2(r.fps) + '</td></tr>';
document.getElementById('metrics').innerHTML = m;
const curve = (id, key, x, title, xt) => Plotly.newPlot(id, D.runs.map(r => ({x: x, y: r[key], mode: 'lines', name: r.label + ' [' + (key === 'success' ? r.overall.SR : r.overall.PR).toFixed(1) + ']'})),
  {title: {text: title}, xaxis: {title: {text: xt}}, yaxis: {range: [0, 1]}, margin: {t: 40}}, {displaylogo: false});
curve('success', 'success', D.success_x, 'Success plot', 'Overlap threshold');
curve('precision', 'precision', D.precision_x, 'Precision plot', 'Location error threshold (px)');
if (D.sweep) {
  const el = document.getElementById('sweep'); el.style.display = '';
  const numeric = D.sweep.values.every(v => typeof v === 'number');
  const xs = numeric ? D.sweep.values : D.sweep.names;
  Plotly.newPlot('sweep', ['SR', 'PR', 'NPR'].map(k => ({x: xs, y: D.sweep.metrics[k], mode: 'lines+markers', name: k})),
    {title: {text: 'Score vs ' + D.sweep.key}, xaxis: {title: {text: D.sweep.key}, type: numeric && Math.max(...xs) / Math.max(Math.min(...xs), 1e-9) > 20 ? 'log' : '-'}, margin: {t: 40}}, {displaylogo: false});
}
const sel = document.getElementById('runsel');
D.runs.forEach((r, i) => { const o = document.createElement('option'); o.value = i; o.textContent = r.label; sel.appendChild(o); });
function seqTable() {
  const r = D.runs[+sel.value];
  let t = '<tr><th>Sequence</th><th>SR</th><th>PR</th><th>NPR</th><th>events</th><th>updates</th></tr>';
  for (const n of D.sequences) {
    const s = r.per_sequence[n] || {}; const ev = D.seq[n].runs[r.label].events;
    t += '<tr class="seq" data-seq="' + esc(n) + '"><td>' + esc(n) + '</td><td>' + f2(s.SR) + '</td><td>' + f2(s.PR) + '</td><td>' + f2(s.NPR) + '</td><td>' + ev.length + '</td><td>' + ev.filter(e => e.status === 'updated').length + '</td></tr>';
  }
  const el = document.getElementById('seqs'); el.innerHTML = t;
  el.querySelectorAll('tr.seq').forEach(tr => tr.addEventListener('click', () => openSeq(tr.dataset.seq)));
}
sel.addEventListener('change', seqTable);
const COLORS = {updated: '#2a9d2a', kept: '#1f6fd1', error: '#d62728', timeout: '#ff7f0e', parse_error: '#9467bd'};
function showEvent(n, label, k) {
  const e = D.seq[n].runs[label].events[k]; const th = D.thumbs[n] || {};
  let h = '<b>frame ' + e.frame + '</b> <span class="k">(' + esc((e.triggers || []).join(', ')) + ')</span> status <b>' + esc(e.status) + '</b>';
  if (e.latency_s !== null && e.latency_s !== undefined) h += ', latency ' + Number(e.latency_s).toFixed(3) + ' s';
  h += '<div>';
  if (th[e.template_frame]) h += '<img alt="template frame ' + e.template_frame + '" title="template frame ' + e.template_frame + '" src="' + th[e.template_frame] + '">';
  if (th[e.frame]) h += '<img alt="frame ' + e.frame + '" title="current frame ' + e.frame + '" src="' + th[e.frame] + '">';
  h += '</div><div class="think"><span class="k">think:</span><pre>' + esc(e.think) + '</pre></div>';
  h += '<div><span class="k">decision:</span> ' + esc(e.decision) + ' &nbsp; <span class="k">answer:</span> ' + esc(e.answer) + '</div>';
  h += '<div><span class="k">text before:</span> ' + esc(e.text_before) + '</div><div><span class="k">text after:</span> ' + esc(e.text_applied) + '</div>';
  if (e.error) h += '<div style="color:#b00"><span class="k">error:</span> ' + esc(e.error) + '</div>';
  document.getElementById('event').innerHTML = h;
}
function openSeq(n) {
  const r = D.runs[+sel.value]; const s = D.seq[n].runs[r.label];
  document.querySelectorAll('tr.seq').forEach(tr => tr.classList.toggle('sel', tr.dataset.seq === n));
  document.getElementById('seqview').style.display = '';
  document.getElementById('seqtitle').textContent = n + ' (' + r.label + '): ' + D.seq[n].description;
  const xs = s.iou.map((_, i) => i);
  const traces = [{x: xs, y: s.iou, mode: 'lines', name: 'IoU with ground truth'}];
  if (s.score) traces.push({x: s.score.map((_, i) => i), y: s.score, mode: 'lines', name: 'backbone score', line: {dash: 'dot'}});
  traces.push({x: s.events.map(e => e.frame), y: s.events.map(() => 1.05), mode: 'markers', name: 'reasoning events',
    marker: {size: 12, symbol: 'triangle-down', color: s.events.map(e => COLORS[e.status] || '#555')},
    customdata: s.events.map((e, k) => k), text: s.events.map(e => e.status + ': ' + (e.text_applied || e.answer || '')), hoverinfo: 'x+text'});
  Plotly.newPlot('timeline', traces, {title: {text: 'IoU and score along the frames'}, xaxis: {title: {text: 'frame'}}, yaxis: {range: [0, 1.12]}, margin: {t: 40}, hovermode: 'closest'}, {displaylogo: false});
  const tl = document.getElementById('timeline');
  const pick = ev => {
    const p = ev.points.find(p => p.curveNumber === traces.length - 1);
    if (p) return showEvent(n, r.label, p.customdata);
    const k = ev.points.length ? s.events.findIndex(e => e.frame === ev.points[0].x) : -1;  // the line's point at a marker's frame
    if (k >= 0) showEvent(n, r.label, k);
  };
  tl.on('plotly_click', pick); tl.on('plotly_hover', pick);
  document.getElementById('video').innerHTML = s.video ? '<video controls width="560" src="' + esc(s.video) + '"></video>' : '';
  document.getElementById('event').textContent = s.events.length ? 'Click a reasoning marker.' : 'No reasoning event in this sequence.';
}
seqTable();
</script></body></html>
"""
