"""What runs on the GPU of a process now, as cuda-gdb sees it: the kernels resident on each device, their grid and
block, the warps they have active, the PC of one warp and its source file and line.

The launch watchdog's events can only say which launches finished; a kernel that is not TileLang's (an NCCL
collective waiting for a peer, another library's kernel) or a TileLang launch without events of its own is
named by looking at the GPU itself. cuda-gdb attaches with ptrace in batch mode, pauses the process and its
GPU work for the few seconds of the look, and detaches: the process goes on unchanged. It is not on PyPI: it
comes with the CUDA toolkit (PATH, $CUDA_HOME/bin, /usr/local/cuda/bin)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field

from tlkit.base import procs

LOOK_TIMEOUT_S = 60.0  # measured: 6-9 s on an H100/H200 (docs/hang-diagnosis.md)
FOCUS_KERNELS = 4  # kernels whose PC and line are read (cuda-gdb switches focus to each in turn)
KERNEL_ROW = re.compile(r"^\s*\*?\s*(\d+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+\((\d+),(\d+),(\d+)\)\s+"
                        r"\((\d+),(\d+),(\d+)\)\s+(.+?)\s*$")
FOCUS = re.compile(r"\[Switching focus to CUDA kernel (\d+), grid (\d+), block \(([\d,]+)\), thread \(([\d,]+)\), "
                   r"device (\d+), sm (\d+), warp (\d+), lane (\d+)\]")
AT_LINE = re.compile(r"\bat (\S+?):(\d+)\s*$", re.MULTILINE)
LINE_OF = re.compile(r'^Line (\d+) of "([^"]+)"', re.MULTILINE)
PC_IN = re.compile(r"^(?:#\d+\s+)?(0x[0-9a-f]+) in ", re.MULTILINE)
SM_ROW = re.compile(r"^\s*\*?\s*(\d+)\s+(0x[0-9a-f]+)\s*$")
DEVICE_HEAD = re.compile(r"^\s*Device (\d+)\s*$")
NO_KERNELS = ("No CUDA kernels", "no CUDA kernels", "No CUDA devices")
REFUSED = ("ptrace: Operation not permitted", "Permission denied", "not permitted")
NCCL = ("nccl",)
# The file names TileLang's nvcc steps compile from: compile_cuda's tvm_kernels.cu (a temporary folder in the
# stock wheel; the kit wheel keeps it, see docs/hang-diagnosis.md), the cython backend's temporary .cu.
TILELANG_SOURCE = re.compile(r"(^|/)(tvm_kernels[^/]*\.cu|tl-kernel-[0-9a-f]+\.cu)$")
# Where the PC's line is in a header inlined into the kernel (a CCCL atomic, say), cuda-gdb names the kernel's
# translation unit only inside nvcc's internal-linkage symbols: `_INTERNAL_<hash>_<length>_<unit>_<hash>` and
# `_GLOBAL__N__<hash>_<length>_<unit>_<hash>`, the unit's file name with `.` and `-` written `_`
# (`_INTERNAL_e82636d0_14_tvm_kernels_cu_1b63e085`: tvm_kernels.cu).
UNIT_MARK = re.compile(r"_(?:INTERNAL|GLOBAL__N_)_([0-9a-f]{8})_(\d+)_")
TILELANG_UNIT = re.compile(r"^(tvm_kernels\w*_cu|tl_kernel_[0-9a-f]+_cu)$")
INLINED = re.compile(r" inlined from (\S+?):(\d+)\.?\s*$", re.MULTILINE)


@dataclass
class Resident:
    """One kernel resident on a GPU at the look."""

    kernel: int  # cuda-gdb's kernel number
    device: int
    grid: int  # the grid's ID: the same launch has the same ID at two looks
    status: str
    name: str  # the function, without arguments
    invocation: str  # as cuda-gdb prints it, with argument values
    grid_dim: tuple[int, int, int]
    block_dim: tuple[int, int, int]
    warps: int | None = None  # active warps on its device, when it is the only kernel there
    pc: str | None = None
    file: str | None = None
    line: int | None = None
    source: str | None = None  # the line itself, read from `file` when it exists
    unit: str | None = None  # the translation unit the PC's line is inlined into (`tvm_kernels_cu`), if a header
    kind: str = "other"  # tilelang | nccl | other

    def text(self) -> str:
        where = ""
        if self.file and self.line:
            where = f" at {os.path.basename(self.file)}:{self.line}"
            where += f" (inlined into {_unit_file(self.unit)})" if self.unit else ""
            where += f" `{self.source.strip()}`" if self.source else (
                "" if os.path.exists(self.file) else " (that file no longer exists)")
        warps = f", {self.warps} warp(s) active" if self.warps is not None else ""
        what = {"tilelang": f"TileLang kernel {self.name}",
                "nccl": f"{self.name} (an NCCL collective: this rank waits for a peer)"}.get(
            self.kind, f"{self.name} (not TileLang)")
        grid = "x".join(map(str, self.grid_dim))
        block = "x".join(map(str, self.block_dim))
        return f"{what} on cuda:{self.device}, grid {grid}, block {block}{warps}{where}" + (
            f", pc {self.pc}" if self.pc and not where else "")


@dataclass
class GpuLook:
    pid: int
    seconds: float = 0.0
    kernels: list[Resident] = field(default_factory=list)
    error: str | None = None  # why nothing could be seen (no cuda-gdb, attach refused, timed out)
    raw: str = ""

    def summary(self) -> str:
        if self.error:
            return f"GPU look: {self.error}"
        if not self.kernels:
            return "on the GPU now: no kernel of this process is resident"
        return "on the GPU now: " + "; ".join(k.text() for k in self.kernels)


def find_cuda_gdb(environ: dict[str, str] | None = None) -> str | None:
    """cuda-gdb on PATH, else in $CUDA_HOME/bin, else /usr/local/cuda/bin."""
    env = os.environ if environ is None else environ
    found = shutil.which("cuda-gdb", path=env.get("PATH", ""))
    if found:
        return found
    for folder in (env.get("CUDA_HOME"), env.get("CUDA_PATH"), "/usr/local/cuda"):
        if folder and os.access(os.path.join(folder, "bin", "cuda-gdb"), os.X_OK):
            return os.path.join(folder, "bin", "cuda-gdb")
    return None


def commands() -> list[str]:
    """The batch commands: the kernels, the SMs' active warps, then each kernel's focus, frame and line."""
    cmds = ["info cuda kernels", "info cuda sms"]
    for k in range(FOCUS_KERNELS):
        cmds += [f"cuda kernel {k}", "frame", "info line *$pc"]
    return cmds


def parse(text: str, tilelang_names: set[str] | None = None) -> list[Resident]:
    """The resident kernels in cuda-gdb's batch output (`commands()`), with their focus details."""
    names = tilelang_names or set()
    kernels: dict[int, Resident] = {}
    for line in text.splitlines():
        m = KERNEL_ROW.match(line)
        if not m or m.group(5).lower() in ("status",):
            continue
        invocation = m.group(13)
        name = _function_name(invocation)
        kernels[int(m.group(1))] = Resident(
            int(m.group(1)), int(m.group(3)), int(m.group(4)), m.group(5), name, invocation,
            (int(m.group(7)), int(m.group(8)), int(m.group(9))), (int(m.group(10)), int(m.group(11)), int(m.group(12))))
    _focus_details(text, kernels)
    _warps(text, kernels)
    for k in kernels.values():
        k.kind = classify(k, names)
        if k.file and k.line:
            k.source = _source_line(k.file, k.line)
    return [kernels[n] for n in sorted(kernels)]


def _function_name(invocation: str) -> str:
    """`ns::f<T>(a=1, b=2)` -> `ns::f<T>`: the text before the argument list's opening parenthesis (templates
    and `(anonymous namespace)` kept)."""
    text = invocation.replace("(anonymous namespace)", "\0")
    depth, end = 0, len(text)
    for i, ch in enumerate(text):
        depth += (ch == "<") - (ch == ">")
        if ch == "(" and depth <= 0:
            end = i
            break
    return text[:end].replace("\0", "(anonymous namespace)").strip()


def _focus_details(text: str, kernels: dict[int, Resident]) -> None:
    marks = list(FOCUS.finditer(text))
    for n, m in enumerate(marks):
        kernel = kernels.get(int(m.group(1)))
        if kernel is None:
            continue
        block = text[m.end(): marks[n + 1].start() if n + 1 < len(marks) else len(text)]
        pc = PC_IN.search(block)
        if pc:
            kernel.pc = pc.group(1)
        if INLINED.search(block):
            kernel.unit = _unit(block)
        line_of = LINE_OF.search(block)
        at = AT_LINE.search(block)
        if line_of:
            kernel.line, kernel.file = int(line_of.group(1)), line_of.group(2)
        elif at:
            kernel.file, kernel.line = at.group(1), int(at.group(2))


def _unit(block: str) -> str | None:
    """The translation unit named in the first nvcc internal-linkage symbol of `block` (see UNIT_MARK)."""
    m = UNIT_MARK.search(block)
    if not m:
        return None
    unit = block[m.end(): m.end() + int(m.group(2))]
    return unit if len(unit) == int(m.group(2)) else None


def _unit_file(unit: str) -> str:
    """The file name back from nvcc's spelling: `tvm_kernels_cu` -> `tvm_kernels.cu`, the kit wheel's
    `tl_kernel_<hash>_cu` -> `tl-kernel-<hash>.cu` (its only `-`s); other `_` are left as they are."""
    kept = re.fullmatch(r"tl_kernel_([0-9a-f]+)_cu", unit)
    if kept:
        return f"tl-kernel-{kept.group(1)}.cu"
    stem, _, ext = unit.rpartition("_")
    return f"{stem}.{ext}" if stem else unit


def _warps(text: str, kernels: dict[int, Resident]) -> None:
    """Active warps per device from `info cuda sms` (a mask of warps per SM), given to a kernel that is alone
    on its device."""
    per_device: dict[int, int] = {}
    device = None
    for line in text.splitlines():
        head = DEVICE_HEAD.match(line)
        if head:
            device = int(head.group(1))
            continue
        row = SM_ROW.match(line)
        if row and device is not None:
            per_device[device] = per_device.get(device, 0) + bin(int(row.group(2), 16)).count("1")
    for k in kernels.values():
        alone = sum(1 for o in kernels.values() if o.device == k.device) == 1
        if alone and k.device in per_device:
            k.warps = per_device[k.device]


def classify(k: Resident, tilelang_names: set[str]) -> str:
    lowered = k.name.lower()
    if any(part in lowered for part in NCCL):
        return "nccl"
    bare = k.name.rsplit("::", 1)[-1]
    if k.name in tilelang_names or bare in tilelang_names or (k.file and TILELANG_SOURCE.search(k.file)) or (
            k.unit and TILELANG_UNIT.match(k.unit)):
        return "tilelang"
    return "other"


def _source_line(path: str, line: int) -> str | None:
    try:
        with open(path, errors="replace") as f:
            for n, text in enumerate(f, 1):
                if n == line:
                    return text.rstrip("\n")
    except OSError:
        return None
    return None


def look(pid: int, tilelang_names: set[str] | None = None, timeout: float = LOOK_TIMEOUT_S,
         environ: dict[str, str] | None = None) -> GpuLook:
    """Attach cuda-gdb to `pid` in batch mode, bounded by `timeout`, and read what is resident. The attach runs
    tied to this process (it ends if diagnose dies) and detaches at the end of the batch."""
    exe = find_cuda_gdb(environ)
    if exe is None:
        return GpuLook(pid, error="cuda-gdb not found (PATH, $CUDA_HOME/bin, /usr/local/cuda/bin): install the CUDA "
                                  "toolkit's cuda-gdb (Debian/Ubuntu: cuda-gdb-13-x from NVIDIA's repository) or put "
                                  "it on PATH; nothing else changes")
    argv = [exe, "-q", "-nx", "-batch", "-p", str(pid)]
    for c in commands():
        argv += ["-ex", c]
    started = time.monotonic()
    try:  # tied to diagnose; on the bound the supervisor ends cuda-gdb (SIGINT first: it detaches) and is waited for
        out = procs.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                        stdin=subprocess.DEVNULL, errors="replace", timeout=timeout).stdout
    except subprocess.TimeoutExpired as exc:
        raw = exc.output.decode(errors="replace") if isinstance(exc.output, bytes) else exc.output or ""
        return GpuLook(pid, time.monotonic() - started, error=f"cuda-gdb did not finish within {timeout:g} s",
                       raw=raw)
    except OSError as exc:  # the supervisor's interpreter cannot be started (diagnose run as another user)
        return GpuLook(pid, error=f"cuda-gdb was not started: {exc.filename}: {exc.strerror}")
    seconds = time.monotonic() - started
    result = GpuLook(pid, seconds, raw=out)
    if any(r in out for r in REFUSED) and not KERNEL_ROW.search(out):
        from tlkit.diagnose.stacks import refused_hint

        result.error = "cuda-gdb " + refused_hint()
        return result
    result.kernels = parse(out, tilelang_names)
    if not result.kernels and not any(m in out for m in NO_KERNELS):  # not a look that found nothing: a failed one
        last = next((line.strip() for line in reversed(out.splitlines()) if line.strip()), "no output")
        result.error = f"cuda-gdb listed no kernels and did not say there were none ({last})"
    return result


def same_launches(a: GpuLook, b: GpuLook) -> list[Resident]:
    """The kernels resident at both looks with the same grid ID on the same device: one launch that ran
    through the whole time between the looks."""
    first = {(k.device, k.grid, k.name) for k in a.kernels}
    return [k for k in b.kernels if (k.device, k.grid, k.name) in first]


def state_kernel_names(state: dict | None) -> set[str]:
    """The TileLang kernels' global symbols the kit wheel's state file names (recent and pending launches)."""
    launches = (state or {}).get("launches") or {}
    names = set()
    for entry in (launches.get("recent") or []) + (launches.get("pending") or []):
        names.update(n.strip() for n in str(entry.get("kernel") or "").split(",") if n.strip())
    return names

