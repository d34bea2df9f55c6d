"""Command line: `python -m tlkit <command>` (the nox sessions call this)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tlkit.base.errors import KitError
from tlkit.base.paths import DEFAULT_RECIPE

if TYPE_CHECKING:  # the products are imported where used, as everywhere in this module
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
    p.add_argument("tree", type=Path, help="the git tree: the prepared source (build/<recipe>-cu<NNN>/src) or a copy")
    p.add_argument("--recipe", default=DEFAULT_RECIPE, help="recipe name in recipes/ or path to a .toml")
    p.set_defaults(func=cmd_patches_export)
    from tlkit.diagnose.command import add_diagnose_parser
    from tlkit.upstream.outdated import add_outdated_parser
    from tlkit.verify.aarch64 import add_parser as add_verify_aarch64_parser
    from tlkit.verify.cli import add_gpu_parser, add_verify_parser
    from tlkit.verify.doctor import add_doctor_parser

    add_verify_parser(sub)
    add_gpu_parser(sub)
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
