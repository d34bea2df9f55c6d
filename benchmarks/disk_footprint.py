"""How much disk a command takes while it runs and what it leaves (run by hand; the CI run of 583a67c failed
with "No space left on device" on a machine with little free disk). Runs the command, reads the used bytes of
the file system under each --watch path twice a second, and prints the machine, the command's exit status and
wall seconds, the peak growth and what is left per file system, and the size of each --du folder at the end.

    python benchmarks/disk_footprint.py --watch / --du /tmp/pytest-of-$USER --du ~/.cache -- .ci/run

The peak is a sampled lower bound (a file written and removed between two reads is missed) and counts what
anything else on the machine writes meanwhile: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sys
import threading
import time
from pathlib import Path

KIT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(KIT / "src"))

from tlkit.base import procs  # noqa: E402
from tlkit.base.machine import describe  # noqa: E402


def used(path: Path) -> int:
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


def size(folder: Path) -> int:
    """Bytes the files under `folder` take, as `du` counts them: each inode once (the suite hard-links toolchains),
    symbolic links not followed, a file gone meanwhile not at all."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                st = os.lstat(os.path.join(root, name))
                if (st.st_dev, st.st_ino) not in seen:
                    seen.add((st.st_dev, st.st_ino))
                    total += st.st_blocks * 512
    return total


def mount_point(path: Path) -> Path:
    path = path.resolve()
    while not os.path.ismount(path):
        path = path.parent
    return path


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--watch", type=Path, action="append", default=[], help="a path whose file system is read")
    ap.add_argument("--du", type=Path, action="append", default=[], help="a folder whose size is printed at the end")
    ap.add_argument("command", nargs="+", help="after --: the command")
    args = ap.parse_args()
    watched: dict[int, Path] = {}
    for path in args.watch or [Path.cwd()]:
        try:  # one reading per file system, at its mount point: the path itself may go while the command runs
            watched.setdefault(os.stat(path).st_dev, mount_point(path))
        except OSError as exc:
            ap.error(f"--watch {path}: {exc.strerror}")
    start = {dev: used(path) for dev, path in watched.items()}
    peak = dict(start)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.5):
            for dev, path in watched.items():
                peak[dev] = max(peak[dev], used(path))

    print(describe())
    print(f"`{shlex.join(args.command)}` in {Path.cwd()}", flush=True)
    reader = threading.Thread(target=sample, daemon=True)
    reader.start()
    began = time.monotonic()
    # PYTHONPATH names this checkout for the supervisor (`python -m tlkit.base.procs`) only; the command gets
    # the caller's back (it may be another clone's .ci/run, which must import its own tlkit)
    given = os.environ.get("PYTHONPATH")
    restore = ["env", "-u", "PYTHONPATH"] if given is None else ["env", f"PYTHONPATH={given}"]
    code = procs.run([*restore, *args.command], env={**os.environ, "PYTHONPATH": str(KIT / "src")}).returncode
    wall = time.monotonic() - began
    done.set()
    reader.join()
    print(f"exit {code} after {wall:.0f} s")
    for dev, path in watched.items():
        end = used(path)
        peak[dev] = max(peak[dev], end)
        st = os.statvfs(path)
        print(f"file system of {path}: peak +{gib(peak[dev] - start[dev])}, left +{gib(end - start[dev])}, "
              f"{gib(st.f_bavail * st.f_frsize)} free at the end")
    for folder in args.du:
        print(f"{folder}: {gib(size(folder)) if folder.exists() else 'absent'}")
    sys.exit(code if code >= 0 else 1)  # killed by a signal: a failure


if __name__ == "__main__":
    main()
