"""A fresh venv holding the wheel under test, torch and nothing else of the user's; the CUDA toolkit is
the kit's cached PyPI toolchain of the recipe's CUDA version, cuobjdump a cached PyPI package too."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tlkit.base import procs
from tlkit.base.cacheentry import is_ready, staged_entry
from tlkit.base.errors import KitError
from tlkit.base.procs import tied
from tlkit.wheel.buildenv import make_venv
from tlkit.wheel.sources import sha256_file


@dataclass(frozen=True)
class VerifyEnv:
    root: Path
    python: Path
    label: str  # what is under test, e.g. "tilelang 0.1.14+tlkit.cu132.p1234abcd (wheel)"
    version: str
    seconds: float  # how long the venv took to set up


def venv_key(install: list[str]) -> str:
    """Requirements plus the sha256 of any wheel file among them: a rebuilt wheel gets a new venv."""
    h = hashlib.sha256()
    for item in install:
        h.update(item.encode() + b"\0")
        if item.endswith(".whl") and Path(item).is_file():
            h.update(sha256_file(Path(item)).encode())
    return h.hexdigest()[:16]


TRASH = ".trash-"


def _discard(path: Path) -> None:
    """Move a stale venv aside and delete it in the background (deleting 30,000 files takes minutes on a busy
    disk). The deletion ends with this process; what it leaves is deleted by the next create_venv."""
    trash = path if path.name.startswith(TRASH) else path.with_name(
        f"{TRASH}{path.name}-{os.getpid()}-{time.monotonic_ns()}")
    if trash != path:
        path.rename(trash)
    subprocess.Popen(tied(["rm", "-rf", str(trash)]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _abandoned(trash: Path) -> bool:
    """A trash folder whose deleting process (its PID is in the name) is gone."""
    try:
        pid = int(trash.name.split("-")[-2])
    except (IndexError, ValueError):
        return True
    return not Path(f"/proc/{pid}").exists()


def create_venv(parent: Path, install: list[str], fresh: bool = False, log=print) -> VerifyEnv:
    """A venv made from nothing for exactly `install` (kept and reused while `install` and the wheel's
    bytes are unchanged; `fresh` makes a new one). Other venvs under `parent` are discarded."""
    start = time.monotonic()
    root = parent / venv_key(install)
    parent.mkdir(parents=True, exist_ok=True)
    for other in parent.iterdir():
        if not other.is_dir():
            continue
        if other.name.startswith(TRASH):
            if _abandoned(other):
                _discard(other)
        elif other != root or fresh or not is_ready(other):
            _discard(other)
    if not is_ready(root):
        log(f"venv: {root}: pip install {' '.join(install)}")
        make_venv(root, install)
    else:
        log(f"venv: reusing {root} (same requirements and wheel bytes; --fresh-venv makes a new one)")
    probe = subprocess.run([str(root / "bin" / "python"), "-c",
                            "import importlib.metadata as m; print(m.version('tilelang'))"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        raise KitError(f"tilelang is not installed in {root}:\n{probe.stderr.strip()[-2000:]}")
    version = probe.stdout.strip()
    return VerifyEnv(root, root / "bin" / "python", f"tilelang {version}", version, time.monotonic() - start)


def ensure_tool(requirement: str, cache: Path, binary: str) -> Path:
    """A PyPI-packaged CUDA tool (cuobjdump, compute-sanitizer) installed once under the cache; returns the
    binary."""
    name = requirement.replace("==", "-")
    prefix = cache / "tools" / name
    exe = prefix / "nvidia" / "cu13" / "bin" / binary
    if is_ready(prefix) and exe.is_file():
        return exe
    with staged_entry(prefix, requirement) as staged:
        res = procs.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                             "--disable-pip-version-check", "--target", str(staged), requirement],
                            capture_output=True, text=True)
        if res.returncode != 0:
            raise KitError(f"installing {requirement} failed:\n{res.stderr.strip()[-2000:]}")
    if not exe.is_file():
        raise KitError(f"{requirement} has no {binary} at {exe}")
    return exe
