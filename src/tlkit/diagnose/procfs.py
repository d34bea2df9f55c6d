"""What /proc says about a process: identity, threads and their CPU time, ancestors, environment (the process
tree itself, children and descendants, is `tlkit.base.procs`'s, which ends it).

Everything here is a plain read of /proc; a process that has gone raises ProcessGone, so the caller can
say "exited while being sampled" instead of printing a traceback."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from tlkit.base.procs import stat_fields

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
COMPILERS = frozenset({"nvcc", "ptxas", "cicc", "cudafe++", "fatbinary", "nvlink", "cc1plus", "cc1", "c++", "g++",
                       "gcc", "cc", "clang", "clang++", "ld", "collect2"})


SUPERVISOR = "compiler_supervisor.py"  # the kit wheel's: tvm/contrib/compiler_supervisor.py


class ProcessGone(Exception):
    """The process exited (or was never there)."""


@dataclass(frozen=True)
class ThreadSample:
    tid: int
    name: str
    state: str
    cpu_ticks: int
    wchan: str


@dataclass(frozen=True)
class ProcSample:
    pid: int
    ppid: int
    comm: str
    argv: tuple[str, ...]
    state: str
    start_ticks: int
    cpu_ticks: int
    threads: tuple[ThreadSample, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        shown = " ".join(" ".join(self.argv).split())[:100] if self.argv else self.comm
        return f"{self.pid} ({shown})"

    def _supervised(self) -> list[str]:
        """The compiler a kit wheel's compiler_supervisor.py runs (python -I -S supervisor.py PPID CMD...)."""
        names = [os.path.basename(a) for a in self.argv]
        if SUPERVISOR in names:
            return self.argv[names.index(SUPERVISOR) + 2:]
        return []

    def is_compiler(self) -> bool:
        names = {self.comm} | {os.path.basename(a) for a in self.argv[:2]}
        return bool(names & COMPILERS) or bool(self._supervised())

    def compiler_name(self) -> str:
        supervised = self._supervised()
        if supervised:
            return f"{os.path.basename(supervised[0])} (supervised)"
        names = [self.comm] + [os.path.basename(a) for a in self.argv[:2]]
        return next((n for n in names if n in COMPILERS), self.comm)

    def age_seconds(self) -> float:
        return uptime() - self.start_ticks / CLOCK_TICKS


def _read(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError) as exc:
        raise ProcessGone(path) from exc


def uptime() -> float:
    return float(_read("/proc/uptime").split()[0])


def exists(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").exists()


def sample(pid: int) -> ProcSample:
    comm, rest = stat_fields(_read(f"/proc/{pid}/stat"))
    argv = tuple(a for a in _read(f"/proc/{pid}/cmdline").split("\0") if a)
    threads = []
    try:
        tids = sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
    except FileNotFoundError as exc:
        raise ProcessGone(pid) from exc
    for tid in tids:
        try:
            tcomm, trest = stat_fields(_read(f"/proc/{pid}/task/{tid}/stat"))
            wchan = _read(f"/proc/{pid}/task/{tid}/wchan").strip()
        except ProcessGone:
            continue  # a thread that ended between the listing and the read
        threads.append(ThreadSample(tid, tcomm, trest[0], int(trest[11]) + int(trest[12]),
                                    "" if wchan == "0" else wchan))
    return ProcSample(pid=pid, ppid=int(rest[1]), comm=comm, argv=argv, state=rest[0], start_ticks=int(rest[19]),
                      cpu_ticks=int(rest[11]) + int(rest[12]), threads=tuple(threads))


def environ(pid: int) -> dict[str, str]:
    """The process's environment at its start (empty when not readable)."""
    try:
        raw = _read(f"/proc/{pid}/environ")
    except (ProcessGone, PermissionError):
        return {}
    pairs = (item.split("=", 1) for item in raw.split("\0") if "=" in item)
    return dict(pairs)


def ancestors(pid: int) -> list[int]:
    """`pid`'s parent, its parent, ... up to PID 1 (or a process that has gone meanwhile)."""
    out = []
    while pid > 1:
        try:
            _comm, rest = stat_fields(_read(f"/proc/{pid}/stat"))
        except (ProcessGone, ValueError):
            break
        pid = int(rest[1])
        if pid > 0:
            out.append(pid)
    return out


def is_python(pid: int, sample_: ProcSample) -> bool:
    """A CPython interpreter: its executable or its mapped libraries say so."""
    try:
        exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        exe = ""
    if exe.startswith("python") or sample_.comm.startswith("python"):
        return True
    try:
        maps = _read(f"/proc/{pid}/maps")
    except (ProcessGone, PermissionError):
        return False
    return "libpython" in maps
