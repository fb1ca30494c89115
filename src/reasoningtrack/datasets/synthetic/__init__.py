"""A synthetic world: short sequences whose target changes in ways language can name.

Each sequence shows one target (a filled square, circle, triangle or diamond with an outline
and an inner pattern) on a textured background. Over time it moves (left/right/up/down), may
change colour (a named palette with distinct hues), grow or shrink, leave the view and come back
(absent frames), and a look-alike distractor (same shape, same or other colour) may appear. The
ground truth, the absent flags and every per-frame fact (colour, shape, size, position words,
motion, visibility, distractor) are known exactly, so tests, demos and toy training can check a
tracker's boxes and a reasoner's words against the truth.

On disk a dataset uses the TNLLT layout, readable by both the ``synthetic`` and ``tnllt``
loaders::

    DIR/synthetic.json            generator parameters (seed, config, sequence counts)
    DIR/train.txt, DIR/test.txt   sequence names of each split
    DIR/<split>/<name>/imgs/00001.png ...
                       groundtruth.txt    x,y,w,h per frame (0-based continuous pixels; 0,0,0,0
                                          when absent; the visible part when partly out of view)
                       absent_label.txt   one flag per frame, TNLLT's convention: 1 = present,
                                          0 = absent (less than 10% of the target in view)
                       attributes.txt     0/1 flags, comma-separated, in the order CC,SV,OV,DIS
                       language.txt       the description of frame 1
                       events.json        per-frame facts and the list of events

Generation is deterministic for a seed: all randomness comes from ``numpy.random.Generator``
streams derived from ``(seed, split, index)``, the background is computed in float64 numpy and
shapes are drawn with OpenCV's integer rasteriser, so the PNG files are byte-identical between
runs (same OpenCV/zlib build).

The package is split by job: :mod:`.world` (palette, shapes, attributes, configs, typed records),
:mod:`.words`, :mod:`.simulation`, :mod:`.rendering`, :mod:`.generation` and :mod:`.loader`.
"""

from .generation import SyntheticSequence, generate_sequence, write_dataset, write_sequence
from .loader import SyntheticDataset
from .rendering import draw_object, make_background
from .words import describe, motion_word, position_phrase, position_words, size_word
from .world import ATTRIBUTES, PALETTE, SHAPES, FrameFacts, WorldConfig, WorldObject

__all__ = [
    "PALETTE",
    "SHAPES",
    "ATTRIBUTES",
    "WorldConfig",
    "SyntheticSequence",
    "FrameFacts",
    "generate_sequence",
    "write_sequence",
    "write_dataset",
    "SyntheticDataset",
    "describe",
    "position_words",
    "position_phrase",
    "size_word",
    "motion_word",
    "make_background",
    "draw_object",
    "WorldObject",
]
