"""verify-gpu's steps over the worker engine (workers.py): compile every variant in parallel (one fresh worker each,
filling a fresh kernel cache), then run them one at a time in one worker, so timings do not share the GPU.
Workers here initialise CUDA, so none is forked: each is a new process (tlkit.verify.subject.launch_kernels). The
compile stages are held to the compile bound, every launch and its synchronisation to the launch bound. A launch
that outlives its bound is a device hang: the worker's process group is killed and a fresh process checks that
the GPU still answers."""

from __future__ import annotations

import contextlib
import dataclasses
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tlkit.base.errors import KitError
from tlkit.base.paths import folder_name
from tlkit.base.procs import end_group
from tlkit.verify.variants import Variant
from tlkit.verify.workers import Child, Outcome, Run, attach_logs, spawn, split_log, subject_argv, watch

HEALTH_PROBE = ("import torch; x = torch.arange(1 << 20, device='cuda', dtype=torch.float32); "
                "torch.cuda.synchronize(); print(int(x.sum().item()))")
HEALTH_EXPECTED = str(sum(range(1 << 20)))


@dataclass(frozen=True)
class GpuContext:
    python: Path
    module: Path
    cases: Path | None  # None: the kit's own cases
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


class InFlight:
    """The workers started and not yet ended, so that an interrupted kit kills their groups and starts no more."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._children: dict[int, Child] = {}
        self._stopped = False

    @contextlib.contextmanager
    def started(self, start: Callable[[], Child]) -> Iterator[Child]:
        with self._lock:
            if self._stopped:
                raise KitError("verify-gpu was interrupted: no new worker")
            child = start()
            self._children[child.pid] = child
        try:
            yield child
        finally:
            with self._lock:
                self._children.pop(child.pid, None)

    def kill_all(self) -> None:
        with self._lock:
            self._stopped = True
            for pid in self._children:
                end_group(pid)


def run_worker(batch: list[Variant], ctx: GpuContext, compile_only: bool, known: dict[Variant, dict] | None = None,
               tag: str = "", in_flight: InFlight | None = None) -> list[Run]:
    """One worker for `batch`, in order, under the worker engine's deadlines. Returns a record for every variant
    it reached; it stops at a hang, timeout or crash (the caller starts a new worker for the rest)."""
    workdir = ctx.workdir / (folder_name(batch[0].name) if len(batch) == 1 else f"run-{tag}")
    items = [{"factory": v.kernel, "kwargs": v.kwargs, "slug": folder_name(v.name), **(known or {}).get(v, {})}
             for v in batch]
    spec = {"module": str(ctx.module), "cases": str(ctx.cases) if ctx.cases else None, "variants": items,
            "dims": ctx.dims, "tolerances": ctx.tolerances, "timing": ctx.timing, "target": ctx.target,
            "compile_only": compile_only, "workdir": str(ctx.workdir / "sources"), "source_arch": ctx.source_arch,
            "source_smem_limit": ctx.source_smem_limit, "edges": ctx.edges, "reference_on_cpu": bool(ctx.wrapper)}
    if ctx.wrapper:
        spec["parent"] = None  # its parent is the wrapper, held by the kit's supervisor (subject_argv)
    launch: dict = {}
    # the compile bound in force: the run's for the worker's start-up (imports), then from each variant's begin
    # that variant's (its own where the table sets one)
    compile_bound = [ctx.compile_bound]

    def on_event(ev: dict) -> float | None:
        kind = ev.get("event")
        if kind == "begin":
            compile_bound[0] = batch[min(int(ev["key"]), len(batch) - 1)].compile_bound(ctx.compile_bound)
        if kind in ("stage", "begin"):
            launch.clear()
            return compile_bound[0]
        if kind == "launch":
            launch.update(ev)
            return ctx.launch_bound
        return None

    argv = subject_argv(ctx.python, "launch_kernels", ctx.wrapper)
    with (in_flight or InFlight()).started(lambda: spawn(argv, spec, ctx.env, workdir,
                                                         "compile" if compile_only else "run")) as child:
        seen = watch(child, ctx.compile_bound, on_event)
    results = []
    for r in seen.results:
        key = r.pop("key")
        results.append(Run(batch[int(key)], key, r.pop("status"), error=r.pop("error", ""), stage=r.pop("stage"),
                           data={k: v for k, v in r.items() if k != "event"}))
    variant = batch[min(int(seen.key or 0), len(batch) - 1)]
    if seen.timed_out and launch:
        results.append(device_hang(variant, seen, launch, ctx))
    else:
        failed = seen.failure(variant, "0")
        if failed is not None:
            results.append(failed)
    attach_logs(results, child.log_file, whole=len(batch) == 1)
    return results


def device_hang(variant: Variant, seen: Outcome, launch: dict, ctx: GpuContext) -> Run:
    where = f"; innermost frames: {' <- '.join(seen.frames)}" if seen.frames else ""
    hung = Run(variant, seen.key, "device hang", error=f"{launch['what']} did not complete within "
               f"{ctx.launch_bound:g} s (grid {tuple(launch['grid'])}, block {tuple(launch['block'])}); worker "
               f"killed{where}", stage=seen.stage, data={"grid": launch["grid"], "block": launch["block"]})
    hung.gpu_after = gpu_health(ctx)
    return hung


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


def run_gpu_matrix(variants: list[Variant], ctx: GpuContext, jobs: int, log=print) -> list[Run]:
    """Compile all in parallel, one process each; then run the compiled ones in order in one process,
    starting a new one after a hang or crash."""
    compiled: dict[Variant, Run] = {}
    in_flight = InFlight()

    def compile_one(v: Variant) -> Run:
        return run_worker([v], ctx, compile_only=True, in_flight=in_flight)[0]

    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        for i, r in enumerate(pool.map(compile_one, variants), 1):
            compiled[r.variant] = r
            log(f"[compile {i}/{len(variants)}] {r.status:<13} {r.variant.name} {r.data.get('compile_s', 0):.1f} s")
    except BaseException:  # Ctrl-C: no queued compile starts, the running ones are killed as groups
        pool.shutdown(wait=False, cancel_futures=True)
        in_flight.kill_all()
        raise
    pool.shutdown()
    todo = [v for v in variants if compiled[v].status == "compiled"]
    known = {v: {"dynamic_smem": compiled[v].data.get("dynamic_smem", 0)} for v in todo}
    ran: dict[Variant, Run] = {}
    attempt = 0
    while todo:
        attempt += 1
        for r in run_worker(todo, ctx, compile_only=False, known=known, tag=str(attempt)):
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
# The sanitizer front end's own lines about the process (at its end: in the section of the variant printed last),
# e.g. "Error: process didn't terminate successfully" when the worker dies at exit: not hazards.
_FRONT_END = re.compile(r"SUMMARY|Target application|Program hit|No attachable process|couldn't find exit code|"
                        r"process didn't terminate")


def sanitize(variants: list[Variant], ctx: GpuContext, sanitizer: str, tool: str,
             log=print) -> dict[Variant, str]:
    """Each variant launched once under compute-sanitizer `tool`, in one worker (kernels from the kernel cache);
    hazards are attributed to the variant whose output section they appear in. Returns variant -> finding."""
    quick = {"warmup": 0, "repeats": 1, "batch": 1, "sleep_cycles": 0}
    # Partial tiles and a partly masked last KV block, in one launch per variant; references on the CPU.
    sub = dataclasses.replace(ctx, timing=quick, workdir=ctx.workdir / tool, launch_bound=ctx.launch_bound * 20,
                              dims={**ctx.dims, **SANITIZER_DIMS}, edges={},
                              wrapper=(sanitizer, "--tool", tool, "--print-limit", "50"))
    runs = run_worker(variants, sub, compile_only=False, tag=tool)
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
