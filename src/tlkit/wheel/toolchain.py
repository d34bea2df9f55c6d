"""The CUDA 13.x toolchain from PyPI wheels, installed once into the cache and checked with nvcc."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tlkit.base import procs
from tlkit.base.cacheentry import is_ready, staged_entry
from tlkit.base.errors import KitError, RecipeError
from tlkit.base.locks import exclusive
from tlkit.base.tomltable import Table, load_toml


@dataclass(frozen=True)
class ToolchainSpec:
    cuda: str
    nvcc_release: str
    packages: dict[str, str]

    @property
    def key(self) -> str:
        return f"cuda-{self.packages['nvidia-cuda-nvcc']}"


@dataclass(frozen=True)
class Toolchain:
    spec: ToolchainSpec
    prefix: Path  # the pip --target folder
    root: Path  # prefix/nvidia/cu13: what WITH_PIP_CUDA_TOOLCHAIN points at
    nvcc_version: str

    @property
    def nvcc(self) -> Path:
        return self.root / "bin" / "nvcc"


def load_toolchains(table_path: Path) -> dict[str, ToolchainSpec]:
    """Every row of recipes/cuda-toolchains.toml, in the table's order; a row whose nvcc pin or release is not
    of its own CUDA version is refused (a copied row left half-edited)."""
    top = Table(table_path, load_toml(table_path), "")
    rows = top.table("toolchain")
    specs = {}
    for cuda in list(rows.data):
        row = rows.table(cuda)
        release = row.str("nvcc_release")
        packages = row.str_map("packages")
        row.finish()
        nvcc = packages.get("nvidia-cuda-nvcc")
        if nvcc is None:
            raise RecipeError(table_path, row.key("packages"), "must pin nvidia-cuda-nvcc")
        if not nvcc.startswith(cuda + ".") or release != f"{cuda}, V{nvcc}":
            raise RecipeError(table_path, row.key("nvcc_release"),
                              f"CUDA {cuda} with nvidia-cuda-nvcc {nvcc} must print release \"{cuda}, V{nvcc}\", "
                              f"not {release!r}")
        specs[cuda] = ToolchainSpec(cuda, release, packages)
    rows.finish()
    top.finish()
    return specs


def load_toolchain_spec(table_path: Path, cuda: str) -> ToolchainSpec:
    specs = load_toolchains(table_path)
    if cuda not in specs:
        raise RecipeError(table_path, f"toolchain.{cuda}", f"no toolchain for CUDA {cuda}; known: {', '.join(specs)}")
    return specs[cuda]


def choose_toolkits(given: str | None, supported: Sequence[str], default: str,
                    option: str = "--cuda") -> tuple[str, ...]:
    """`--cuda 13.2`, `--cuda 13.0,13.2` or `--cuda all` (every one of `supported`, in its order) as the toolkits
    to use, in the order named; every value is checked here, before anything is fetched or built."""
    if given is None:
        return (default,)
    choices = f"{', '.join(supported)} or all"
    if given.strip() == "all":
        return tuple(supported)
    values = [v.strip() for v in given.split(",")]
    unknown = [v for v in values if v not in supported]
    if unknown:
        named = ", ".join(repr(v) for v in unknown)
        verb = "is not a supported CUDA toolkit" if len(unknown) == 1 else "are not supported CUDA toolkits"
        raise KitError(f"{option} {given}: {named} {verb}; choose from {choices}")
    chosen: list[str] = []
    for value in values:
        if value in chosen:
            raise KitError(f"{option} {given}: {value} is named twice")
        chosen.append(value)
    return tuple(chosen)


def _nvcc_version(nvcc: Path) -> str:
    try:
        out = subprocess.run([str(nvcc), "--version"], capture_output=True, text=True, timeout=60)
    except OSError as exc:
        raise KitError(f"cannot run {nvcc}: {exc}") from None
    if out.returncode != 0:
        raise KitError(f"{nvcc} --version failed ({out.returncode}): {out.stderr.strip()}")
    return out.stdout


def _check_nvcc(spec: ToolchainSpec, nvcc: Path) -> str:
    text = _nvcc_version(nvcc)
    if f"release {spec.nvcc_release}" not in text:
        raise KitError(f"{nvcc} reports {text.strip().splitlines()[-1]!r}, expected release {spec.nvcc_release}")
    return next((ln for ln in text.splitlines() if "release" in ln), text.strip())


def ensure_toolchain(spec: ToolchainSpec, cache: Path, log=print) -> Toolchain:
    """Install the pinned packages into cache/toolchains/<key> (atomically) and verify nvcc."""
    prefix = cache / "toolchains" / spec.key
    if not is_ready(prefix):
        with exclusive(prefix.with_name(prefix.name + ".lock"), f"the CUDA {spec.cuda} toolchain {prefix}",
                       wait=True, log=log):
            _install(spec, prefix, log)
    root = prefix / "nvidia" / "cu13"
    version = _check_nvcc(spec, root / "bin" / "nvcc")
    return Toolchain(spec, prefix, root, version)


def _install(spec: ToolchainSpec, prefix: Path, log) -> None:
    """Install into a staging folder beside `prefix`, check nvcc, rename into place (under the lock)."""
    if not is_ready(prefix):
        reqs = [f"{name}=={version}" for name, version in sorted(spec.packages.items())]
        log(f"toolchain: installing CUDA {spec.cuda} from PyPI: {' '.join(reqs)}")
        with staged_entry(prefix, " ".join(reqs)) as staged:
            cmd = [sys.executable, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check",
                   "--no-warn-script-location", "--quiet", "--target", str(staged), *reqs]
            res = procs.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                raise _install_error(spec, res.stderr)
            _check_nvcc(spec, staged / "nvidia" / "cu13" / "bin" / "nvcc")


_NOT_FOUND = re.compile(r"No matching distribution found for ([A-Za-z0-9._-]+)==(\S+)")


def _install_error(spec: ToolchainSpec, stderr: str) -> KitError:
    """pip's failure as one line when a pinned package is not on the index (a row copied ahead of a release,
    a mirror behind PyPI); any other failure with pip's own words."""
    missing = _NOT_FOUND.search(stderr)
    if missing:
        name, version = missing.groups()
        return KitError(f"the CUDA {spec.cuda} toolchain: {name}=={version} is not on the package index "
                        f"(recipes/cuda-toolchains.toml pins it; pip found no such release for this platform)")
    return KitError(f"installing CUDA {spec.cuda} toolchain failed:\n{stderr.strip()}")
