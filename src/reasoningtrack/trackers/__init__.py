"""Backbones behind one registry: ``BACKBONES.build(name, **options)``.

Entries are lazy (``"module:factory"``) so that listing them imports no heavy library.
"""

from .base import BACKBONES, Backbone, BackboneError, Prediction

__all__ = ["BACKBONES", "Backbone", "BackboneError", "Prediction"]

BACKBONES.register("dutrack", "reasoningtrack.trackers.dutrack:build_dutrack", help="DUTrack (checkpoint-compatible PyTorch)")
