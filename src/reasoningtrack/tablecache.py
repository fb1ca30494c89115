"""A cache of parsed numeric tables (ground truth, raw results, flag files), so that evaluating
the same benchmark again costs file status checks and one binary read instead of text parsing.

Why: parsing is most of what evaluation does (7 trackers x 280 LaSOT sequences are 4.8 M text
rows, 238 MB); users evaluate after every change and sweep many variants over the same ground
truth and the same unchanged result folders.

How it stays correct:

- One *bundle* file per list of files read together (a tracker's result folder, a benchmark's
  ground truths), named by a hash of the kind of table and the files' absolute paths.
- Each entry records the file's size and modification time in nanoseconds; an entry is used only
  when both still match ``os.stat``; any other file is parsed again and the bundle rewritten.
- A file modified less than :data:`RACY_SECONDS` before it was parsed is never stored: a second
  write within the file system's timestamp granularity could keep size and time while changing
  the bytes (git's "racily clean" problem); such files are parsed every time until they age.
- Bundles are written to a temporary file in the cache folder and moved into place with
  ``os.replace``: concurrent evaluations read either the old or the new bundle, never a mix; the
  last writer wins and both writers' bundles are valid. A bundle that cannot be read (truncated,
  another format version, foreign bytes) is ignored and rebuilt; a cache folder that cannot be
  written is ignored. Errors of the parsed files themselves are never cached: a malformed or
  missing file raises on every call exactly as without the cache.
- Arrays round-trip bit for bit (raw little-endian bytes of the parsed arrays).

Location: ``REASONINGTRACK_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/reasoningtrack/tables``,
else ``~/.cache/reasoningtrack/tables``. ``REASONINGTRACK_CACHE_DIR=off`` (or ``0``/``none``)
disables it; callers can pass ``cache_dir=None`` explicitly for the same.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import struct
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

__all__ = ["default_cache_dir", "load_tables", "bundle_path", "read_bundle", "write_bundle", "is_racy", "Entry",
           "RACY_SECONDS", "FORMAT_VERSION"]

#: Bumped whenever the parsers' output for the same bytes, or the bundle layout, could change.
FORMAT_VERSION = 3
#: Files younger than this (relative to their parsing) are not cached; see the module docstring.
RACY_SECONDS = 2.0
_MAGIC = b"RTTBLv1\0"
_OFF = {"", "0", "off", "none", "false", "no"}


def default_cache_dir() -> Path | None:
    """The cache folder from the environment (see the module docstring), or None when disabled."""
    env = os.environ.get("REASONINGTRACK_CACHE_DIR")
    if env is not None:
        return None if env.strip().lower() in _OFF else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "reasoningtrack" / "tables"


#: One bundle entry: the file's size and modification time (ns), its array, and what else the
#: writer keeps beside it (JSON-able; None for parsed tables).
Entry = tuple[int, int, np.ndarray, "dict | None"]


def is_racy(mtime_ns: int, read_at_ns: int) -> bool:
    """Whether a file modified at ``mtime_ns`` and read at ``read_at_ns`` is too young to cache."""
    return read_at_ns - mtime_ns < RACY_SECONDS * 1e9


def bundle_path(cache_dir: Path, kind: str, paths: Sequence[str]) -> Path:
    """The bundle file of ``kind`` for this list of (absolute) paths."""
    digest = hashlib.sha256()
    digest.update(f"{kind}\0{FORMAT_VERSION}\0".encode())
    for p in paths:
        digest.update(p.encode("utf-8", "surrogateescape") + b"\0")
    return cache_dir / f"{digest.hexdigest()[:40]}.tables"


def read_bundle(path: Path) -> dict[str, Entry]:
    """``{name: (size, mtime_ns, array, meta)}`` of a bundle; empty when it is absent or unreadable.

    The bundle is mapped copy-on-write (``mmap.ACCESS_COPY``) rather than read into a fresh
    buffer: the arrays are still private and writable, but pages come straight from the page
    cache when first touched instead of being zero-filled and copied (7 LaSOT trackers' bundles,
    154 MB: about 0.05 s CPU instead of 0.2 s, benchmarks/bench_evaluate_cli.py). Bundles are only
    ever replaced whole (``os.replace``), never truncated in place, so a mapping stays valid.
    """
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            try:
                blob = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_COPY) if size else bytearray()
            except (OSError, ValueError):  # no mmap here: read a copy
                blob = bytearray(size)
                if fh.readinto(blob) != len(blob):
                    return {}
    except OSError:
        return {}
    try:
        if blob[: len(_MAGIC)] != _MAGIC:
            return {}
        (header_len,) = struct.unpack_from("<Q", blob, len(_MAGIC))
        start = len(_MAGIC) + 8
        header = json.loads(bytes(blob[start : start + header_len]).decode("utf-8"))
        if header.get("version") != FORMAT_VERSION:
            return {}
        data = memoryview(blob)[start + header_len :]
        out = {}
        for name, size, mtime_ns, dtype, shape, order, offset, nbytes, meta in header["entries"]:
            if offset + nbytes > len(data) or order not in ("C", "F") or not (meta is None or isinstance(meta, dict)):
                return {}
            flat = np.frombuffer(data[offset : offset + nbytes], dtype=np.dtype(dtype))
            out[name] = (int(size), int(mtime_ns), flat.reshape(shape, order=order), meta)
        return out
    except (ValueError, KeyError, TypeError, struct.error, UnicodeDecodeError):
        return {}


def write_bundle(path: Path, entries: dict[str, Entry]) -> None:
    """Write ``entries`` as the bundle at ``path``, atomically (see the module docstring)."""
    header_entries, chunks, offset = [], [], 0
    for name, (size, mtime_ns, array, meta) in entries.items():
        # Keep the memory order: the box parsers return column-major arrays, which the metrics
        # read column by column (measurably faster than row-major).
        order = "F" if array.flags.f_contiguous and not array.flags.c_contiguous else "C"
        dtype = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
        raw = array.astype(dtype, copy=False).tobytes(order=order)
        header_entries.append([name, size, mtime_ns, dtype.str, list(array.shape), order, offset, len(raw), meta])
        chunks.append(raw)
        offset += len(raw)
    header = json.dumps({"version": FORMAT_VERSION, "entries": header_entries}).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(_MAGIC + struct.pack("<Q", len(header)) + header)
            for raw in chunks:
                fh.write(raw)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def load_tables(
    paths: Sequence[str | os.PathLike],
    parse_many: Callable[[list[Path]], list[np.ndarray]],
    *,
    kind: str,
    cache_dir: Path | None | str = "default",
) -> list[np.ndarray]:
    """``parse_many(paths)``, served from the cache where the files are unchanged.

    ``kind`` names the parser and its options (e.g. ``"boxes:as-is"``): bundles of different
    kinds never mix. ``parse_many`` receives only the files that must be parsed, in order, and
    returns their arrays (or raises, which propagates unchanged). Arrays from the cache are
    writable and owned by this call (read into a fresh buffer), like freshly parsed ones.
    """
    files = [Path(p) for p in paths]
    if cache_dir == "default":
        cache_dir = default_cache_dir()
    if cache_dir is None or not files:
        return parse_many(files)
    cache_dir = Path(cache_dir)
    names = [os.path.abspath(p) for p in files]
    try:
        stats = [os.stat(n) for n in names]
    except OSError:
        return parse_many(files)  # a missing file: the parser raises its usual error
    bundle = bundle_path(cache_dir, kind, names)
    cached = read_bundle(bundle)
    out: list[np.ndarray | None] = [None] * len(files)
    todo: list[int] = []
    for i, (name, st) in enumerate(zip(names, stats)):
        hit = cached.get(name)
        if hit is not None and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            out[i] = hit[2]
        else:
            todo.append(i)
    if not todo:
        return out  # type: ignore[return-value]
    parsed_at = time.time_ns()
    parsed = parse_many([files[i] for i in todo])
    for i, array in zip(todo, parsed):
        out[i] = array
    fresh = {}
    for i, (name, st) in enumerate(zip(names, stats)):
        if not is_racy(st.st_mtime_ns, parsed_at) and out[i] is not None:
            fresh[name] = (st.st_size, st.st_mtime_ns, np.asarray(out[i]), None)
    changed = set(fresh) != set(cached) or any(cached[n][:2] != fresh[n][:2] for n in fresh)
    if fresh and changed:
        try:
            write_bundle(bundle, fresh)
        except OSError:
            pass  # a read-only or full cache folder only costs speed
    return out  # type: ignore[return-value]
