"""One CLI grammar: -o/--output wherever a command writes, one meaning per short flag, --count for
counts, defaults that agree with the configs, `--version` and `list`."""

from __future__ import annotations

import pytest
import typer
from typer.core import TyperOption
from typer.testing import CliRunner

from reasoningtrack import __version__
from reasoningtrack.cli import app

WRITERS = [("data", "synth"), ("data", "build"), ("data", "teach"), ("data", "import-release"), ("data", "export-release"),
           ("train", "sft"), ("train", "grpo"), ("track",), ("benchmark",)]


def _commands(group, path=()):
    if hasattr(group, "commands"):
        for name, command in group.commands.items():
            yield from _commands(command, (*path, name))
    else:
        yield path, group


@pytest.fixture(scope="module")
def root():
    return typer.main.get_command(app)


def _command(root, path):
    command = root
    for part in path:
        command = command.commands[part]
    return command


@pytest.mark.parametrize("path", WRITERS, ids=" ".join)
def test_every_writing_command_takes_output(root, path):
    options = {opt for p in _command(root, path).params if isinstance(p, TyperOption) and not p.hidden for opt in p.opts}
    assert {"-o", "--output"} <= options


def test_each_short_flag_means_one_thing(root):
    meaning: dict[str, set[str]] = {}
    for path, command in _commands(root):
        for param in command.params:
            if isinstance(param, TyperOption):
                shorts = [o for o in param.opts if len(o) == 2]
                longs = [o for o in param.opts if o.startswith("--")]
                for short in shorts:
                    meaning.setdefault(short, set()).update(longs)
    assert {short: longs for short, longs in meaning.items() if len(longs) != 1} == {}
    roots = [p for _, command in _commands(root) for p in command.params if isinstance(p, TyperOption) and "--root" in p.opts]
    assert roots and all("-r" in p.opts for p in roots)  # -r is --root everywhere


def test_version_and_list(root):
    runner = CliRunner()
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"reasoningtrack {__version__}"
    expected = {"backbones": ["csrt", "dutrack", "toy"], "reasoners": ["heuristic", "qwen", "none"],
                "datasets": ["lasot", "tnllt", "synthetic"], "protocols": ["lasot-matlab", "got10k"],
                "profiles": ["paper", "release"], "prompts": ["release", "reasoningtrack"]}
    for kind, names in expected.items():
        result = runner.invoke(app, ["list", kind], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        for name in names:
            assert f"│ {name} " in result.output, (kind, name)
    assert runner.invoke(app, ["list", "trackers"]).exit_code == 2


def test_toy_run_defaults_are_the_configs_and_leave_set_alone(root):
    """`dev toy-run` flags not given must not override --set; the defaults shown are ToyRunConfig's."""
    from reasoningtrack.training.toy import ToyRunConfig

    defaults = ToyRunConfig()
    params = {p.name: p for p in _command(root, ("dev", "toy-run")).params}
    for name in ("seed", "sft_steps", "grpo_steps"):
        assert params[name].default is None
        assert params[name].show_default == str(getattr(defaults, name))


def test_synth_count_and_old_spellings(tmp_path):
    runner = CliRunner()
    new = runner.invoke(app, ["data", "synth", "-o", str(tmp_path / "a"), "--count", "1", "--frames", "20", "--size", "96x96", "--splits", "test"])
    assert new.exit_code == 0, new.output
    old = runner.invoke(app, ["data", "synth", "--out", str(tmp_path / "b"), "--sequences", "1", "--frames", "20", "--size", "96x96", "--splits", "test"])
    assert old.exit_code == 0, old.output
    assert "--out is deprecated" in old.output and "--sequences is deprecated" in old.output
    first, second = (sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file()) for root in (tmp_path / "a", tmp_path / "b"))
    assert first == second and len(first) > 20
    assert all((tmp_path / "a" / p).read_bytes() == (tmp_path / "b" / p).read_bytes() for p in first)
    missing = runner.invoke(app, ["data", "synth", "--count", "1"])
    assert missing.exit_code == 2 and "--output" in missing.output
