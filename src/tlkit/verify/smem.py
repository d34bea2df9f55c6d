"""Shared-memory accounting: does a compiled kernel fit the per-block limit of its target?"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tlkit.base.errors import RecipeError
from tlkit.base.tomltable import Table, load_toml

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


# nvcc 13.x puts 1,024 B of static shared memory in every kernel from compute capability 9.0 on (cuobjdump's
# "shared" figure includes it). The device's per-block limit already leaves it out: on the H200 a kernel with
# exactly the opt-in limit of dynamic shared memory launched and one byte more did not
# (docs/hang-diagnosis.md, tests/fixtures/gpu/smem_launch_margin.py). So it is not counted against the limit,
# as patch 0001 does not count it.
NVCC_RESERVED_FROM_SM = 90
NVCC_RESERVED_BYTES = 1024


def nvcc_reserved(arch: str) -> int:
    """The static shared memory nvcc reserves in every kernel for `arch`, which the device does not count."""
    return NVCC_RESERVED_BYTES if int(base_arch(arch)[3:]) >= NVCC_RESERVED_FROM_SM else 0


def limit_for(arch: str, limits: dict[str, int], source: Path) -> int:
    base = base_arch(arch)
    if base not in limits:
        raise RecipeError(source, f"limits.{base}", f"no shared-memory limit for {arch}")
    return limits[base]


@dataclass(frozen=True)
class SmemCheck:
    static: int  # as the cubin records it, nvcc's reservation included
    dynamic: int
    limit: int
    buffers: tuple[tuple[str, int], ...]  # declared shared buffers, largest first
    reserved: int = 0  # nvcc's reservation within `static` (check() caps it at `static`); the device does not count it

    @property
    def total(self) -> int:
        """What counts against the per-block limit."""
        return self.static - self.reserved + self.dynamic

    @property
    def fits(self) -> bool:
        return self.total <= self.limit

    def message(self, arch: str) -> str:
        biggest = ", ".join(f"{name} {size:,} B" for name, size in self.buffers[:4]) or "none declared"
        reserved = f", besides nvcc's {self.reserved:,} B reservation" if self.reserved else ""
        return (f"needs {self.total:,} B of shared memory per block ({self.total - self.dynamic:,} static + "
                f"{self.dynamic:,} dynamic{reserved}), {arch} allows {self.limit:,} B: cannot launch; largest shared "
                f"buffers: {biggest}")


def check(static: int, dynamic: int, limit: int, buffers: list[tuple[str, int]], reserved: int = 0) -> SmemCheck:
    ordered = tuple(sorted(buffers, key=lambda b: (-b[1], b[0])))
    return SmemCheck(static, dynamic, limit, ordered, min(reserved, static))
