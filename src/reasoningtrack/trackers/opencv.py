"""OpenCV's weight-free single-object trackers (opencv-contrib) behind the backbone contract.

Available here (no model file needed): ``csrt`` (default, the most accurate), ``kcf``, ``mil``
and the legacy ``boosting``, ``medianflow``, ``mosse``, ``tld``. OpenCV's GOTURN, DaSiamRPN, Nano
and Vit trackers need network files (Caffe/ONNX) and are not offered.

Confidence: OpenCV 5.0 has ``getTrackingScore`` on CSRT/KCF/MIL but it returns -1 for them (only
the DNN trackers fill it), so the score is the ``update`` success flag: 1.0 when OpenCV reports
the target found, 0.0 when it reports a loss (CSRT: peak-to-sidelobe ratio under
``psr_threshold``; KCF: response under ``detect_thresh``; MOSSE: PSR under 5.7). On a reported loss,
or a degenerate box, the last good box is kept and returned with score 0.0, so a schedule that
watches the score sees the drop while the box stays usable.

Determinism: CSRT, KCF, BOOSTING, MedianFlow and MOSSE give identical boxes on every run. MIL and
TLD do not: their samplers draw from random generators inside OpenCV that Python cannot seed
(``cv2.setRNGSeed`` does not reach them; two fresh processes give different boxes), so benchmark
runs with them are not reproducible to the pixel. They are listed in ``NONDETERMINISTIC``.

These trackers look at pixels only: text is ignored (``uses_text = False``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..config import Config, ConfigError, _coerce, load_yaml
from .base import Backbone, BackboneError, Prediction

__all__ = ["OpenCVTrackerConfig", "OpenCVTracker", "ALGORITHMS", "NONDETERMINISTIC", "build_opencv_tracker"] + [
    f"build_{name}" for name in ("csrt", "kcf", "mil", "boosting", "medianflow", "mosse", "tld")
]

Algorithm = Literal["csrt", "kcf", "mil", "boosting", "medianflow", "mosse", "tld"]

#: algorithm -> (module path under cv2, factory name, Params class or None, takes float boxes)
ALGORITHMS: dict[str, tuple[str, str, str | None, bool]] = {
    "csrt": ("", "TrackerCSRT_create", "TrackerCSRT_Params", False),
    "kcf": ("", "TrackerKCF_create", "TrackerKCF_Params", False),
    "mil": ("", "TrackerMIL_create", "TrackerMIL_Params", False),
    "boosting": ("legacy", "TrackerBoosting_create", None, True),
    "medianflow": ("legacy", "TrackerMedianFlow_create", None, True),
    "mosse": ("legacy", "TrackerMOSSE_create", None, True),
    "tld": ("legacy", "TrackerTLD_create", None, True),
}

#: Algorithms whose boxes vary from run to run (OpenCV-internal random sampling).
NONDETERMINISTIC = frozenset({"mil", "tld"})


@dataclass(frozen=True)
class OpenCVTrackerConfig(Config):
    """``algorithm``: which OpenCV tracker. ``params``: fields of its OpenCV ``Params`` struct
    (csrt, kcf, mil only; e.g. ``{"psr_threshold": 0.05}``), validated against OpenCV's names."""

    algorithm: Algorithm = "csrt"
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.params and ALGORITHMS[self.algorithm][2] is None:
            raise ConfigError(f"{self.algorithm}: OpenCV exposes no parameters for this tracker; remove 'params'")


def _cv2():
    import cv2

    return cv2


def _params(config: OpenCVTrackerConfig):
    """OpenCV's ``Params`` struct filled from ``config.params`` (None for trackers without one)."""
    cv2 = _cv2()
    params_name = ALGORITHMS[config.algorithm][2]
    if params_name is None:
        return None
    params = getattr(cv2, params_name)()
    valid = sorted(a for a in dir(params) if not a.startswith("_"))
    for key, value in config.params.items():
        if key not in valid:
            raise ConfigError(f"{config.algorithm}: unknown OpenCV parameter {key!r}; valid: {valid}")
        expected = type(getattr(params, key))
        try:  # the same strict coercion as every config field ("false" is False, [1] is no bool)
            setattr(params, key, _coerce(value, expected, f"{config.algorithm}.params.{key}"))
        except ConfigError as exc:
            raise ConfigError(f"{exc} (OpenCV parameter {key!r} is a {expected.__name__})") from exc
    return params


def _create(config: OpenCVTrackerConfig):
    """A fresh OpenCV tracker object (one per sequence: OpenCV trackers cannot be re-initialised cleanly)."""
    cv2 = _cv2()
    module_name, factory_name, _, _ = ALGORITHMS[config.algorithm]
    module = getattr(cv2, module_name) if module_name else cv2
    factory = getattr(module, factory_name, None)
    if factory is None:
        raise BackboneError(
            f"this OpenCV build ({cv2.__version__}) has no {module_name + '.' if module_name else ''}{factory_name}; "
            "install opencv-contrib-python(-headless)"
        )
    params = _params(config)
    return factory() if params is None else factory(params)


class OpenCVTracker(Backbone):
    """One OpenCV tracker; ``initialize`` builds a new OpenCV object each time, so nothing carries over."""

    uses_text = False

    def __init__(self, config: OpenCVTrackerConfig | None = None):
        self.config = config or OpenCVTrackerConfig()
        self.name = self.config.algorithm
        self._float_boxes = ALGORITHMS[self.config.algorithm][3]
        self._tracker = None
        self._last_box: np.ndarray | None = None
        _params(self.config)  # a misspelt OpenCV parameter fails here, not at the first sequence

    def reset(self) -> None:
        self._tracker = None
        self._last_box = None

    def initialize(self, frame: np.ndarray, box, text: str | None = None) -> None:
        self.reset()
        bgr = self._to_bgr(frame)
        height, width = bgr.shape[:2]
        box = np.asarray(box, dtype=np.float64).reshape(-1)
        if box.shape != (4,) or not np.all(np.isfinite(box)) or box[2] <= 0 or box[3] <= 0:
            raise BackboneError(f"{self.name}: initial box must be finite x,y,w,h with w,h > 0, got {box.tolist()}")
        # Keep the box inside the image: OpenCV trackers throw on boxes that leave the frame.
        x1, y1 = np.maximum(box[:2], 0)
        x2, y2 = np.minimum(box[:2] + box[2:], [width, height])
        if x2 - x1 < 1 or y2 - y1 < 1:
            raise BackboneError(f"{self.name}: initial box {box.tolist()} lies outside the {width}x{height} frame")
        tracker = _create(self.config)
        rect = self._rect(np.array([x1, y1, x2 - x1, y2 - y1]))
        try:
            tracker.init(bgr, rect)
        except _cv2().error as exc:
            raise BackboneError(f"{self.name}: OpenCV could not initialise on box {box.tolist()}: {exc}") from exc
        self._tracker = tracker
        self._last_box = box.copy()
        self._size = (height, width)
        self._frame_number = 1

    def track(self, frame: np.ndarray) -> Prediction:
        if self._tracker is None:
            raise BackboneError(f"{self.name}: track() called before initialize()")
        bgr = self._to_bgr(frame)
        self._frame_number += 1
        if bgr.shape[:2] != self._size:
            raise BackboneError(
                f"{self.name}: frame {self._frame_number} of the sequence is {bgr.shape[1]}x{bgr.shape[0]}, but frame 1 "
                f"was {self._size[1]}x{self._size[0]}: every frame of a sequence must have the same size")
        try:
            found, rect = self._tracker.update(bgr)
        except _cv2().error:
            found, rect = False, None  # OpenCV throws for some lost-target states: treat as a loss
        box = np.asarray(rect, dtype=np.float64) if rect is not None else None
        if found and box is not None and np.all(np.isfinite(box)) and box[2] > 0 and box[3] > 0:
            self._last_box = box
            return Prediction(box=box.copy(), score=1.0)
        return Prediction(box=self._last_box.copy(), score=0.0)

    def kept_text(self, text: str) -> str:
        """Nothing: these trackers never read the description."""
        return ""

    def close(self) -> None:
        self.reset()

    def _rect(self, box: np.ndarray) -> tuple:
        if self._float_boxes:
            return tuple(float(v) for v in box)
        x, y = int(round(box[0])), int(round(box[1]))
        return (x, y, max(1, int(round(box[2]))), max(1, int(round(box[3]))))

    def _to_bgr(self, frame: np.ndarray) -> np.ndarray:
        frame = np.asarray(frame)
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise BackboneError(
                f"{self.name}: expected an HxWx3 uint8 RGB frame, got shape {frame.shape} dtype {frame.dtype}"
            )
        return _cv2().cvtColor(frame, _cv2().COLOR_RGB2BGR)


def build_opencv_tracker(algorithm: str = "csrt", **options) -> OpenCVTracker:
    """Build from CLI/YAML options; ``config`` names a YAML file of :class:`OpenCVTrackerConfig`
    fields, which the other options override."""
    config_path = options.pop("config", None)
    data: dict = {}
    if config_path is not None:
        data = load_yaml(config_path)
        if data.get("algorithm", algorithm) != algorithm:
            raise ConfigError(
                f"{config_path}: algorithm {data['algorithm']!r} does not match the tracker asked for ({algorithm!r})"
            )
    data.update(options)
    data["algorithm"] = algorithm
    return OpenCVTracker(OpenCVTrackerConfig.from_dict(data, where=str(config_path or "")))


def _factory(name: str):
    def build(**options) -> OpenCVTracker:
        given = options.pop("algorithm", name)
        if given != name:
            raise ConfigError(f"backbone {name!r} was asked for algorithm {given!r}; use --backbone {given}")
        return build_opencv_tracker(name, **options)

    build.__name__ = f"build_{name}"
    build.__doc__ = f"OpenCV {name.upper()} tracker (weight-free); options: OpenCVTrackerConfig fields."
    return build


build_csrt = _factory("csrt")
build_kcf = _factory("kcf")
build_mil = _factory("mil")
build_boosting = _factory("boosting")
build_medianflow = _factory("medianflow")
build_mosse = _factory("mosse")
build_tld = _factory("tld")
