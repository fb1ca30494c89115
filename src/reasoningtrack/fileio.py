"""Atomic file writes: the one way the package replaces a file.

Why: long runs are killed, resumed and read while they write. A file written in place can be seen
(or left) half written; a reader must see either the old file or the whole new one. Every write
therefore goes to a temporary file in the same folder (same file system, so the final rename is
atomic), is flushed to disk with ``fsync``, and replaces the target with ``os.replace``; a failed
write removes its temporary file and leaves the target as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
from pathlib import Path
from typing import Any, Iterator

__all__ = [
    "temporary_sibling",
    "replace_atomically",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_json",
    "replace_folder",
    "jsonable",
]


def temporary_sibling(path: str | os.PathLike) -> Path:
    """The hidden temporary name beside ``path``, ``.NAME.PID.THREAD.tmp`` (unique per process and
    thread; the benchmark runner recognises and removes leftovers by this pattern); creates the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # a platform or file system that cannot open folders: the rename still happened
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replace_atomically(tmp: str | os.PathLike, path: str | os.PathLike, *, fsync: bool = True) -> Path:
    """Move the finished ``tmp`` onto ``path`` (after flushing it to disk when ``fsync``)."""
    tmp, path = Path(tmp), Path(path)
    if fsync and tmp.is_file():
        _fsync_file(tmp)
    os.replace(tmp, path)
    if fsync:
        _fsync_folder(path.parent)
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, fsync: bool = True) -> Iterator[Path]:
    """Yield a temporary path to write ``path``'s new content to (with any library: ``savefig``,
    ``to_parquet``, a zip archive); it replaces ``path`` when the block ends without an error and
    is removed when it raises."""
    tmp = temporary_sibling(path)
    try:
        yield tmp
        replace_atomically(tmp, path, fsync=fsync)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, fsync: bool = True) -> Path:
    """Replace ``path`` by ``data`` atomically."""
    with atomic_path(path, fsync=fsync) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, *, fsync: bool = True) -> Path:
    """Replace ``path`` by ``text`` atomically (UTF-8, ``\\n`` line ends on every platform)."""
    with atomic_path(path, fsync=fsync) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    return Path(path)


def jsonable(value: Any) -> Any:
    """``json.dumps(..., default=jsonable)``: numpy scalars and arrays as numbers and lists, paths
    as strings; anything else is an error (a report never holds a silently stringified object)."""
    import numpy as np

    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def atomic_write_json(path: str | os.PathLike, obj: Any, *, indent: int | None = 2, fsync: bool = True, **dumps: Any) -> Path:
    """Replace ``path`` by ``obj`` as JSON atomically (``dumps`` goes to :func:`json.dumps`, e.g.
    ``default=str``, ``sort_keys=True``, ``ensure_ascii=False``)."""
    return atomic_write_text(path, json.dumps(obj, indent=indent, **dumps), fsync=fsync)


def replace_folder(work: str | os.PathLike, final: str | os.PathLike) -> Path:
    """Replace the folder ``final`` by the finished folder ``work`` (same parent file system): the
    old folder is renamed aside first, so that at any moment ``final`` is either the old content or
    the new one, never a mix; the old one is deleted at the end (put back if the rename fails)."""
    work, final = Path(work), Path(final)
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        os.rename(final, old)
    try:
        os.rename(work, final)
    except BaseException:
        if old is not None:
            os.rename(old, final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return final
