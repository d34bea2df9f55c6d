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
from tlkit.verify.subject.protocol import die_with_parent

PR_SET_CHILD_SUBREAPER = 36
STOP = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
# Blocked here and taken with sigwaitinfo: no handler runs at an awkward point, a second signal stays pending.
WAITED = STOP | {signal.SIGCHLD, signal.SIGUSR1}
KILL_ROUNDS = 500  # SIGKILL rounds before giving up on a process that cannot die (uninterruptible sleep)
TIED_GRACE_S = 5.0  # pip and rm stop on SIGINT well within this


def tied(cmd: list[str], grace: float = TIED_GRACE_S) -> list[str]:
    """`cmd` under a supervisor tied to this process: run it in place of `cmd` (subprocess.run, Popen), and
    it and everything it starts end when this process dies, however (pip installs, background deletions)."""
    return [sys.executable, "-m", "tlkit.supervise", str(os.getpid()), str(grace), "--", *cmd]


def _signal_all(sig: int) -> None:
    for pid in descendants(os.getpid()):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _reap() -> list[tuple[int, int]]:
    """Collect every exited descendant (they are ours as the subreaper): [(pid, wait status)]."""
    done = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return done
        if pid == 0:
            return done
        done.append((pid, status))


def end_all(grace: float) -> None:
    """SIGINT to every descendant, then SIGKILL to the rest after `grace` s; returns when none is left."""
    _signal_all(signal.SIGINT)
    end = time.monotonic() + grace
    while time.monotonic() < end:
        _reap()
        if not descendants(os.getpid()):
            return
        time.sleep(0.05)  # polling the process table for the grace period, not synchronising a test
    for _ in range(KILL_ROUNDS):
        if not descendants(os.getpid()):
            break
        _signal_all(signal.SIGKILL)
        _reap()
        time.sleep(0.01)
    _reap()


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        sys.stderr.write("usage: python -m tlkit.supervise PARENT_PID GRACE_S -- CMD...\n")
        return 2
    parent, grace = int(argv[0]), float(argv[1])
    cmd = argv[3:]
    signal.pthread_sigmask(signal.SIG_BLOCK, WAITED)
    try:
        if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1) != 0:
            raise OSError(ctypes.get_errno(), f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(ctypes.get_errno())}")
        parent_alive = die_with_parent(parent, signal.SIGTERM)
    except OSError as exc:
        sys.stderr.write(f"supervise: {exc.strerror}\n")
        return 125
    if not parent_alive:  # the parent died before the death signal was armed
        return 128 + signal.SIGTERM
    child = os.fork()
    if child == 0:
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        try:
            os.execvp(cmd[0], cmd)
        except OSError as exc:
            os.write(2, f"supervise: cannot run {cmd[0]}: {exc.strerror}\n".encode())
        os._exit(127)
    stopped: int | None = None
    status: int | None = None
    while status is None and stopped is None:
        info = signal.sigwaitinfo(WAITED)
        if info.si_signo == signal.SIGUSR1:  # a stack-dump request for the command (faulthandler)
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGUSR1)
        elif info.si_signo == signal.SIGCHLD:
            for pid, wstatus in _reap():
                if pid == child:
                    code = os.waitstatus_to_exitcode(wstatus)
                    status = code if code >= 0 else 128 - code
        else:
            stopped = info.si_signo
    end_all(grace)
    return 128 + stopped if stopped is not None else status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
