"""`tlkit verify-sm120` and `tlkit verify-gpu`: options resolved once (options.py, from what tlkit/cli.py parsed),
then environment -> matrix (the tier's steps over the worker engine, workers.py) -> verdicts -> reports, and
--compare / --expect-sources / --save-sources."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tlkit.base.errors import KitError
from tlkit.base.machine import describe
from tlkit.base.paths import folder_name
from tlkit.base.redact import redact
from tlkit.verify import gpu_report, report
from tlkit.verify.assess import Verdict, assess
from tlkit.verify.gpu import SANITIZER_TOOLS, GpuContext, run_gpu_matrix, sanitize
from tlkit.verify.options import (
    SOURCE_ARCH,
    Common,
    GpuInput,
    GpuOptions,
    Install,
    Sm120Input,
    Sm120Options,
    resolve_gpu,
    resolve_sm120,
)
from tlkit.verify.probe import cuda_devices
from tlkit.verify.saved_sources import compare_sources, load_manifest, matches_table, save_sources
from tlkit.verify.sm120 import RunContext, run_matrix
from tlkit.verify.smem import limit_for, load_limits
from tlkit.verify.variants import Variant, bound_text, own_bounds
from tlkit.verify.venv import VerifyEnv, create_venv, ensure_tool
from tlkit.verify.workers import Run, subject_path
from tlkit.wheel.toolchain import ensure_toolchain, load_toolchain_spec


def subject_env(toolchain_env: dict[str, str], extra_path: tuple[str, ...], cache: Path) -> dict[str, str]:
    """The workers' environment: ours without TILELANG_* settings, the toolchain, the folders under test and the
    kit's subject package on PYTHONPATH, a fresh kernel cache, unbuffered output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TILELANG_")}
    env.update(toolchain_env)
    env["PYTHONPATH"] = os.pathsep.join([*extra_path, subject_path(), *filter(None, [os.environ.get("PYTHONPATH")])])
    env["TILELANG_CACHE_DIR"] = str(cache)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def toolchain_env(common: Common, cuda: str | None = None) -> dict[str, str]:
    """CUDA_HOME and PATH for the kit's PyPI toolchain (`cuda`, else the one of the options); nothing with
    --cuda system."""
    cuda = cuda or common.cuda
    if cuda == "system":
        return {}
    toolchain = ensure_toolchain(load_toolchain_spec(common.layout.toolchains, cuda), common.cache)
    return {"CUDA_HOME": str(toolchain.root), "PATH": f"{toolchain.root / 'bin'}{os.pathsep}{os.environ['PATH']}"}


def fresh_work(work: Path) -> Path:
    """The run slot's kernel cache and runs/ emptied; returns the kernel cache."""
    for path in (work / "kernel-cache", work / "runs"):
        shutil.rmtree(path, ignore_errors=True)
    return work / "kernel-cache"


# --- verify-sm120 ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sm120Result:
    env: VerifyEnv
    info: report.RunInfo
    verdicts: list[Verdict]
    runs_dir: Path  # logs and sources


def run_sm120(opts: Sm120Options, install: Install, tool_env: dict[str, str], cuobjdump: Path, cuda: str,
              log=print) -> Sm120Result:
    """Set up the venv, run the matrix with `cuda`'s nvcc, write the reports (a folder per toolkit when
    --cuda names several)."""
    c = opts.common
    work = c.layout.verify_work("verify") / install.slot
    env_info = create_venv(c.layout.verify_work("verify") / "venvs" / install.slot,
                           [*install.requirements, c.config.torch], c.fresh_venv, log)
    env = subject_env(tool_env, (), fresh_work(work))
    ctx = RunContext(env_info.python, c.kernels, cuobjdump, env, c.bound, work / "runs")
    limits = load_limits(c.layout.smem_limits)

    def progress(run: Run, i: int, n: int) -> None:
        log(f"[{i}/{n}] {run.status:<13} {run.variant.name} {run.target} {run.seconds:.1f} s")

    own = own_bounds(c.variants)
    log(f"verify: {env_info.label}: {len(c.variants)} variants x {len(opts.targets)} targets, {c.jobs} jobs, "
        f"bound {bound_text(c.bound, own)}, nvcc of CUDA {cuda}")
    start = time.monotonic()
    runs = run_matrix(list(c.variants), list(opts.targets), ctx, c.jobs, progress)
    wall = time.monotonic() - start
    verdicts = [assess(r, limits, c.layout.smem_limits) for r in runs]
    info = report.RunInfo(env_info.label, opts.targets, c.bound, c.jobs, round(wall, 1), round(env_info.seconds, 1),
                          describe(), cuda, own)
    folder = folder_name(env_info.label.replace(" ", "-") + (f"-cuda{cuda}" if len(opts.toolkits) > 1 else ""))
    for path in report.write_reports(c.reports / folder, info, verdicts):
        log(f"report: {path}")
    return Sm120Result(env_info, info, verdicts, ctx.workdir)


def verify_sm120(given: Sm120Input) -> int:
    """The command: 0 when every variant passed, 1 when one did not."""
    opts = resolve_sm120(given)
    if opts.expect_sources:
        load_manifest(opts.expect_sources)  # a missing or broken set fails now, not after the matrix
    cuobjdump = ensure_tool(opts.common.config.cuobjdump, opts.common.cache, "cuobjdump")
    results = []
    failed = False
    for cuda in opts.toolkits:
        result, failed_here = verify_with(opts, cuda, cuobjdump)
        results.append((cuda, result.verdicts))
        failed = failed or failed_here
    if len(opts.toolkits) > 1:
        table = report.toolkit_table(results)
        print()
        print(table)
        write_text(opts.common.reports / "toolkits.txt", table)
    sys.stdout.flush()
    return 1 if failed else 0


def verify_with(opts: Sm120Options, cuda: str, cuobjdump: Path) -> tuple[Sm120Result, bool]:
    """The whole of verify-sm120 with one toolkit: the matrix, then --save-sources, --expect-sources, --compare."""
    c = opts.common
    suffix = f"-cuda{cuda}" if len(opts.toolkits) > 1 else ""
    tool_env = toolchain_env(c, cuda)
    ours = run_sm120(opts, opts.install, tool_env, cuobjdump, cuda)
    print()
    print(report.terminal_table(ours.info, ours.verdicts))
    failed = not all(v.ok for v in ours.verdicts)
    if opts.save_sources:
        n = save_sources(opts.save_sources, ours.runs_dir, ours.verdicts, ours.env.label, opts.command)
        print(f"saved {n} CUDA sources of {ours.env.label} in {opts.save_sources}")
    if opts.expect_sources:
        matches = compare_sources(opts.expect_sources, ours.runs_dir, ours.verdicts)
        table = matches_table(str(opts.expect_sources), matches)
        print()
        print(table)
        write_text(c.reports / f"sources{suffix}.txt", table)
        failed = failed or not all(m.ok for m in matches)
    if c.compare:
        stock = run_sm120(opts, c.compare, tool_env, cuobjdump, cuda)
        print()
        print(report.terminal_table(stock.info, stock.verdicts))
        print()
        table = report.compare_table(ours.env.label, stock.env.label, ours.verdicts, stock.verdicts)
        print(table)
        write_text(c.reports / f"compare{suffix}.txt", table)
    return ours, failed


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(redact(text) + "\n")


# --- verify-gpu -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    python: Path
    label: str
    extra_path: tuple[str, ...]  # prepended to PYTHONPATH (--site)


def _version_in(python: Path, env: dict[str, str]) -> str:
    res = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('tilelang'))"],
                         capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise KitError(f"no tilelang importable by {python} with PYTHONPATH={env.get('PYTHONPATH', '')}:\n"
                       f"{res.stderr.strip()[-1500:]}")
    return res.stdout.strip()


def find_sanitizer(given: Path | None, requirement: str, env: dict[str, str], cache: Path, log=print) -> str:
    """--sanitizer PATH, else the machine's compute-sanitizer (PATH, then $CUDA_HOME/bin), else the one of the
    pinned PyPI wheel `requirement` (verify.toml), installed once in the kit's `cache`, so that --sanitize needs no
    CUDA toolkit on the machine. Logs which one runs and where it came from."""
    home = env.get("CUDA_HOME") or os.environ.get("CUDA_HOME")
    in_home = Path(home) / "bin" / "compute-sanitizer" if home else None
    if given is not None:
        if not given.is_file() or not os.access(given, os.X_OK):
            raise KitError(f"--sanitizer {given}: no such executable file")
        found, origin = str(given), "--sanitizer"
    elif on_path := shutil.which("compute-sanitizer", path=env.get("PATH", os.environ.get("PATH"))):
        found, origin = on_path, "PATH"
    elif in_home is not None and in_home.is_file():
        found, origin = str(in_home), "$CUDA_HOME/bin"
    else:
        found = str(ensure_tool(requirement, cache, "compute-sanitizer"))
        origin = f"PyPI {requirement}, none on PATH or in $CUDA_HOME/bin"
    log(f"verify-gpu --sanitize: compute-sanitizer {found} (from {origin})")
    return found


def record_sanitizer(runs: list[Run], tool: str, found: dict[Variant, str]) -> None:
    """A sanitizer's finding per launched run; one that passed becomes "hazard" (or "not sanitized" when the
    sanitizer did not get to run it), with the finding as its error."""
    for r in runs:
        r.data[tool] = found[r.variant]
        if found[r.variant] != "clean" and r.status == "ok":
            r.status = "not sanitized" if found[r.variant].startswith("not run") else "hazard"
            r.error = f"compute-sanitizer {tool}: {found[r.variant]}"


def make_subject(opts: GpuOptions, stock: bool, log=print) -> Subject:
    """The environment under test: a --site folder with --python, or a fresh venv (wheel or PyPI)."""
    sites = opts.compare_sites if stock else opts.sites
    c = opts.common
    if sites:
        paths = tuple(map(str, sites))
        version = _version_in(opts.python, {**os.environ, "PYTHONPATH": os.pathsep.join(paths)})
        return Subject(opts.python, f"tilelang {version}" + (" (stock)" if stock else ""), paths)
    install = c.compare if stock else opts.install
    env = create_venv(c.layout.verify_work("verify-gpu") / "venvs" / install.slot,
                      [*install.requirements, c.config.torch], c.fresh_venv, log)
    return Subject(env.python, env.label + (" (stock)" if stock else ""), ())


def run_subject(opts: GpuOptions, subject: Subject, slot: str, tool_env: dict[str, str], device: str,
                log=print) -> tuple[gpu_report.GpuRunInfo, list[Run]]:
    c, g = opts.common, opts.gpu
    work = c.layout.verify_work("verify-gpu") / slot
    env = subject_env(tool_env, subject.extra_path, fresh_work(work))
    ctx = GpuContext(subject.python, c.kernels, opts.cases, env, c.bound, opts.launch_bound, g.dims, g.tolerances,
                     {"warmup": g.warmup, "repeats": g.repeats, "batch": g.batch, "sleep_cycles": g.sleep_cycles},
                     work / "runs", opts.target, source_arch=SOURCE_ARCH if opts.sm120_source else None,
                     edges=g.edges,
                     source_smem_limit=limit_for(SOURCE_ARCH, load_limits(c.layout.smem_limits), c.layout.smem_limits))
    log(f"verify-gpu: {subject.label}: {len(c.variants)} variants, {c.jobs} parallel compiles, then one run at a time")
    start = time.monotonic()
    # found (and fetched from PyPI when the machine has none) before the matrix: a failure comes early
    sanitizer = (find_sanitizer(opts.sanitizer, c.config.compute_sanitizer, env, c.cache, log) if opts.sanitize
                 else None)
    runs = run_gpu_matrix(list(c.variants), ctx, c.jobs, log)
    mode = f"; CUDA source generated for {SOURCE_ARCH}, compiled for this GPU" if opts.sm120_source else ""
    folder = c.reports / "gpu" / folder_name(subject.label + (f"-{SOURCE_ARCH}-source" if opts.sm120_source else ""))

    def write() -> gpu_report.GpuRunInfo:
        info = gpu_report.GpuRunInfo(
            subject.label + mode, device, describe(), round(time.monotonic() - start, 1), ctx.compile_bound,
            ctx.launch_bound, f"device time per launch, median of {g.repeats} CUDA-event timings of {g.batch} "
            f"back-to-back launches queued behind a GPU sleep, after {g.warmup} warm-up launches; dims {g.dims}",
            own_bounds(c.variants))
        for path in gpu_report.write_gpu_reports(folder, info, runs):
            log(f"report: {path}")
        return info

    info = write()
    if sanitizer:  # the runs are reported first: a sanitizer takes many times longer
        launched = [r for r in runs if r.status in ("ok", "wrong")]
        for tool in SANITIZER_TOOLS:
            record_sanitizer(launched, tool, sanitize([r.variant for r in launched], ctx, sanitizer, tool, log))
        info = write()
    return info, runs


def verify_gpu(given: GpuInput) -> int:
    """The command: 0 when every variant passed (or there is no GPU to run on), 1 when one did not. The options are
    resolved after the GPU is found: without one, nothing is checked."""
    found = cuda_devices()
    if not found["devices"]:
        print(f"verify-gpu: no NVIDIA GPU on this machine ({found['error'] or 'the driver reports 0 devices'}): "
              "nothing to run. `nox -s verify-sm120` checks compilation without a GPU; `nox -s doctor` says more.")
        return 0
    opts = resolve_gpu(given)
    first = found["devices"][0]
    device = f"{first['name']} ({first['arch']})"
    tool_env = toolchain_env(opts.common)
    subject = make_subject(opts, stock=False)
    info, runs = run_subject(opts, subject, "subject", tool_env, device)
    print()
    print(gpu_report.terminal_table(info, runs))
    failed = not all(r.status in gpu_report.PASSING for r in runs)
    if opts.common.compare is not None or opts.compare_sites:
        stock = make_subject(opts, stock=True)
        stock_info, stock_runs = run_subject(opts, stock, "stock", tool_env, device)
        print()
        print(gpu_report.terminal_table(stock_info, stock_runs))
        table = gpu_report.compare_table(subject.label, stock.label, runs, stock_runs)
        print()
        print(table)
        write_text(opts.common.reports / "gpu" / "compare.txt", table)
    sys.stdout.flush()
    return 1 if failed else 0
