"""The toy world for training, by job: the world itself (:mod:`reasoningtrack.datasets.toy_world`),
its backbone (:mod:`reasoningtrack.trackers.toy`), the prompt and oracle teacher (:mod:`.prompt`),
samples (:mod:`.samples`) and the SFT-then-GRPO demonstration (:mod:`.demo`). Every name is
importable from here as before the split."""

from ...datasets.toy_world import COLOURS, SHAPES, ToyConfig, ToyPair, make_pairs, render_shape
from ...trackers.toy import ToyBackbone, build_toy_backbone
from .demo import ToyRunConfig, run_toy_demo, toy_reward_config
from .prompt import oracle_completion, toy_prompt, toy_tokenizer_corpus, write_toy_prompt
from .samples import toy_samples, write_toy_samples

__all__ = [
    "COLOURS",
    "SHAPES",
    "ToyConfig",
    "ToyPair",
    "ToyBackbone",
    "make_pairs",
    "render_shape",
    "toy_reward_config",
    "toy_tokenizer_corpus",
    "oracle_completion",
    "toy_prompt",
    "toy_samples",
    "build_toy_backbone",
    "ToyRunConfig",
    "run_toy_demo",
    "write_toy_samples",
    "write_toy_prompt",
]
