"""A first frame on which the user drags the target's box (and drags again to redraw).

Gradio has no component that draws one rectangle on an image: ``gr.Image`` reports single clicks
(``select``), ``gr.ImageEditor`` paints brush strokes, and the custom components that draw boxes
are unmaintained. This one is a ``gr.HTML`` template (Gradio 6's custom HTML components) with a
few lines of pointer handling, so it needs no build step and no extra package.

The value is a dict ``{"image": URL, "width": W, "height": H, "box": [x, y, w, h] | None}``: the
frame (a data URL, so no file is served for it), its size in pixels, and the box in the frame's
pixel coordinates (whole pixels, clipped to the frame). Setting ``props.value`` in the browser
fires the component's ``change`` event with the new value.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

__all__ = ["BoxCanvas", "canvas_value", "box_from_value"]

_HTML = """
<div class="rt-canvas">
${value && value.image ? `
  <div class="rt-stage">
    <img class="rt-frame" src="${value.image}" draggable="false" alt="first frame"/>
    ${value.box ? `<div class="rt-box" style="left:${100 * value.box[0] / value.width}%;top:${100 * value.box[1] / value.height}%;width:${100 * value.box[2] / value.width}%;height:${100 * value.box[3] / value.height}%"></div>` : ''}
    <div class="rt-draft"></div>
  </div>
  <div class="rt-caption">${value.box ? `box x,y,w,h = ${value.box.join(', ')} (drag again to redraw)` : 'drag a box over the target'}</div>
` : `<div class="rt-empty">${placeholder}</div>`}
</div>
"""

_CSS = """
.rt-stage { position: relative; display: inline-block; cursor: crosshair; touch-action: none; line-height: 0; }
.rt-frame { display: block; max-width: 100%; height: auto; user-select: none; -webkit-user-drag: none; }
.rt-box, .rt-draft { position: absolute; border: 2px solid #ffd700; box-shadow: 0 0 0 1px #000; pointer-events: none; box-sizing: border-box; }
.rt-draft { display: none; border-style: dashed; }
.rt-caption { font-size: 0.9em; margin-top: 4px; }
.rt-empty { padding: 2em; text-align: center; border: 1px dashed var(--border-color-primary); border-radius: var(--radius-lg); }
"""

# Pointer handling: image pixels = (client offset) * natural size / displayed size, clipped.
_JS = """
let start = null;
const point = (e) => {
  const img = element.querySelector('img.rt-frame');
  const r = img.getBoundingClientRect();
  const v = props.value;
  const cx = Math.min(Math.max(e.clientX - r.left, 0), r.width);
  const cy = Math.min(Math.max(e.clientY - r.top, 0), r.height);
  return [cx * v.width / r.width, cy * v.height / r.height, cx, cy];
};
const draft = () => element.querySelector('.rt-draft');
element.addEventListener('pointerdown', (e) => {
  if (!e.target.closest('.rt-stage') || !props.value || !props.value.image) return;
  e.preventDefault();
  start = point(e);
  element.setPointerCapture(e.pointerId);
});
element.addEventListener('pointermove', (e) => {
  if (!start) return;
  const p = point(e), d = draft();
  d.style.display = 'block';
  d.style.left = Math.min(start[2], p[2]) + 'px';
  d.style.top = Math.min(start[3], p[3]) + 'px';
  d.style.width = Math.abs(p[2] - start[2]) + 'px';
  d.style.height = Math.abs(p[3] - start[3]) + 'px';
});
const finish = (e) => {
  if (!start) return;
  const p = point(e), s = start;
  start = null;
  draft().style.display = 'none';
  const x0 = Math.round(Math.min(s[0], p[0])), y0 = Math.round(Math.min(s[1], p[1]));
  const x1 = Math.round(Math.max(s[0], p[0])), y1 = Math.round(Math.max(s[1], p[1]));
  if (x1 - x0 < 2 || y1 - y0 < 2) return;  // a click, not a drag: keep the old box
  props.value = {...props.value, box: [x0, y0, x1 - x0, y1 - y0]};
};
element.addEventListener('pointerup', finish);
element.addEventListener('pointercancel', () => { start = null; const d = draft(); if (d) d.style.display = 'none'; });
"""

from gradio.events import Dependency

class BoxCanvas(gr.HTML):
    """Shows a frame; the user drags a rectangle on it. ``change`` fires with the new value."""

    def __init__(self, value: dict | None = None, *, placeholder: str = "no frame yet", **kwargs: Any):
        super().__init__(
            value=value,
            html_template=_HTML,
            css_template=_CSS,
            js_on_load=_JS,
            placeholder=placeholder,
            **kwargs,
        )

    def api_info(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "image": {"type": "string"},
                "width": {"type": "integer"},
                "height": {"type": "integer"},
                "box": {"anyOf": [{"type": "array", "items": {"type": "number"}}, {"type": "null"}]},
            },
        }
    from typing import Callable, Literal, Sequence, Any, TYPE_CHECKING
    from gradio.blocks import Block
    if TYPE_CHECKING:
        from gradio.components import Timer
        from gradio.components.base import Component


def canvas_value(image_url: str, width: int, height: int, box=None) -> dict:
    """The component's value for a frame of ``width`` x ``height`` pixels (box optional)."""
    return {"image": image_url, "width": int(width), "height": int(height), "box": None if box is None else [round(float(v), 2) for v in box]}


def box_from_value(value: Any) -> list[float] | None:
    """The box of a component value, checked: four finite numbers, positive size, inside the frame
    (None when no box has been drawn). Raises ValueError with the reason otherwise."""
    if not isinstance(value, dict) or value.get("box") is None:
        return None
    box = value["box"]
    try:
        x, y, w, h = (float(v) for v in box)
    except (TypeError, ValueError):
        raise ValueError(f"the box must be four numbers x,y,w,h, got {box!r}") from None
    if not all(v == v and abs(v) != float("inf") for v in (x, y, w, h)):
        raise ValueError(f"the box must be finite, got {box!r}")
    if w <= 0 or h <= 0:
        raise ValueError(f"the box must have a positive width and height, got {box!r}")
    width, height = value.get("width"), value.get("height")
    if width and height and (x < 0 or y < 0 or x + w > float(width) + 0.5 or y + h > float(height) + 0.5):
        raise ValueError(f"the box {box!r} lies outside the {width}x{height} frame")
    return [x, y, w, h]