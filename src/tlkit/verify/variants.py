"""The variant table (verify/variants.toml): kernels and arguments, expanded over world sizes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tlkit.base.errors import RecipeError
from tlkit.base.tomltable import Table, load_toml

SHARDS = ("none", "N", "K", "h")
_SHORT = {"float8_e8m0fnu": "e8m0", "float8_e4m3": "fp8", "float32": "f32", "bfloat16": "bf16"}


@dataclass(frozen=True)
class Variant:
    kernel: str  # factory name in the kernel module
    args: tuple[tuple[str, object], ...]  # keyword arguments, sorted
    world_sizes: tuple[int, ...] = field(default=(), compare=False)
    bound: float | None = field(default=None, compare=False)  # its own seconds per compile, replacing the run's

    def compile_bound(self, run_bound: float) -> float:
        """The seconds one compile of this variant may take: its own bound where the table sets one."""
        return self.bound or run_bound

    @property
    def kwargs(self) -> dict[str, object]:
        return dict(self.args)

    @property
    def name(self) -> str:
        """A short stable id: fp8_gemm[K=1024,N=32768,scale_dtype=e8m0]."""
        shown = ",".join(f"{k}={_SHORT.get(v, v) if isinstance(v, str) else v}" for k, v in self.args)
        return f"{self.kernel.removesuffix('_kernel')}[{shown}]"


MAX_BOUND_SECONDS = 7 * 24 * 3600  # a week: more is a typo


def read_bound(table: Table, key: str, required: bool = True) -> int | None:
    """A bound from a table: a whole number of seconds, 1 to a week (None where optional and absent)."""
    seconds = table.int(key, required=required)
    if seconds is not None and not 1 <= seconds <= MAX_BOUND_SECONDS:
        raise table.fail(key, f"must be 1 to {MAX_BOUND_SECONDS} seconds, got {seconds}")
    return seconds


def own_bounds(variants: Sequence[Variant]) -> dict[str, float]:
    """Name -> bound of the variants whose table row sets their own, for the lines that state the run's bound."""
    return {v.name: v.bound for v in variants if v.bound}


def bound_text(run_bound: float, own: dict[str, float]) -> str:
    """The compile bound as a run's lines state it, naming each variant that has its own."""
    named = ", ".join(f"{name}: {seconds:g} s" for name, seconds in own.items())
    return f"{run_bound:g} s per compile" + (f" ({named})" if named else "")


def _sharded(table: Table, args: dict, shard: str, ws: int, min_h: int) -> dict:
    out = dict(args)
    if shard in ("N", "K"):
        if shard not in out:
            raise table.fail("shard", f"shard {shard!r} but args has no {shard}")
        if out[shard] % ws:
            raise table.fail("args", f"{shard}={out[shard]} does not divide by world size {ws}")
        out[shard] //= ws
    elif shard == "h":
        out["h"] = max(min_h, out["h"] // ws)
    return out


def load_variants(path: Path, world_sizes: list[int] | None = None) -> list[Variant]:
    """Read the table; return the unique variants over the world sizes, each naming the sizes that use it."""
    top = Table(path, load_toml(path), "")
    table_sizes = top.int_list("world_sizes")
    sizes = world_sizes or table_sizes
    if not sizes or any(x < 1 for x in sizes):
        raise top.fail("world_sizes", f"must be positive integers, got {sizes}")
    defaults = top.table("defaults", required=False)
    found: dict[Variant, list[int]] = {}
    bounds: dict[Variant, int | None] = {}
    for t in top.table_list("variant"):
        kernel = t.str("kernel")
        args = t.table("args").data
        shard = t.str("shard", required=False, default="none")
        if shard not in SHARDS:
            raise t.fail("shard", f"must be one of {SHARDS}, got {shard!r}")
        min_h = t.int("min_h", required=False, default=1)
        serves = t.int_list("world_sizes", required=False)  # a variant for some world sizes only
        bound = read_bound(t, "bound_seconds", required=False)
        if any(ws not in table_sizes for ws in serves):
            raise t.fail("world_sizes", f"must be among the table's world_sizes {table_sizes}, got {serves}")
        t.finish()
        merged = {**defaults.data.get(kernel, {}), **args}
        for ws in sizes:
            if serves and ws not in serves:
                continue
            v = Variant(kernel, tuple(sorted(_sharded(t, merged, shard, ws, min_h).items())))
            if bounds.setdefault(v, bound) != bound:
                earlier = "without bound_seconds" if bounds[v] is None else f"with bound_seconds {bounds[v]}"
                raise t.fail("bound_seconds", f"{v.name} is also in an earlier row {earlier}; one variant has one "
                                              "bound")
            found.setdefault(v, [])
            if ws not in found[v]:
                found[v].append(ws)
    top.finish()
    if not found:
        raise RecipeError(path, "variant", "no variants")
    return [Variant(v.kernel, v.args, tuple(sorted(ws)), bounds[v]) for v, ws in found.items()]
