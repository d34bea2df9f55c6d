"""From what the worker reported to a verdict: compiled, for the right architecture, and launchable."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tlkit.verify.smem import base_arch, check, limit_for, nvcc_reserved
from tlkit.verify.workers import Run


@dataclass
class Verdict:
    kernel: str
    variant: str
    world_sizes: tuple[int, ...]
    target: str
    status: str  # ok | compile error | timeout | crash | not launchable | wrong arch
    seconds: float
    message: str = ""
    archs: list[str] = field(default_factory=list)
    regs: int | None = None
    stack: int | None = None
    local: int | None = None
    static_smem: int | None = None
    dynamic_smem: int | None = None
    smem_limit: int | None = None
    smem_counted: int | None = None  # static (without nvcc's reservation) + dynamic: what the limit is held against
    warnings: list[str] = field(default_factory=list)
    source_sha256: str = ""
    normalized_source_sha256: str = ""  # workspace buffers renumbered (see subject.compiled.normalized_source)
    log: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def assess(run: Run, limits: dict[str, int], limits_path: Path) -> Verdict:
    v = Verdict(run.variant.kernel, run.variant.name, run.variant.world_sizes, run.target, run.status,
                round(run.seconds, 2), run.error, warnings=run.warnings, log=run.log)
    if run.status == "compile error" and "SharedMemoryLimitError" in run.error:
        v.status = "not launchable"  # a patched TileLang refuses it at compile time, saying why
        return v
    if run.status != "ok":
        return v
    d = run.data
    v.source_sha256 = d.get("source_sha256", "")
    v.normalized_source_sha256 = d.get("normalized_source_sha256", "")
    functions = d.get("functions") or {}
    usage = next(iter(functions.values()), {}) if functions else {}
    v.regs, v.stack, v.local = usage.get("reg"), usage.get("stack"), usage.get("local")
    v.static_smem = usage.get("shared", 0)
    v.dynamic_smem = max((d.get("dynamic_smem") or {}).values(), default=0)
    v.archs = sorted(set(d.get("archs") or []))
    v.smem_limit = limit_for(run.target, limits, limits_path)
    if v.archs and v.archs != [run.target]:
        v.status = "wrong arch"
        v.message = f"the cubin is for {', '.join(v.archs)}, not {run.target}"
        return v
    if not v.archs:
        v.message = f"cubin not inspected: {d.get('cubin', 'unknown')}"
    smem = check(v.static_smem or 0, v.dynamic_smem or 0, v.smem_limit, [tuple(b) for b in d.get("buffers", [])],
                 reserved=nvcc_reserved(run.target))
    v.smem_counted = smem.total
    if not smem.fits:
        v.status = "not launchable"
        v.message = smem.message(base_arch(run.target))
    return v
