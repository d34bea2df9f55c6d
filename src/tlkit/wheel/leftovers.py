"""Folders of a build that must not outlive the kit process that made them (wheel-raw/, wheel-repaired/).

The kit removes them when it is done with them; if it dies first, SIGKILL included, a small watcher started
beside it removes them: ``python -m tlkit.wheel.leftovers PARENT_PID LOCK PATH...`` waits on a pidfd of the kit and
on its stdin. "done" on stdin means the kit is done (it removed them itself); EOF without it, or the kit gone
(a dying process closes its files before it is seen to have ended: either may come first),
the watcher takes the build lock (a flock the kit and its build supervisor hold until the supervisor has
ended every process of the build, which may still write into the folders), removes them, and lets go."""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

DONE = b"done"
DONE_BOUND_S = 60.0  # the watcher exits at once on EOF; a bound so that a wedged one cannot hold the kit


@contextlib.contextmanager
def removed_however_this_ends(paths: list[Path], lock: Path) -> Iterator[None]:
    """Make the fresh, empty folders `paths` for the block; they are gone after it, however this process ends.
    `lock`: the flock this process holds for them (locks.exclusive), passed on to the processes writing there."""
    watcher = subprocess.Popen([sys.executable, "-m", "tlkit.wheel.leftovers", str(os.getpid()), str(lock),
                                *map(str, paths)], stdin=subprocess.PIPE, start_new_session=True)
    try:
        for path in paths:
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir(parents=True)
        yield
    finally:
        for path in paths:
            shutil.rmtree(path, ignore_errors=True)
        assert watcher.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            watcher.stdin.write(DONE)
        with contextlib.suppress(BrokenPipeError):
            watcher.stdin.close()
        try:
            watcher.wait(timeout=DONE_BOUND_S)
        except subprocess.TimeoutExpired:
            watcher.kill()
            watcher.wait()


def _wait_for_lock(lock: Path) -> None:
    """Block until no process holds `lock` (the build supervisor exits once the build's processes have ended)."""
    with contextlib.suppress(OSError):
        fd = os.open(lock, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        fcntl.flock(fd, fcntl.LOCK_EX)  # released when this process exits, after the removal


def main(argv: list[str]) -> int:
    parent, lock, paths = int(argv[0]), Path(argv[1]), [Path(a) for a in argv[2:]]
    try:
        pidfd = os.pidfd_open(parent)
    except ProcessLookupError:
        pidfd = None
    done = False
    if pidfd is not None and os.getppid() == parent:  # the pidfd is the parent's, not a reused PID's
        said, stdin = b"", sys.stdin.fileno()
        while True:
            ready, _, _ = select.select([stdin, pidfd], [], [])
            if stdin in ready:
                chunk = os.read(stdin, 64)
                said += chunk
                if not chunk:  # EOF: the kit closed it when done, or died (done unsaid)
                    break
            elif pidfd in ready:
                break
        done = said == DONE
    if not done:
        _wait_for_lock(lock)
        for path in paths:
            shutil.rmtree(path, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
