"""A fresh venv holding the wheel under test, torch and nothing else of the user's; the CUDA toolkit is
the kit's cached PyPI toolchain of the recipe's CUDA version, cuobjdump a cached PyPI package too."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tlkit.errors import KitError

READY = ".tlkit-ready"


@dataclass(frozen=True)
class VerifyEnv:
    root: Path
    python: Path
    label: str  # what is under test, e.g. "tilelang 0.1.14+tlkit.cu132.p1234abcd (wheel)"
    version: str
    seconds: float  # how long the venv took to set up


def create_venv(root: Path, install: list[str], log=print) -> VerifyEnv:
    """Make `root` a new venv (removing what was there) and pip-install `install` into it."""
    start = time.monotonic()
    if root.exists():
        shutil.rmtree(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    log(f"venv: {root}: pip install {' '.join(install)}")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, capture_output=True, text=True)
        res = subprocess.run([str(root / "bin" / "python"), "-m", "pip", "install", "--quiet",
                              "--disable-pip-version-check", *install], capture_output=True, text=True)
        if res.returncode != 0:
            raise KitError(f"installing {' '.join(install)} into {root} failed:\n{res.stderr.strip()[-3000:]}")
        probe = subprocess.run([str(root / "bin" / "python"), "-c",
                                "import importlib.metadata as m; print(m.version('tilelang'))"],
                               capture_output=True, text=True)
        if probe.returncode != 0:
            raise KitError(f"tilelang is not installed in {root}:\n{probe.stderr.strip()[-2000:]}")
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    version = probe.stdout.strip()
    (root / READY).write_text(" ".join(install) + "\n")
    return VerifyEnv(root, root / "bin" / "python", f"tilelang {version}", version, time.monotonic() - start)


def ensure_tool(requirement: str, cache: Path, binary: str) -> Path:
    """A PyPI-packaged CUDA tool (cuobjdump) installed once under the cache; returns the binary."""
    name = requirement.replace("==", "-")
    prefix = cache / "tools" / name
    exe = prefix / "nvidia" / "cu13" / "bin" / binary
    if (prefix / READY).is_file() and exe.is_file():
        return exe
    shutil.rmtree(prefix, ignore_errors=True)
    staged = prefix.with_name(prefix.name + ".partial")
    shutil.rmtree(staged, ignore_errors=True)
    res = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--disable-pip-version-check",
                          "--target", str(staged), requirement], capture_output=True, text=True)
    if res.returncode != 0:
        shutil.rmtree(staged, ignore_errors=True)
        raise KitError(f"installing {requirement} failed:\n{res.stderr.strip()[-2000:]}")
    (staged / READY).write_text(requirement + "\n")
    staged.rename(prefix)
    if not exe.is_file():
        raise KitError(f"{requirement} has no {binary} at {exe}")
    return exe
