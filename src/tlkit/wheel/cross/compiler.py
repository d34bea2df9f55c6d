"""The C/C++ cross compiler for a target machine: Debian's GCC cross packages (g++-<triplet>), which link
against libstdc++ as the target's apache-tvm-ffi and z3-solver wheels do (docs/aarch64.md)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from tlkit.base.errors import KitError
from tlkit.wheel.cross.arch import Arch
from tlkit.wheel.cross.debian import find_or_install, package_version


@dataclass(frozen=True)
class CrossCompiler:
    arch: Arch
    cc: str
    cxx: str
    version: str  # `g++ -dumpfullversion`
    packages: dict[str, str]  # Debian package -> version, for provenance

    def provenance(self) -> dict:
        return {"triplet": self.arch.triplet, "gcc": self.version,
                "debian_packages": dict(sorted(self.packages.items()))}


def ensure_cross_compiler(arch: Arch, environ: dict[str, str], log=print) -> CrossCompiler:
    cc, cxx = find_or_install([f"{arch.triplet}-gcc", f"{arch.triplet}-g++"], arch.cross_compiler,
                              f"the {arch.name} cross compiler", environ, log)
    res = subprocess.run([cxx, "-dumpfullversion"], capture_output=True, text=True)
    if res.returncode != 0:
        raise KitError(f"{cxx} -dumpfullversion failed ({res.returncode}): {res.stderr.strip()[:300]}")
    packages = {}
    for pkg in (arch.cross_compiler, f"libc6-dev-{arch.debian}-cross", f"libstdc++6-{arch.debian}-cross"):
        version = package_version(pkg)
        if version:
            packages[pkg] = version
    return CrossCompiler(arch, cc, cxx, res.stdout.strip(), packages)
