"""The synthetic world's vocabulary and records: palette, shapes, attribute codes, the generator's
parameters, and the typed per-object and per-frame records the other modules exchange."""

from __future__ import annotations

from dataclasses import dataclass, fields

from ...config import Config, ConfigError

__all__ = [
    "FORMAT_VERSION",
    "PALETTE",
    "SHAPES",
    "ATTRIBUTES",
    "ABSENT_VISIBLE_FRACTION",
    "WorldConfig",
    "WorldObject",
    "FrameFacts",
    "FrameMotion",
]

FORMAT_VERSION = 1

PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "orange": (245, 135, 20),
    "yellow": (240, 220, 30),
    "green": (30, 175, 60),
    "blue": (35, 80, 230),
    "purple": (145, 50, 200),
    "white": (250, 250, 250),
    "black": (15, 15, 15),
}
"""Target colours (RGB), distinct in hue or lightness; the background stays desaturated."""

SHAPES: tuple[str, ...] = ("square", "circle", "triangle", "diamond")

ATTRIBUTES: dict[str, str] = {
    "CC": "colour change: the target changes colour",
    "SV": "scale variation: the target grows or shrinks",
    "OV": "out of view: the target leaves the view and re-enters",
    "DIS": "distractor: a look-alike object (same shape) appears",
}

ABSENT_VISIBLE_FRACTION = 0.1
"""A frame is absent when less than this fraction of the target's area is inside the image."""

@dataclass(frozen=True)
class WorldConfig(Config):
    """Parameters of the generator (sizes in pixels, probabilities per sequence).

    ``min_size``/``max_size`` bound the target's initial side; 0 means automatic: 42 and 62 px
    for a 240 px short side, scaled with the frame's short side.
    """

    frames: int = 80
    width: int = 320
    height: int = 240
    min_size: float = 0.0
    max_size: float = 0.0
    min_speed: float = 0.8
    max_speed: float = 2.0
    p_colour_change: float = 0.6
    p_size_change: float = 0.6
    p_leave: float = 0.35
    p_distractor: float = 0.5
    p_same_colour_distractor: float = 0.5

    def validate(self) -> "WorldConfig":
        """Check the values; returns a copy with automatic sizes resolved."""
        short = min(self.width, self.height)
        if self.min_size == 0 or self.max_size == 0:
            resolved = self.replace(
                min_size=self.min_size or round(short * 42 / 240, 2),
                max_size=self.max_size or round(short * 62 / 240, 2),
            )
            if resolved.min_size > resolved.max_size:
                raise ConfigError(f"min_size {resolved.min_size} exceeds max_size {resolved.max_size}")
            return resolved.validate()
        if self.frames < 20:
            raise ConfigError(f"frames must be >= 20 (events need room), got {self.frames}")
        if self.width < 96 or self.height < 96:
            raise ConfigError(f"frame size must be at least 96x96, got {self.width}x{self.height}")
        if not 8 <= self.min_size <= self.max_size:
            raise ConfigError(f"need 8 <= min_size <= max_size, got {self.min_size}, {self.max_size}")
        if self.max_size * 1.75 > 0.9 * min(self.width, self.height):
            raise ConfigError(
                f"max_size {self.max_size} is too large for {self.width}x{self.height} (grown targets must fit)"
            )
        if not 0 < self.min_speed <= self.max_speed:
            raise ConfigError(f"need 0 < min_speed <= max_speed, got {self.min_speed}, {self.max_speed}")
        for name in ("p_colour_change", "p_size_change", "p_leave", "p_distractor", "p_same_colour_distractor"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"{name} must be a probability in [0, 1], got {value}")
        return self


@dataclass
class WorldObject:
    """A drawn object: centre, size (pixels) and fill colour (RGB, floats while blending)."""

    cx: float
    cy: float
    w: float
    h: float
    rgb: tuple[float, float, float]


@dataclass(frozen=True)
class FrameFacts:
    """The truth about the target in one frame (``events.json`` holds one per frame, as a dict)."""

    frame: int
    visible: bool
    visible_fraction: float
    colour: str
    colour_changing: bool
    shape: str
    size: str
    size_px: list[float]
    horizontal: str | None
    vertical: str | None
    position: str | None
    motion: str
    distractor: bool
    distractor_colour: str | None
    distractor_box: list[float] | None
    description: str | None

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class FrameMotion:
    """How the simulation moved the target into one frame (what the words are made from)."""

    dx: float
    dy: float
    phase: str
    side: str | None
    blend: float
    colour_from: str
    colour_to: str

    @property
    def colour(self) -> str:
        """The colour name the frame shows (the blend's nearer end)."""
        return self.colour_from if self.blend < 0.5 else self.colour_to
