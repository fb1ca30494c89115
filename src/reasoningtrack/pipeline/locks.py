"""Who may write into a run folder: a folder lock and per-sequence claims.

- :class:`FolderLock` (``DIR/.lock``): ``flock`` on a file that also names its holder (pid, host,
  start time) for the refusal message. A normal run takes it exclusively, so a second process on
  the same folder stops with a message naming the holder; runs that share a folder on purpose
  (``--shared``, ``--shard``) take it shared, which still keeps an exclusive run out. The kernel
  drops a ``flock`` when its holder dies (SIGKILL included): a lock is never stale on one machine.
  Across machines it is as good as the file system's ``flock`` (local disks, NFSv4, Lustre, GPFS).
- :class:`SequenceClaims` (``DIR/.claims/<seq>.claim``): a sequence is run by the process that
  created its claim file (``O_CREAT | O_EXCL``, atomic on every POSIX file system, NFS included);
  workers of one run and processes on other machines thereby share the work without doing a
  sequence twice. A claim whose holder is a dead process of this machine is stale and taken over;
  a claim of another machine (another boot id or pid namespace: host names may repeat) is honoured
  until an exclusive run (which knows that no one else is working) clears all claims.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import time
from pathlib import Path

from ..config import ConfigError

__all__ = ["FolderLock", "FolderBusyError", "SequenceClaims", "holder_info", "node_id", "pid_alive"]


class FolderBusyError(ConfigError):
    """Another process holds the run folder."""


def node_id() -> str:
    """Which pid namespace of which booted machine this is: pids are comparable only within one
    (host names repeat across containers and clusters, boot ids and namespaces do not)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.stat("/proc/self/ns/pid").st_ino
        return f"{boot}:{namespace}"
    except OSError:
        return socket.gethostname()


def holder_info() -> dict:
    return {"pid": os.getpid(), "host": socket.gethostname(), "node": node_id(),
            "since": time.strftime("%Y-%m-%d %H:%M:%S %z")}


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _describe(info: dict | None) -> str:
    if not info:
        return "another process"
    return f"pid {info.get('pid')} on host {info.get('host')} (since {info.get('since')})"


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class FolderLock:
    """``with FolderLock(folder, shared=False):`` -- raises :class:`FolderBusyError` when taken."""

    NAME = ".lock"

    def __init__(self, folder: str | Path, shared: bool = False):
        self.path = Path(folder) / self.NAME
        self.shared = shared
        self._fd: int | None = None

    def acquire(self) -> "FolderLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        mode = fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                    raise ConfigError(f"cannot lock {self.path}: its file system does not support flock ({exc.strerror}); "
                                      "use an output folder on a local disk or a file system with locks") from None
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                raise FolderBusyError(self._busy_message()) from None
            # The holder before us may have removed the file between our open and our flock:
            # then we hold a lock on a file nobody else will open; start again.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        self._fd = fd
        if not self.shared:
            os.ftruncate(fd, 0)
            os.write(fd, (json.dumps(holder_info()) + "\n").encode())
        return self

    def _busy_message(self) -> str:
        folder = self.path.parent
        info = _read_json(self.path)
        if self.shared:
            return (f"{folder} is in use by {_describe(info)}, a run that does not share its folder; "
                    "wait for it to end or use another --output")
        if info:
            return (f"{folder} is in use by {_describe(info)}; wait for it to end, use another --output, "
                    "or give both runs --shared to split the sequences between them")
        return (f"{folder} is in use by runs that share it (--shared or --shard; claims in {folder / SequenceClaims.NAME}); "
                "add --shared to join them, or use another --output")

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            # Remove the file only when no one else holds it (a shared holder may remain).
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
        except OSError:
            pass
        finally:
            os.close(fd)

    def __enter__(self) -> "FolderLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


class SequenceClaims:
    """Claim files under ``DIR/.claims``; ``owner`` is the claiming process's pid."""

    NAME = ".claims"

    def __init__(self, folder: str | Path):
        self.folder = Path(folder) / self.NAME
        self.node = node_id()

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.claim"

    def holder(self, name: str) -> dict | None:
        return _read_json(self.path(name))

    def try_claim(self, name: str) -> bool:
        """Claim ``name`` for this process; False when a live process holds it."""
        path = self.path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                if not self._stale(path):
                    return False
                try:
                    path.unlink()
                except FileNotFoundError:
                    pass
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(holder_info()) + "\n")
            return True
        return False

    def _stale(self, path: Path) -> bool:
        info = _read_json(path)
        if info is None:
            # Written between create and write (a live claimer), or cut by a crash: stale only
            # when old.
            try:
                return time.time() - path.stat().st_mtime > 60
            except FileNotFoundError:
                return True
        return info.get("node") == self.node and not pid_alive(int(info.get("pid", -1)))

    def release(self, name: str) -> None:
        """Drop this process's claim on ``name`` (never another's)."""
        info = self.holder(name)
        if info is not None and info.get("pid") == os.getpid() and info.get("node") == self.node:
            try:
                self.path(name).unlink()
            except FileNotFoundError:
                pass

    def release_dead(self, pids: set[int]) -> None:
        """Drop the claims of this machine's processes ``pids`` (workers that were stopped)."""
        if not self.folder.is_dir():
            return
        for path in self.folder.glob("*.claim"):
            info = _read_json(path)
            if info and info.get("node") == self.node and info.get("pid") in pids:
                try:
                    path.unlink()
                except FileNotFoundError:
                    pass

    def clear(self) -> None:
        """Drop every claim (only under an exclusive :class:`FolderLock`: no one else is working)."""
        if self.folder.is_dir():
            for path in self.folder.glob("*.claim"):
                try:
                    path.unlink()
                except FileNotFoundError:
                    pass
