"""The import-layer contract: layers only point down (contracts in .importlinter at the repository
root), and registry entries, which are imported lazily by name, obey the same layering."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BOTTOM = ("sources", "trackers", "reasoning", "datasets", "profiles", "fileio", "boxfiles", "sequence_files", "specs", "tablecache",
          "geometry", "config", "registry", "describe")


def test_import_contracts_are_kept():
    from importlinter import cli

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = cli.lint_imports(config_filename=str(REPO / ".importlinter"), no_cache=True, no_logo=True)
    report = out.getvalue()
    assert "BROKEN" not in report, report
    assert code == 0 and "5 kept, 0 broken" in report, report


@pytest.mark.parametrize("registry", ["trackers:BACKBONES", "reasoning:REASONERS", "datasets:DATASETS"])
def test_registered_components_live_in_the_bottom_layer(registry):
    import importlib

    module, _, name = registry.partition(":")
    entries = getattr(importlib.import_module(f"reasoningtrack.{module}"), name)
    misplaced = {}
    for entry in entries.names():
        where = entries.module_of(entry)
        layer = where.split(".")[1] if where.startswith("reasoningtrack.") else where
        if layer not in BOTTOM:
            misplaced[entry] = where
    assert not misplaced, f"registered from above the bottom layer: {misplaced}"
