"""Tools the kit takes from Debian's packages (the cross compiler, qemu-user): found on PATH, else installed
with apt-get where the kit may (root, apt-get present), else one line naming what is missing and how to get it."""

from __future__ import annotations

import os
import shutil
import subprocess

from tlkit.base import procs
from tlkit.base.errors import KitError


def find_or_install(binaries: list[str], package: str, what: str, environ: dict[str, str], log=print) -> list[str]:
    """The full paths of `binaries` (all from Debian `package`), installing the package when one is missing."""
    path = environ.get("PATH", "")
    found = [shutil.which(b, path=path) for b in binaries]
    if all(found):
        return [str(f) for f in found]
    missing = next(b for b, f in zip(binaries, found, strict=True) if not f)
    apt = shutil.which("apt-get", path=path)
    if apt is None or os.geteuid() != 0:
        why = "no apt-get here" if apt is None else "not root, so apt-get cannot install"
        raise KitError(f"{what}: {missing} is not on PATH and the kit cannot install it ({why}); install Debian's "
                       f"{package} (sudo apt-get install {package}) or put {missing} on PATH")
    log(f"{what}: installing Debian's {package} (apt-get)")
    env = {**environ, "DEBIAN_FRONTEND": "noninteractive"}
    res = procs.run([apt, "install", "-y", "-q", "--no-install-recommends", package], env=env,
                         capture_output=True, text=True)
    if res.returncode != 0:  # a fresh machine has no package lists yet
        procs.run([apt, "update", "-q"], env=env, capture_output=True, text=True)
        res = procs.run([apt, "install", "-y", "-q", "--no-install-recommends", package], env=env,
                             capture_output=True, text=True)
    found = [shutil.which(b, path=path) for b in binaries]
    if res.returncode != 0 or not all(found):
        last = (res.stderr or res.stdout).strip().splitlines()[-1:] or ["no output"]
        raise KitError(f"{what}: apt-get install {package} failed ({last[0]}); install it by hand or put "
                       f"{missing} on PATH")
    return [str(f) for f in found]


def package_version(package: str) -> str | None:
    """The installed version of a Debian package (for provenance), or None."""
    if shutil.which("dpkg-query") is None:
        return None
    res = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package], capture_output=True, text=True)
    return (res.stdout.strip() or None) if res.returncode == 0 else None
