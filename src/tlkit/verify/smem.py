"""Shared-memory accounting: does a compiled kernel fit the per-block limit of its target?"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tlkit.errors import RecipeError
from tlkit.tomltable import Table, load_toml

_ARCH = re.compile(r"^sm_(\d+)[a-z]?$")


def load_limits(path: Path) -> dict[str, int]:
    top = Table(path, load_toml(path), "")
    limits = top.table("limits")
    out = {}
    for arch in list(limits.data):
        if not _ARCH.match(arch):
            raise limits.fail(arch, "must look like sm_120")
        out[arch] = limits.int(arch)
    limits.finish()
    top.finish()
    return out


def base_arch(arch: str) -> str:
    m = _ARCH.match(arch)
    if not m:
        raise ValueError(f"not a CUDA architecture: {arch!r}")
    return f"sm_{m.group(1)}"


def limit_for(arch: str, limits: dict[str, int], source: Path) -> int:
    base = base_arch(arch)
    if base not in limits:
        raise RecipeError(source, f"limits.{base}", f"no shared-memory limit for {arch}")
    return limits[base]


@dataclass(frozen=True)
class SmemCheck:
    static: int
    dynamic: int
    limit: int
    buffers: tuple[tuple[str, int], ...]  # declared shared buffers, largest first

    @property
    def total(self) -> int:
        return self.static + self.dynamic

    @property
    def fits(self) -> bool:
        return self.total <= self.limit

    def message(self, arch: str) -> str:
        biggest = ", ".join(f"{name} {size:,} B" for name, size in self.buffers[:4]) or "none declared"
        return (f"needs {self.total:,} B of shared memory per block ({self.static:,} static + {self.dynamic:,} "
                f"dynamic), {arch} allows {self.limit:,} B: cannot launch; largest shared buffers: {biggest}")


def check(static: int, dynamic: int, limit: int, buffers: list[tuple[str, int]]) -> SmemCheck:
    ordered = tuple(sorted(buffers, key=lambda b: (-b[1], b[0])))
    return SmemCheck(static, dynamic, limit, ordered)
