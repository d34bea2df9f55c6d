"""Python (and, where allowed, native) stacks of a running process, read with py-spy.

py-spy is a dependency of the kit, so it is in the kit's environment (the nox venv); it attaches with
ptrace for the moment of a dump. Native stacks need an interpreter whose symbols py-spy can read (a
venv's works; a pyenv shim's real interpreter may not): when --native fails, the dump is taken again
without it and the result says so."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tlkit.base import procs

DUMP_TIMEOUT = 30.0
PTRACE_SCOPE = Path("/proc/sys/kernel/yama/ptrace_scope")  # Yama's; absent where the kernel has no Yama


@dataclass(frozen=True)
class Frame:
    name: str
    file: str
    line: int
    native: bool
    library: str = ""  # a native frame's shared object (libpython3.11.so.1.0, libtorch_cpu.so); "" for Python

    def text(self) -> str:
        return f"{self.name} ({self.file}:{self.line})" if self.file else self.name


@dataclass(frozen=True)
class ThreadStack:
    tid: int
    name: str
    active: bool
    owns_gil: bool
    frames: tuple[Frame, ...]  # innermost first

    def python_frames(self) -> tuple[Frame, ...]:
        return tuple(f for f in self.frames if not f.native)

    def innermost_python(self) -> Frame | None:
        frames = self.python_frames()
        return frames[0] if frames else None

    def native_calls(self) -> tuple[Frame, ...]:
        """The native frames above the innermost Python frame, innermost first: what the Python code is
        inside (a lock's acquire, a regex match, a CUDA call); empty while the interpreter runs the frame."""
        index = next((i for i, f in enumerate(self.frames) if not f.native), None)
        return self.frames[:index] if index else ()


@dataclass(frozen=True)
class Dump:
    threads: tuple[ThreadStack, ...] = ()
    native: bool = False
    error: str | None = None  # why no stacks could be read
    notes: tuple[str, ...] = field(default_factory=tuple)


def py_spy() -> str | None:
    here = Path(sys.executable).parent / "py-spy"
    return str(here) if here.is_file() else shutil.which("py-spy")


def _is_native(frame: dict) -> bool:
    filename = frame.get("filename") or ""
    return not (filename.endswith(".py") or filename.startswith("<")) if filename else True


def parse(text: str, native: bool) -> Dump:
    threads = []
    for t in json.loads(text):
        frames = tuple(Frame(str(f.get("name") or "?"), str(f.get("short_filename") or f.get("filename") or ""),
                             int(f.get("line") or 0), _is_native(f), Path(f.get("module") or "").name)
                       for f in t.get("frames", []))
        threads.append(ThreadStack(int(t.get("os_thread_id") or 0), str(t.get("thread_name") or ""),
                                   bool(t.get("active")), bool(t.get("owns_gil")), frames))
    return Dump(tuple(threads), native)


def refused_hint() -> str:
    """How to allow the attach; Yama's setting only where the kernel has Yama (elsewhere sysctl cannot set it)."""
    try:
        scope = PTRACE_SCOPE.read_text().strip()
    except OSError:
        return ("attaching was refused (ptrace): run diagnose as root or as the process's user, or start the "
                "container with --cap-add SYS_PTRACE")
    return (f"attaching was refused (ptrace; kernel.yama.ptrace_scope={scope}): run diagnose as root or as the "
            "process's user with `sudo sysctl kernel.yama.ptrace_scope=0`, or start the container with "
            "--cap-add SYS_PTRACE")


def dump(pid: int, native: bool = True) -> Dump:
    exe = py_spy()
    if exe is None:
        return Dump(error="py-spy is not installed in this environment (pip install py-spy); stacks not read")
    argv = [exe, "dump", "--pid", str(pid), "--json"] + (["--native"] if native else [])
    try:
        # run_alone, not procs.run: diagnose may run as another user (nobody) who cannot start the kit's own
        # interpreter again; py-spy's dump starts no process of its own
        proc = procs.run_alone(argv, capture_output=True, text=True, timeout=DUMP_TIMEOUT)
    except subprocess.TimeoutExpired:
        return Dump(error=f"py-spy did not answer within {DUMP_TIMEOUT:g} s")
    if proc.returncode == 0:
        try:
            return parse(proc.stdout, native)
        except (ValueError, TypeError) as exc:
            return Dump(error=f"py-spy's output could not be read ({exc})")
    message = (proc.stderr or proc.stdout).strip().splitlines()
    first = message[0] if message else f"exit status {proc.returncode}"
    lowered = " ".join(message).lower()
    if "permission denied" in lowered or "operation not permitted" in lowered:
        return Dump(error=refused_hint())
    if native:
        plain = dump(pid, native=False)
        if plain.error is None:
            return Dump(plain.threads, False, None, (f"native stacks unavailable ({first})",))
        return plain
    return Dump(error=f"py-spy could not read the stacks ({first})")
