"""Running the GPU tier: compile every variant in parallel (filling a fresh kernel cache), then run them one
at a time, so timings do not share the GPU. Each worker is watched from here: the compile stage under the
compile bound, every launch and its synchronisation under the launch bound. A launch that outlives its
bound is a device hang: the worker's process group is killed and a fresh process checks that the GPU
still answers."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tlkit.verify.runner import (
    TIMEOUT,
    Deadline,
    _dump_stack,
    _kill_group,
    innermost_frames,
    read_events,
    slug,
    split_log,
    warnings_in,
)
from tlkit.verify.variants import Variant

GPU_WORKER = Path(__file__).with_name("gpu_worker.py")
HEALTH_PROBE = ("import torch; x = torch.arange(1 << 20, device='cuda', dtype=torch.float32); "
                "torch.cuda.synchronize(); print(int(x.sum().item()))")
HEALTH_EXPECTED = str(sum(range(1 << 20)))


@dataclass
class GpuRun:
    variant: Variant
    status: str  # ok | wrong | compile error | run error | not launchable | device hang | timeout | crash | no gpu
    error: str = ""
    stage: str = ""
    data: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    log: str = ""
    gpu_after: str = ""  # after a device hang: whether a fresh process could still use the GPU


@dataclass(frozen=True)
class GpuContext:
    python: Path
    module: Path
    cases: Path
    env: dict[str, str]
    compile_bound: float
    launch_bound: float
    dims: dict[str, int]
    tolerances: dict[str, dict[str, float]]
    timing: dict[str, int]
    workdir: Path
    target: str = "auto"
    source_arch: str | None = None  # --sm120-source: run the source generated for this arch
    source_smem_limit: int = 0  # that arch's shared memory per block
    wrapper: tuple[str, ...] = ()  # a command the worker runs under (compute-sanitizer)
    edges: dict[str, dict[str, int]] = field(default_factory=dict)  # gpu.toml [edges]: extra checked shapes


def watch(batch: list[Variant], ctx: GpuContext, compile_only: bool, known: dict[Variant, dict] | None = None,
          tag: str = "") -> list[GpuRun]:
    """One worker for `batch`, in order, under the watchdog. Returns a result for every variant it reached;
    it stops at a hang, timeout or crash (the caller starts a new worker for the rest)."""
    workdir = ctx.workdir / (slug(batch[0]) if len(batch) == 1 else f"run-{tag}")
    workdir.mkdir(parents=True, exist_ok=True)
    kind = "compile" if compile_only else "run"
    stack_file, log_file = workdir / f"stack-{kind}.txt", workdir / f"log-{kind}.txt"
    read_fd, write_fd = os.pipe()
    items = [{"factory": v.kernel, "kwargs": v.kwargs, "slug": slug(v), **(known or {}).get(v, {})} for v in batch]
    spec = {"events_fd": write_fd, "stack_file": str(stack_file), "module": str(ctx.module), "cases": str(ctx.cases),
            "variants": items, "dims": ctx.dims, "tolerances": ctx.tolerances, "timing": ctx.timing,
            "target": ctx.target, "compile_only": compile_only, "workdir": str(ctx.workdir / "sources"),
            "source_arch": ctx.source_arch, "source_smem_limit": ctx.source_smem_limit, "edges": ctx.edges,
            "reference_on_cpu": bool(ctx.wrapper)}
    with open(log_file, "w") as log:
        proc = subprocess.Popen([*ctx.wrapper, str(ctx.python), str(GPU_WORKER), json.dumps(spec)], pass_fds=[write_fd],
                                stdout=log, stderr=subprocess.STDOUT, env=ctx.env, start_new_session=True)
    os.close(write_fd)
    stage, launch, index = "start the worker", None, 0
    deadline = Deadline(time.monotonic() + ctx.compile_bound)
    results: list[GpuRun] = []
    timed_out = False
    for ev in read_events(read_fd, deadline):
        if ev is TIMEOUT:
            timed_out = True
            break
        kind_ = ev.pop("event")
        if kind_ in ("stage", "begin"):
            stage, launch = ev.get("stage", stage), None
            index = ev.get("index", index)
            deadline.set(ctx.compile_bound)
        elif kind_ == "launch":
            stage, launch = f"launch: {ev['what']}", ev
            deadline.set(ctx.launch_bound)
        elif kind_ == "result":
            status = ev.pop("status")
            results.append(GpuRun(batch[index], status, ev.pop("error", ""), stage, data=ev))
    variant = batch[min(index, len(batch) - 1)]
    if timed_out:
        stack = _dump_stack(proc, stack_file)
        _kill_group(proc)
        frames = innermost_frames(stack)
        where = f"; innermost frames: {' <- '.join(frames)}" if frames else ""
        if launch is not None:
            hung = GpuRun(variant, "device hang", f"{launch['what']} did not complete within {ctx.launch_bound:g} s "
                          f"(grid {tuple(launch['grid'])}, block {tuple(launch['block'])}); worker killed{where}",
                          stage, data={"grid": launch["grid"], "block": launch["block"]})
            hung.gpu_after = gpu_health(ctx)
            results.append(hung)
        else:
            results.append(GpuRun(variant, "timeout", f"killed after {ctx.compile_bound:g} s in stage: {stage}{where} "
                                  f"(stacks: {stack_file})", stage))
    else:
        code = proc.wait()
        if len(results) < len(batch) and code != 0 or not results:
            tail = log_file.read_text(errors="replace").strip().splitlines()[-3:]
            results.append(GpuRun(variant, "crash", f"worker exited with {code} in stage: {stage}: "
                                  f"{' | '.join(tail)[-400:]}", stage))
    parts = split_log(log_file.read_text(errors="replace"))
    for i, r in enumerate(results):
        r.warnings = warnings_in(parts.get(str(i), "") if len(batch) > 1 else "".join(parts.values()))
        r.log = str(log_file)
    return results


def gpu_health(ctx: GpuContext) -> str:
    """After killing a hung worker: can a new process still compute on the GPU?"""
    start = time.monotonic()
    try:
        res = subprocess.run([str(ctx.python), "-c", HEALTH_PROBE], capture_output=True, text=True, env=ctx.env,
                             timeout=max(60.0, ctx.launch_bound))
    except subprocess.TimeoutExpired:
        return f"NO: a fresh process did not finish a 4 MB reduction within {max(60.0, ctx.launch_bound):g} s"
    took = time.monotonic() - start
    if res.returncode == 0 and res.stdout.strip() == HEALTH_EXPECTED:
        return f"yes: a fresh process summed 2^20 floats on the GPU correctly ({took:.1f} s with start-up)"
    return f"NO: the fresh process failed: {(res.stderr.strip().splitlines() or ['?'])[-1][:300]}"


def run_gpu_matrix(variants: list[Variant], ctx: GpuContext, jobs: int, log=print) -> list[GpuRun]:
    """Compile all in parallel, one process each; then run the compiled ones in order in one process,
    starting a new one after a hang or crash."""
    compiled: dict[Variant, GpuRun] = {}

    def compile_one(v: Variant) -> GpuRun:
        return watch([v], ctx, compile_only=True)[0]

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for i, r in enumerate(pool.map(compile_one, variants), 1):
            compiled[r.variant] = r
            log(f"[compile {i}/{len(variants)}] {r.status:<13} {r.variant.name} {r.data.get('compile_s', 0):.1f} s")
    todo = [v for v in variants if compiled[v].status == "compiled"]
    known = {v: {"dynamic_smem": compiled[v].data.get("dynamic_smem", 0)} for v in todo}
    ran: dict[Variant, GpuRun] = {}
    attempt = 0
    while todo:
        attempt += 1
        for r in watch(todo, ctx, compile_only=False, known=known, tag=str(attempt)):
            first = compiled[r.variant]
            r.data["load_s"] = r.data.pop("compile_s", None)  # a kernel-cache hit in this phase
            r.data["compile_s"], r.data["dynamic_smem"] = first.data.get("compile_s"), known[r.variant]["dynamic_smem"]
            r.warnings = first.warnings + [w for w in r.warnings if w not in first.warnings]
            ran[r.variant] = r
            ms = r.data.get("median_ms")
            log(f"[run {len(ran)}/{len(variants)}] {r.status:<13} {r.variant.name}"
                + (f" {ms * 1000:.1f} us" if ms else "") + (f": {r.error}" if r.error and r.status != "ok" else ""))
            sys.stdout.flush()
        todo = [v for v in todo if v not in ran]
    return [ran.get(v, compiled[v]) for v in variants]


SANITIZER_TOOLS = ("racecheck", "synccheck")
SANITIZER_DIMS = {"M": 65, "topk": 100}
_HAZARD = re.compile(r"^=+ (Error|Warning)\b|^=+ Barrier error")
# The sanitizer front end's own lines at process end: not a hazard of the variant printed last.
_FRONT_END = re.compile(r"SUMMARY|Target application returned|Program hit|Error: No attachable process")


def sanitize(variants: list[Variant], ctx: GpuContext, sanitizer: str, tool: str,
             log=print) -> dict[Variant, str]:
    """Each variant launched once under compute-sanitizer `tool`, in one worker (kernels from the kernel cache);
    hazards are attributed to the variant whose output section they appear in. Returns variant -> finding."""
    quick = {"warmup": 0, "repeats": 1, "batch": 1, "sleep_cycles": 0}
    # Partial tiles and a partly masked last KV block, in one launch per variant; references on the CPU.
    sub = dataclasses.replace(ctx, timing=quick, workdir=ctx.workdir / tool, launch_bound=ctx.launch_bound * 20,
                              dims={**ctx.dims, **SANITIZER_DIMS}, edges={},
                              wrapper=(sanitizer, "--tool", tool, "--print-limit", "50"))
    runs = watch(variants, sub, compile_only=False, tag=tool)
    parts = split_log(Path(runs[0].log).read_text(errors="replace")) if runs else {}
    out: dict[Variant, str] = {}
    for i, v in enumerate(variants):
        ran = next((r for r in runs if r.variant == v), None)
        hazards = [ln for ln in parts.get(str(i), "").splitlines() if _HAZARD.search(ln) and not _FRONT_END.search(ln)]
        if ran is None or ran.status in ("device hang", "timeout", "crash"):
            out[v] = f"not run ({ran.status if ran else 'worker ended before it'})"
        elif hazards:
            out[v] = f"{len(hazards)} hazard line(s): {hazards[0].strip('= ')[:200]}"
        else:
            out[v] = "clean"
        log(f"[{tool}] {out[v]:<12} {v.name}")
    return out
