"""HTML for the page: the reasoning-event cards, the timeline, frames as data URLs.

Everything a visitor typed or a model wrote is escaped; images travel inside the HTML as JPEG data
URLs, so the page never needs a file served for them.
"""

from __future__ import annotations

import base64
from html import escape

import numpy as np

from ..pipeline.results import ReasoningEvent
from ..pipeline.writers import STATUS_COLORS

__all__ = ["data_url", "thumbnail", "event_card", "events_html", "timeline_html", "stats_markdown"]


def data_url(image: np.ndarray, quality: int = 85) -> str:
    """An RGB uint8 image as a ``data:image/jpeg;base64,...`` URL."""
    import cv2

    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("cannot encode the image as JPEG")
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode("ascii")


def thumbnail(image: np.ndarray, width: int = 160) -> str:
    """A small copy (``width`` pixels wide) as a data URL."""
    import cv2

    h, w = image.shape[:2]
    if w > width:
        image = cv2.resize(image, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)
    return data_url(image, quality=80)


def _rgb(status: str) -> str:
    r, g, b = STATUS_COLORS.get(status, (255, 255, 255))
    return f"rgb({r},{g},{b})"


def event_card(event: ReasoningEvent, thumbs: tuple[str, str] | None = None) -> str:
    """One reasoning call: the images it was given, the thinking, the decision, the answer."""
    latency = f"{event.latency_s:.2f} s" if event.latency_s is not None else "n/a"
    head = (
        f'<div class="rt-ev-head"><b>frame {event.frame}</b> · {escape(", ".join(event.triggers))} · '
        f'<span class="rt-ev-status" style="background:{_rgb(event.status)}">{escape(event.status)}</span> · {latency}</div>'
    )
    images = ""
    if thumbs is not None:
        images = (
            '<div class="rt-ev-imgs">'
            f'<figure><img src="{thumbs[0]}" alt="template"/><figcaption>template #{event.template_frame}</figcaption></figure>'
            f'<figure><img src="{thumbs[1]}" alt="current"/><figcaption>current #{event.frame}</figcaption></figure>'
            "</div>"
        )
    rows = [f"<div><i>asked about:</i> {escape(event.input_text)}</div>"]
    if event.think:
        rows.append(f'<details><summary>think</summary><div class="rt-ev-think">{escape(event.think)}</div></details>')
    if event.decision is not None:
        rows.append(f"<div><i>decision:</i> d={escape(event.decision)}</div>")
    if event.answer:
        rows.append(f"<div><i>answer:</i> {escape(event.answer)}</div>")
    if event.error:
        rows.append(f'<div class="rt-ev-error"><i>error:</i> {escape(event.error)}</div>')
    applied = f" (from frame {event.applied_from})" if event.applied_from is not None and event.status == "updated" else ""
    rows.append(f"<div><i>text now:</i> {escape(event.text_applied)}{applied}</div>")
    return f'<div class="rt-event" data-frame="{event.frame}" data-status="{escape(event.status)}">{head}{images}{"".join(rows)}</div>'


_PANEL_CSS = """<style>
.rt-events { display: flex; flex-direction: column; gap: 8px; }
.rt-event { border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 6px; font-size: 0.85em; }
.rt-ev-status { color: #000; padding: 0 4px; border-radius: 3px; }
.rt-ev-imgs { display: flex; gap: 4px; margin: 4px 0; }
.rt-ev-imgs figure { margin: 0; }
.rt-ev-imgs img { width: 120px; display: block; }
.rt-ev-imgs figcaption { font-size: 0.8em; }
.rt-ev-think { white-space: pre-wrap; }
.rt-ev-error { color: #c00; }
.rt-timeline { position: relative; height: 22px; background: #333; border-radius: 3px; margin: 4px 0; }
.rt-tl-mark { position: absolute; top: 0; width: 6px; height: 22px; margin-left: -3px; border-radius: 2px; }
.rt-tl-now { position: absolute; top: 0; width: 2px; height: 22px; background: #fff; }
</style>"""


def events_html(events: list[ReasoningEvent], thumbs: dict[int, tuple[str, str]]) -> str:
    """All events of a run, newest first (``thumbs``: frame -> (template, current) data URLs)."""
    if not events:
        return _PANEL_CSS + '<div class="rt-events rt-empty-events">no reasoning call yet</div>'
    cards = "".join(event_card(e, thumbs.get(e.frame)) for e in reversed(events))
    return f'{_PANEL_CSS}<div class="rt-events" data-count="{len(events)}">{cards}</div>'


def timeline_html(events: list[ReasoningEvent], total: int | None, current: int) -> str:
    """A bar over the video's frames with one marker per reasoning call (colour: its status)."""
    span = max(int(total or 0), current + 1, 2)
    marks = "".join(
        f'<div class="rt-tl-mark" title="frame {e.frame}: {escape(e.status)}" data-frame="{e.frame}" '
        f'style="left:{100 * e.frame / (span - 1):.2f}%;background:{_rgb(e.status)}"></div>'
        for e in events
    )
    now = f'<div class="rt-tl-now" style="left:{100 * current / (span - 1):.2f}%"></div>'
    return f'{_PANEL_CSS}<div class="rt-timeline" data-events="{len(events)}">{marks}{now}</div>'


def stats_markdown(index: int, total: int | None, fps: float, text: str, calls: int, state: str) -> str:
    of = f" / {total}" if total else ""
    return (
        f"**{state}** · frame {index + 1}{of} · {fps:.1f} fps · {calls} reasoning calls  \n"
        f"**text in use:** {escape(text) if text else '(none)'}"
    )
