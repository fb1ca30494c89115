"""Fault-injection helpers: run the real ``reasoningtrack`` command line in a subprocess, as a user
would, so that what is checked is the exit code and the message a person sees."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_cli(args, cwd: Path | str | None = None, env: dict | None = None,
            timeout: float = 300) -> tuple[int, str, str]:
    """Run ``python -m reasoningtrack.cli ARGS``; return ``(exit code, stdout, stderr)``.

    ``env`` entries are added to (not substituted for) the current environment; a value of ``None``
    removes that variable. Rich is told to use a wide console so that one-line messages stay on one
    line whatever the terminal width."""
    full = dict(os.environ)
    full.setdefault("COLUMNS", "200")
    full["PYTHONUNBUFFERED"] = "1"
    for key, value in (env or {}).items():
        if value is None:
            full.pop(key, None)
        else:
            full[key] = str(value)
    proc = subprocess.run([sys.executable, "-m", "reasoningtrack.cli", *map(str, args)],
                          cwd=cwd, env=full, capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(name="run_cli")
def run_cli_fixture():
    """The :func:`run_cli` helper as a fixture (``code, out, err = run_cli([...], cwd=tmp_path)``)."""
    return run_cli
