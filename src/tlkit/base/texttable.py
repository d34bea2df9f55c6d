"""Plain-text tables for the terminal and the report files."""

from __future__ import annotations

from collections.abc import Sequence


def align(rows: Sequence[Sequence[str]], rule: bool = True) -> list[str]:
    """`rows` (the first is the header) as lines with every column padded to its widest cell, and a rule of
    dashes under the header when `rule`."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    if rule:
        lines.insert(1, "  ".join("-" * w for w in widths))
    return lines
