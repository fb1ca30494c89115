"""The web demo's settings: where it listens, what it runs by default, what it accepts."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from ..config import Config, ConfigError

__all__ = ["DemoConfig", "is_loopback"]


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost`` (the only hosts bound without a warning)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip()).is_loopback
    except ValueError:
        return False


@dataclass
class DemoConfig(Config):
    """``reasoningtrack demo``. The run defaults (backbone, reasoner, profile) prefill the page;
    a visitor can change them there, except the reasoner's model path and server URL when
    ``lock_models`` is on (a shared server should not load whatever a visitor names).

    ``runs_dir``: every run's folder (one subfolder per browser session); empty: a fresh
    temporary folder. ``reports_dir``: where finished benchmarks' and experiments' report.html are
    looked for (the Reports tab); empty: no tab content. ``max_upload_mb`` and ``max_frames`` bound
    what one visitor can make the server decode. ``concurrency``: runs at once (the queue holds the
    others, in order). ``stream_fps``: how often the page shows the newest frame (our choice, 10:
    smooth to watch, cheap for the browser). ``synthetic_frames``: length of a generated sequence.
    """

    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False
    backbone: str = "csrt"
    backbone_options: dict[str, Any] = field(default_factory=dict)
    reasoner: str = "heuristic"
    reasoner_options: dict[str, Any] = field(default_factory=dict)
    profile: str = ""
    runs_dir: str = ""
    reports_dir: str = ""
    data_root: str = ""
    max_upload_mb: float = 200.0
    max_frames: int = 5000
    concurrency: int = 2
    lock_models: bool = False
    stream_fps: float = 10.0
    synthetic_frames: int = 120

    def __post_init__(self):
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be in 0..65535, got {self.port}")
        if self.max_upload_mb <= 0:
            raise ConfigError(f"max_upload_mb must be positive, got {self.max_upload_mb}")
        if self.max_frames < 2:
            raise ConfigError(f"max_frames must be at least 2, got {self.max_frames}")
        if self.concurrency < 1:
            raise ConfigError(f"concurrency must be at least 1, got {self.concurrency}")
        if self.synthetic_frames < 20:
            raise ConfigError(f"synthetic_frames must be at least 20, got {self.synthetic_frames}")
        if self.stream_fps <= 0:
            raise ConfigError(f"stream_fps must be positive, got {self.stream_fps}")

    @property
    def exposed(self) -> bool:
        """Reachable from other machines (a public share link or a non-loopback address)."""
        return self.share or not is_loopback(self.host)
