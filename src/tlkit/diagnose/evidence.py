"""Collect what can be seen of a process tree over a few seconds: /proc at the start and the end, py-spy
stacks at both ends, the kit wheel's process state file, and GPU use from nvidia-smi."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tlkit.base import procs
from tlkit.diagnose import procfs, stacks
from tlkit.diagnose.procfs import ProcessGone, ProcSample

STATE_SCHEMA = "tilelang-process-state/2"
# /1: wheels up to p17148560 (ages in the file, no attribution in a stall); read as well, so that a process
# running an older kit wheel can still be examined.
STATE_SCHEMAS = ("tilelang-process-state/1", STATE_SCHEMA)


@dataclass
class Observed:
    """One process of the tree, as seen at the start and at the end of the sampling window."""

    pid: int
    first: ProcSample | None = None
    last: ProcSample | None = None
    python: bool = False
    dumps: list[stacks.Dump] = field(default_factory=list)
    state: dict | None = None
    state_first: dict | None = None
    environ: dict[str, str] = field(default_factory=dict)
    gone: str | None = None  # "missing" (never seen) or "exited" (left during sampling)
    gpu_mib: int | None = None
    seen: list[float] = field(default_factory=list)  # monotonic time of each /proc read

    def cpu_fraction(self) -> float:
        """CPU (cores) between this process's own first and last /proc reads."""
        if self.first is None or self.last is None or len(self.seen) < 2 or self.seen[-1] <= self.seen[0]:
            return 0.0
        return (self.last.cpu_ticks - self.first.cpu_ticks) / procfs.CLOCK_TICKS / (self.seen[-1] - self.seen[0])


def runtime_dir(env: dict[str, str], uid: int) -> Path:
    """Where the examined process keeps its state file: the wheel's rule (docs/runtime-state.md), applied
    to that process's environment."""
    if env.get("TILELANG_RUNTIME_DIR"):
        return Path(env["TILELANG_RUNTIME_DIR"])
    if env.get("XDG_RUNTIME_DIR"):
        return Path(env["XDG_RUNTIME_DIR"]) / "tilelang"
    tmp = next((env[v] for v in ("TMPDIR", "TEMP", "TMP") if env.get(v)), "/tmp")
    return Path(tmp) / f"tilelang-runtime-{uid}"


def _uid(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    return 0


def read_state(pid: int, env: dict[str, str], start_ticks: int) -> dict | None:
    """The process's state file, if it has one that is really its own (same PID and start time, owned by the
    process's user, not reached through a symlink: in a shared /tmp anyone could plant one)."""
    try:
        uid = _uid(pid)
        folder = runtime_dir(env, uid)
        if os.lstat(folder).st_uid != uid:
            return None
        fd = os.open(folder / f"{pid}.json", os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as f:
            if os.fstat(f.fileno()).st_uid != uid:
                return None
            data = json.loads(f.read(1 << 20))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("schema") not in STATE_SCHEMAS or data.get("start_ticks") != start_ticks:
        return None
    return data


def gpu_memory() -> dict[int, int]:
    """pid -> MiB of GPU memory, from nvidia-smi when there is one."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return {}
    try:
        out = procs.run_alone([exe, "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                              capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    result = {}
    for line in out.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
            result[int(parts[0])] = int(parts[1])
    return result


@dataclass
class Sampling:
    roots: list[int]
    seconds: float
    observed: dict[int, Observed]
    elapsed: float


def _look(obs: Observed, native: bool, first: bool) -> None:
    try:
        sample = procfs.sample(obs.pid)
        obs.seen.append(time.monotonic())
    except ProcessGone:
        obs.gone = "exited" if obs.first is not None else "missing"
        return
    if first:
        obs.first = sample
        obs.python = procfs.is_python(obs.pid, sample)
        obs.environ = procfs.environ(obs.pid)
    elif sample.start_ticks != obs.first.start_ticks:  # the PID now names another process
        obs.gone = "exited"
        return
    obs.last = sample
    if obs.python and not sample.is_compiler():
        dump = stacks.dump(obs.pid, native)
        if dump.error and not procfs.exists(obs.pid):
            obs.gone = "exited"
            return
        obs.dumps.append(dump)
        state = read_state(obs.pid, obs.environ, sample.start_ticks)
        if first:
            obs.state_first = state
        obs.state = state


def sample_tree(roots: list[int], seconds: float = 3.0, native: bool = True,
                on_sample: Callable[[int, int], None] | None = None, skip: frozenset[int] = frozenset(),
                prune: frozenset[int] = frozenset()) -> Sampling:
    """Look at `roots` and their descendants twice, `seconds` apart, leaving out `skip` and `prune` with its
    descendants (the diagnosing process and its ancestors). `on_sample(k, 2)` is called after each look (the
    command prints progress with it)."""
    observed: dict[int, Observed] = {}
    tree = procs.children_map()
    roots_set = set(roots)
    for root in roots:
        for pid in [root, *procs.descendants(root, tree, prune)]:
            if pid not in skip and pid not in prune:
                observed.setdefault(pid, Observed(pid))
    initial = list(observed.values())
    start = time.monotonic()
    for obs in initial:
        _look(obs, native, first=True)
    if on_sample:
        on_sample(1, 2)
    time.sleep(seconds)  # the sampling window itself: CPU time and stacks are compared across it
    tree = procs.children_map()
    for root in roots:  # children started during the window (a compiler) are looked at once
        for pid in procs.descendants(root, tree, prune):
            if pid not in observed and pid not in skip:
                observed[pid] = Observed(pid)
                _look(observed[pid], native, first=True)
    for obs in initial:
        if obs.gone is None:
            _look(obs, native, first=False)
    # a descendant that ended before it could be read (nvcc's short-lived cicc and ptxas) is no finding
    for pid in [p for p, o in observed.items() if o.gone == "missing" and p not in roots_set]:
        del observed[pid]
    elapsed = time.monotonic() - start
    if on_sample:
        on_sample(2, 2)
    gpu = gpu_memory()
    for obs in observed.values():
        obs.gpu_mib = gpu.get(obs.pid)
    return Sampling(roots, seconds, observed, elapsed)
