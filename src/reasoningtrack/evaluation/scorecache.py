"""A cache of scored sequences: what one result file gives under one protocol (its curves' counts,
or the protocol's reason to reject it, and the notes on what the protocol adjusted), so that
evaluating again re-scores only the result files that changed.

Why: with the parsed-table cache (:mod:`reasoningtrack.tablecache`) reading is cheap, and scoring
is most of a warm evaluation (7 LaSOT trackers are 4.8 M frames: about 1.3 s of CPU); users
evaluate after every change, and most result folders of a comparison did not change.

How it stays correct (the same numbers as scoring from scratch, or a fresh score):

- One bundle per results folder, protocol (every field of the frozen :class:`Protocol`),
  first-row rule and *scoring code*: the code digest hashes the source of every module whose
  output the numbers depend on (metrics, adjustments, protocols, the result parsers) and numpy's
  version, so a changed rule starts a fresh bundle instead of serving old numbers.
- An entry is used only when the sequence resolves to the same result file, with the same size
  and modification time (ns) as when it was scored (``os.stat`` taken *before* the file was
  read), and the sequence's ground truth and absent flags hash (SHA-1 of their bytes) to the same
  digest. Anything else is scored again.
- A result file modified less than ``tablecache.RACY_SECONDS`` before it was read is never stored
  (a second write within the timestamp granularity could keep size and time).
- Errors are never cached: a malformed file, a length mismatch or a sequence with no frame to
  score raises on every call exactly as without the cache.
- Bundles are written atomically (:func:`tablecache.write_bundle`); a bundle that cannot be read
  is ignored and rebuilt, a cache folder that cannot be written only costs speed.

The cache lives beside the parsed tables (``REASONINGTRACK_CACHE_DIR``, ``evaluate --no-cache``).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..tablecache import Entry, bundle_path, is_racy, read_bundle, write_bundle
from .metrics import SequenceCurves
from .protocols import Protocol

__all__ = ["ScoredSequence", "ScoreCache", "truth_digest", "scoring_code_digest"]

#: The modules whose code decides the numbers of a scored result file (relative to the package).
_SCORING_MODULES = ("evaluation/metrics.py", "evaluation/adjustments.py", "evaluation/protocols.py",
                    "evaluation/scorecache.py", "boxfiles.py")


@dataclass(frozen=True)
class ScoredSequence:
    """One result file under one protocol: its curves (None when rejected), the protocol's reason
    to reject it, and what the protocol changed before scoring it (report notes, in order)."""

    curves: SequenceCurves | None
    rejected: str | None = None
    notes: tuple[str, ...] = ()


def scoring_code_digest() -> str:
    """A digest of the scoring code and numpy's version (see the module docstring)."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha1(np.__version__.encode())
    for rel in _SCORING_MODULES:
        digest.update(rel.encode() + b"\0" + (package / rel).read_bytes())
    return digest.hexdigest()


def truth_digest(ground_truth: np.ndarray, absent: np.ndarray | None) -> str:
    """SHA-1 of a sequence's ground truth (float64) and absent flags (bool), shapes included."""
    gt = np.ascontiguousarray(ground_truth, dtype=np.float64)
    digest = hashlib.sha1(repr(gt.shape).encode())
    digest.update(gt.tobytes())
    if absent is None:
        digest.update(b"no-absent")
    else:
        flags = np.ascontiguousarray(absent, dtype=bool)
        digest.update(repr(flags.shape).encode())
        digest.update(flags.tobytes())
    return digest.hexdigest()


def _protocol_digest(protocol: Protocol) -> str:
    return hashlib.sha1(repr(protocol).encode()).hexdigest()[:20]


class ScoreCache:
    """The scored sequences of one results folder under one protocol (see the module docstring)."""

    def __init__(self, cache_dir: Path, folder: str | os.PathLike, protocol: Protocol, first_row: str, code_digest: str):
        kind = f"scores:{_protocol_digest(protocol)}:{first_row}:{code_digest}"
        self.path = bundle_path(Path(cache_dir), kind, [os.path.abspath(folder)])
        self._entries: dict[str, Entry] = read_bundle(self.path)
        self._changed = False

    def lookup(self, name: str, result_file: str, stat: os.stat_result, truth: str) -> ScoredSequence | None:
        """The cached score of ``name`` when its result file and ground truth are unchanged."""
        entry = self._entries.get(name)
        if entry is None:
            return None
        size, mtime_ns, counts, meta = entry
        if size != stat.st_size or mtime_ns != stat.st_mtime_ns or not isinstance(meta, dict):
            return None
        if meta.get("file") != result_file or meta.get("truth") != truth:
            return None
        try:
            notes = tuple(str(n) for n in meta["notes"])
            if meta["rejected"] is not None:
                return ScoredSequence(None, str(meta["rejected"]), notes)
            n_success, n_precision, n_norm = (int(x) for x in meta["lengths"])
            if counts.shape != (n_success + n_precision + n_norm,):
                return None
            curves = SequenceCurves(
                counts[:n_success].copy(),
                counts[n_success : n_success + n_precision].copy(),
                counts[n_success + n_precision :].copy(),
                float(meta["denominator"]),
            )
        except (KeyError, TypeError, ValueError):
            return None
        return ScoredSequence(curves, None, notes)

    def store(self, name: str, result_file: str, stat: os.stat_result, truth: str, scored: ScoredSequence,
              read_at_ns: int) -> None:
        """Keep ``scored`` for ``name`` unless its result file is too young to trust its time."""
        if is_racy(stat.st_mtime_ns, read_at_ns):
            return
        meta: dict = {"file": result_file, "truth": truth, "notes": list(scored.notes), "rejected": scored.rejected}
        if scored.curves is None:
            counts = np.zeros(0)
        else:
            c = scored.curves
            parts = (c.success_counts, c.precision_counts, c.norm_precision_counts)
            counts = np.concatenate([np.asarray(x, dtype=np.float64) for x in parts])
            meta["lengths"] = [len(x) for x in parts]
            meta["denominator"] = float(c.denominator)
        self._entries[name] = (stat.st_size, stat.st_mtime_ns, counts, meta)
        self._changed = True

    def save(self) -> None:
        """Write the bundle when something was stored (a folder that cannot be written is skipped)."""
        if not self._changed:
            return
        try:
            write_bundle(self.path, self._entries)
        except OSError:
            pass
        self._changed = False
