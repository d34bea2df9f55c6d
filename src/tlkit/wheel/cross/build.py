"""What a cross build adds to the native PEP 517 build: the toolchain file (the target's compiler, CUDA, z3 and
Python headers), the wheel tag of the target, and the provenance of the cross toolchain."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tlkit.wheel.cross.cmake import TargetLayout
from tlkit.wheel.cross.compiler import CrossCompiler
from tlkit.wheel.cross.packages import TargetPackages
from tlkit.wheel.cross.target import prepare_target
from tlkit.wheel.toolchain import Toolchain

# Variables of the native build that would point CMake at this machine's CUDA: in a cross build the toolchain
# file names the target's (and TileLang's FindPipCUDAToolkit, given WITH_PIP_CUDA_TOOLCHAIN, would make the
# target's aarch64 nvcc the compiler).
NATIVE_ONLY_ENV = ("WITH_PIP_CUDA_TOOLCHAIN", "CUDAToolkit_ROOT", "CUDACXX")


@dataclass(frozen=True)
class CrossBuild:
    target: TargetPackages
    compiler: CrossCompiler
    layout: TargetLayout
    toolchain_file: Path

    def environment(self, native: dict[str, str]) -> dict[str, str]:
        """The native build's environment for this target: the CUDA variables of this machine dropped, and the
        platform scikit-build-core puts in the wheel tag (its _PYTHON_HOST_PLATFORM, as CPython's own)."""
        env = {k: v for k, v in native.items() if k not in NATIVE_ONLY_ENV}
        env["_PYTHON_HOST_PLATFORM"] = f"linux-{self.target.arch.name}"
        return env

    def config_settings(self) -> tuple[str, ...]:
        """scikit-build-core settings: the toolchain file, and no hints of this machine's Python (its include
        folder would otherwise become a cache entry ahead of the target's headers)."""
        return (f"cmake.toolchain-file={self.toolchain_file}", "cmake.python-hints=false")

    def library_paths(self) -> tuple[Path, ...]:
        """Where auditwheel finds the wheel's libraries: the target's libc and libstdc++ (sysroot), CUDA and runtime
        wheels; never this machine's, which are another arch's."""
        triplet, root = self.target.arch.triplet, self.layout.sysroot
        wheels = sorted(p for p in self.layout.site.glob("*/lib") if p.is_dir())  # the runtime wheels' libraries
        return (root / "lib" / triplet, root / "usr" / "lib" / triplet, root / "lib", root / "usr" / "lib",
                self.layout.cuda / "lib", *wheels)

    def provenance(self) -> dict:
        """The target and every part of the cross toolchain, for the wheel's provenance record."""
        return {"arch": self.target.arch.name, "python": self.target.python,
                "cross_compiler": self.compiler.provenance(),
                "toolkit_wheels": list(self.target.toolkit), "runtime_wheels": list(self.target.runtime),
                "sysroot_packages": _sysroot_packages(self.layout.sysroot)}


def _sysroot_packages(sysroot: Path) -> list[str]:
    return (sysroot / "tlkit-packages.txt").read_text().split()  # sysroot.ensure_sysroot: the .deb files unpacked


def prepare_cross_build(target: TargetPackages, host: Toolchain, arches_table: Path, cache: Path, buildenv: Path,
                        work: Path, log=print) -> CrossBuild:
    """The target's side gathered under the cache and the toolchain file written into the build folder; `host`:
    this machine's toolkit of the same CUDA row, whose nvcc compiles for the target."""
    toolchain_file = work / "cross" / "toolchain.cmake"
    compiler, layout = prepare_target(target, host, arches_table, cache, buildenv / "bin" / "python",
                                      dict(os.environ), toolchain_file, log)
    log(f"cross: {target.arch.name} with {compiler.cxx} {compiler.version}, toolchain file {toolchain_file}")
    return CrossBuild(target, compiler, layout, toolchain_file)
