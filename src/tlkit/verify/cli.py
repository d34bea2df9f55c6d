"""`tlkit verify-sm120`: options, then venv -> matrix -> verdicts -> reports (and --compare)."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import time
from pathlib import Path

from tlkit.errors import KitError
from tlkit.machine import describe
from tlkit.paths import cache_root, kit_root
from tlkit.toolchain import ensure_toolchain, load_toolchain_spec
from tlkit.verify.assess import Verdict, assess
from tlkit.verify.config import VerifyConfig, load_config
from tlkit.verify.report import RunInfo, compare_table, terminal_table, write_reports
from tlkit.verify.runner import RunContext, run_matrix
from tlkit.verify.saved_sources import compare_sources, load_manifest, matches_table, save_sources
from tlkit.verify.smem import load_limits
from tlkit.verify.variants import Variant, load_variants
from tlkit.verify.venv import VerifyEnv, create_venv, ensure_tool


def add_verify_parser(sub) -> None:
    p = sub.add_parser("verify-sm120", help="compile every model kernel variant for sm_120/sm_120a, bounded")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--wheel", type=Path, help="wheel to verify (default: the newest in dist/)")
    what.add_argument("--pypi", metavar="VERSION", help="verify the stock PyPI wheel of this TileLang version")
    p.add_argument("--compare", action="store_true", help="also run the stock PyPI wheel of the same version")
    p.add_argument("--kernels", type=Path,
                   help="kernel module (default: verify/kernels.py), e.g. the model's kernel.py")
    p.add_argument("--variants", type=Path, help="variant table (default: verify/variants.toml)")
    p.add_argument("--targets", help="comma-separated CUDA archs (default: sm_120,sm_120a)")
    p.add_argument("--world-sizes", help="model-parallel world sizes to cover (default: the table's, 1,2,4,8)")
    p.add_argument("--only", metavar="REGEX", help="verify only the variants whose name matches")
    p.add_argument("--bound", type=float, help="hard wall-clock bound per compile, seconds (default 300)")
    p.add_argument("--jobs", type=int, help="parallel workers (default: number of cores)")
    p.add_argument("--cuda", default="13.2", help="CUDA toolkit from PyPI that compiles (default 13.2)")
    p.add_argument("--reports", type=Path, help="report folder (default: <kit>/reports)")
    p.add_argument("--fresh-venv", action="store_true", help="recreate the verify venv even if one matches")
    p.add_argument("--save-sources", type=Path, metavar="DIR",
                   help="keep every generated CUDA source in DIR, with a manifest (how the test data is made)")
    p.add_argument("--expect-sources", type=Path, metavar="DIR",
                   help="fail unless every variant's CUDA source equals the one saved in DIR")
    p.set_defaults(func=cmd_verify)


def newest_wheel(dist: Path) -> Path:
    wheels = sorted(dist.glob("tilelang-*.whl"), key=lambda p: p.stat().st_mtime)
    if not wheels:
        raise KitError(f"no tilelang wheel in {dist}: run `nox -s build-wheel`, or pass --wheel PATH / --pypi VERSION")
    return wheels[-1]


def subject_install(args: argparse.Namespace, config: VerifyConfig, kit: Path) -> tuple[str, list[str], str]:
    """(slot name, pip requirements for the wheel under test, base TileLang version)."""
    if args.pypi:
        pins = config.stock_pins.get(args.pypi)
        if pins is None:
            raise KitError(f"no known-good runtime pins for stock tilelang {args.pypi} in verify/verify.toml "
                           f"[stock_pins]; known: {', '.join(config.stock_pins)}")
        return f"pypi-{args.pypi}", [f"tilelang=={args.pypi}", *pins], args.pypi
    wheel = (args.wheel or newest_wheel(kit / "dist")).resolve()
    if not wheel.is_file():
        raise KitError(f"--wheel {wheel}: no such file")
    version = wheel.name.split("-")[1]
    return "wheel", [str(wheel)], version.split("+")[0]


def run_one(slot: str, install: list[str], args, config: VerifyConfig, kit: Path, variants: list[Variant],
            targets: list[str], ctx_base: dict, log=print) -> tuple[VerifyEnv, RunInfo, list[Verdict], Path]:
    """Set up the venv, run the matrix, write the reports; also returns the run folder (logs, sources)."""
    work = kit / "build" / "verify" / slot
    env_info = create_venv(kit / "build" / "verify" / "venvs" / slot, [*install, config.torch], args.fresh_venv, log)
    cache = work / "kernel-cache"
    shutil.rmtree(cache, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TILELANG_")}
    env.update(ctx_base["env"])
    env["TILELANG_CACHE_DIR"] = str(cache)
    shutil.rmtree(work / "runs", ignore_errors=True)
    ctx = RunContext(env_info.python, ctx_base["module"], ctx_base["cuobjdump"], env, ctx_base["bound"], work / "runs")
    limits_path = kit / "verify" / "shared-memory-limits.toml"
    limits = load_limits(limits_path)
    jobs = ctx_base["jobs"]

    def progress(run, i, n):
        log(f"[{i}/{n}] {run.status:<13} {run.variant.name} {run.target} {run.seconds:.1f} s")

    log(f"verify: {env_info.label}: {len(variants)} variants x {len(targets)} targets, {jobs} jobs, "
        f"bound {ctx.bound:g} s per compile")
    start = time.monotonic()
    runs = run_matrix(variants, targets, ctx, jobs, progress)
    wall = time.monotonic() - start
    verdicts = [assess(r, limits, limits_path) for r in runs]
    info = RunInfo(env_info.label, tuple(targets), ctx.bound, jobs, round(wall, 1), round(env_info.seconds, 1),
                   describe())
    folder = (args.reports or kit / "reports") / re.sub(r"[^A-Za-z0-9.+_-]", "_", env_info.label.replace(" ", "-"))
    for path in write_reports(folder, info, verdicts):
        log(f"report: {path}")
    return env_info, info, verdicts, ctx.workdir


def select_variants(args: argparse.Namespace, kit: Path) -> list[Variant]:
    """The variant table (--variants), over --world-sizes, narrowed by --only."""
    sizes = [int(x) for x in args.world_sizes.split(",")] if args.world_sizes else None
    variants = load_variants(args.variants or kit / "verify" / "variants.toml", sizes)
    if args.only:
        variants = [v for v in variants if re.search(args.only, v.name)]
        if not variants:
            raise KitError(f"--only {args.only!r} matches no variant")
    return variants


def cmd_verify(args: argparse.Namespace) -> int:
    kit = kit_root()
    config = load_config(kit / "verify" / "verify.toml")
    targets = args.targets.split(",") if args.targets else list(config.targets)
    variants = select_variants(args, kit)
    if args.expect_sources:
        load_manifest(args.expect_sources)  # a missing or broken set fails now, not after the matrix
    module = (args.kernels or kit / "verify" / "kernels.py").resolve()
    if not module.is_file():
        raise KitError(f"--kernels {module}: no such file")
    cache = cache_root()
    toolchain = ensure_toolchain(load_toolchain_spec(kit / "recipes" / "cuda-toolchains.toml", args.cuda), cache)
    cuobjdump = ensure_tool(config.cuobjdump, cache, "cuobjdump")
    ctx_base = {
        "module": module, "cuobjdump": cuobjdump, "bound": float(args.bound or config.bound_seconds),
        "jobs": args.jobs or len(os.sched_getaffinity(0)),
        "env": {"CUDA_HOME": str(toolchain.root), "PATH": f"{toolchain.root / 'bin'}{os.pathsep}{os.environ['PATH']}",
                "PYTHONUNBUFFERED": "1"},
    }
    slot, install, base_version = subject_install(args, config, kit)
    reports = args.reports or kit / "reports"
    env_info, info, verdicts, runs_dir = run_one(slot, install, args, config, kit, variants, targets, ctx_base)
    print()
    print(terminal_table(info, verdicts))
    failed = not all(v.ok for v in verdicts)
    if args.save_sources:
        command = "python -m tlkit " + " ".join(sys.argv[1:])
        n = save_sources(args.save_sources, runs_dir, verdicts, env_info.label, command)
        print(f"saved {n} CUDA sources of {env_info.label} in {args.save_sources}")
    if args.expect_sources:
        matches = compare_sources(args.expect_sources, runs_dir, verdicts)
        table = matches_table(str(args.expect_sources), matches)
        print()
        print(table)
        reports.mkdir(parents=True, exist_ok=True)
        (reports / "sources.txt").write_text(table + "\n")
        failed = failed or not all(m.ok for m in matches)
    if args.compare:
        pins = config.stock_pins.get(base_version)
        if pins is None:
            raise KitError(f"--compare: no known-good pins for stock tilelang {base_version} in verify/verify.toml")
        stock_env, stock_info, stock, _ = run_one(f"pypi-{base_version}", [f"tilelang=={base_version}", *pins], args,
                                               config, kit, variants, targets, ctx_base)
        print()
        print(terminal_table(stock_info, stock))
        print()
        table = compare_table(env_info.label, stock_env.label, verdicts, stock)
        print(table)
        reports.mkdir(parents=True, exist_ok=True)
        (reports / "compare.txt").write_text(table + "\n")
    sys.stdout.flush()
    return 1 if failed else 0
