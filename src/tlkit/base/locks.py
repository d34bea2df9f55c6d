"""Advisory locks (flock) on the kit's shared folders, naming the process that holds them.

A build folder is the work of one build at a time: a second build of the same recipe fails at once with
the holder's PID. A shared cache entry (build venv, toolchain) is made by one process while the others
wait for it and then use what it made. The kernel drops a flock when its holder dies, however it dies, so
a lock is never left behind by a crash.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from tlkit.base.errors import KitError


def _holder(fd: int) -> str:
    text = os.pread(fd, 64, 0).decode(errors="replace").strip()
    return text or "unknown"


@contextlib.contextmanager
def exclusive(lock: Path, what: str, *, wait: bool, log=print) -> Iterator[int]:
    """Hold `lock` (created if missing) for the block; yields its descriptor (a child given it by pass_fds
    holds the lock until it exits too). Not free: with `wait`, say who holds it and wait; without, raise a
    KitError naming the holder's PID."""
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        # O_NOFOLLOW: a symlink planted at the lock's name is refused, never followed (the lock is truncated).
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise KitError(f"cannot create the lock {lock} for {what}: {exc.strerror}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            if not wait:
                raise KitError(f"{what} is in use by another tlkit process (pid {holder}, lock {lock}); "
                               "wait for it to finish or stop it") from None
            log(f"waiting for pid {holder}, which holds {lock} ({what})")
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError as exc:
            raise KitError(f"cannot write the lock {lock} for {what}: {exc.strerror}") from exc
        yield fd
    finally:
        os.close(fd)
