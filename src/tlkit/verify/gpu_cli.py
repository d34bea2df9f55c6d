"""`tlkit verify-gpu`: options, then environment -> compile all -> run each under the watchdog -> reports
(and --compare against the stock wheel). Without a GPU it says so and exits 0."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tlkit.errors import KitError
from tlkit.machine import describe
from tlkit.paths import cache_root, kit_root
from tlkit.probe import cuda_devices
from tlkit.toolchain import ensure_toolchain, load_toolchain_spec
from tlkit.verify.cli import select_variants, subject_install
from tlkit.verify.config import load_config
from tlkit.verify.gpu_config import GpuConfig, load_gpu_config
from tlkit.verify.gpu_report import PASSING, GpuRunInfo, compare_table, terminal_table, write_gpu_reports
from tlkit.verify.gpu_runner import SANITIZER_TOOLS, GpuContext, GpuRun, run_gpu_matrix, sanitize
from tlkit.verify.smem import limit_for, load_limits
from tlkit.verify.venv import create_venv


@dataclass(frozen=True)
class Subject:
    python: Path
    label: str
    extra_path: tuple[str, ...]  # prepended to PYTHONPATH (--site)


def add_gpu_parser(sub) -> None:
    p = sub.add_parser("verify-gpu", help="run every model kernel variant on the GPU present, against PyTorch")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--wheel", type=Path, help="wheel to verify in a fresh venv (default: the newest in dist/)")
    what.add_argument("--pypi", metavar="VERSION", help="verify the stock PyPI wheel of this TileLang version")
    what.add_argument("--site", metavar="DIR", action="append",
                      help="verify the TileLang importable from DIR (a `pip install --target` folder; repeatable) "
                           "with --python, instead of a fresh venv: for machines without a package index")
    p.add_argument("--python", type=Path, help="interpreter for --site (default: this one)")
    p.add_argument("--compare", action="store_true", help="also run the stock PyPI wheel of the same version")
    p.add_argument("--compare-site", metavar="DIR", action="append",
                   help="with --site: the stock wheel's folder to compare with (repeatable)")
    p.add_argument("--kernels", type=Path, help="kernel module (default: verify/kernels.py)")
    p.add_argument("--cases", type=Path, help="inputs and references (default: verify/gpu_cases.py)")
    p.add_argument("--variants", type=Path, help="variant table (default: verify/variants.toml)")
    p.add_argument("--world-sizes", help="model-parallel world sizes to cover (default: the table's)")
    p.add_argument("--only", metavar="REGEX", help="only the variants whose name matches")
    p.add_argument("--target", default="auto", help="TileLang target (default: auto, the GPU present)")
    p.add_argument("--cuda", default="13.2",
                   help="PyPI CUDA toolkit that compiles (default 13.2); 'system' keeps the nvcc on PATH/CUDA_HOME")
    p.add_argument("--bound", type=float, help="wall-clock bound per compile, s (default: verify/gpu.toml)")
    p.add_argument("--launch-bound", type=float, help="bound per launch + synchronisation, s (default: gpu.toml)")
    p.add_argument("--jobs", type=int, help="parallel compiles (default: number of cores)")
    p.add_argument("--reports", type=Path, help="report folder (default: <kit>/reports)")
    p.add_argument("--fresh-venv", action="store_true", help="recreate the venv even if one matches")
    p.add_argument("--sm120-source", action="store_true",
                   help="run the CUDA source TileLang generates for sm_120a (compiled for the GPU present, with "
                        "sm_120's shared-memory limit applied; Blackwell-only packed helpers run as their scalar "
                        "fallbacks, and the report names them)")
    p.add_argument("--sanitize", action="store_true",
                   help="also launch each variant once under compute-sanitizer racecheck and synccheck; a hazard "
                        "fails the run")
    p.add_argument("--sanitizer", type=Path, help="compute-sanitizer to use (default: on PATH, then $CUDA_HOME/bin)")
    p.set_defaults(func=cmd_verify_gpu)


def _version_in(python: Path, env: dict[str, str]) -> str:
    res = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('tilelang'))"],
                         capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise KitError(f"no tilelang importable by {python} with PYTHONPATH={env.get('PYTHONPATH', '')}:\n"
                       f"{res.stderr.strip()[-1500:]}")
    return res.stdout.strip()


def _env(base: dict[str, str], extra_path: tuple[str, ...], cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TILELANG_")}
    env.update(base)
    if extra_path:
        env["PYTHONPATH"] = os.pathsep.join([*extra_path, *filter(None, [os.environ.get("PYTHONPATH")])])
    env["TILELANG_CACHE_DIR"] = str(cache)
    env["PYTHONUNBUFFERED"] = "1"
    return env


SOURCE_ARCH = "sm_120a"


def find_sanitizer(args, env: dict[str, str]) -> str:
    if args.sanitizer:
        return str(args.sanitizer)
    found = shutil.which("compute-sanitizer", path=env.get("PATH", os.environ.get("PATH")))
    home = env.get("CUDA_HOME") or os.environ.get("CUDA_HOME")
    if not found and home and (Path(home) / "bin" / "compute-sanitizer").is_file():
        found = str(Path(home) / "bin" / "compute-sanitizer")
    if not found:
        raise KitError("--sanitize: no compute-sanitizer on PATH or in $CUDA_HOME/bin; name one with --sanitizer "
                       "(it ships with the CUDA toolkit and in the PyPI wheel nvidia-cuda-sanitizer-api)")
    return found


def run_subject(subject: Subject, slot: str, args, gcfg: GpuConfig, kit: Path, variants, base_env, device: str,
                log=print) -> tuple[GpuRunInfo, list[GpuRun]]:
    work = kit / "build" / "verify-gpu" / slot
    cache = work / "kernel-cache"
    subprocess.run(["rm", "-rf", str(cache), str(work / "runs")], check=False)
    env = _env(base_env, subject.extra_path, cache)
    limits = kit / "verify" / "shared-memory-limits.toml"
    ctx = GpuContext(subject.python, (args.kernels or kit / "verify" / "kernels.py").resolve(),
                     (args.cases or kit / "verify" / "gpu_cases.py").resolve(), env,
                     float(args.bound or gcfg.compile_seconds), float(args.launch_bound or gcfg.launch_seconds),
                     gcfg.dims, gcfg.tolerances,
                     {"warmup": gcfg.warmup, "repeats": gcfg.repeats, "batch": gcfg.batch,
                      "sleep_cycles": gcfg.sleep_cycles}, work / "runs", args.target,
                     source_arch=SOURCE_ARCH if args.sm120_source else None, edges=gcfg.edges,
                     source_smem_limit=limit_for(SOURCE_ARCH, load_limits(limits), limits))
    jobs = args.jobs or len(os.sched_getaffinity(0))
    log(f"verify-gpu: {subject.label}: {len(variants)} variants, {jobs} parallel compiles, then one run at a time")
    start = time.monotonic()
    sanitizer = find_sanitizer(args, env) if args.sanitize else None  # before the matrix: fail early
    runs = run_gpu_matrix(variants, ctx, jobs, log)
    mode = f"; CUDA source generated for {SOURCE_ARCH}, compiled for this GPU" if args.sm120_source else ""
    folder = (args.reports or kit / "reports") / "gpu" / re.sub(
        r"[^A-Za-z0-9._-]", "_", subject.label + (f"-{SOURCE_ARCH}-source" if args.sm120_source else ""))

    def report() -> GpuRunInfo:
        info = GpuRunInfo(subject.label + mode, device, describe(),
                          round(time.monotonic() - start, 1), ctx.compile_bound, ctx.launch_bound,
                          f"device time per launch, median of {gcfg.repeats} CUDA-event timings of {gcfg.batch} "
                          f"back-to-back launches queued behind a GPU sleep, after {gcfg.warmup} warm-up launches; "
                          f"dims {gcfg.dims}")
        for path in write_gpu_reports(folder, info, runs):
            log(f"report: {path}")
        return info

    info = report()
    if sanitizer:  # the runs are reported first: a sanitizer takes many times longer
        launched = [r for r in runs if r.status in ("ok", "wrong")]
        for tool in SANITIZER_TOOLS:
            found = sanitize([r.variant for r in launched], ctx, sanitizer, tool, log)
            for r in launched:
                r.data[tool] = found[r.variant]
                if found[r.variant] != "clean" and r.status == "ok":
                    not_run = found[r.variant].startswith("not run")
                    r.status = "not sanitized" if not_run else "hazard"
                    r.error = f"compute-sanitizer {tool}: {found[r.variant]}"
        info = report()
    return info, runs


def make_subject(args, kit: Path, stock: bool, log=print) -> Subject:
    """The environment under test: a --site folder with --python, or a fresh venv (wheel or PyPI)."""
    config = load_config(kit / "verify" / "verify.toml")
    sites = args.compare_site if stock else args.site
    if sites:
        python = Path(shutil.which(str(args.python)) or args.python if args.python else sys.executable).absolute()
        paths = tuple(str(Path(s).resolve()) for s in sites)
        version = _version_in(python, {**os.environ, "PYTHONPATH": os.pathsep.join(paths)})
        return Subject(python, f"tilelang {version}" + (" (stock)" if stock else ""), paths)
    if stock:
        base = subject_install(args, config, kit)[2]
        pins = config.stock_pins.get(base)
        if pins is None:
            raise KitError(f"--compare: no known-good pins for stock tilelang {base} in verify/verify.toml")
        slot, install = f"pypi-{base}", [f"tilelang=={base}", *pins]
    else:
        slot, install, _ = subject_install(args, config, kit)
    env = create_venv(kit / "build" / "verify-gpu" / "venvs" / slot, [*install, config.torch], args.fresh_venv, log)
    return Subject(env.python, env.label + (" (stock)" if stock else ""), ())


def cmd_verify_gpu(args: argparse.Namespace) -> int:
    found = cuda_devices()
    if not found["devices"]:
        print(f"verify-gpu: no NVIDIA GPU on this machine ({found['error'] or 'the driver reports 0 devices'}): "
              "nothing to run. `nox -s verify-sm120` checks compilation without a GPU; `nox -s doctor` says more.")
        return 0
    if args.compare_site and not args.site:
        raise KitError("--compare-site goes with --site (use --compare for the stock PyPI wheel in a venv)")
    first = found["devices"][0]
    device = f"{first['name']} ({first['arch']})"
    kit = kit_root()
    gcfg = load_gpu_config(kit / "verify" / "gpu.toml")
    variants = select_variants(args, kit)
    base_env: dict[str, str] = {}
    if args.cuda != "system":
        toolchain = ensure_toolchain(load_toolchain_spec(kit / "recipes" / "cuda-toolchains.toml", args.cuda),
                                     cache_root())
        base_env = {"CUDA_HOME": str(toolchain.root),
                    "PATH": f"{toolchain.root / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    subject = make_subject(args, kit, stock=False)
    info, runs = run_subject(subject, "subject", args, gcfg, kit, variants, base_env, device)
    print()
    print(terminal_table(info, runs))
    failed = not all(r.status in PASSING for r in runs)
    if args.compare or args.compare_site:
        stock = make_subject(args, kit, stock=True)
        stock_info, stock_runs = run_subject(stock, "stock", args, gcfg, kit, variants, base_env, device)
        print()
        print(terminal_table(stock_info, stock_runs))
        table = compare_table(subject.label, stock.label, runs, stock_runs)
        print()
        print(table)
        folder = (args.reports or kit / "reports") / "gpu"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "compare.txt").write_text(table + "\n")
    sys.stdout.flush()
    return 1 if failed else 0
