"""The cached build venv: PEP 517 front end, scikit-build-core, cmake, ninja, auditwheel, pinned."""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

from tlkit.base import procs
from tlkit.base.cacheentry import is_ready, mark_ready
from tlkit.base.errors import KitError
from tlkit.base.locks import exclusive


def buildenv_key(requires: tuple[str, ...] | list[str]) -> str:
    """Same requirements and Python give the same folder, so build paths (and ccache hits) are stable."""
    python = ".".join(map(str, sys.version_info[:3]))
    text = "\n".join(sorted(requires)) + f"\npython={python}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def make_venv(env: Path, requirements: list[str] | tuple[str, ...]) -> None:
    """Create the venv `env` from nothing, pip-install `requirements`, and mark it ready. A failure
    removes the half-made venv, so a venv with the marker is always complete."""
    if env.exists():
        shutil.rmtree(env)
    env.parent.mkdir(parents=True, exist_ok=True)
    try:
        procs.run([sys.executable, "-m", "venv", str(env)], check=True, capture_output=True, text=True)
        res = procs.run([str(env / "bin" / "python"), "-m", "pip", "install", "--quiet",
                             "--disable-pip-version-check", *requirements], capture_output=True, text=True)
        if res.returncode != 0:
            raise KitError(f"installing {' '.join(requirements)} into {env} failed:\n{res.stderr.strip()[-3000:]}")
    except BaseException:
        shutil.rmtree(env, ignore_errors=True)
        raise
    mark_ready(env, "\n".join(requirements))


def ensure_buildenv(requires: tuple[str, ...] | list[str], cache: Path, log=print) -> Path:
    """Return the venv folder; an env without its ready marker (interrupted) is rebuilt."""
    env = cache / "buildenv" / buildenv_key(requires)
    if is_ready(env):
        return env
    # Made in place (a venv records its own path), so one process makes it while the others wait.
    with exclusive(env.with_name(env.name + ".lock"), f"the build venv {env}", wait=True, log=log):
        if not is_ready(env):
            log(f"build env: creating {env} with {', '.join(requires)}")
            make_venv(env, requires)
    return env
