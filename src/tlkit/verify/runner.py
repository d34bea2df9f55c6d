"""Running the matrix: one worker process per variant (all targets in turn), several in parallel, each
compile under a hard wall-clock bound enforced from here (the worker cannot be trusted to stop)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tlkit.verify.variants import Variant

WORKER = Path(__file__).with_name("worker.py")
_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+) in (?P<func>\S+)')
_WARNING = re.compile(r"warning", re.IGNORECASE)
# "[21:27:22] : Warning: ..." (stock wheels) or "[21:27:22] /path/file.cc:1084: Warning: ..." (source builds)
_TIMESTAMP = re.compile(r"^\[\d\d:\d\d:\d\d\]\s*(\S+:\d+)?\s*:\s*")


@dataclass
class TargetRun:
    """What the worker said about one (variant, target), before the parent's own checks."""

    variant: Variant
    target: str
    status: str  # ok | compile error | timeout | crash
    seconds: float = 0.0
    error: str = ""
    stage: str = ""
    data: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    log: str = ""


@dataclass(frozen=True)
class RunContext:
    python: Path
    module: Path
    cuobjdump: Path
    env: dict[str, str]
    bound: float
    workdir: Path


def slug(variant: Variant) -> str:
    return slug_name(variant.name)


def slug_name(name: str) -> str:
    """A variant name as a folder name (its run folder, and its folder of saved sources)."""
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", name).strip("_")


def split_log(text: str) -> dict[str, str]:
    """The worker marks where each target begins; warnings are attributed to the target that printed them."""
    parts: dict[str, str] = {}
    current = ""
    for line in text.splitlines(keepends=True):
        m = re.match(r"=== tlkit: target (\S+) ===", line)
        if m:
            current = m.group(1)
            continue
        parts[current] = parts.get(current, "") + line
    return parts


def warnings_in(text: str) -> list[str]:
    """Warning lines (TileLang's C++ and Python loggers, nvcc, Python warnings), de-duplicated."""
    seen: list[str] = []
    for line in text.splitlines():
        if _WARNING.search(line) and ":INFO]" not in line:
            clean = _TIMESTAMP.sub("", line.strip())
            if clean and clean not in seen:
                seen.append(clean)
    return seen


def innermost_frames(stack: str, limit: int = 3) -> list[str]:
    """The deepest frames of the main thread's dump, as file:line function."""
    blocks = stack.split("\n\n")
    main = next((b for b in blocks if "Current thread" in b), blocks[0] if blocks else "")
    frames = [f"{Path(m['file']).name}:{m['line']} {m['func']}" for m in _FRAME.finditer(main)]
    return frames[:limit]


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _dump_stack(proc: subprocess.Popen, stack_file: Path, grace: float = 3.0) -> str:
    """Ask the worker for its Python stacks (faulthandler on SIGUSR1) and read them back."""
    try:
        os.kill(proc.pid, signal.SIGUSR1)
    except ProcessLookupError:
        return ""
    end = time.monotonic() + grace
    text = ""
    while time.monotonic() < end:
        text = stack_file.read_text(errors="replace") if stack_file.exists() else ""
        if "File " in text and text.endswith("\n"):
            break
        time.sleep(0.05)
    return text


TIMEOUT = {"event": "timeout"}  # what read_events yields when the deadline passes


@dataclass
class Deadline:
    """A monotonic time the reader re-reads at every wait, so the caller can move it per stage."""

    at: float

    def set(self, seconds: float) -> float:
        self.at = time.monotonic() + seconds
        return self.at - seconds


def read_events(read_fd: int, deadline: Deadline) -> Iterator[dict]:
    """The worker's JSON-line events from the pipe `read_fd` (closed at the end), until end of file; yields
    TIMEOUT and stops once `deadline` has passed."""
    pending = b""
    with os.fdopen(read_fd, "rb", buffering=0) as events:
        while True:
            remaining = deadline.at - time.monotonic()
            if remaining <= 0:
                yield TIMEOUT
                return
            ready, _, _ = select.select([events], [], [], remaining)
            if not ready:
                continue
            chunk = events.read(65536)
            if not chunk:
                return
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                yield json.loads(raw)


def run_targets(variant: Variant, targets: list[str], ctx: RunContext) -> list[TargetRun]:
    """Run one worker for `targets`; returns a result for every target it started, and stops after a
    timeout or crash (the caller starts a new worker for the rest)."""
    workdir = ctx.workdir / slug(variant)
    workdir.mkdir(parents=True, exist_ok=True)
    stack_file = workdir / f"stack-{targets[0]}.txt"
    log_file = workdir / f"log-{targets[0]}.txt"
    read_fd, write_fd = os.pipe()
    spec = {"events_fd": write_fd, "stack_file": str(stack_file), "module": str(ctx.module),
            "factory": variant.kernel, "kwargs": variant.kwargs, "targets": targets,
            "cuobjdump": str(ctx.cuobjdump), "workdir": str(workdir)}
    with open(log_file, "w") as log:
        proc = subprocess.Popen([str(ctx.python), str(WORKER), json.dumps(spec)], pass_fds=[write_fd],
                                stdout=log, stderr=subprocess.STDOUT, env=ctx.env, start_new_session=True)
    os.close(write_fd)
    results: list[TargetRun] = []
    current, stage = targets[0], "start the worker, import tilelang"
    deadline = Deadline(0.0)
    started = deadline.set(ctx.bound)
    outcome = "eof"
    for ev in read_events(read_fd, deadline):
        if ev is TIMEOUT:
            outcome = "timeout"
            break
        kind = ev.pop("event")
        if kind == "stage":
            stage = ev["stage"]
        elif kind == "begin":
            current, started = ev["target"], deadline.set(ctx.bound)
        elif kind == "result":
            target = ev.pop("target")
            status = ev.pop("status")
            results.append(TargetRun(variant, target, status, ev.pop("seconds", time.monotonic() - started),
                                     ev.pop("error", ""), data=ev))
    if outcome == "timeout":
        stack = _dump_stack(proc, stack_file)
        _kill_group(proc)
        frames = innermost_frames(stack)
        where = f"; innermost frames: {' <- '.join(frames)}" if frames else ""
        results.append(TargetRun(variant, current, "timeout", time.monotonic() - started,
                                 f"killed after {ctx.bound:g} s in stage: {stage}{where} (stacks: {stack_file})",
                                 stage=stage))
    else:
        code = proc.wait()
        if current not in {r.target for r in results}:
            how = f"signal {-code}" if code < 0 else f"exit {code}"
            tail = log_file.read_text(errors="replace").strip().splitlines()[-3:]
            results.append(TargetRun(variant, current, "crash", time.monotonic() - started,
                                     f"worker died ({how}) in stage: {stage}: {' | '.join(tail)[-400:]}", stage=stage))
    parts = split_log(log_file.read_text(errors="replace"))
    for r in results:
        r.warnings = warnings_in(parts.get(r.target, ""))
        r.log = str(log_file)
    return results


def run_variant(variant: Variant, targets: list[str], ctx: RunContext) -> list[TargetRun]:
    """Every target of one variant, restarting the worker after a timeout or crash."""
    done: list[TargetRun] = []
    while len(done) < len(targets):
        todo = [t for t in targets if t not in {r.target for r in done}]
        done += run_targets(variant, todo, ctx)
    return done


def run_matrix(variants: list[Variant], targets: list[str], ctx: RunContext, jobs: int,
               on_result=lambda r, i, n: None) -> list[TargetRun]:
    total = len(variants) * len(targets)
    lock = threading.Lock()
    finished: list[TargetRun] = []

    def one(v: Variant) -> list[TargetRun]:
        runs = run_variant(v, targets, ctx)
        with lock:
            for r in runs:
                finished.append(r)
                on_result(r, len(finished), total)
        return runs

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        ordered = list(pool.map(one, variants))
    return [r for runs in ordered for r in sorted(runs, key=lambda r: targets.index(r.target))]
