from dataclasses import dataclass, field
from typing import Literal

import pytest

from reasoningtrack.config import Config, ConfigError, parse_overrides
from reasoningtrack.registry import Registry, RegistryError


@dataclass
class Inner(Config):
    threshold: float = 0.5
    names: list[str] = field(default_factory=lambda: ["a"])


@dataclass
class Outer(Config):
    mode: Literal["sync", "async"] = "sync"
    interval: int = 100
    enabled: bool = True
    label: str | None = None
    inner: Inner = field(default_factory=Inner)


def test_from_dict_coerces_and_nests():
    cfg = Outer.from_dict({"interval": "20", "enabled": "no", "inner": {"threshold": "0.25", "names": "x, y"}})
    assert cfg.interval == 20 and cfg.enabled is False
    assert cfg.inner.threshold == 0.25 and cfg.inner.names == ["x", "y"]


def test_unknown_and_bad_values_are_named():
    with pytest.raises(ConfigError, match=r"unknown option\(s\) \['intervall'\].*valid options"):
        Outer.from_dict({"intervall": 3})
    with pytest.raises(ConfigError, match="inner.threshold: expected a number"):
        Outer.from_dict({"inner": {"threshold": "high"}})
    with pytest.raises(ConfigError, match=r"'fast' is not one of \['sync', 'async'\]"):
        Outer.from_dict({"mode": "fast"})
    with pytest.raises(ConfigError, match="expected an integer"):
        Outer.from_dict({"interval": 2.5})


def test_yaml_round_trip_with_overrides(tmp_path):
    cfg = Outer.from_dict({"mode": "async", "label": "run"})
    path = tmp_path / "c.yaml"
    path.write_text(cfg.to_yaml())
    again = Outer.from_yaml(path, overrides=["inner.threshold=0.9", "interval=7"])
    assert again.mode == "async" and again.label == "run"
    assert again.inner.threshold == 0.9 and again.interval == 7
    assert Outer.from_yaml(path) == cfg


def test_bad_yaml_names_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="bad.yaml: invalid YAML"):
        Outer.from_yaml(path)
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        Outer.from_yaml(path)


def test_parse_overrides():
    assert parse_overrides(["a.b=1", "a.c=x", "d=true"]) == {"a": {"b": 1, "c": "x"}, "d": True}
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["nokey"])


def test_registry_lazy_and_errors():
    reg = Registry("widget")
    reg.register("json", "json:dumps", help="lazy")

    @reg.register("Double")
    def double(x):
        return 2 * x

    assert reg.names() == ["double", "json"]
    assert reg.build("double", x=4) == 8
    assert reg.get("JSON")([1]) == "[1]"
    with pytest.raises(RegistryError, match="unknown widget 'nope'; available: double, json"):
        reg.get("nope")
    with pytest.raises(RegistryError, match="registered twice"):
        reg.register("json", "json:loads")


@pytest.mark.parametrize("value", [float("nan"), "nan", float("inf"), "-inf", "1e400"])
def test_float_settings_must_be_finite(value):
    """NaN passes every ``x < limit`` range check and inf every ``x > 0``: refused when loaded."""
    with pytest.raises(ConfigError, match=r"inner.threshold: expected a finite number"):
        Outer.from_dict({"inner": {"threshold": value}})
    assert Outer.from_dict({"inner": {"threshold": "1e-3"}}).inner.threshold == 1e-3
    with pytest.raises(ConfigError, match=r"inner.threshold: expected a finite number"):  # YAML's spelling
        Outer.from_dict(parse_overrides(["inner.threshold=.nan"]))
