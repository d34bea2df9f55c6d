"""Reading and validating recipes (recipes/*.toml): what to build, from which pinned source, how."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from tlkit.base.errors import RecipeError
from tlkit.base.tomltable import Table, load_toml

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX40 = re.compile(r"^[0-9a-f]{40}$")
_LOCAL = re.compile(r"^[a-z0-9]+(\.[a-z0-9]+)*$")
TABLES = ("cuda-toolchains", "arches")  # the kit's data tables in recipes/, which are not recipes
_PATCH_NAME = re.compile(r"^(\d{4})-[A-Za-z0-9._-]+\.patch$")
_UPSTREAM_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


@dataclass(frozen=True)
class SdistSource:
    """An sdist from the package index, fetched with pip and checked against its sha256."""

    package: str
    version: str
    sha256: str

    @property
    def digest(self) -> str:
        return f"sha256:{self.sha256}"


@dataclass(frozen=True)
class GitSource:
    """A git commit; `tvm_commit` is the TVM fork pin that 3rdparty/tvm must point at."""

    url: str
    commit: str
    version: str
    tvm_commit: str
    tvm_path: str = "3rdparty/tvm"

    @property
    def digest(self) -> str:
        return f"git:{self.commit}"


@dataclass(frozen=True)
class Recipe:
    path: Path
    name: str
    source: SdistSource | GitSource
    cuda_default: str
    cuda_supported: tuple[str, ...]
    patch_dir: str
    series: tuple[str, ...]
    upstreams: dict[str, str]  # patch subfolder -> the part of the source that upstream owns ("." the rest)
    build_requires: tuple[str, ...]
    build_env: dict[str, str]
    source_date_epoch: int
    platform: str
    repair_exclude: tuple[str, ...]
    runtime_pins: dict[str, str]
    label_scheme: str

    @property
    def version(self) -> str:
        return self.source.version

    def local_label(self, cuda: str, series_hash: str) -> str:
        return self.label_scheme.format(cuda=cuda.replace(".", ""), series=series_hash[:8])


def _source(table: Table) -> SdistSource | GitSource:
    kind = table.str("kind")
    version = table.str("version")
    try:
        Version(version)
    except InvalidVersion:
        raise table.fail("version", f"not a PEP 440 version: {version!r}") from None
    if kind == "sdist":
        package = table.str("package")
        sha256 = table.str("sha256").lower()
        if not _HEX64.match(sha256):
            raise table.fail("sha256", f"must be 64 hex digits, got {sha256!r}")
        source: SdistSource | GitSource = SdistSource(package, version, sha256)
    elif kind == "git":
        url = table.str("url")
        commit = table.str("commit").lower()
        if not _HEX40.match(commit):
            raise table.fail("commit", f"must be a full 40-hex commit id, got {commit!r}")
        tvm_commit = table.str("tvm_commit").lower()
        if not _HEX40.match(tvm_commit):
            raise table.fail("tvm_commit", f"must be a full 40-hex commit id, got {tvm_commit!r}")
        tvm_path = table.str("tvm_path", required=False, default="3rdparty/tvm")
        source = GitSource(url, commit, version, tvm_commit, tvm_path)
    else:
        raise table.fail("kind", f"must be 'sdist' or 'git', got {kind!r}")
    table.finish()
    return source


def _check_label_scheme(table: Table, scheme: str) -> None:
    try:
        sample = scheme.format(cuda="132", series="0123abcd")
    except (KeyError, IndexError, ValueError) as exc:
        raise table.fail("scheme", f"only {{cuda}} and {{series}} may be used: {exc}") from None
    if not _LOCAL.match(sample):
        raise table.fail("scheme", f"gives {sample!r}, not a PEP 440 local label (a-z, 0-9, dots)")


def _upstreams(patches: Table) -> dict[str, str]:
    """`upstreams = { folder = "part of the source" }`: each patch sits in the folder of the project it goes to,
    and changes only the files that project owns (the longest part that holds them; "." owns the rest)."""
    upstreams = patches.str_map("upstreams", required=False)
    for folder, part in upstreams.items():
        if not _UPSTREAM_NAME.match(folder):
            raise patches.fail(f"upstreams.{folder}", "must be a plain folder name (a-z, 0-9, '.', '_', '-')")
        if part != "." and (not part or part.startswith("/") or part.endswith("/")
                            or ".." in part.split("/") or "." in part.split("/")):
            raise patches.fail(f"upstreams.{folder}", f"{part!r} must be '.' or a relative folder of the source")
    parts = list(upstreams.values())
    if len(set(parts)) != len(parts):
        raise patches.fail("upstreams", "two upstreams own the same part of the source")
    return upstreams


def load_recipe(path: Path) -> Recipe:
    """Read and validate one recipe; every error names the file, the key and the problem."""
    path = Path(path)
    top = Table(path, load_toml(path), "")
    source = _source(top.table("source"))

    cuda = top.table("cuda")
    cuda_default = cuda.str("default")
    supported = tuple(cuda.str_list("supported"))
    if cuda_default not in supported:
        raise cuda.fail("default", f"{cuda_default!r} is not in supported {list(supported)}")
    cuda.finish()

    patches = top.table("patches")
    patch_dir = patches.str("dir")
    upstreams = _upstreams(patches)
    series = tuple(patches.str_list("series"))
    numbers = []
    for i, entry in enumerate(series):
        folder, _, name = entry.rpartition("/")
        if upstreams and folder not in upstreams:
            raise patches.fail(f"series[{i}]", f"{entry!r} must sit in the folder of its upstream: "
                                               f"{' or '.join(f'{u}/' for u in upstreams)}")
        if not upstreams and folder:
            raise patches.fail(f"series[{i}]", f"{entry!r} is in a folder, but the recipe names no upstreams")
        m = _PATCH_NAME.match(name)
        if not m:
            raise patches.fail(f"series[{i}]", f"{entry!r} must be named NNNN-short-name.patch")
        numbers.append(int(m.group(1)))
    if numbers != sorted(set(numbers)):
        raise patches.fail("series", f"patch numbers must be unique and ascending in series order: {numbers}")
    patches.finish()

    build = top.table("build")
    requires = tuple(build.str_list("requires"))
    for i, req in enumerate(requires):
        try:
            parsed = Requirement(req)
        except InvalidRequirement as exc:
            raise build.fail(f"requires[{i}]", f"not a requirement: {exc}") from None
        if len(parsed.specifier) != 1 or next(iter(parsed.specifier)).operator != "==":
            raise build.fail(f"requires[{i}]", f"{req!r} must be pinned with == (reproducible builds)")
    env = build.str_map("env", required=False)
    epoch = build.int("source_date_epoch")
    if epoch < 315532800:
        raise build.fail("source_date_epoch", f"{epoch} is before 1980-01-01, which zip cannot store")
    platform = build.str("platform")
    exclude = tuple(build.str_list("repair_exclude", required=False))
    build.finish()

    runtime = top.table("runtime", required=False)
    pins = runtime.str_map("pins", required=False)
    for name, spec in pins.items():
        try:
            SpecifierSet(spec)
        except InvalidSpecifier:
            raise runtime.fail(f"pins.{name}", f"not a version specifier: {spec!r}") from None
    runtime.finish()

    label = top.table("label")
    scheme = label.str("scheme")
    _check_label_scheme(label, scheme)
    label.finish()
    top.finish()

    return Recipe(
        path=path,
        name=path.stem,
        source=source,
        cuda_default=cuda_default,
        cuda_supported=supported,
        patch_dir=patch_dir,
        series=series,
        upstreams=upstreams,
        build_requires=requires,
        build_env=env,
        source_date_epoch=epoch,
        platform=platform,
        repair_exclude=exclude,
        runtime_pins=pins,
        label_scheme=scheme,
    )


def resolve_recipe(spec: str, recipes_dir: Path) -> Path:
    """`spec` is a path to a .toml file, or a recipe name looked up in recipes_dir."""
    candidate = Path(spec)
    if candidate.suffix == ".toml" or candidate.exists():
        return candidate
    named = recipes_dir / f"{spec}.toml"
    if named.is_file():
        return named
    known = [p.stem for p in recipe_paths(recipes_dir)]
    raise RecipeError(named, "-", f"no recipe named {spec!r}; known: {', '.join(known)}")


def recipe_paths(recipes_dir: Path) -> list[Path]:
    """The recipes in `recipes_dir`, sorted: every .toml but the kit's data tables (TABLES)."""
    return sorted(p for p in recipes_dir.glob("*.toml") if p.stem not in TABLES)
