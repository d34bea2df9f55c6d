"""Folders of a build that must not outlive the kit process that made them (wheel-raw/, wheel-repaired/).

The kit removes them when it is done with them; if it dies first, SIGKILL included, a small watcher started
beside it removes them: ``python -m tlkit.leftovers PARENT_PID PATH...`` waits on a pidfd of the kit and on
its stdin. EOF on stdin with the kit alive means the kit is done (it removed them itself); the kit gone
means the watcher removes them. The watcher holds the build lock while it exits, so no next build can
create the folders while it removes them."""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

DONE_BOUND_S = 60.0  # the watcher exits at once on EOF; a bound so that a wedged one cannot hold the kit


@contextlib.contextmanager
def removed_however_this_ends(paths: list[Path], keep_fds: tuple[int, ...] = ()) -> Iterator[None]:
    """Make the fresh, empty folders `paths` for the block; they are gone after it, however this process ends."""
    watcher = subprocess.Popen([sys.executable, "-m", "tlkit.leftovers", str(os.getpid()), *map(str, paths)],
                               stdin=subprocess.PIPE, start_new_session=True, pass_fds=keep_fds)
    try:
        for path in paths:
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir(parents=True)
        yield
    finally:
        for path in paths:
            shutil.rmtree(path, ignore_errors=True)
        assert watcher.stdin is not None
        watcher.stdin.close()
        try:
            watcher.wait(timeout=DONE_BOUND_S)
        except subprocess.TimeoutExpired:
            watcher.kill()
            watcher.wait()


def main(argv: list[str]) -> int:
    parent, paths = int(argv[0]), [Path(a) for a in argv[1:]]
    try:
        pidfd = os.pidfd_open(parent)
    except ProcessLookupError:
        pidfd = None
    if pidfd is not None and os.getppid() == parent:  # the pidfd is the parent's, not a reused PID's
        select.select([pidfd, sys.stdin.fileno()], [], [])
        parent_gone = bool(select.select([pidfd], [], [], 0)[0])
    else:
        parent_gone = True
    if parent_gone:
        for path in paths:
            shutil.rmtree(path, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
