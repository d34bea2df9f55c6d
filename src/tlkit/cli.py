"""Command line: `python -m tlkit <command>` (the nox sessions call this)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tlkit.base.errors import KitError
from tlkit.base.paths import DEFAULT_RECIPE

if TYPE_CHECKING:  # the products are imported where used, as everywhere in this module
    from tlkit.verify.options import GpuInput, Sm120Input
    from tlkit.wheel.pipeline import BuildInput


def _build_args(p: argparse.ArgumentParser, arch: bool = False) -> None:
    p.add_argument("--recipe", default=DEFAULT_RECIPE, help="recipe name in recipes/ or path to a .toml")
    p.add_argument("--cuda", help="CUDA 13.x toolkit to build with (default: the recipe's); build-wheel also takes "
                                  "a comma list (13.0,13.2) or 'all' the recipe supports: one wheel each, in turn")
    p.add_argument("--jobs", type=int, help="parallel compile jobs (default: from cores and free memory)")
    p.add_argument("--clean", action="store_true", help="remove the prepared tree and build folder first")
    p.add_argument("--dist", type=Path, help="where the finished wheel goes (default: <kit>/dist)")
    p.add_argument("--work-dir", type=Path, help="prepared trees and build folders (default: <kit>/build)")
    p.add_argument("--cache-remote", metavar="URL",
                   help="shared compile cache for ccache: file:/folder, http://host:port/path or redis://host:port "
                        "(default: $TLKIT_CACHE_REMOTE; '' for none)")
    if arch:
        p.add_argument("--arch", help="the machine the wheel is for: x86_64 or aarch64 (default: this machine's "
                                      "own); another than this one is a cross build (docs/aarch64.md)")


def _build_input(args: argparse.Namespace) -> BuildInput:
    """What the command line said, as said: make_plans resolves it (the environment and the defaults too)."""
    from tlkit.wheel.pipeline import BuildInput

    return BuildInput(recipe=args.recipe, cuda=args.cuda, jobs=args.jobs, clean=args.clean, dist=args.dist,
                      work=args.work_dir, cache_remote=args.cache_remote, arch=getattr(args, "arch", None))


def _verify_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kernels", type=Path,
                   help="kernel module (default: verify/kernels.py), e.g. the model's kernel.py")
    p.add_argument("--variants", type=Path, help="variant table (default: verify/variants.toml)")
    p.add_argument("--world-sizes", help="model-parallel world sizes to cover (default: the table's, 1,2,4,8)")
    p.add_argument("--only", metavar="REGEX", help="verify only the variants whose name matches")
    p.add_argument("--jobs", type=int, help="parallel compiles (default: number of cores)")
    p.add_argument("--reports", type=Path, help="report folder (default: <kit>/reports)")
    p.add_argument("--fresh-venv", action="store_true", help="recreate the venv even if one matches")
    from tlkit.verify.options import SUBJECTS_OWN

    p.add_argument("--compare", nargs="?", const=SUBJECTS_OWN, metavar="VERSION",
                   help="also run the stock PyPI wheel of VERSION (default: the subject's own version) and compare")


def _sm120_args(p: argparse.ArgumentParser) -> None:
    what = p.add_mutually_exclusive_group()
    what.add_argument("--wheel", type=Path, help="wheel to verify (default: the newest in dist/)")
    what.add_argument("--pypi", metavar="VERSION", help="verify the stock PyPI wheel of this TileLang version")
    _verify_args(p)
    p.add_argument("--targets", help="comma-separated CUDA archs (default: verify.toml: sm_120,sm_120a,sm_121,sm_121a)")
    p.add_argument("--bound", type=float, help="hard wall-clock bound per compile, seconds (default: "
                   "verify/verify.toml); a variant's own bound_seconds in the variant table replaces it")
    p.add_argument("--cuda", help="CUDA toolkit from PyPI that compiles (default: the recipe's); a comma list "
                                  "(13.3,13.5) or 'all' (every row of recipes/cuda-toolchains.toml) runs the "
                                  "matrix with each in turn and reports per toolkit")
    p.add_argument("--save-sources", type=Path, metavar="DIR",
                   help="keep every generated CUDA source in DIR, with a manifest (how the test data is made)")
    p.add_argument("--expect-sources", type=Path, metavar="DIR",
                   help="fail unless every variant's CUDA source equals the one saved in DIR")


def _gpu_args(p: argparse.ArgumentParser) -> None:
    what = p.add_mutually_exclusive_group()
    what.add_argument("--wheel", type=Path, help="wheel to verify in a fresh venv (default: the newest in dist/)")
    what.add_argument("--pypi", metavar="VERSION", help="verify the stock PyPI wheel of this TileLang version")
    what.add_argument("--site", metavar="DIR", action="append",
                      help="verify the TileLang importable from DIR (a `pip install --target` folder; repeatable) "
                           "with --python, instead of a fresh venv: for machines without a package index")
    p.add_argument("--python", type=Path, help="interpreter for --site (default: this one)")
    p.add_argument("--compare-site", metavar="DIR", action="append",
                   help="with --site: the stock wheel's folder to compare with (repeatable)")
    _verify_args(p)
    p.add_argument("--cases", type=Path, help="inputs and references (default: tlkit.verify.subject.gpu_cases)")
    p.add_argument("--target", help="TileLang target (default: auto, the GPU present)")
    p.add_argument("--cuda", help="PyPI CUDA toolkit that compiles (default: the recipe's); 'system' keeps the "
                                  "nvcc on PATH/CUDA_HOME")
    p.add_argument("--bound", type=float, help="wall-clock bound per compile stage, s (default: verify/gpu.toml); a "
                   "variant's own bound_seconds in the variant table replaces it")
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


def _verify_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The options both verify commands take, as said: VerifyInput's fields, which are their argparse names."""
    from tlkit.verify.options import VerifyInput

    return {f.name: getattr(args, f.name) for f in dataclasses.fields(VerifyInput)}


def _sm120_input(args: argparse.Namespace) -> Sm120Input:
    """What the command line said to verify-sm120, as said: resolve_sm120 resolves it."""
    from tlkit.verify.options import Sm120Input

    return Sm120Input(**_verify_fields(args), targets=args.targets, save_sources=args.save_sources,
                      expect_sources=args.expect_sources, command="python -m tlkit " + " ".join(sys.argv[1:]))


def _gpu_input(args: argparse.Namespace) -> GpuInput:
    """What the command line said to verify-gpu, as said: resolve_gpu resolves it."""
    from tlkit.verify.options import GpuInput

    return GpuInput(**_verify_fields(args), sites=tuple(map(Path, args.site or ())), python=args.python,
                    compare_sites=tuple(map(Path, args.compare_site or ())), cases=args.cases, target=args.target,
                    launch_bound=args.launch_bound, sm120_source=args.sm120_source, sanitize=args.sanitize,
                    sanitizer=args.sanitizer)


def cmd_verify_sm120(args: argparse.Namespace) -> int:
    from tlkit.verify.cli import verify_sm120

    return verify_sm120(_sm120_input(args))


def cmd_verify_gpu(args: argparse.Namespace) -> int:
    from tlkit.verify.cli import verify_gpu

    return verify_gpu(_gpu_input(args))


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP (a closed terminal, a CI runner's cancel), handled as Ctrl-C is."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _terminate(signum: int, _frame: object) -> None:
    raise Terminated(signum)


def cmd_build_wheel(args: argparse.Namespace) -> int:
    import signal

    from tlkit.wheel.pipeline import build_wheels

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _terminate)
    try:
        wheels = build_wheels(_build_input(args))
        if len(wheels) > 1:
            print("\n".join(["wheels:", *(f"  {w}" for w in wheels)]))
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Terminated) else signal.SIGINT
        why = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
        print(f"\n{why}: the build folder is kept; run the same command again to resume", file=sys.stderr)
        return 128 + signum
    return 0


def cmd_patches_check(args: argparse.Namespace) -> int:
    from tlkit.wheel.patchcheck import check_recipe_series, format_outcomes

    outcomes = check_recipe_series(_build_input(args))
    print(format_outcomes(args.recipe, outcomes))
    from tlkit.wheel.tree import FAILED

    return 1 if any(o.status in FAILED for o in outcomes) else 0


PARENT_ENV = "TLKIT_PARENT_PID"  # set by the noxfile: the kit ends with nox however nox ends


def end_with_launcher() -> None:
    """Have the kernel send SIGTERM (handled as a stop) to this process when the launcher named by
    $TLKIT_PARENT_PID dies, SIGKILL included. Not set (a shell, nohup): nothing changes. The variable is
    consumed, so that the kit's own children do not take the kit for their launcher."""
    import os
    import signal

    from tlkit.base.procs import die_with_parent

    value = os.environ.pop(PARENT_ENV, "")
    if not value:
        return
    if not value.isdigit():
        raise KitError(f"${PARENT_ENV}={value!r} is not a PID")
    if not die_with_parent(int(value), signal.SIGTERM):  # the launcher died before the signal was armed
        raise KitError(f"the launcher (pid {value}, ${PARENT_ENV}) has already ended")


def cmd_patches_export(args: argparse.Namespace) -> int:
    from tlkit.base.paths import KitLayout
    from tlkit.wheel.patchexport import export_series
    from tlkit.wheel.recipe import resolve_recipe

    kit = KitLayout.find()
    export_series(args.tree, resolve_recipe(args.recipe, kit.recipes), kit.patches)
    return 0


def main(argv: list[str] | None = None) -> int:
    from tlkit.base.redact import redact_streams

    redact_streams()
    parser = argparse.ArgumentParser(prog="tlkit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build-wheel", help="build the recipe's patched wheel into dist/")
    _build_args(p, arch=True)
    p.set_defaults(func=cmd_build_wheel)
    p = sub.add_parser("patches-check", help="apply the series to a scratch copy of the pinned source")
    _build_args(p)
    p.set_defaults(func=cmd_patches_check)
    p = sub.add_parser("patches-export", help="write a git tree's commits above 'upstream' as the recipe's series "
                                              "(one folder per upstream) and list them in the recipe")
    p.add_argument("tree", type=Path, help="the git tree: the prepared source (build/<recipe>-cu<X.Y>/src) or a copy")
    p.add_argument("--recipe", default=DEFAULT_RECIPE, help="recipe name in recipes/ or path to a .toml")
    p.set_defaults(func=cmd_patches_export)
    from tlkit.diagnose.command import add_diagnose_parser
    from tlkit.upstream.outdated import add_outdated_parser
    from tlkit.verify.aarch64 import add_parser as add_verify_aarch64_parser
    from tlkit.verify.doctor import add_doctor_parser

    p = sub.add_parser("verify-sm120", help="compile every model kernel variant for the sm_120 family (sm_120, "
                                            "sm_120a, sm_121, sm_121a), bounded")
    _sm120_args(p)
    p.set_defaults(func=cmd_verify_sm120)
    p = sub.add_parser("verify-gpu", help="run every model kernel variant on the GPU present, against PyTorch")
    _gpu_args(p)
    p.set_defaults(func=cmd_verify_gpu)
    add_doctor_parser(sub)
    add_diagnose_parser(sub)
    add_outdated_parser(sub)
    add_verify_aarch64_parser(sub)
    args = parser.parse_args(argv)
    try:
        end_with_launcher()
        return args.func(args)
    except KitError as exc:
        print(f"tlkit: error: {exc}", file=sys.stderr)
        return 2
