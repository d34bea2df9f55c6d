"""`tlkit verify-aarch64`: an aarch64 TileLang wheel checked on this x86_64 machine under qemu-user: installed
with its pinned runtime dependencies for the target's python3 (Debian's, in the kit's sysroot), imported, and the
model's kernel variants compiled for sm_121a (GB10) with the aarch64 nvcc from PyPI, each step timed and bounded;
each variant's CUDA source compared with the one saved from the x86_64 verify-sm120 run."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import tempfile
from pathlib import Path

from tlkit.base import procs
from tlkit.base.cacheentry import cached_entry, is_ready
from tlkit.base.errors import KitError
from tlkit.base.machine import describe
from tlkit.base.paths import KitLayout
from tlkit.verify.config import VerifyConfig, load_config
from tlkit.verify.options import matching, seconds
from tlkit.verify.saved_sources import SAME, gpu_sources_match, load_manifest
from tlkit.verify.variants import Variant, load_variants
from tlkit.wheel.cross.arch import load_debian
from tlkit.wheel.cross.compiler import ensure_cross_compiler
from tlkit.wheel.cross.cudahome import emulated_toolkit
from tlkit.wheel.cross.emulate import ensure_qemu
from tlkit.wheel.cross.packages import TargetPackages, download_target, install_target
from tlkit.wheel.cross.sysroot import ensure_sysroot
from tlkit.wheel.cross.target import target_cuda
from tlkit.wheel.sources import sha256_file
from tlkit.wheel.wheelfile import runs_on

COMPILE_ARCH = "sm_121a"  # GB10's own target
NOT_LAUNCHABLE = "not launchable"  # the subject's status of a kernel refused for exceeding the target's limits

AARCH64_BOUND_S = 3600  # qemu-user runs the import and the compiles several times slower than native


def add_parser(sub) -> None:
    p = sub.add_parser("verify-aarch64", help="an aarch64 wheel under qemu-user: install, import, compile for "
                                              f"{COMPILE_ARCH}, timed and bounded")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--wheel", type=Path, help="the aarch64 wheel (default: the kit's own in dist/ for the "
                                                  "current recipe and series)")
    which.add_argument("--pypi", metavar="VERSION", help="the stock TileLang wheel of this version from PyPI")
    p.add_argument("--no-compile", action="store_true", help="import only")
    p.add_argument("--only", metavar="REGEX", help="the variants whose name this finds (default: verify.toml's "
                                                  "aarch64_variants, one of each kernel; '.': all)")
    p.add_argument("--expect-sources", type=Path, metavar="DIR",
                   help="saved sources each variant's must equal (default: tests/data/stock-sources/<version>, "
                        "verify-sm120's of x86_64)")
    p.add_argument("--bound", type=float, help=f"seconds for the emulated import and compiles together (default "
                                                f"{AARCH64_BOUND_S}); the variant table's bound_seconds does not apply")
    p.set_defaults(func=cmd_verify_aarch64)


def kit_wheel(dist: Path, version: str, label: str) -> Path:
    """The kit's own aarch64 wheel for the current recipe and series; missing: one line saying how to get one."""
    wheels = sorted(w for w in dist.glob(f"tilelang-{version}+{label}-*.whl") if runs_on(w.name, "aarch64"))
    if not wheels:
        raise KitError(f"no aarch64 wheel tilelang-{version}+{label} (the current recipe and series) in {dist}: "
                       "build it with `nox -s build-wheel -- --arch aarch64`, or check the stock wheel with "
                       "`nox -s verify-aarch64 -- --pypi 0.1.14`")
    return wheels[-1]


def target_env(wheel: Path, pins: list[str], torch: str, target: TargetPackages, work: Path, log) -> Path:
    """The wheel, its pins and torch with every dependency, as the target's site-packages (pip --target)."""
    reqs = [str(wheel), *pins, torch]
    key = hashlib.sha256("\n".join([sha256_file(wheel), *pins, torch, target.python]).encode()).hexdigest()[:16]
    site = work / f"site-{key}"
    if not is_ready(site):
        log(f"target env: pip install --target {site} (aarch64 wheels, with dependencies): {' '.join(reqs)}")
    return cached_entry(site, "\n".join(reqs), lambda staged: install_target(reqs, target, staged, deps=True), log)


def chosen_variants(layout: KitLayout, config: VerifyConfig, only: str | None) -> list[Variant]:
    """--only over the whole variant table, else the configured subset; a name the table lacks is one line."""
    variants = load_variants(layout.variants)
    if only:
        return matching(variants, only)
    by_name = {v.name: v for v in variants}
    missing = [n for n in config.aarch64_variants if n not in by_name]
    if missing:
        raise KitError(f"{layout.verify_toml}: aarch64_variants names {missing[0]!r}, which {layout.variants} "
                       "does not have")
    return [by_name[n] for n in config.aarch64_variants]


def cmd_verify_aarch64(args: argparse.Namespace) -> int:
    from tlkit.wheel.pipeline import TARGET_PYTHON, BuildInput, make_plan

    log = print
    bound = seconds("--bound", args.bound, AARCH64_BOUND_S)
    # Nothing is compiled with ccache here: no remote compile cache, whatever $TLKIT_CACHE_REMOTE says.
    plan = make_plan(BuildInput(arch="aarch64", jobs=1, cache_remote=""))
    if plan.target is None:
        raise KitError("verify-aarch64 runs on a machine other than aarch64 (on aarch64, use verify-sm120)")
    kit, arch, cache = plan.layout, plan.arch, plan.cache
    config = load_config(kit.verify_toml)
    # The wheel, the variants and the saved sources: each missing one is one line before anything is fetched.
    if not args.pypi:
        wheel = args.wheel.resolve() if args.wheel else kit_wheel(plan.dist, plan.recipe.version, plan.label)
        if not wheel.is_file() or not runs_on(wheel.name, arch.name):
            raise KitError(f"{wheel}: not an aarch64 wheel file")
        pins = list(plan.target.runtime)
        subject = wheel.name
    variants = [] if args.no_compile else chosen_variants(kit, config, args.only)
    saved = (args.expect_sources or kit.saved_sources(args.pypi or plan.recipe.version)).resolve()
    # x86_64's verdict per variant for the target (the sources themselves are gpu_sources_match's to read)
    saved_status = {k.split(" | ")[0]: e["status"] for k, e in load_manifest(saved)["entries"].items()
                    if k.endswith(f" | {COMPILE_ARCH}")} if variants else {}
    if args.pypi:
        pins = list(config.stock_pins.get(args.pypi, ()))
        wheel_dir = cache / "wheels" / f"tilelang-{args.pypi}-{arch.name}"
        wheel = next(iter(sorted(cached_entry(wheel_dir, args.pypi, lambda staged: download_target(
            f"tilelang=={args.pypi}", plan.target, staged), log).glob("*.whl"))))
        subject = f"stock tilelang {args.pypi} ({wheel.name})"
    environ = dict(os.environ)
    qemu = ensure_qemu(arch, environ, log)
    compiler = ensure_cross_compiler(arch, environ, log)
    sysroot = ensure_sysroot(arch, load_debian(kit.arches), cache, environ, log)
    cuda = target_cuda(plan.target, cache, log)
    work = kit.verify_work("verify-aarch64")
    site = target_env(wheel, pins, config.torch, plan.target, work, log)
    target_python = sysroot / "usr" / "bin" / f"python{TARGET_PYTHON}"  # the emulated toolkit has its script
    shim_key = hashlib.sha256("\n".join(map(str, (cuda, sysroot, qemu, compiler.cc, compiler.cxx, target_python)))
                              .encode())
    shim = cached_entry(work / f"cuda-{shim_key.hexdigest()[:12]}", str(cuda), lambda staged: emulated_toolkit(
        cuda, sysroot, qemu, compiler.cc, compiler.cxx, staged), log)

    log(f"verify-aarch64: {subject} (sha256 {sha256_file(wheel)})")
    log(f"machine: {describe()}; {qemu} -L {sysroot}; python {TARGET_PYTHON} (Debian arm64)")
    if variants:
        log(f"compile: {len(variants)} variant(s) for {COMPILE_ARCH} under qemu-user, sources against {saved}")
    script = Path(__file__).parent / "subject" / "aarch64_import_compile.py"
    python = shim / "bin" / f"python{TARGET_PYTHON}"  # the target's python3 under qemu (cudahome.emulated_toolkit)
    with tempfile.TemporaryDirectory(prefix="tlkit-aarch64-") as tmp:
        spec = Path(tmp) / "spec.json"
        spec.write_text(json.dumps({"arch": COMPILE_ARCH, "module": str(kit.kernels),
                                    "variants": [{"name": v.name, "kernel": v.kernel, "kwargs": v.kwargs}
                                                 for v in variants]}))
        env = {k: v for k, v in environ.items() if not k.startswith(("TILELANG_", "PYTHON"))}
        # The kit's src/ after the target's site: the script uses the kit's subject code (pure Python).
        env.update(PYTHONPATH=f"{site}:{Path(__file__).parents[2]}", CUDA_HOME=str(shim),
                   PATH=f"{shim / 'bin'}:{environ.get('PATH', '')}", TILELANG_CACHE_DIR=str(Path(tmp) / "kernels"),
                   TMPDIR=tmp, HOME=tmp)
        argv = [str(python), str(script), "-" if args.no_compile else str(spec)]
        try:
            res = procs.run(argv, env=env, cwd=Path(tmp), capture_output=True, text=True, timeout=bound)
            out, err, code = res.stdout, res.stderr, res.returncode
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
            err, code = f"did not finish within --bound {bound:g} s", None
        steps = [json.loads(ln) for ln in out.splitlines() if ln.startswith("{")]
        compiled = [s for s in steps if s["step"] == "compile"]
        matches = gpu_sources_match([s for s in compiled if s["status"] == "ok"], saved, COMPILE_ARCH)
    passed = []
    for step in steps:
        if step["step"] == "import":
            log(f"  import tilelang {step['version']}: {step['seconds']} s under qemu-user")
            continue
        if step["status"] == "ok":
            # A kit wheel carries patch 0001: what x86_64's saved verdict calls not launchable it must refuse.
            unrefused = not args.pypi and saved_status.get(step["variant"]) == NOT_LAUNCHABLE
            verdict = f"source {matches[step['variant']]}" + (", but x86_64's kit wheel refuses it" if unrefused
                                                              else "")
            good = matches[step["variant"]] in SAME and not unrefused
        else:
            # Refused at compile time by patch 0001 (over sm_121a's shared memory): right where x86_64's saved
            # verdict is "not launchable" too.
            good = step["status"] == NOT_LAUNCHABLE == saved_status.get(step["variant"])
            verdict = f"{step['status']}{' (as x86_64)' if good else ''}: {step['error']}"
        passed.append(good)
        log(f"  {step['variant']} {step['arch']}: {step['seconds']} s, {verdict}")
    ok = code == 0 and len(steps) == 1 + len(variants) and all(passed)
    if ok:
        log("verify-aarch64: ok" + (f" ({len(variants)} of {len(variants)} as x86_64: {len(matches)} sources equal, "
                                     f"{len(variants) - len(matches)} not launchable)" if variants else ""))
        return 0
    log(f"verify-aarch64: FAILED (exit {code}):\n{err.strip()[-3000:]}")
    return 1
