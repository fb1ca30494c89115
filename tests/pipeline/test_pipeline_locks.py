"""Folder lock and sequence claims (pipeline/locks.py) in one process and in a child process."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from reasoningtrack.pipeline.locks import FolderBusyError, FolderLock, SequenceClaims, holder_info


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_exclusive_and_shared_locks_exclude_each_other(tmp_path):
    with FolderLock(tmp_path) as lock:
        holder = json.loads(lock.path.read_text())
        assert holder["pid"] > 0 and holder["host"] == socket.gethostname()
        with pytest.raises(FolderBusyError, match=rf"in use by pid {holder['pid']} on host"):
            FolderLock(tmp_path).acquire()
        with pytest.raises(FolderBusyError, match="does not share its folder"):
            FolderLock(tmp_path, shared=True).acquire()
    assert not (tmp_path / ".lock").exists()
    with FolderLock(tmp_path, shared=True), FolderLock(tmp_path, shared=True):
        with pytest.raises(FolderBusyError, match="add --shared to join them"):
            FolderLock(tmp_path).acquire()
    assert not (tmp_path / ".lock").exists()


def test_a_lock_held_by_another_process_is_refused_and_freed_when_it_dies(tmp_path):
    code = ("import sys, time; from reasoningtrack.pipeline.locks import FolderLock; "
            f"FolderLock({str(tmp_path)!r}).acquire(); print('held', flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "held"
        with pytest.raises(FolderBusyError, match=f"pid {child.pid}"):
            FolderLock(tmp_path).acquire()
    finally:
        child.kill()
        child.wait()
    with FolderLock(tmp_path):  # the kernel dropped the dead holder's flock: never stale
        pass


def test_claims_are_exclusive_and_stale_ones_are_taken_over(tmp_path):
    claims = SequenceClaims(tmp_path)
    assert claims.try_claim("a") and not claims.try_claim("a")
    claims.release("a")
    assert claims.try_claim("a")

    claims.path("b").write_text(json.dumps({**holder_info(), "pid": dead_pid()}))
    assert claims.try_claim("b")  # a dead process of this machine: stale
    claims.path("c").write_text(json.dumps({**holder_info(), "pid": dead_pid(), "node": "another-boot:1"}))
    assert not claims.try_claim("c")  # another machine's claim is honoured, whatever its host name
    claims.release("c")
    assert claims.path("c").exists()  # never another's
    claims.clear()
    assert not list(claims.folder.iterdir())
