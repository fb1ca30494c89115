"""Backbones behind one registry: ``BACKBONES.build(name, **options)``.

Entries are lazy (``"module:factory"``) so that listing them imports no heavy library.
"""

from .base import BACKBONES, Backbone, BackboneError, Prediction

__all__ = ["BACKBONES", "Backbone", "BackboneError", "Prediction"]

BACKBONES.register("dutrack", "reasoningtrack.trackers.dutrack:build_dutrack", help="DUTrack (checkpoint-compatible PyTorch)")

# OpenCV's weight-free trackers (opencv-contrib); GOTURN/DaSiamRPN/Nano/Vit need model files and are not offered.
BACKBONES.register("csrt", "reasoningtrack.trackers.opencv:build_csrt", help="OpenCV CSRT (weight-free, default baseline)")
BACKBONES.register("kcf", "reasoningtrack.trackers.opencv:build_kcf", help="OpenCV KCF (weight-free, fast)")
BACKBONES.register("mil", "reasoningtrack.trackers.opencv:build_mil", help="OpenCV MIL (weight-free)")
BACKBONES.register("boosting", "reasoningtrack.trackers.opencv:build_boosting", help="OpenCV legacy BOOSTING (weight-free)")
BACKBONES.register("medianflow", "reasoningtrack.trackers.opencv:build_medianflow", help="OpenCV legacy MedianFlow (weight-free)")
BACKBONES.register("mosse", "reasoningtrack.trackers.opencv:build_mosse", help="OpenCV legacy MOSSE (weight-free, fastest)")
BACKBONES.register("tld", "reasoningtrack.trackers.opencv:build_tld", help="OpenCV legacy TLD (weight-free, re-detects)")
BACKBONES.register("replay", "reasoningtrack.trackers.replay:build_replay", help="replays a box file frame by frame (score 1.0): schedule tests, upper bounds")
# The toy world's colour-and-shape "tracker" (training demos and tests; see trackers/toy.py).
BACKBONES.register("toy", "reasoningtrack.trackers.toy:build_toy_backbone", help="toy world: finds the shape of the colour the text names")
