"""The target machine's packages for a cross build: the CUDA toolkit row and the runtime pins (apache-tvm-ffi,
z3-solver) as the target's wheels from PyPI, picked with pip's --platform/--python-version instead of by the
machine that runs pip."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from tlkit.base import procs
from tlkit.base.errors import KitError
from tlkit.wheel.cross.arch import Arch


@dataclass(frozen=True)
class TargetPackages:
    arch: Arch
    python: str  # X.Y: the target interpreter's version (the cp3XX wheels of apache-tvm-ffi)
    toolkit: tuple[str, ...]  # name==version of the CUDA toolkit row
    # name==version of every runtime pin of the recipe: the build links some of them (libtilelang links the
    # target's libz3 and libtvm_ffi, both excluded from the repair and taken from these wheels at run time)
    runtime: tuple[str, ...]

    def pip_args(self) -> list[str]:
        """pip options that pick the target's binary wheels whatever machine pip runs on."""
        args = ["--only-binary=:all:", "--implementation", "cp", "--python-version", self.python]
        abi = "cp" + self.python.replace(".", "")
        for tag in (abi, "abi3", "none"):
            args += ["--abi", tag]
        for tag in self.arch.pip_platforms():
            args += ["--platform", tag]
        return args


def resolve_target_packages(arch: Arch, python: str, toolkit: dict[str, str], pins: dict[str, str],
                            pins_file: Path) -> TargetPackages:
    """Exact requirements for the target; a runtime pin that is not `==` cannot name one wheel."""
    runtime = []
    for name, spec in sorted(pins.items()):
        if not spec.startswith("==") or "," in spec:
            raise KitError(f"{pins_file}: [runtime] pins.{name} must be '==VERSION' for a cross build to pick the "
                           f"target's wheel, got {spec!r}")
        runtime.append(f"{name}{spec}")
    return TargetPackages(arch, python, tuple(f"{n}=={v}" for n, v in sorted(toolkit.items())), tuple(runtime))


def install_target(requirements: list[str] | tuple[str, ...], target: TargetPackages, into: Path,
                   deps: bool = False) -> None:
    """pip install --target of the target machine's wheels; without `deps` only those named (all pinned)."""
    cmd = [sys.executable, "-m", "pip", "install", *([] if deps else ["--no-deps"]), "--disable-pip-version-check",
           "--quiet",
           "--no-warn-script-location", "--target", str(into), *target.pip_args(), *requirements]
    res = procs.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise KitError(f"installing the {target.arch.name} wheels {' '.join(requirements)} failed:\n"
                       f"{res.stderr.strip()[-2000:]}")


def download_target(requirement: str, target: TargetPackages, into: Path) -> Path:
    """pip download of one target wheel (no dependencies) into `into`; returns the wheel."""
    into.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "--quiet",
           "-d", str(into), *target.pip_args(), requirement]
    res = procs.run(cmd, capture_output=True, text=True)
    wheels = sorted(into.glob("*.whl"))
    if res.returncode != 0 or len(wheels) != 1:
        raise KitError(f"pip download {requirement} for {target.arch.name} failed:\n{res.stderr.strip()[-2000:]}")
    return wheels[0]
