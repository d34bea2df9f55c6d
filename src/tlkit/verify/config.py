"""verify/verify.toml: what goes into the verify venv, which targets, and the default bound."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tlkit.tomltable import Table, load_toml


@dataclass(frozen=True)
class VerifyConfig:
    torch: str
    cuobjdump: str
    targets: tuple[str, ...]
    bound_seconds: int
    stock_pins: dict[str, tuple[str, ...]]


def load_config(path: Path) -> VerifyConfig:
    top = Table(path, load_toml(path), "")
    torch = top.str("torch")
    cuobjdump = top.str("cuobjdump")
    targets = tuple(top.str_list("targets"))
    bound = top.int("bound_seconds")
    if bound < 1:
        raise top.fail("bound_seconds", f"must be at least 1, got {bound}")
    pins_table = top.table("stock_pins")
    pins = {version: tuple(pins_table.str_list(version)) for version in list(pins_table.data)}
    pins_table.finish()
    top.finish()
    return VerifyConfig(torch, cuobjdump, targets, bound, pins)
