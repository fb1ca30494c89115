"""BackboneSpec/ReasonerSpec: one frozen value per component, built from any config naming it."""

from __future__ import annotations

import dataclasses

import pytest

from reasoningtrack.config import ConfigError
from reasoningtrack.pipeline.config import BenchmarkConfig
from reasoningtrack.specs import BackboneSpec, ReasonerSpec


def test_specs_come_from_a_config_and_cannot_change():
    config = BenchmarkConfig.from_dict({"backbone": "kcf", "backbone_options": {"checkpoint": "ckpt.pth"},
                                        "reasoner": "static", "reasoner_options": {}})
    backbone, reasoner = BackboneSpec.of(config), ReasonerSpec.of(config)
    assert (backbone.name, backbone.checkpoint, backbone.config) == ("kcf", "ckpt.pth", None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        backbone.name = "csrt"
    with pytest.raises(TypeError):
        backbone.options["checkpoint"] = "other.pth"
    kwargs = backbone.kwargs()
    kwargs["checkpoint"] = "changed"
    assert backbone.checkpoint == "ckpt.pth"  # the factory's copy is not the spec
    assert BackboneSpec("kcf", {"a": 1}) == BackboneSpec("kcf", {"a": 1})


def test_build_and_the_none_reasoner():
    from reasoningtrack.trackers.base import Backbone

    built = BackboneSpec("kcf").build()
    assert isinstance(built, Backbone) and built.name == "kcf"
    assert ReasonerSpec("None").is_none and ReasonerSpec("none").build() is None
    with pytest.raises(ConfigError, match="reasoner 'none' takes no options"):
        ReasonerSpec("none", {"model": "x"}).build()
    assert ReasonerSpec("static").build().reason is not None
