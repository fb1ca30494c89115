"""The evaluation report: one object, three renderings (rich table, CSV, JSON).

The JSON document is a stable interface (documented in ``docs/evaluation.md``)::

    {"benchmark": str, "protocol": str,
     "trackers": {NAME: {"rejected": {SEQ: why}, "adjusted": {SEQ: [what the protocol changed]},
                         "overall": {"PR", "NPR", "SR"},
                         "per_sequence": {SEQ: {"PR", "NPR", "SR"}},
                         "per_attribute": {ATTR: {"PR", "NPR", "SR", "n_sequences"}}}},
     "skipped": {SEQ: [trackers missing it]}, "notes": [one line per skipped/rejected/adjusted]}

All values are percentages (floats, not rounded). PR and NPR are what the protocol reports
(e.g. PR at 20 px and NPR at 0.20 for ``lasot-matlab``, curve means for ``tnl2k-matlab``); SR is
the area under the success curve.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .metrics import Scores
from .protocols import Protocol
from ..fileio import atomic_write_text

__all__ = ["Report", "TrackerReport"]


@dataclass
class TrackerReport:
    """One tracker's scores: overall, per sequence and per attribute (benchmark order)."""

    name: str
    overall: Scores
    per_sequence: dict[str, Scores]
    per_attribute: dict[str, Scores]
    rejected: dict[str, str] = field(default_factory=dict)
    adjusted: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "rejected": dict(self.rejected),
            "adjusted": {n: list(v) for n, v in self.adjusted.items()},
            "overall": self.overall.as_dict(),
            "per_sequence": {n: s.as_dict() for n, s in self.per_sequence.items()},
            "per_attribute": {
                a: {**s.as_dict(), "n_sequences": s.n_sequences} for a, s in self.per_attribute.items()
            },
        }


@dataclass
class Report:
    """Every tracker's scores on one benchmark under one protocol."""

    benchmark: str
    protocol: Protocol
    trackers: dict[str, TrackerReport]
    sequences: list[str]
    skipped: dict[str, list[str]] = field(default_factory=dict)

    # -- labels --------------------------------------------------------------------------------
    @property
    def pr_label(self) -> str:
        return "PR (mean 0-50px)" if self.protocol.pr_report == "mean" else "PR@20px"

    @property
    def npr_label(self) -> str:
        return "NPR (mean 0-0.5)" if self.protocol.npr_report == "mean" else "NPR@0.20"

    @property
    def shows_thresholds(self) -> bool:
        """Protocols that report curve means (the TNL2K toolkit) also show PR@20px and NPR@0.20,
        labelled: the values vision-language papers report on TNL2K (issue 9, rule 10)."""
        return self.protocol.pr_report == "mean" or self.protocol.npr_report == "mean"

    def at_thresholds(self, scores: Scores) -> dict[str, float]:
        """PR at 20 px and NPR at 0.20 (percent), read off the same averaged curves."""
        p = self.protocol
        return {"PR@20px": float(scores.precision[p.PR_INDEX]) * 100.0, "NPR@0.20": float(scores.norm_precision[p.NPR_INDEX]) * 100.0}

    def ranked(self) -> list[TrackerReport]:
        """Trackers by success (AUC), best first."""
        return sorted(self.trackers.values(), key=lambda t: t.overall.SR, reverse=True)

    # -- JSON ----------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "benchmark": self.benchmark,
            "protocol": self.protocol.name,
            "trackers": {name: self._tracker_dict(t) for name, t in self.trackers.items()},
            "skipped": {n: list(t) for n, t in self.skipped.items()},
            "notes": self.notes(),
        }

    def _tracker_dict(self, tracker: TrackerReport) -> dict:
        out = tracker.to_dict()
        if self.shows_thresholds:
            out["overall"].update(self.at_thresholds(tracker.overall))
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def write_json(self, path: str | os.PathLike) -> Path:
        return atomic_write_text(path, self.to_json() + "\n")

    # -- CSV -----------------------------------------------------------------------------------
    def to_csv(self) -> str:
        """Long format: ``tracker, scope (overall|attribute|sequence), key, PR, NPR, SR, n_sequences``."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["tracker", "scope", "key", "PR", "NPR", "SR", "n_sequences"])
        for t in self.trackers.values():
            o = t.overall
            w.writerow([t.name, "overall", "", repr(o.PR), repr(o.NPR), repr(o.SR), o.n_sequences])
            for attr, s in t.per_attribute.items():
                w.writerow([t.name, "attribute", attr, repr(s.PR), repr(s.NPR), repr(s.SR), s.n_sequences])
            for seq, s in t.per_sequence.items():
                w.writerow([t.name, "sequence", seq, repr(s.PR), repr(s.NPR), repr(s.SR), 1])
        return buf.getvalue()

    def write_csv(self, path: str | os.PathLike) -> Path:
        return atomic_write_text(path, self.to_csv())

    # -- console ---------------------------------------------------------------------------------
    def table(self):
        """A rich Table of the overall scores, best SR first."""
        from rich.markup import escape
        from rich.table import Table

        p = self.protocol
        changed = {n for t in self.trackers.values() for n in (*t.adjusted, *t.rejected)}
        flagged = f"; {len(changed)} changed or rejected by the protocol, see the notes" if changed else ""
        table = Table(
            title=f"{self.benchmark} ({len(self.sequences)} sequences{flagged}) -- protocol {p.name}",
            caption=p.description,
        )
        table.add_column("Tracker", style="bold")
        table.add_column("SR (AUC)", justify="right")
        table.add_column(self.pr_label, justify="right")
        table.add_column(self.npr_label, justify="right")
        extra = self.shows_thresholds
        if extra:
            table.add_column("PR@20px", justify="right")
            table.add_column("NPR@0.20", justify="right")
        table.add_column("Sequences", justify="right")
        for t in self.ranked():
            o = t.overall
            more = [f"{v:.2f}" for v in self.at_thresholds(o).values()] if extra else []
            table.add_row(escape(t.name), f"{o.SR:.2f}", f"{o.PR:.2f}", f"{o.NPR:.2f}", *more, str(o.n_sequences))
        return table

    def attribute_table(self, metric: str = "SR"):
        """A rich Table: one row per attribute, one column per tracker (``metric`` in percent)."""
        from rich.markup import escape
        from rich.table import Table

        ranked = self.ranked()
        table = Table(title=f"{metric} per attribute -- {self.benchmark}, protocol {self.protocol.name}")
        table.add_column("Attribute", style="bold")
        table.add_column("#", justify="right")
        for t in ranked:
            table.add_column(escape(t.name), justify="right")
        attrs: list[str] = []
        for t in ranked:
            attrs += [a for a in t.per_attribute if a not in attrs]
        for attr in attrs:
            counts = {t.per_attribute[attr].n_sequences for t in ranked if attr in t.per_attribute}
            row = [attr, "/".join(str(c) for c in sorted(counts))]
            for t in ranked:
                s = t.per_attribute.get(attr)
                row.append(f"{getattr(s, metric):.2f}" if s is not None else "-")
            table.add_row(*row)
        return table

    def notes(self) -> list[str]:
        """One line per skipped, rejected or adjusted sequence (empty when none)."""
        lines = []
        if self.skipped:
            names = sorted(self.skipped)
            lines.append(
                f"skipped {len(names)} sequence(s) missing from some tracker's results: "
                + ", ".join(f"{n} ({'/'.join(self.skipped[n])})" for n in names[:10])
                + (" ..." if len(names) > 10 else "")
            )
        for t in self.trackers.values():
            if t.rejected:
                lines.append(
                    f"{t.name}: {len(t.rejected)} sequence(s) not scored under {self.protocol.name}: "
                    + "; ".join(f"{n}: {why}" for n, why in list(t.rejected.items())[:5])
                )
            for name, what in t.adjusted.items():
                lines.append(f"{t.name}: {name}: " + "; ".join(what))
        return lines
