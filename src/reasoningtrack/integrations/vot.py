"""Run a configured ReasoningTracker as a VOT toolkit tracker through the TraX protocol.

    python -m reasoningtrack.integrations.vot --config vot.yaml

The toolkit starts this command, sends ``initialize`` (image, region, properties) and then one
``frame`` per image; every answer is an axis-aligned rectangle with a ``confidence`` property
(the backbone's score; VOT long-term analyses read it). A second ``initialize`` in the same
session (supervised experiments re-initialise after a failure) starts a fresh run.

The text prompt, first found wins:
  1. an initialisation property named in ``text_properties`` (the toolkit sends the tracker's
     ``arguments`` from ``trackers.ini`` and any per-sequence properties here), or the same key in
     the object's own properties;
  2. a file named in ``text_files`` beside the first image or in its parent folders (up to two
     levels: ``<sequence>/color/00000001.jpg`` finds ``<sequence>/language.txt``);
  3. ``text`` of the config.

Regions: rectangles are used as given; polygons and masks are reduced to their bounding box.
Images: file paths, in-memory RGB and encoded JPEG/PNG buffers are accepted.

Nothing may be printed on stdout: it carries the protocol. Unless the toolkit chose a socket
(``TRAX_SOCKET``), the protocol output is moved to a duplicate descriptor (``TRAX_OUT``) and
stdout is pointed at stderr, so stray prints (from any library) cannot corrupt the session.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Iterator

import numpy as np

from ..config import Config, ConfigError, deep_merge, load_yaml, parse_overrides
from ..sequence_files import DESCRIPTION_NAMES
from ..pipeline.config import PipelineConfig

__all__ = [
    "VOTConfig",
    "load_vot_config",
    "region_to_box",
    "box_to_region",
    "read_trax_image",
    "find_text",
    "serve",
    "main",
]

log = logging.getLogger(__name__)

#: Keys of a ``reasoningtrack track`` config.yaml that mean nothing here (the toolkit gives them).
_TRACK_ONLY_KEYS = ("input", "box", "video")


@dataclass(frozen=True)
class VOTConfig(Config):
    """What the VOT integration runs; ``backbone``/``reasoner`` and their options are registry names
    and options exactly as for ``reasoningtrack track`` (``reasoner: none`` tracks without reasoning)."""

    renamed_keys: ClassVar[dict[str, str]] = {"tracker": "backbone", "tracker_options": "backbone_options"}

    backbone: str = "csrt"
    backbone_options: dict[str, Any] = field(default_factory=dict)
    reasoner: str = "heuristic"
    reasoner_options: dict[str, Any] = field(default_factory=dict)
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    #: Prompt used when the toolkit and the sequence folder give none.
    text: str = ""
    #: Property names (case-insensitive) that carry the prompt.
    text_properties: list[str] = field(default_factory=lambda: ["text", "language", "description", "prompt", "nlp"])
    #: File names holding a sequence's prompt, looked up beside the first image and above it.
    text_files: list[str] = field(default_factory=lambda: [*DESCRIPTION_NAMES, "description.txt"])
    #: Folder for one reasoning log (JSON lines) per initialisation (``<sequence>.jsonl``, then
    #: ``<sequence>.init2.jsonl`` after a re-initialisation); none when empty.
    reasoning_log_dir: str = ""
    #: Name reported to the toolkit.
    tracker_name: str = "ReasoningTrack"


def load_vot_config(path: str | Path | None, overrides: list[str] = ()) -> VOTConfig:
    """Read a VOT config, or a ``reasoningtrack track`` config.yaml (its input/box/video are ignored)."""
    data: dict = {}
    if path is not None:
        data = load_yaml(path)
        for key in _TRACK_ONLY_KEYS:
            data.pop(key, None)
    merged = deep_merge(data, parse_overrides(overrides))
    return VOTConfig.from_dict(merged, where=str(path) if path else "")


# -- regions and images ---------------------------------------------------------------------------
def region_to_box(region) -> np.ndarray:
    """A TraX region as ``x, y, w, h`` floats: rectangles as given, polygons and masks by their
    bounding box; raises ``ValueError`` for empty or special regions."""
    from trax import Region

    kind = region.type
    if kind == Region.RECTANGLE:
        box = np.array(region.bounds(), dtype=np.float64)
    elif kind == Region.POLYGON:
        points = np.array([region[i] for i in range(region.size())], dtype=np.float64)
        low, high = points.min(axis=0), points.max(axis=0)
        box = np.array([low[0], low[1], high[0] - low[0], high[1] - low[1]])
    elif kind == Region.MASK:
        mask = region.array(normalize=False)
        ys, xs = np.nonzero(mask)
        if len(xs) == 0:
            raise ValueError("the initial mask is empty")
        dx, dy = region.offset()
        box = np.array([xs.min() + dx, ys.min() + dy, xs.max() - xs.min() + 1, ys.max() - ys.min() + 1], dtype=np.float64)
    else:
        raise ValueError(f"cannot start from a {kind} region (expected a rectangle, polygon or mask)")
    if not np.all(np.isfinite(box)) or box[2] <= 0 or box[3] <= 0:
        raise ValueError(f"the initial region has no area: {box.tolist()}")
    return box


def box_to_region(box):
    """``x, y, w, h`` as a TraX rectangle."""
    from trax import Rectangle

    x, y, w, h = (float(v) for v in np.asarray(box, dtype=np.float64).reshape(4))
    return Rectangle.create(x, y, w, h)


def read_trax_image(image) -> tuple[np.ndarray, Path | None]:
    """An HxWx3 uint8 RGB frame from a TraX image, and its file path when it has one."""
    from trax import Image

    from ..sources import SourceError, decode_rgb

    kind = image.type()
    if kind == Image.PATH:
        path = Path(image.path())
        return decode_rgb(path), path
    if kind == Image.MEMORY:
        array = image.array()
        if array.dtype != np.uint8:
            array = (array / 257).astype(np.uint8)  # 16-bit gray to 8 bits
        if array.shape[2] == 1:
            array = np.repeat(array, 3, axis=2)
        return np.ascontiguousarray(array), None
    if kind == Image.BUFFER:
        import cv2

        data = np.frombuffer(image.buffer(), dtype=np.uint8)
        decoded = cv2.imdecode(data, cv2.IMREAD_COLOR)
        if decoded is None:
            raise SourceError(f"cannot decode the {len(data)}-byte image buffer sent by the toolkit")
        return cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), None
    raise SourceError(f"unsupported TraX image type {kind!r}")


def find_text(config: VOTConfig, properties: dict, image_path: Path | None) -> str:
    """The prompt by the rule of the module docstring."""
    wanted = [k.lower() for k in config.text_properties]
    lowered = {str(k).lower(): v for k, v in properties.items()}
    for key in wanted:
        value = lowered.get(key)
        if value is not None and str(value).strip():
            return str(value).strip()
    if image_path is not None:
        for folder in (image_path.parent, image_path.parent.parent, image_path.parent.parent.parent):
            for name in config.text_files:
                candidate = folder / name
                if candidate.is_file():
                    text = candidate.read_text(encoding="utf-8", errors="replace").strip()
                    if text:
                        return text.splitlines()[0].strip()
    return config.text


# -- the session ----------------------------------------------------------------------------------
class _Session:
    """Hands the pipeline one frame per toolkit ``frame`` request, and keeps the request that ended it."""

    def __init__(self, server, first: np.ndarray):
        self.server = server
        self.first = first
        self.next_request = None

    def frames(self) -> Iterator[np.ndarray]:
        from trax import TraxStatus

        yield self.first
        while True:
            request = self.server.wait()
            if request.type != TraxStatus.FRAME:
                self.next_request = request
                return
            frame, _ = read_trax_image(request.image["color"])
            yield frame


def _sequence_name(path: Path | None, count: int) -> str:
    if path is None:
        return f"session-{count:03d}"
    folder = path.parent
    return folder.parent.name if folder.name in ("color", "img", "imgs", "images") else folder.name


def serve(config: VOTConfig, server) -> int:
    """Answer the toolkit until it quits; returns the number of initialisations served."""
    from trax import TraxStatus

    from ..pipeline.session import build_tracker
    from ..pipeline.writers import ReasoningLogWriter
    from ..specs import BackboneSpec, ReasonerSpec

    tracker = build_tracker(BackboneSpec.of(config), ReasonerSpec.of(config), config.pipeline)
    sessions = 0
    starts: dict[str, int] = {}
    try:
        request = server.wait()
        while request.type == TraxStatus.INITIALIZE:
            sessions += 1
            region, object_properties = request.objects[0]
            first, path = read_trax_image(request.image["color"])
            properties = {**dict(object_properties), **request.properties.dict()}
            text = find_text(config, properties, path)
            box = region_to_box(region)
            log.info("initialise %s with box %s and text %r", path or "an in-memory image", box.tolist(), text)
            session = _Session(server, first)
            writer = None
            if config.reasoning_log_dir:
                name = _sequence_name(path, sessions)
                starts[name] = starts.get(name, 0) + 1  # a re-initialisation gets its own log
                suffix = "" if starts[name] == 1 else f".init{starts[name]}"
                writer = ReasoningLogWriter(Path(config.reasoning_log_dir) / f"{name}{suffix}.jsonl")
            try:
                run = tracker.run(session.frames(), box, text)
                for result in run:
                    if writer is not None and result.event is not None:
                        writer.write(result.event)
                    score = 1.0 if result.score is None else float(result.score)
                    server.status([(box_to_region(result.box), {"confidence": f"{score:.6f}"})])
                if writer is not None:
                    for event in run.closing_events:
                        writer.write(event)
            finally:
                if writer is not None:
                    writer.close()
            request = session.next_request
            if request is None:  # the run stopped without the toolkit asking: nothing more to read
                break
    finally:
        tracker.close()
    return sessions


def _protect_stdout() -> None:
    """Move the protocol to a private descriptor and send everything else written to stdout to stderr."""
    if os.environ.get("TRAX_SOCKET") or os.environ.get("TRAX_OUT"):
        return
    sys.stdout.flush()
    protocol_fd = os.dup(1)
    os.set_inheritable(protocol_fd, False)
    os.dup2(2, 1)
    os.environ["TRAX_OUT"] = str(protocol_fd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reasoningtrack.integrations.vot",
        description="Serve a ReasoningTracker to the VOT toolkit over TraX (stdin/stdout or TRAX_SOCKET).",
    )
    parser.add_argument("--config", type=Path, help="YAML: VOTConfig fields, or a `reasoningtrack track` config.yaml")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config field, e.g. --set reasoner=static --set pipeline.mode=async")
    parser.add_argument("--log-level", default="WARNING", help="logging level (logs go to stderr)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr, format="[reasoningtrack-vot] %(levelname)s %(message)s")
    try:
        config = load_vot_config(args.config, args.overrides)
    except ConfigError as exc:
        print(f"reasoningtrack-vot: {exc}", file=sys.stderr)
        return 2
    try:
        import trax
    except ImportError:
        print("reasoningtrack-vot: the TraX bindings are missing; install them with "
              "`pip install 'reasoningtrack[vot]'` (package vot-trax)", file=sys.stderr)
        return 2

    _protect_stdout()
    server = trax.Server(
        [trax.Region.RECTANGLE, trax.Region.POLYGON, trax.Region.MASK],
        [trax.Image.PATH, trax.Image.MEMORY, trax.Image.BUFFER],
        ["color"],
        tracker_name=config.tracker_name,
        tracker_description=f"{config.backbone} + {config.reasoner} reasoner",
        tracker_family="reasoningtrack",
    )
    try:
        serve(config, server)
    except Exception as exc:
        log.exception("the tracker failed")
        server.quit(reason=f"{type(exc).__name__}: {exc}")
        return 1
    server.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
