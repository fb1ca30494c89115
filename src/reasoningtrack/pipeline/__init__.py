"""The tracking pipeline: the ReasoningTracker loop (schedules, text policies, templates, sync or
async reasoning), its outputs and the benchmark runner. See docs/pipeline.md."""

from .config import (
    BenchmarkConfig,
    ConfidenceConfig,
    IntervalConfig,
    MotionConfig,
    MotionGateConfig,
    PipelineConfig,
    PolicyConfig,
    ScheduleConfig,
    TemplateConfig,
    TrackRunConfig,
)
from .results import FrameResult, FrameTimings, ReasoningEvent, RunSummary
from .tracker import ReasoningTracker, TrackingRun

__all__ = [
    "BenchmarkConfig",
    "ConfidenceConfig",
    "IntervalConfig",
    "MotionConfig",
    "MotionGateConfig",
    "PipelineConfig",
    "PolicyConfig",
    "ScheduleConfig",
    "TemplateConfig",
    "TrackRunConfig",
    "FrameResult",
    "FrameTimings",
    "ReasoningEvent",
    "RunSummary",
    "ReasoningTracker",
    "TrackingRun",
]
