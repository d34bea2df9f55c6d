"""The verification tables: verify/verify.toml (what goes into the verify venv, the PyPI tools, targets, the
default bound) and verify/gpu.toml (verify-gpu's symbolic sizes, tolerances per output class, timing and bounds)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tlkit.base.tomltable import Table, load_toml
from tlkit.verify.variants import read_bound


@dataclass(frozen=True)
class VerifyConfig:
    torch: str
    cuobjdump: str
    compute_sanitizer: str  # the PyPI wheel verify-gpu --sanitize falls back to
    targets: tuple[str, ...]
    known_targets: tuple[str, ...]  # what --targets may name
    bound_seconds: int
    stock_pins: dict[str, tuple[str, ...]]
    aarch64_variants: tuple[str, ...]  # verify-aarch64's default subset, by variant name


def load_config(path: Path) -> VerifyConfig:
    top = Table(path, load_toml(path), "")
    torch = top.str("torch")
    cuobjdump = top.str("cuobjdump")
    sanitizer = top.str("compute_sanitizer")
    targets = tuple(top.str_list("targets"))
    known = tuple(top.str_list("known_targets"))
    if set(targets) - set(known):
        raise top.fail("targets", f"{sorted(set(targets) - set(known))} not in known_targets")
    aarch64_variants = tuple(top.str_list("aarch64_variants"))
    bound = read_bound(top, "bound_seconds")
    pins_table = top.table("stock_pins")
    pins = {version: tuple(pins_table.str_list(version)) for version in list(pins_table.data)}
    pins_table.finish()
    top.finish()
    return VerifyConfig(torch, cuobjdump, sanitizer, targets, known, bound, pins, aarch64_variants)


DIMS = ("M", "b", "m", "n", "topk")
EDGE_KEYS = (*DIMS, "valid_keys")  # valid_keys: sparse_attn indices left valid per query (the rest -1)


@dataclass(frozen=True)
class GpuConfig:
    dims: dict[str, int]
    tolerances: dict[str, dict[str, float]]
    warmup: int
    repeats: int
    batch: int
    sleep_cycles: int
    compile_seconds: int
    launch_seconds: int
    edges: dict[str, dict[str, int]]


def load_gpu_config(path: Path) -> GpuConfig:
    top = Table(path, load_toml(path), "")
    dims_t = top.table("dims")
    dims = {}
    for name in DIMS:
        dims[name] = dims_t.int(name)
        if dims[name] < 1:
            raise dims_t.fail(name, f"must be at least 1, got {dims[name]}")
    dims_t.finish()
    tol_t = top.table("tolerance")
    tolerances = {}
    for name in list(tol_t.data):
        entry = tol_t.table(name)
        values = {}
        for key in ("rtol", "atol"):
            value = entry._get(key, (int, float), True, None)
            if value < 0:
                raise entry.fail(key, f"must be >= 0, got {value!r}")
            values[key] = float(value)
        entry.finish()
        tolerances[name] = values
    tol_t.finish()
    timing = top.table("timing")
    warmup, repeats = timing.int("warmup"), timing.int("repeats")
    batch = timing.int("batch", required=False, default=10)
    sleep_cycles = timing.int("sleep_cycles", required=False, default=5_000_000)
    if repeats < 1 or batch < 1 or warmup < 0 or sleep_cycles < 0:
        raise timing.fail("repeats", "repeats and batch must be >= 1, warmup and sleep_cycles >= 0")
    timing.finish()
    edges: dict[str, dict[str, int]] = {}
    edges_t = top.table("edges", required=False)
    for name in list(edges_t.data):
        entry = edges_t.table(name)
        sizes = {key: entry.int(key) for key in EDGE_KEYS if key in entry.data}
        entry.finish()
        if not sizes or any(v < 1 for v in sizes.values()):
            raise edges_t.fail(name, f"must set some of {', '.join(EDGE_KEYS)}, each at least 1")
        edges[name] = sizes
    edges_t.finish()
    bounds = top.table("bounds")
    compile_s, launch_s = read_bound(bounds, "compile_seconds"), read_bound(bounds, "launch_seconds")
    bounds.finish()
    top.finish()
    return GpuConfig(dims, tolerances, warmup, repeats, batch, sleep_cycles, compile_s, launch_s, edges)
