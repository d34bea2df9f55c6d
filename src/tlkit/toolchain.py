"""The CUDA 13.x toolchain from PyPI wheels, installed once into the cache and checked with nvcc."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tlkit import supervise
from tlkit.cacheentry import is_ready, staged_entry
from tlkit.errors import KitError, RecipeError
from tlkit.locks import exclusive
from tlkit.tomltable import Table, load_toml


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


def load_toolchain_spec(table_path: Path, cuda: str) -> ToolchainSpec:
    top = Table(table_path, load_toml(table_path), "")
    rows = top.table("toolchain")
    if cuda not in rows.data:
        raise rows.fail(cuda, f"no toolchain for CUDA {cuda}; known: {', '.join(sorted(rows.data))}")
    row = rows.table(cuda)
    release = row.str("nvcc_release")
    packages = row.str_map("packages")
    row.finish()
    if "nvidia-cuda-nvcc" not in packages:
        raise RecipeError(table_path, row.key("packages"), "must pin nvidia-cuda-nvcc")
    return ToolchainSpec(cuda, release, packages)


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
            res = supervise.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                raise KitError(f"installing CUDA {spec.cuda} toolchain failed:\n{res.stderr.strip()}")
            _check_nvcc(spec, staged / "nvidia" / "cu13" / "bin" / "nvcc")
