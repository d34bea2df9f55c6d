"""The options of `verify-sm120` and `verify-gpu`: what the caller said (Sm120Input, GpuInput: the command line,
built by tlkit/cli.py, or a caller's own values), resolved once (defaults from the tables and the recipe, paths
from the kit's layout, the kit and the cache from the environment) into one frozen object per command that the
tiers read."""

from __future__ import annotations

import dataclasses
import math
import os
import re
import shlex
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tlkit.base.errors import KitError
from tlkit.base.paths import KitLayout, cache_root, kit_root
from tlkit.verify.config import GpuConfig, VerifyConfig, load_config, load_gpu_config
from tlkit.verify.variants import MAX_BOUND_SECONDS, Variant, load_variants
from tlkit.wheel.cross.arch import host_machine
from tlkit.wheel.recipe import load_recipe
from tlkit.wheel.toolchain import choose_toolkits, load_toolchains
from tlkit.wheel.wheelfile import runs_on

SOURCE_ARCH = "sm_120a"  # verify-gpu --sm120-source runs the source generated for this arch


# What a bare --compare says: the stock wheel of the subject's own version ("" is a value typed, and refused).
SUBJECTS_OWN = "(own version)"


@dataclass(frozen=True)
class Install:
    """What goes into a verify venv besides torch: the slot it lives in, pip requirements, base version."""

    slot: str
    requirements: tuple[str, ...]
    base_version: str


@dataclass(frozen=True, kw_only=True)
class VerifyInput:
    """What was said to either command, as said (a comma list as typed, for the error line that quotes it);
    None, or False for a switch: not given."""

    wheel: Path | None = None
    pypi: str | None = None  # a version: over --wheel
    kernels: Path | None = None
    variants: Path | None = None
    world_sizes: str | None = None
    only: str | None = None
    jobs: int | None = None
    reports: Path | None = None
    fresh_venv: bool = False
    compare: str | None = None  # a version, or SUBJECTS_OWN (a bare --compare)
    cuda: str | None = None
    bound: float | None = None


@dataclass(frozen=True, kw_only=True)
class Sm120Input(VerifyInput):
    targets: str | None = None
    save_sources: Path | None = None
    expect_sources: Path | None = None
    command: str = "python -m tlkit verify-sm120"  # what the report says was run; cli.py gives the real line


@dataclass(frozen=True, kw_only=True)
class GpuInput(VerifyInput):
    sites: tuple[Path, ...] = ()  # over --wheel and --pypi
    python: Path | None = None
    compare_sites: tuple[Path, ...] = ()
    cases: Path | None = None
    target: str | None = None
    launch_bound: float | None = None
    sm120_source: bool = False
    sanitize: bool = False
    sanitizer: Path | None = None


@dataclass(frozen=True)
class Common:
    """What both commands resolve alike."""

    layout: KitLayout
    cache: Path  # the kit's cache: toolchains and tools
    config: VerifyConfig
    variants: tuple[Variant, ...]
    kernels: Path
    cuda: str  # a PyPI toolchain version from recipes/cuda-toolchains.toml, or "system" (verify-gpu)
    bound: float  # per compile, seconds
    jobs: int
    reports: Path
    fresh_venv: bool
    compare: Install | None  # --compare: the stock PyPI wheel to run beside the subject


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


def newest_wheel(dist: Path) -> Path:
    """The newest TileLang wheel in dist/ for this machine (an aarch64 one beside it is for another)."""
    wheels = sorted((w for w in dist.glob("tilelang-*.whl") if runs_on(w.name, host_machine())),
                    key=lambda p: p.stat().st_mtime)
    if not wheels:
        raise KitError(f"no tilelang wheel for {host_machine()} in {dist}: run `nox -s build-wheel`, or pass "
                       "--wheel PATH / --pypi VERSION")
    return wheels[-1]


def stock_install(config: VerifyConfig, version: str, why: str) -> Install:
    """The stock PyPI wheel of `version` with the runtime pins that make it import."""
    pins = config.stock_pins.get(version)
    if pins is None:
        raise KitError(f"{why}: no known-good runtime pins for stock tilelang {version} in verify/verify.toml "
                       f"[stock_pins]; known: {', '.join(config.stock_pins)}")
    return Install(f"pypi-{version}", (f"tilelang=={version}", *pins), version)


def compare_install(given: VerifyInput, config: VerifyConfig, subject: Install | None) -> Install | None:
    """--compare [VERSION]: the stock PyPI wheel of VERSION, else of the subject's own version; its pins checked
    here, not after the subject's matrix has run."""
    if given.compare is None:
        return None
    own = given.compare == SUBJECTS_OWN
    version = (subject.base_version if subject else "") if own else given.compare
    if own and not version:
        raise KitError("--compare with --site: name the stock version (--compare VERSION) or give --compare-site")
    if not re.fullmatch(r"\d+(\.\d+)+", version):
        raise KitError(f"--compare {shlex.quote(version)}: not a TileLang release (e.g. 0.1.14)")
    if given.pypi == version and not own:
        raise KitError(f"--compare {version}: the subject is that release already (--pypi {version})")
    return stock_install(config, version, f"--compare {version}")


def subject_install(given: VerifyInput, config: VerifyConfig, layout: KitLayout) -> Install:
    """--pypi VERSION, --wheel PATH, or the newest wheel in dist/."""
    if given.pypi:
        return stock_install(config, given.pypi, f"--pypi {given.pypi}")
    wheel = (given.wheel or newest_wheel(layout.dist)).resolve()
    if not wheel.is_file():
        raise KitError(f"--wheel {wheel}: no such file")
    version = wheel.name.split("-")[1]
    return Install("wheel", (str(wheel),), version.split("+")[0])


def select_variants(given: VerifyInput, layout: KitLayout) -> tuple[Variant, ...]:
    """The variant table (--variants), over --world-sizes, narrowed by --only."""
    sizes = None
    if given.world_sizes:
        words = given.world_sizes.split(",")
        if not all(w.strip().isdigit() and int(w) > 0 for w in words):
            raise KitError(f"--world-sizes {given.world_sizes!r}: comma-separated whole numbers above 0 (1,2,4,8)")
        sizes = [int(w) for w in words]
    variants = load_variants(given.variants or layout.variants, sizes)
    return tuple(matching(variants, given.only)) if given.only else tuple(variants)


def matching(variants: list[Variant], only: str) -> list[Variant]:
    """The variants whose name `only` (--only, a regular expression) finds; none is one line."""
    try:
        pattern = re.compile(only)
    except re.error as exc:
        raise KitError(f"--only {only!r}: not a regular expression ({exc})") from None
    found = [v for v in variants if pattern.search(v.name)]
    if not found:
        raise KitError(f"--only {only!r} matches no variant")
    return found


def seconds(option: str, given: float | None, default: float) -> float:
    """A bound: `given` on the command line, else `default`; a finite number of seconds above 0 (0 is no bound)."""
    if given is None:
        return float(default)
    if not math.isfinite(given) or not 0 < given <= MAX_BOUND_SECONDS:
        raise KitError(f"{option} {given:g}: a bound must be a number of seconds above 0, at most "
                       f"{MAX_BOUND_SECONDS} (a week)")
    return given


def job_count(given: int | None) -> int:
    """--jobs: parallel compiles, at least 1; default the cores this process may use."""
    if given is None:
        return len(os.sched_getaffinity(0))
    if given < 1:
        raise KitError(f"--jobs {given}: the number of parallel compiles must be at least 1")
    return given


def _common(given: VerifyInput, layout: KitLayout, cache: Path, config: VerifyConfig, bound: float,
            cuda: str | None = None) -> Common:
    """What both commands resolve alike, --compare left unresolved (it needs the subject: _with_compare)."""
    kernels = (given.kernels or layout.kernels).resolve()
    if not kernels.is_file():
        raise KitError(f"--kernels {kernels}: no such file")
    try:  # once here, not once per variant in every worker, where it reads as a worker crash
        compile(kernels.read_bytes(), str(kernels), "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise KitError(f"--kernels {exc.filename}:{exc.lineno}: {exc.msg}") from None
    return Common(layout, cache, config, select_variants(given, layout), kernels,
                  cuda or given.cuda or load_recipe(layout.default_recipe).cuda_default,
                  seconds("--bound", given.bound, bound),
                  job_count(given.jobs), given.reports or layout.reports, given.fresh_venv, None)


def _with_compare(common: Common, given: VerifyInput, subject: Install | None) -> Common:
    return dataclasses.replace(common, compare=compare_install(given, common.config, subject))


def _kit_and_cache(environ: Mapping[str, str] | None) -> tuple[KitLayout, Path]:
    """The kit and its cache: $TLKIT_ROOT and $TLKIT_CACHE_DIR of `environ` (default ours), read here only."""
    return KitLayout(kit_root(environ)), cache_root(environ)


def resolve_sm120(given: Sm120Input, environ: Mapping[str, str] | None = None) -> Sm120Options:
    """verify-sm120's options: what `given` says, else the environment's kit and cache, else verify.toml and the
    default recipe; every one checked here, before a venv is made."""
    layout, cache = _kit_and_cache(environ)
    config = load_config(layout.verify_toml)
    # Any toolkit of the table, not only those the recipe builds with: this check decides what it may support.
    toolkits = choose_toolkits(given.cuda, list(load_toolchains(layout.toolchains)),
                               load_recipe(layout.default_recipe).cuda_default)
    if given.save_sources and len(toolkits) > 1:
        raise KitError(f"--save-sources keeps one set of sources: give one toolkit, not --cuda {given.cuda}")
    common = _common(given, layout, cache, config, config.bound_seconds, toolkits[0])
    targets = tuple(given.targets.split(",")) if given.targets else config.targets
    unknown = [t for t in targets if t not in config.known_targets]
    if unknown:
        raise KitError(f"--targets {unknown[0]}: not a CUDA architecture this kit compiles for "
                       f"(known, {layout.verify_toml}: {', '.join(config.known_targets)})")
    install = subject_install(given, config, layout)
    return Sm120Options(_with_compare(common, given, install), install, toolkits, targets, given.save_sources,
                        given.expect_sources, given.command)


def resolve_gpu(given: GpuInput, environ: Mapping[str, str] | None = None) -> GpuOptions:
    """verify-gpu's options: what `given` says, else the environment's kit and cache, else gpu.toml, verify.toml
    and the default recipe; every one checked here, before a venv is made."""
    if given.compare_sites and not given.sites:
        raise KitError("--compare-site goes with --site (use --compare for the stock PyPI wheel in a venv)")
    if given.compare_sites and given.compare is not None:
        raise KitError("--compare and --compare-site name the other side twice: give one")
    layout, cache = _kit_and_cache(environ)
    config = load_config(layout.verify_toml)
    gpu = load_gpu_config(layout.gpu_toml)
    common = _common(given, layout, cache, config, gpu.compile_seconds)
    sites = tuple(s.resolve() for s in given.sites)
    install = None if sites else subject_install(given, config, layout)
    common = _with_compare(common, given, install)
    python = Path(shutil.which(str(given.python)) or given.python) if given.python else Path(sys.executable)
    target = given.target if given.target is not None else "auto"  # TileLang's own: the GPU present
    return GpuOptions(common, gpu, install, sites, tuple(s.resolve() for s in given.compare_sites),
                      python.absolute(), given.cases.resolve() if given.cases else None, target,
                      seconds("--launch-bound", given.launch_bound, gpu.launch_seconds), given.sm120_source,
                      given.sanitize, given.sanitizer)
