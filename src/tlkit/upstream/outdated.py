"""`tlkit outdated`: for each recipe, which pinned upstream packages (TileLang, the CUDA toolchain packages,
apache-tvm-ffi, z3-solver, the checks' torch) have newer releases on the package index, whether those have an
sdist the kit could build, and one line on what to do. It reports; it never changes a pin, and exits 0."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass

from packaging.requirements import Requirement
from packaging.version import InvalidVersion, Version

from tlkit.base.paths import KitLayout
from tlkit.base.texttable import align
from tlkit.upstream.index import PYPI, Project, fetch_project
from tlkit.verify.config import load_config
from tlkit.wheel.recipe import load_recipe, recipe_paths
from tlkit.wheel.toolchain import load_toolchains

SHOWN = 5  # newer releases named per row; the rest are counted


@dataclass(frozen=True)
class Pin:
    """One upstream package a recipe or table pins, and why it is there."""

    owner: str  # the recipe or table: tilelang-0.1.14, cuda-toolchains, verify
    package: str
    pinned: str  # the exact version (for the toolchain table: the newest any row pins)
    role: str  # source | toolkit | runtime pin | build requirement | checks


@dataclass(frozen=True)
class Row:
    owner: str
    package: str
    role: str
    pinned: str
    newer: list[str]  # newest first, final releases only
    newest_sdist: bool | None  # None: nothing newer
    verdict: str


def _exact(spec: str) -> str | None:
    """The version of an `==X` specifier, else None (a range is not a pin this report can compare)."""
    spec = spec.strip()
    return spec[2:].strip() if spec.startswith("==") and not spec.startswith("===") else None


def pins(layout: KitLayout) -> list[Pin]:
    """What the kit pins upstream, read from its own data: every recipe, the toolchain table, verify.toml."""
    out: list[Pin] = []
    for path in recipe_paths(layout.recipes):
        recipe = load_recipe(path)
        source = recipe.source
        out.append(Pin(recipe.name, getattr(source, "package", "tilelang"), source.version, "source"))
        built_with = {Requirement(r).name: _exact(str(Requirement(r).specifier)) for r in recipe.build_requires}
        for name, spec in sorted(recipe.runtime_pins.items()):
            # z3-solver is both: libtilelang links the libz3 it was built with, so the wheel pins that one
            role = "build requirement" if name in built_with else "runtime pin"
            out.append(Pin(recipe.name, name, _exact(spec) or "", role))
        if "z3-solver" in built_with and "z3-solver" not in recipe.runtime_pins:
            out.append(Pin(recipe.name, "z3-solver", built_with["z3-solver"] or "", "build requirement"))
    newest: dict[str, Version] = {}
    for spec in load_toolchains(layout.toolchains).values():
        for name, version in spec.packages.items():
            newest[name] = max(newest.get(name, Version(version)), Version(version))
    out += [Pin("cuda-toolchains", name, str(v), "toolkit") for name, v in sorted(newest.items())]
    torch = Requirement(load_config(layout.verify_toml).torch)
    out.append(Pin("verify", torch.name, _exact(str(torch.specifier)) or "", "checks"))
    return out


def _minor(v: Version) -> str:
    return f"{v.major}.{v.minor}"


def verdict(pin: Pin, newer: list[Version], project: Project, known_minors: set[str]) -> str:
    """One line: what the newer releases mean for this pin."""
    if not project.found:
        return f"not on this index: {pin.package} cannot be checked here"
    if not newer:
        return "up to date"
    top = newer[0]
    release = project.releases[top]
    if pin.role == "source":
        if release.sdist:
            return f"{top} has an sdist: a recipe for it can fetch it from the index, then patches-check the series"
        return (f"{top} is wheel-only on the index: a source build needs the recipe's git kind (a clone at its tag, "
                "with the TVM submodule)")
    if pin.role == "toolkit":
        new_minors = sorted({_minor(v) for v in newer} - known_minors, key=Version)
        if pin.package == "nvidia-cuda-nvcc" and new_minors:
            return (f"CUDA {', '.join(new_minors)} not in recipes/cuda-toolchains.toml: add a row (siblings as the "
                    "cuda-toolkit metapackage pins them), then verify-sm120 --cuda with it")
        return (f"{top} is newer than any row pins: update the row of its CUDA release if the cuda-toolkit "
                "metapackage moved to it")
    if pin.role == "runtime pin":
        return (f"{top} is out; the wheel pins =={pin.pinned}: lift the pin only once TileLang imports and "
                "verify-sm120 passes with it")
    if pin.role == "build requirement":
        return f"{top} is out: libtilelang links the exact libz3 it was built with, so moving means a rebuild"
    return f"{top} is out: the checks could move to it (their torch is only a reference)"


def assess_pin(pin: Pin, project: Project, known_minors: set[str]) -> Row:
    try:
        pinned = Version(pin.pinned)
    except InvalidVersion:
        return Row(pin.owner, pin.package, pin.role, pin.pinned or "-", [], None, "not pinned exactly: not compared")
    newer = sorted((v for v in project.releases if v > pinned and not v.is_prerelease and not v.is_devrelease),
                   reverse=True)
    sdist = project.releases[newer[0]].sdist if newer else None
    return Row(pin.owner, pin.package, pin.role, pin.pinned, [str(v) for v in newer], sdist,
               verdict(pin, newer, project, known_minors))


def check(layout: KitLayout, index: str) -> list[Row]:
    known = set(load_toolchains(layout.toolchains))
    projects: dict[str, Project] = {}
    rows = []
    for pin in pins(layout):
        if pin.package not in projects:
            projects[pin.package] = fetch_project(index, pin.package)
        rows.append(assess_pin(pin, projects[pin.package], known))
    return rows


def _newer_cell(newer: list[str]) -> str:
    if not newer:
        return "-"
    more = len(newer) - SHOWN
    return ", ".join(newer[:SHOWN]) + (f" (+{more} more)" if more > 0 else "")


def table(rows: list[Row]) -> str:
    cells = [("recipe", "package", "role", "pinned", "newer on the index", "sdist", "verdict")]
    for r in rows:
        sdist = "-" if r.newest_sdist is None else ("yes" if r.newest_sdist else "no (wheel only)")
        cells.append((r.owner, r.package, r.role, r.pinned, _newer_cell(r.newer), sdist, r.verdict))
    return "\n".join(align(cells))


def cmd_outdated(args: argparse.Namespace) -> int:
    layout = KitLayout.find()
    rows = check(layout, args.index)
    if args.json:
        print(json.dumps({"index": args.index, "rows": [asdict(r) for r in rows]}, indent=1))
    else:
        print(f"tlkit outdated: {args.index}")
        print(table(rows))
        behind = sum(1 for r in rows if r.newer)
        print(f"\n{behind} of {len(rows)} pins have newer releases on the index")
    return 0


def add_outdated_parser(sub) -> None:
    p = sub.add_parser("outdated", help="newer upstream releases of what the recipes pin, on the package index")
    p.add_argument("--index", default=PYPI, help=f"simple API base URL (PEP 691 or 503; default {PYPI})")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.set_defaults(func=cmd_outdated)
