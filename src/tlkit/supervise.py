"""Run one command so that nothing it starts outlives the kit process that asked for it.

``python -m tlkit.supervise PARENT_PID GRACE_S -- CMD...``, started by the kit (build.py). The supervisor
is a child subreaper (``PR_SET_CHILD_SUBREAPER``): whatever CMD starts, however deep and whatever session
or group ninja puts it in, stays below it, so it can find every descendant in /proc. It ends them all when:

- SIGINT, SIGTERM or SIGHUP reach it (the kit's stop, a closed terminal): SIGINT to every descendant so
  that ninja and the compilers stop cleanly, SIGKILL to what is left after GRACE_S seconds;
- the parent dies, however (SIGKILL included): the kernel sends it SIGTERM (``PR_SET_PDEATHSIG``);
- CMD exits: anything it left running (a daemon, a helper) is ended the same way.

Exit status: CMD's (128 + signal when a signal ended it).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time

from tlkit.diagnose.proc import descendants

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


class _Stop(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _signal_all(sig: int) -> None:
    for pid in descendants(os.getpid()):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _reap() -> None:
    """Collect every exited descendant (they are ours as the subreaper)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def end_all(grace: float) -> None:
    """SIGINT to every descendant, then SIGKILL to the rest after `grace` s; returns when none is left."""
    _signal_all(signal.SIGINT)
    end = time.monotonic() + grace
    while time.monotonic() < end:
        _reap()
        if not descendants(os.getpid()):
            return
        time.sleep(0.05)  # polling the process table for the grace period, not synchronising a test
    while descendants(os.getpid()):
        _signal_all(signal.SIGKILL)
        _reap()
        time.sleep(0.01)
    _reap()


def _on_signal(signum: int, _frame: object) -> None:
    raise _Stop(signum)  # out of the blocking wait (PEP 475 would retry it after a handler that returns)


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        sys.stderr.write("usage: python -m tlkit.supervise PARENT_PID GRACE_S -- CMD...\n")
        return 2
    parent, grace = int(argv[0]), float(argv[1])
    cmd = argv[3:]
    libc = ctypes.CDLL(None, use_errno=True)
    stopped: int | None = None
    status = 0
    try:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _on_signal)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the death signal was armed
            raise _Stop(signal.SIGTERM)
        child = os.fork()
        if child == 0:
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(sig, signal.SIG_DFL)
            try:
                os.execvp(cmd[0], cmd)
            except OSError as exc:
                os.write(2, f"supervise: cannot run {cmd[0]}: {exc.strerror}\n".encode())
            os._exit(127)
        while True:
            try:
                pid, wstatus = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            if pid == child:
                code = os.waitstatus_to_exitcode(wstatus)
                status = code if code >= 0 else 128 - code
                break
    except _Stop as stop:
        stopped = stop.signum
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    end_all(grace)
    return 128 + stopped if stopped is not None else status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
