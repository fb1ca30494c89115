"""Reports over finished runs: comparisons and self-contained HTML reports (an application layer
above pipeline, evaluation and experiments).

Report files are always ``report.html`` inside a benchmark or experiment folder; :func:`find_reports`
lists them under a root (the demo links them).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["REPORT_NAME", "find_reports"]

REPORT_NAME = "report.html"


def find_reports(root: str | Path) -> list[Path]:
    """Every ``report.html`` under ``root`` (sorted; experiment variants' own reports included)."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob(REPORT_NAME) if p.is_file())
