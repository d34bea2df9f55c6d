"""The verification engine's workers, for both tiers: start a worker in the environment under test (a fresh
process, or a child forked by a job server that imported TileLang once), read its JSON-line events, hold each
stage to a deadline, and at a deadline dump the worker's Python stacks (faulthandler on SIGUSR1) and kill its
process group. What it saw ends in one record per (variant, key): `Run`.

The worker protocol (the worker side is `tlkit.verify.subject.protocol`): events are JSON objects, one per
line, on the pipe the worker gets as `events_fd`; "stage" names what it is doing, "begin" starts a key (a
target, or a variant's index), "result" closes it; the log has a `=== tlkit: target KEY ===` line per key."""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tlkit.base.procs import end_group
from tlkit.verify.variants import Variant

_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+) in (?P<func>\S+)')
_MARK = re.compile(r"=== tlkit: target (\S+) ===")
_WARNING = re.compile(r"warning", re.IGNORECASE)
# "[21:27:22] : Warning: ..." (stock wheels) or "[21:27:22] /path/file.cc:1084: Warning: ..." (source builds)
_TIMESTAMP = re.compile(r"^\[\d\d:\d\d:\d\d\]\s*(\S+:\d+)?\s*:\s*")
TIMEOUT = {"event": "timeout"}  # what read_events yields when the deadline passes
STOP = object()  # an on_event answer: stop watching, leave the worker running (a job server that is ready)
SUPERVISE_GRACE_S = 5.0  # a wrapped worker's wrapper gets this long to stop after SIGINT when the kit dies


@dataclass
class Run:
    """The one record of a (variant, key), whichever tier: what the worker said, or how it ended."""

    variant: Variant
    key: str  # the target (verify-sm120) or the variant's index in its worker (verify-gpu)
    status: str  # ok | compile error | timeout | crash; the GPU tier adds its own
    seconds: float = 0.0
    error: str = ""
    stage: str = ""
    data: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    log: str = ""
    gpu_after: str = ""  # after a device hang: whether a fresh process could still use the GPU

    @property
    def target(self) -> str:
        return self.key


@dataclass
class Child:
    """A watched worker: the leader of its own process group, its event pipe, and how to learn its exit."""

    pid: int
    events: int  # read end of its event pipe
    stack_file: Path
    log_file: Path
    wait: Callable[[], int]  # once it has ended: ends what is left in its group, returns its exit status
    python_pid: int = 0  # the Python worker's own PID, from its first event: under a wrapper, not `pid`


@dataclass
class Outcome:
    """What a watch saw: the result events, the last stage and key, and how the worker ended."""

    child: Child
    bound: float  # the deadline in force at the end
    since: float  # when that deadline was set (monotonic)
    stage: str = "start the worker"
    key: str = ""
    results: list[dict] = field(default_factory=list)
    timed_out: bool = False
    stopped: bool = False
    code: int | None = None
    frames: list[str] = field(default_factory=list)
    elapsed: dict[str, float] = field(default_factory=dict)  # key -> seconds from its begin to its result

    def failure(self, variant: Variant, key: str | None = None) -> Run | None:
        """The record for the key that did not finish: "timeout" at the deadline, "crash" when the worker ended
        without its result; None when every begun key has a result."""
        key = self.key or key or ""
        where = f"; innermost frames: {' <- '.join(self.frames)}" if self.frames else ""
        seconds = time.monotonic() - self.since
        if self.timed_out:
            return Run(variant, key, "timeout", seconds, f"killed after {self.bound:g} s in stage: {self.stage}"
                       f"{where} (stacks: {self.child.stack_file})", stage=self.stage)
        if self.stopped or key in self.elapsed:
            return None
        how = f"signal {-self.code}" if self.code is not None and self.code < 0 else f"exit {self.code}"
        tail = log_tail(self.child.log_file)
        return Run(variant, key, "crash", seconds, f"worker died ({how}) in stage: {self.stage}: {tail}",
                   stage=self.stage)


@dataclass
class Deadline:
    """A monotonic time the reader re-reads at every wait, so that it can move per stage."""

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


def dump_stack(child: Child, grace: float = 3.0) -> str:
    """Ask the worker for its Python stacks (faulthandler on SIGUSR1) and read them back."""
    try:
        os.kill(child.python_pid or child.pid, signal.SIGUSR1)
    except ProcessLookupError:
        return ""
    end = time.monotonic() + grace
    text = ""
    while time.monotonic() < end:
        text = child.stack_file.read_text(errors="replace") if child.stack_file.exists() else ""
        if "File " in text and text.endswith("\n"):
            break
        time.sleep(0.05)
    return text


def kill_group(child: Child) -> int:
    """SIGKILL to the worker's process group (what it started goes too); returns its exit status."""
    end_group(child.pid)
    return child.wait()


def innermost_frames(stack: str, limit: int = 3) -> list[str]:
    """The deepest frames of the main thread's dump, as file:line function."""
    blocks = stack.split("\n\n")
    main = next((b for b in blocks if "Current thread" in b), blocks[0] if blocks else "")
    frames = [f"{Path(m['file']).name}:{m['line']} {m['func']}" for m in _FRAME.finditer(main)]
    return frames[:limit]


def watch(child: Child, bound: float, on_event: Callable[[dict], object] = lambda ev: None) -> Outcome:
    """Follow `child`'s events until they end, `on_event` answers STOP, or a deadline passes (then stacks, kill).
    The first deadline is `bound` from now; `on_event` moves it by answering a number of seconds."""
    deadline = Deadline(0.0)
    out = Outcome(child, bound, deadline.set(bound))
    begun = out.since
    with contextlib.closing(read_events(child.events, deadline)) as events:
        for ev in events:
            if ev is TIMEOUT:
                out.timed_out = True
                out.frames = innermost_frames(dump_stack(child))
                out.code = kill_group(child)
                return out
            kind = ev.get("event")
            if "stage" in ev and kind != "result":
                out.stage = ev["stage"]
            if kind == "worker":
                child.python_pid = ev["pid"]
            elif kind == "begin":
                out.key, begun = str(ev["key"]), time.monotonic()
            elif kind == "result":
                ev["key"], ev["stage"] = str(ev.get("key", out.key)), out.stage
                out.elapsed[ev["key"]] = time.monotonic() - begun
                out.results.append(ev)
            answer = on_event(ev)
            if answer is STOP:
                out.stopped = True
                return out
            if isinstance(answer, (int, float)):
                out.bound, out.since = answer, deadline.set(answer)
    # The events ended: the worker exits now, or is killed as a group once the deadline passes.
    out.code = child.wait() if exited(child.pid, deadline.at - time.monotonic()) else kill_group(child)
    return out


def exited(pid: int, within: float) -> bool:
    """Whether process `pid` ends (or is gone) within `within` seconds: its pidfd turns readable."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], max(0.0, within))[0])
    finally:
        os.close(fd)


def spawn(argv: list[str], spec: dict, env: dict[str, str], workdir: Path, name: str,
          extra_fds: tuple[int, ...] = ()) -> Child:
    """Start `argv + [json spec]` in its own session, stdout and stderr to `workdir/log-NAME.txt`; the spec
    gets `events_fd`, `stack_file` and, unless it says otherwise (a worker under a wrapper), this process's PID as
    `parent`: the worker ends its group when this process dies (subject/protocol.py's `start`)."""
    workdir.mkdir(parents=True, exist_ok=True)
    stack_file, log_file = workdir / f"stack-{name}.txt", workdir / f"log-{name}.txt"
    read_fd, write_fd = os.pipe()
    spec = {"parent": os.getpid(), **spec, "events_fd": write_fd, "stack_file": str(stack_file)}
    try:
        with open(log_file, "w") as log:
            proc = subprocess.Popen([*argv, json.dumps(spec)], pass_fds=[write_fd, *extra_fds], stdout=log,
                                    stderr=subprocess.STDOUT, env=env, start_new_session=True)
    finally:
        os.close(write_fd)
    return Child(proc.pid, read_fd, stack_file, log_file, lambda: _reap(proc))


def _reap(proc: subprocess.Popen) -> int:
    """End what the worker left in its group, then collect its status (a PID is not reused before that)."""
    end_group(proc.pid)
    return proc.wait()


class ServerGone(Exception):
    """The job server ended (or was killed) while it was asked for a child."""


class ForkServer:
    """One job's worker process that imported TileLang and the kernel module once and forks a child per task
    (`tlkit.verify.subject.compile_variants`): each child is its own process group with its own event pipe (passed over
    a socket), so it is watched and killed exactly like a spawned worker."""

    def __init__(self, argv: list[str], spec: dict, env: dict[str, str], workdir: Path, name: str):
        ours, theirs = socket.socketpair()
        self._sock = ours
        try:
            self.process = spawn(argv, {**spec, "control_fd": theirs.fileno()}, env, workdir, name,
                                 (theirs.fileno(),))
        finally:
            theirs.close()
        self._replies = ours.makefile("r")

    def start(self, bound: float) -> Outcome:
        """Wait (at most `bound`) until it has imported what every child needs: outcome.stopped."""
        return watch(self.process, bound, lambda ev: STOP if ev.get("event") == "ready" else None)

    def fork(self, task: dict, workdir: Path, name: str) -> Child:
        workdir.mkdir(parents=True, exist_ok=True)
        stack_file, log_file = workdir / f"stack-{name}.txt", workdir / f"log-{name}.txt"
        read_fd, write_fd = os.pipe()
        try:
            request = json.dumps({**task, "stack_file": str(stack_file), "log_file": str(log_file)}).encode()
            socket.send_fds(self._sock, [request], [write_fd])
        except OSError as exc:
            os.close(read_fd)
            raise ServerGone(str(exc)) from None
        finally:
            os.close(write_fd)
        reply = self._replies.readline()
        if not reply:
            os.close(read_fd)
            raise ServerGone("no reply")
        pid = json.loads(reply)["pid"]

        def wait() -> int:
            line = self._replies.readline()
            if not line:  # the server went away: its child went with it (parent-death signal), and what the child
                end_group(pid)  # left in its group goes now (a group's ID is not reused while it has members)
                return -signal.SIGKILL
            return json.loads(line)["status"]

        return Child(pid, read_fd, stack_file, log_file, wait)

    def close(self) -> None:
        """End it and anything left in its group (its children are in their own groups, and gone by now)."""
        self._replies.close()
        self._sock.close()
        kill_group(self.process)


def split_log(text: str) -> dict[str, str]:
    """The worker marks where each key begins; warnings are attributed to the key that printed them."""
    parts: dict[str, str] = {}
    current = ""
    for line in text.splitlines(keepends=True):
        m = _MARK.match(line)
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


def log_tail(log_file: Path, lines: int = 3) -> str:
    tail = log_file.read_text(errors="replace").strip().splitlines()[-lines:] if log_file.exists() else []
    return " | ".join(tail)[-400:]


def attach_logs(runs: list[Run], log_file: Path, whole: bool = False) -> None:
    """Each record's warnings (from its key's part of the log, or all of it when `whole`) and the log's path."""
    text = log_file.read_text(errors="replace") if log_file.exists() else ""
    parts = split_log(text)
    for r in runs:
        r.warnings = warnings_in(text if whole else parts.get(r.key, ""))
        r.log = str(log_file)


def subject_argv(python: Path, module: str, wrapper: tuple[str, ...] = ()) -> list[str]:
    """How a worker of `tlkit.verify.subject` starts in the environment under test (PYTHONPATH from
    `subject_env`). Under a wrapper (compute-sanitizer) it starts through the kit's supervisor, which ends the
    wrapper and the worker when this process dies; such a worker's spec names no `parent`."""
    worker = [str(python), "-m", f"tlkit.verify.subject.{module}"]
    if not wrapper:
        return worker
    return [sys.executable, "-m", "tlkit.base.procs", str(os.getpid()), str(SUPERVISE_GRACE_S), "--", *wrapper, *worker]


def subject_path() -> str:
    """The folder holding the `tlkit` package: the one thing the environment under test needs on its path."""
    import tlkit

    return str(Path(tlkit.__file__).resolve().parent.parent)
