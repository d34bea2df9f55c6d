"""Where the kit keeps its data (recipes, patches) and its caches."""

from __future__ import annotations

import os
from pathlib import Path


def kit_root() -> Path:
    """The checkout holding recipes/ and patches/: $TLKIT_ROOT, else the first parent of the cwd or
    of this package that has both."""
    env = os.environ.get("TLKIT_ROOT")
    if env:
        return Path(env).resolve()
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for folder in (start, *start.parents):
            if (folder / "recipes").is_dir() and (folder / "patches").is_dir():
                return folder
    raise RuntimeError("cannot find the kit's recipes/ and patches/; set TLKIT_ROOT to the kit checkout")


def cache_root() -> Path:
    """User cache: $TLKIT_CACHE_DIR, else $XDG_CACHE_HOME/tlkit, else ~/.cache/tlkit.

    Paths under it are stable, which keeps ccache hits across rebuilds."""
    env = os.environ.get("TLKIT_CACHE_DIR")
    if env:
        return Path(env).resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return (base / "tlkit").resolve()
