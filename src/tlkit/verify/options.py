"""The options of `verify-sm120` and `verify-gpu`: parsed, then resolved once (defaults from the tables and the
recipe, paths from the kit's layout) into one frozen object per command that the tiers read."""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from tlkit.base.errors import KitError
from tlkit.base.paths import KitLayout
from tlkit.verify.config import GpuConfig, VerifyConfig, load_config, load_gpu_config
from tlkit.verify.variants import Variant, load_variants
from tlkit.wheel.recipe import load_recipe
from tlkit.wheel.toolchain import choose_toolkits, load_toolchains

SOURCE_ARCH = "sm_120a"  # verify-gpu --sm120-source runs the source generated for this arch


@dataclass(frozen=True)
class Install:
    """What goes into a verify venv besides torch: the slot it lives in, pip requirements, base version."""

    slot: str
    requirements: tuple[str, ...]
    base_version: str


@dataclass(frozen=True)
class Common:
    """What both commands resolve alike."""

    layout: KitLayout
    config: VerifyConfig
    variants: tuple[Variant, ...]
    kernels: Path
    cuda: str  # a PyPI toolchain version from recipes/cuda-toolchains.toml, or "system" (verify-gpu)
    bound: float  # per compile, seconds
    jobs: int
    reports: Path
    fresh_venv: bool
    compare: bool


@dataclass(frozen=True)
class Sm120Options:
    common: Common  # common.cuda: the first of `toolkits`
    install: Install
    toolkits: tuple[str, ...]  # --cuda: each compiles the whole matrix in turn
    targets: tuple[str, ...]
    save_sources: Path | None
    expect_sources: Path | None
    command: str  # as typed, for the saved sources' manifest


@dataclass(frozen=True)
class GpuOptions:
    common: Common
    gpu: GpuConfig
    install: Install | None  # None with --site
    sites: tuple[Path, ...]
    compare_sites: tuple[Path, ...]
    python: Path  # the interpreter for --site
    cases: Path | None  # --cases; None: the kit's own (tlkit.verify.subject.gpu_cases)
    target: str
    launch_bound: float
    sm120_source: bool
    sanitize: bool
    sanitizer: Path | None


def _common_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kernels", type=Path,
                   help="kernel module (default: verify/kernels.py), e.g. the model's kernel.py")
    p.add_argument("--variants", type=Path, help="variant table (default: verify/variants.toml)")
    p.add_argument("--world-sizes", help="model-parallel world sizes to cover (default: the table's, 1,2,4,8)")
    p.add_argument("--only", metavar="REGEX", help="verify only the variants whose name matches")
    p.add_argument("--jobs", type=int, help="parallel compiles (default: number of cores)")
    p.add_argument("--reports", type=Path, help="report folder (default: <kit>/reports)")
    p.add_argument("--fresh-venv", action="store_true", help="recreate the venv even if one matches")
    p.add_argument("--compare", action="store_true", help="also run the stock PyPI wheel of the same version")


def add_sm120_arguments(p: argparse.ArgumentParser) -> None:
    what = p.add_mutually_exclusive_group()
    what.add_argument("--wheel", type=Path, help="wheel to verify (default: the newest in dist/)")
    what.add_argument("--pypi", metavar="VERSION", help="verify the stock PyPI wheel of this TileLang version")
    _common_arguments(p)
    p.add_argument("--targets", help="comma-separated CUDA archs (default: verify.toml: sm_120,sm_120a,sm_121,sm_121a)")
    p.add_argument("--bound", type=float, help="hard wall-clock bound per compile, seconds (default 300)")
    p.add_argument("--cuda", help="CUDA toolkit from PyPI that compiles (default: the recipe's); a comma list "
                                  "(13.3,13.5) or 'all' (every row of recipes/cuda-toolchains.toml) runs the "
                                  "matrix with each in turn and reports per toolkit")
    p.add_argument("--save-sources", type=Path, metavar="DIR",
                   help="keep every generated CUDA source in DIR, with a manifest (how the test data is made)")
    p.add_argument("--expect-sources", type=Path, metavar="DIR",
                   help="fail unless every variant's CUDA source equals the one saved in DIR")


def add_gpu_arguments(p: argparse.ArgumentParser) -> None:
    what = p.add_mutually_exclusive_group()
    what.add_argument("--wheel", type=Path, help="wheel to verify in a fresh venv (default: the newest in dist/)")
    what.add_argument("--pypi", metavar="VERSION", help="verify the stock PyPI wheel of this TileLang version")
    what.add_argument("--site", metavar="DIR", action="append",
                      help="verify the TileLang importable from DIR (a `pip install --target` folder; repeatable) "
                           "with --python, instead of a fresh venv: for machines without a package index")
    p.add_argument("--python", type=Path, help="interpreter for --site (default: this one)")
    p.add_argument("--compare-site", metavar="DIR", action="append",
                   help="with --site: the stock wheel's folder to compare with (repeatable)")
    _common_arguments(p)
    p.add_argument("--cases", type=Path, help="inputs and references (default: tlkit.verify.subject.gpu_cases)")
    p.add_argument("--target", default="auto", help="TileLang target (default: auto, the GPU present)")
    p.add_argument("--cuda", help="PyPI CUDA toolkit that compiles (default: the recipe's); 'system' keeps the "
                                  "nvcc on PATH/CUDA_HOME")
    p.add_argument("--bound", type=float, help="wall-clock bound per compile, s (default: verify/gpu.toml)")
    p.add_argument("--launch-bound", type=float, help="bound per launch + synchronisation, s (default: gpu.toml)")
    p.add_argument("--sm120-source", action="store_true",
                   help="run the CUDA source TileLang generates for sm_120a (compiled for the GPU present, with "
                        "sm_120's shared-memory limit applied; Blackwell-only packed helpers run as their scalar "
                        "fallbacks, and the report names them)")
    p.add_argument("--sanitize", action="store_true",
                   help="also launch each variant once under compute-sanitizer racecheck and synccheck; a hazard "
                        "fails the run")
    p.add_argument("--sanitizer", type=Path, help="compute-sanitizer to use (default: on PATH, then $CUDA_HOME/bin, "
                                                  "then the PyPI wheel pinned in verify.toml)")


def newest_wheel(dist: Path) -> Path:
    wheels = sorted(dist.glob("tilelang-*.whl"), key=lambda p: p.stat().st_mtime)
    if not wheels:
        raise KitError(f"no tilelang wheel in {dist}: run `nox -s build-wheel`, or pass --wheel PATH / --pypi VERSION")
    return wheels[-1]


def stock_install(config: VerifyConfig, version: str, why: str) -> Install:
    """The stock PyPI wheel of `version` with the runtime pins that make it import."""
    pins = config.stock_pins.get(version)
    if pins is None:
        raise KitError(f"{why}: no known-good runtime pins for stock tilelang {version} in verify/verify.toml "
                       f"[stock_pins]; known: {', '.join(config.stock_pins)}")
    return Install(f"pypi-{version}", (f"tilelang=={version}", *pins), version)


def subject_install(args: argparse.Namespace, config: VerifyConfig, layout: KitLayout) -> Install:
    """--pypi VERSION, --wheel PATH, or the newest wheel in dist/."""
    if args.pypi:
        return stock_install(config, args.pypi, f"--pypi {args.pypi}")
    wheel = (args.wheel or newest_wheel(layout.dist)).resolve()
    if not wheel.is_file():
        raise KitError(f"--wheel {wheel}: no such file")
    version = wheel.name.split("-")[1]
    return Install("wheel", (str(wheel),), version.split("+")[0])


def select_variants(args: argparse.Namespace, layout: KitLayout) -> tuple[Variant, ...]:
    """The variant table (--variants), over --world-sizes, narrowed by --only."""
    sizes = None
    if args.world_sizes:
        words = args.world_sizes.split(",")
        if not all(w.strip().isdigit() and int(w) > 0 for w in words):
            raise KitError(f"--world-sizes {args.world_sizes!r}: comma-separated whole numbers above 0 (1,2,4,8)")
        sizes = [int(w) for w in words]
    variants = load_variants(args.variants or layout.variants, sizes)
    if args.only:
        try:
            only = re.compile(args.only)
        except re.error as exc:
            raise KitError(f"--only {args.only!r}: not a regular expression ({exc})") from None
        variants = [v for v in variants if only.search(v.name)]
        if not variants:
            raise KitError(f"--only {args.only!r} matches no variant")
    return tuple(variants)


def seconds(option: str, given: float | None, default: float) -> float:
    """A bound: `given` on the command line, else `default`; a finite number of seconds above 0 (0 is no bound)."""
    if given is None:
        return float(default)
    if not math.isfinite(given) or given <= 0:
        raise KitError(f"{option} {given:g}: a bound must be a finite number of seconds above 0")
    return given


def job_count(given: int | None) -> int:
    """--jobs: parallel compiles, at least 1; default the cores this process may use."""
    if given is None:
        return len(os.sched_getaffinity(0))
    if given < 1:
        raise KitError(f"--jobs {given}: the number of parallel compiles must be at least 1")
    return given


def _common(args: argparse.Namespace, layout: KitLayout, config: VerifyConfig, bound: float,
            cuda: str | None = None) -> Common:
    kernels = (args.kernels or layout.kernels).resolve()
    if not kernels.is_file():
        raise KitError(f"--kernels {kernels}: no such file")
    try:  # once here, not once per variant in every worker, where it reads as a worker crash
        compile(kernels.read_bytes(), str(kernels), "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise KitError(f"--kernels {exc.filename}:{exc.lineno}: {exc.msg}") from None
    return Common(layout, config, select_variants(args, layout), kernels,
                  cuda or args.cuda or load_recipe(layout.default_recipe).cuda_default,
                  seconds("--bound", args.bound, bound),
                  job_count(args.jobs), args.reports or layout.reports, args.fresh_venv,
                  args.compare)


def resolve_sm120(args: argparse.Namespace) -> Sm120Options:
    layout = KitLayout.find()
    config = load_config(layout.verify_toml)
    # Any toolkit of the table, not only those the recipe builds with: this check decides what it may support.
    toolkits = choose_toolkits(args.cuda, list(load_toolchains(layout.toolchains)),
                               load_recipe(layout.default_recipe).cuda_default)
    if args.save_sources and len(toolkits) > 1:
        raise KitError(f"--save-sources keeps one set of sources: give one toolkit, not --cuda {args.cuda}")
    common = _common(args, layout, config, config.bound_seconds, toolkits[0])
    targets = tuple(args.targets.split(",")) if args.targets else config.targets
    unknown = [t for t in targets if t not in config.known_targets]
    if unknown:
        raise KitError(f"--targets {unknown[0]}: not a CUDA architecture this kit compiles for "
                       f"(known, {layout.verify_toml}: {', '.join(config.known_targets)})")
    return Sm120Options(common, subject_install(args, config, layout), toolkits, targets, args.save_sources,
                        args.expect_sources, "python -m tlkit " + " ".join(sys.argv[1:]))


def resolve_gpu(args: argparse.Namespace) -> GpuOptions:
    if args.compare_site and not args.site:
        raise KitError("--compare-site goes with --site (use --compare for the stock PyPI wheel in a venv)")
    layout = KitLayout.find()
    config = load_config(layout.verify_toml)
    gpu = load_gpu_config(layout.gpu_toml)
    common = _common(args, layout, config, gpu.compile_seconds)
    sites = tuple(Path(s).resolve() for s in args.site or ())
    install = None if sites else subject_install(args, config, layout)
    python = Path(shutil.which(str(args.python)) or args.python) if args.python else Path(sys.executable)
    return GpuOptions(common, gpu, install, sites, tuple(Path(s).resolve() for s in args.compare_site or ()),
                      python.absolute(), args.cases.resolve() if args.cases else None, args.target,
                      seconds("--launch-bound", args.launch_bound, gpu.launch_seconds), args.sm120_source,
                      args.sanitize, args.sanitizer)
