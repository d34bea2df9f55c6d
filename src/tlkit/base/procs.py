"""Process lifetime, for every product: nothing the kit starts outlives it.

- `tied` / `run` / `stop`: run one command under a supervisor tied to this process (below);
- `run_alone`: run a command that starts nothing of its own, tied by the parent-death signal alone;
- `end_group`: SIGKILL to a process group; `die_with_parent`: the parent-death signal (PR_SET_PDEATHSIG);
- `children_map` / `descendants`: the process tree, from /proc.

Standard library only: the venv-side workers of verify (`tlkit.verify.subject`) import it too.

The supervisor, ``python -m tlkit.base.procs PARENT_PID GRACE_S -- CMD...``, started by the kit (build.py),
is a child subreaper (``PR_SET_CHILD_SUBREAPER``): whatever CMD starts, however deep and whatever session
or group ninja puts it in, stays below it, so it can find every descendant in /proc. It ends them all when:

- SIGINT, SIGTERM or SIGHUP reach it (the kit's stop, a closed terminal): SIGINT to every descendant so
  that ninja and the compilers stop cleanly, SIGKILL to what is left after GRACE_S seconds;
- the parent dies, however (SIGKILL included): the kernel sends it PARENT_DIED (``PR_SET_PDEATHSIG``). The
  kernel also sends it when the parent's thread that started the supervisor ends while the parent lives on
  (the signal is bound to a thread); the parent is then still ``getppid()``, and the signal is ignored;
- CMD exits: anything it left running (a daemon, a helper) is ended the same way.

CMD starts with every signal at its default disposition (Python ignores SIGPIPE and SIGXFSZ, a background
shell SIGINT: neither must reach ninja or pip) and dies with the supervisor if that is killed outright.
Descendants are signalled through pidfds, so a PID reused between listing and signal is never hit.

Exit status: CMD's (128 + signal when a signal ended it).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1
STOP = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
PARENT_DIED = signal.SIGUSR2  # the parent-death signal: told apart from a stop, see the module's docstring
# Blocked here and taken with sigwaitinfo: no handler runs at an awkward point, a second signal stays pending.
WAITED = STOP | {signal.SIGCHLD, signal.SIGUSR1, PARENT_DIED}
# Reset to SIG_DFL in CMD: Python's own ignores and whatever the kit inherited (nohup, a background job).
DEFAULTED = (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
STUCK_NOTE_S = 10.0  # after this long of SIGKILLs, say which processes do not die (uninterruptible sleep)
TIED_GRACE_S = 5.0  # pip and rm stop on SIGINT well within this


def tied(cmd: list[str], grace: float = TIED_GRACE_S) -> list[str]:
    """`cmd` under a supervisor tied to this process: run it in place of `cmd` (subprocess.run, Popen), and
    it and everything it starts end when this process dies, however (pip installs, background deletions)."""
    return [sys.executable, "-m", "tlkit.base.procs", str(os.getpid()), str(grace), "--", *cmd]


def run(cmd: list[str], *, grace: float = TIED_GRACE_S, capture_output: bool = False, check: bool = False,
        timeout: float | None = None, **popen_kwargs) -> subprocess.CompletedProcess:
    """subprocess.run for `tied(cmd)`. subprocess.run SIGKILLs its child on Ctrl-C or any exception, which
    would orphan what the supervisor runs; here the supervisor is asked to stop (`stop`) and waited for (also
    when `timeout` passes: TimeoutExpired once the whole tree has ended)."""
    if capture_output:
        popen_kwargs.update(stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with subprocess.Popen(tied(cmd, grace), **popen_kwargs) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except BaseException:
            stop(proc)
            raise
    if check and proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, cmd, out, err)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def run_alone(cmd: list[str], *, timeout: float, **run_kwargs) -> subprocess.CompletedProcess:
    """subprocess.run for a command that starts no process of its own (py-spy's dump, nvidia-smi's query), tied
    by the parent-death signal (SIGKILL) alone. No supervisor: it works where the kit's interpreter cannot be
    started again, as by diagnose run as another user. For single-threaded callers (the signal is armed by a
    Python preexec_fn, and it is bound to the thread that forks). The kernel drops the signal on exec of a setuid
    or file-capability binary (a py-spy given `setcap cap_sys_ptrace+ep`): such a command is bounded by
    `timeout` only. A timeout or Ctrl-C kills and reaps it (subprocess.run)."""
    prctl, parent = _libc().prctl, os.getpid()  # looked up here: the child only calls it

    def arm() -> None:  # in the child, between fork and exec
        if prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
            os.write(2, b"tlkit: prctl(PR_SET_PDEATHSIG) failed; not running the command untied\n")
            os._exit(126)
        if os.getppid() != parent:  # the caller died before the signal was armed
            os._exit(128 + signal.SIGKILL)

    return subprocess.run(cmd, preexec_fn=arm, timeout=timeout, **run_kwargs)


@functools.cache
def _libc() -> ctypes.CDLL:
    """libc, loaded once in the parent: a dlopen between fork and exec could deadlock."""
    return ctypes.CDLL(None, use_errno=True)


def stop(proc: subprocess.Popen) -> None:
    """Stop a supervisor (SIGINT: it ends its whole tree, SIGKILL after its grace) and wait until it has;
    a second Ctrl-C or SIGTERM meanwhile must not cut that wait short."""
    stops = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
    before = {sig: signal.signal(sig, signal.SIG_IGN) for sig in stops}
    try:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGINT)
        proc.wait()
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def end_group(pgid: int) -> None:
    """SIGKILL to process group `pgid`, if it still has members."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def die_with_parent(parent: int, sig: int) -> bool:
    """Have the kernel send `sig` to this process when its parent dies (PR_SET_PDEATHSIG); False when the parent
    is no longer `parent`, i.e. it died before the signal was armed. Raises OSError when prctl fails."""
    libc = _libc()
    if libc.prctl(PR_SET_PDEATHSIG, sig) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_PDEATHSIG): {os.strerror(errno)}")
    return os.getppid() == parent


def stat_fields(text: str) -> tuple[str, list[str]]:
    """(comm, the fields after it) of a /proc stat line; comm may hold spaces and parentheses."""
    comm = text[text.index("(") + 1:text.rindex(")")]
    return comm, text[text.rindex(")") + 2:].split()


def _ppid(pid: str) -> int | None:
    """The parent of process `pid` from /proc/PID/stat; None once it has gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return int(stat_fields(f.read().decode(errors="replace"))[1][1])
    except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
        return None


def children_map() -> dict[int, list[int]]:
    """ppid -> pids, for every process now."""
    out: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        ppid = _ppid(name)
        if ppid is not None:
            out.setdefault(ppid, []).append(int(name))
    return out


def descendants(pid: int, tree: dict[int, list[int]] | None = None, prune: frozenset[int] = frozenset()) -> list[int]:
    """`pid`'s descendants, parents before children; a PID in `prune` is left out with its own descendants."""
    tree = children_map() if tree is None else tree
    out, todo = [], [c for c in tree.get(pid, []) if c not in prune]
    while todo:
        child = todo.pop(0)
        out.append(child)
        todo.extend(c for c in tree.get(child, []) if c not in prune)
    return out


def _signal_all(sig: int) -> list[int]:
    """Send `sig` to every descendant through a pidfd opened while it is (still) one; returns their PIDs."""
    me = os.getpid()
    fds = {}
    for pid in descendants(me):
        with contextlib.suppress(ProcessLookupError):
            fds[pid] = os.pidfd_open(pid)
    if not fds:
        return []
    try:
        # A PID reused before its pidfd was opened names another process: signal only those that are
        # descendants after the pidfds exist (a pidfd's process cannot change, only end).
        now = set(descendants(me))
        for pid, fd in fds.items():
            if pid in now:
                with contextlib.suppress(ProcessLookupError):
                    signal.pidfd_send_signal(fd, sig)
    finally:
        for fd in fds.values():
            os.close(fd)
    return sorted(now & fds.keys())


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
    """SIGINT to every descendant, then SIGKILL to the rest after `grace` s; returns only when none is left
    (a process in uninterruptible sleep dies when its system call returns: it is named, and waited for)."""
    _signal_all(signal.SIGINT)
    end = time.monotonic() + grace
    while time.monotonic() < end:
        _reap()
        if not descendants(os.getpid()):
            return
        time.sleep(0.05)  # polling the process table for the grace period, not synchronising a test
    start, pause, noted = time.monotonic(), 0.01, False
    while True:
        left = _signal_all(signal.SIGKILL)
        _reap()
        if not left:
            break
        if not noted and time.monotonic() - start > STUCK_NOTE_S:
            noted = True
            sys.stderr.write(f"supervise: waiting for pid(s) {', '.join(map(str, left))} to die after SIGKILL\n")
        time.sleep(pause)
        pause = min(pause * 2, 0.5)
    _reap()


def _exec(cmd: list[str], supervisor: int) -> None:
    """In the forked child: default signal dispositions, death with the supervisor, then CMD."""
    for sig in DEFAULTED:
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    try:
        if not die_with_parent(supervisor, signal.SIGKILL):
            os._exit(128 + signal.SIGKILL)
        os.execvp(cmd[0], cmd)
    except OSError as exc:
        os.write(2, f"supervise: cannot run {cmd[0]}: {exc.strerror}\n".encode())
    os._exit(127)


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        sys.stderr.write("usage: python -m tlkit.base.procs PARENT_PID GRACE_S -- CMD...\n")
        return 2
    parent, grace = int(argv[0]), float(argv[1])
    cmd = argv[3:]
    signal.pthread_sigmask(signal.SIG_BLOCK, WAITED)
    try:
        if _libc().prctl(PR_SET_CHILD_SUBREAPER, 1) != 0:
            raise OSError(ctypes.get_errno(), f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(ctypes.get_errno())}")
        parent_alive = die_with_parent(parent, PARENT_DIED)
    except OSError as exc:
        sys.stderr.write(f"supervise: {exc.strerror}\n")
        return 125
    if not parent_alive:  # the parent died before the death signal was armed
        return 128 + signal.SIGTERM
    me = os.getpid()
    child = os.fork()
    if child == 0:
        _exec(cmd, me)
    stopped: int | None = None
    status: int | None = None
    while status is None and stopped is None:
        info = signal.sigwaitinfo(WAITED)
        if info.si_signo == signal.SIGUSR1:  # a stack-dump request for the command (faulthandler)
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGUSR1)
        elif info.si_signo == PARENT_DIED:
            if os.getppid() != parent:  # re-parented: the parent process is gone
                stopped = signal.SIGTERM
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
