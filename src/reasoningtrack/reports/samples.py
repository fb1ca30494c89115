"""A viewer for chain-of-thought samples (the paper's first check: look at the data before training).

Reads built or taught sample folders (``reasoningtrack data build`` / ``data teach``; Parquet shards
with the frames) and the release's LLaMA-Factory SFT JSON files (``sft_dataset_*.json``, no frames:
the release published them separately). Each sample shows both frames with their boxes, the
description, the teacher's think, d and answer, the labels that are present (IoU with the old and
the new text), whether the output keeps the strict format, and the answer's length in the
backbone's BERT word-pieces: DUTrack reads a 16-token window ([CLS] + 14 pieces + [SEP]), so a longer
answer is cut. The page filters by d, source dataset, format failures and cut answers, and counts.
One self-contained HTML file (frames as small JPEG data URIs, at most ``max_images`` samples).
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..config import ConfigError

__all__ = ["load_sample_rows", "write_sample_viewer", "WINDOW_PIECES"]

#: Word-pieces of the description DUTrack sees: a 16-id window minus [CLS] and [SEP].
WINDOW_PIECES = 14
_STRICT = re.compile(r"^\s*<think>(.*?)</think>\s*<d>\s*(yes|no)\s*</d>\s*<answer>(.*?)</answer>\s*$", re.S)


def _split_output(text: str) -> dict[str, Any]:
    from ..reasoning.parser import extract_blocks

    blocks = extract_blocks(text or "")
    return {"think": blocks.think, "d": blocks.decision, "answer": blocks.answer,
            "format_ok": bool(_STRICT.match(text or ""))}


def _release_rows(files: list[Path]) -> list[dict]:
    rows = []
    for path in files:
        try:
            items = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
        if not isinstance(items, list):
            raise ConfigError(f"{path}: expected a list of LLaMA-Factory samples")
        source = path.stem.replace("sft_dataset_", "")
        for i, item in enumerate(items):
            if not isinstance(item, dict) or "output" not in item:
                raise ConfigError(f"{path}: sample {i + 1} has no 'output'")
            description = re.sub(r"^(\s*<image>)+\s*", "", str(item.get("input", ""))).strip()
            rows.append({"id": f"{source}-{i + 1:04d}", "source": source, "description": description,
                         **_split_output(str(item["output"])), "frames": [], "labels": {}})
    return rows


def _draw(image, box, colour) -> np.ndarray:
    import cv2

    image = np.array(image, dtype=np.uint8, copy=True)  # writable
    if box is not None and len(box) == 4 and box[2] > 0 and box[3] > 0:
        x, y, w, h = (int(round(float(v))) for v in box)
        cv2.rectangle(image, (x, y), (x + w, y + h), colour, max(1, round(max(image.shape[:2]) / 200)))
    return image


def _uri(image: np.ndarray, side: int = 240) -> str:
    import cv2

    h, w = image.shape[:2]
    scale = side / max(h, w)
    if scale < 1:
        image = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 75])
    return "data:image/jpeg;base64," + base64.b64encode(data.tobytes()).decode("ascii") if ok else ""


def _as_rgb(value) -> np.ndarray:
    from PIL import Image

    if isinstance(value, dict) and value.get("bytes") is not None:
        import io

        value = Image.open(io.BytesIO(value["bytes"]))
    if isinstance(value, Image.Image):
        return np.asarray(value.convert("RGB"))
    return np.asarray(value)


def _built_rows(path: Path, max_images: int) -> list[dict]:
    from ..training.conversations import COMPLETION_COLUMN
    from ..training.samples import load_samples

    data = load_samples(path)
    rows = []
    for i, item in enumerate(data):
        output = item.get(COMPLETION_COLUMN) or ""
        parts = _split_output(output) if output else {"think": "", "d": item.get("label_update"), "answer": item.get("label_answer"), "format_ok": None}
        labels = {k: item[k] for k in ("iou_old", "iou_new", "label_update") if item.get(k) is not None}
        frames = []
        if i < max_images and item.get("images"):
            colours = [(255, 60, 60), (60, 220, 60)]
            for image, box, colour in zip(item["images"][:2], (item.get("box1"), item.get("box2")), colours):
                frames.append(_uri(_draw(_as_rgb(image), box, colour)))
            if item.get("pred_box_old") is not None and len(frames) == 2:
                # the backbone's box with the old text on frame 2, in yellow
                frames[1] = _uri(_draw(_draw(_as_rgb(item["images"][1]), item.get("box2"), (60, 220, 60)), item["pred_box_old"], (250, 210, 40)))
        rows.append({"id": str(item.get("sample_id", i)), "source": str(item.get("dataset", "")),
                     "description": item.get("description") or "", **parts, "frames": frames, "labels": labels})
    return rows


def load_sample_rows(path: str | Path, max_images: int = 300) -> list[dict]:
    """Rows of a release SFT JSON file or folder of them, or of built / taught sample folders."""
    path = Path(path)
    if path.is_file() and path.suffix == ".json":
        return _release_rows([path])
    if path.is_dir():
        files = sorted(path.glob("sft_dataset_*.json"))
        if files:
            return _release_rows(files)
        return _built_rows(path, max_images)
    raise ConfigError(f"{path}: expected a sample folder (data build / data teach) or release sft_dataset_*.json")


def _add_lengths(rows: list[dict], tokenizer) -> None:
    for row in rows:
        answer = row.get("answer") or ""
        if tokenizer is None:
            row["pieces"], row["cut"] = None, None
            continue
        pieces = len(tokenizer.backend.tokenize(answer))
        row["pieces"], row["cut"] = pieces, pieces > WINDOW_PIECES


def write_sample_viewer(path: str | Path, output: str | Path, vocab: str | None = None, max_images: int = 300) -> tuple[Path, dict]:
    """Write the viewer; returns the file and the counts it shows."""
    from ..fileio import atomic_write_text

    rows = load_sample_rows(path, max_images)
    tokenizer = None
    if vocab:
        from ..trackers.dutrack.tokenizer import TextTokenizer

        tokenizer = TextTokenizer.from_options(vocab=vocab)
    _add_lengths(rows, tokenizer)
    counts = {
        "samples": len(rows),
        "d_yes": sum(r.get("d") in ("yes", True) for r in rows),
        "d_no": sum(r.get("d") in ("no", False) for r in rows),
        "format_failures": sum(r.get("format_ok") is False for r in rows),
        "cut_answers": sum(bool(r.get("cut")) for r in rows),
        "sources": sorted({r["source"] for r in rows}),
    }
    for row in rows:
        if isinstance(row.get("d"), bool):
            row["d"] = "yes" if row["d"] else "no"
    data = {"title": f"chain-of-thought samples: {Path(path).name}", "rows": rows, "counts": counts,
            "window": WINDOW_PIECES, "tokenizer": getattr(tokenizer, "source", None)}
    payload = json.dumps(data, default=lambda v: v.item() if hasattr(v, "item") else str(v)).replace("</", "<\\/")
    page = _PAGE.replace("%TITLE%", html.escape(data["title"])).replace("%DATA%", payload)
    return atomic_write_text(Path(output), page), counts


_PAGE = r"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>%TITLE%</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.2em;color:#222}
.card{border:1px solid #bbb;padding:.6em;margin:.6em 0;max-width:1100px}
.card img{margin-right:.5em;border:1px solid #888}
.k{color:#666} .bad{color:#b00} pre{white-space:pre-wrap;margin:.2em 0}
#filters label{margin-right:1em}
</style></head><body>
<h1 id="title"></h1>
<p id="counts"></p>
<div id="filters">
<label>d <select id="fd"><option value="">any</option><option>yes</option><option>no</option><option value="none">missing</option></select></label>
<label>source <select id="fs"><option value="">any</option></select></label>
<label><input type="checkbox" id="ff"> format failures only</label>
<label><input type="checkbox" id="fc"> answers cut by the backbone's window only</label>
<span id="shown"></span>
</div>
<div id="list"></div>
<script id="sample-data" type="application/json">%DATA%</script>
<script>
const D = JSON.parse(document.getElementById('sample-data').textContent);
const esc = s => String(s === null || s === undefined ? '' : s).replace(/[&<>"']/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
document.getElementById('title').textContent = D.title;
const c = D.counts;
document.getElementById('counts').textContent = c.samples + ' samples: d=yes ' + c.d_yes + ', d=no ' + c.d_no + ', format failures ' + c.format_failures +
  (D.tokenizer ? ', answers over ' + D.window + ' word-pieces (cut by the backbone) ' + c.cut_answers + ' (tokenizer ' + D.tokenizer + ')' : ', answer lengths not measured (give --vocab)') + '; sources: ' + c.sources.join(', ');
const fs = document.getElementById('fs');
for (const s of c.sources) { const o = document.createElement('option'); o.textContent = s; fs.appendChild(o); }
function render() {
  const d = document.getElementById('fd').value, s = fs.value, ff = document.getElementById('ff').checked, fc = document.getElementById('fc').checked;
  const rows = D.rows.filter(r => (!d || (d === 'none' ? !r.d : r.d === d)) && (!s || r.source === s) && (!ff || r.format_ok === false) && (!fc || r.cut));
  document.getElementById('shown').textContent = rows.length + ' shown';
  let h = '';
  for (const r of rows.slice(0, 1000)) {
    h += '<div class="card" data-id="' + esc(r.id) + '"><b>' + esc(r.id) + '</b> <span class="k">' + esc(r.source) + '</span>';
    if (r.format_ok === false) h += ' <span class="bad">format failure</span>';
    h += '<div>' + r.frames.map((u, i) => '<img alt="frame ' + (i + 1) + '" src="' + u + '">').join('') + '</div>';
    h += '<div><span class="k">description:</span> ' + esc(r.description) + '</div>';
    h += '<div class="think"><span class="k">think:</span><pre>' + esc(r.think) + '</pre></div>';
    h += '<div><span class="k">d:</span> ' + esc(r.d) + ' &nbsp; <span class="k">answer:</span> ' + esc(r.answer);
    if (r.pieces !== null && r.pieces !== undefined) h += ' <span class="' + (r.cut ? 'bad' : 'k') + '">(' + r.pieces + ' word-pieces' + (r.cut ? ', cut at ' + D.window : '') + ')</span>';
    h += '</div>';
    const labels = Object.entries(r.labels || {});
    if (labels.length) h += '<div class="k">' + labels.map(([k, v]) => esc(k) + ' ' + (typeof v === 'number' ? v.toFixed(3) : esc(v))).join(', ') + '</div>';
    h += '</div>';
  }
  document.getElementById('list').innerHTML = h;
}
for (const id of ['fd', 'fs', 'ff', 'fc']) document.getElementById(id).addEventListener('change', render);
render();
</script></body></html>
"""
