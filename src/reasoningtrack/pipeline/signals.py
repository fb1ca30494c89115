"""Stopping a run cleanly: SIGTERM (what cluster schedulers send to cancel a job) becomes an
exception that unwinds the run like Ctrl-C does, and worker processes die with their parent.

A worker must not outlive the run that started it (on a GPU it would hold the memory): on Linux it
asks the kernel for SIGKILL when its parent dies (``PR_SET_PDEATHSIG``), which covers a parent
killed with SIGKILL; a watchdog thread that notices a changed parent pid covers other systems.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time

__all__ = ["Terminated", "terminate_on_signals", "die_with_parent", "exit_code"]

PR_SET_PDEATHSIG = 1


class Terminated(BaseException):
    """The process was asked to stop (SIGTERM/SIGHUP). A BaseException, like KeyboardInterrupt,
    so that per-sequence ``except Exception`` handlers do not record it as a failed sequence."""

    def __init__(self, signum: int):
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


def exit_code(signum: int) -> int:
    """The shell's convention: 128 + signal number (143 for SIGTERM)."""
    return 128 + int(signum)


@contextlib.contextmanager
def terminate_on_signals(signals=(signal.SIGTERM, signal.SIGHUP)):
    """Within the block, the given signals raise :class:`Terminated` in the main thread.
    Outside the main thread (where Python cannot install handlers) this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated(signum)

    previous = {}
    for sig in signals:
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def die_with_parent(parent_pid: int, poll_s: float = 1.0) -> None:
    """Make this process end when ``parent_pid`` does (call first thing in a worker)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before the request above took effect
        os._exit(1)

    def watch():
        while True:
            time.sleep(poll_s)
            if os.getppid() != parent_pid:
                os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="reasoningtrack-parent-watchdog", daemon=True).start()
