"""Everything of the target machine a cross build reads, gathered once under the cache: its CUDA toolkit and
runtime wheels (pip --platform), its Debian sysroot, and the cross compiler; then the toolchain file."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tlkit.cacheentry import cached_entry, is_ready
from tlkit.cross.arch import load_debian
from tlkit.cross.cmake import TargetLayout, write_toolchain_file
from tlkit.cross.compiler import CrossCompiler, ensure_cross_compiler
from tlkit.cross.packages import TargetPackages, install_target
from tlkit.cross.sysroot import ensure_sysroot
from tlkit.errors import KitError

ELF_MACHINES = {62: "x86_64", 183: "aarch64"}  # e_machine of the ELF header


def elf_machine(path: Path) -> str:
    """The machine an ELF file is for (what `readelf -h` calls Machine), to check a download before use."""
    head = path.read_bytes()[:20]
    if head[:4] != b"\x7fELF":
        raise KitError(f"{path} is not an ELF file")
    code = int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")
    return ELF_MACHINES.get(code, f"machine {code}")


def _ensure_wheels(requirements: tuple[str, ...], target: TargetPackages, prefix: Path, log) -> Path:
    if not is_ready(prefix):
        log(f"target: installing {target.arch.name} wheels {' '.join(requirements)}")
    return cached_entry(prefix, " ".join(requirements), lambda staged: install_target(requirements, target, staged),
                        log)


def target_cuda(target: TargetPackages, cache: Path, log=print) -> Path:
    """The target's nvidia/cu13 (include/, lib/), checked to hold the target's libcudart."""
    nvcc = next(r for r in target.toolkit if r.startswith("nvidia-cuda-nvcc=="))
    prefix = cache / "toolchains" / f"cuda-{nvcc.split('==')[1]}-{target.arch.name}"
    root = _ensure_wheels(target.toolkit, target, prefix, log) / "nvidia" / "cu13"
    cudart = next((root / "lib").glob("libcudart.so.*"), None)
    if cudart is None or elf_machine(cudart) != target.arch.name:
        raise KitError(f"{root / 'lib'} holds no {target.arch.name} libcudart; remove {prefix} and run again")
    return root


def target_site(target: TargetPackages, cache: Path, log=print) -> Path:
    """The target's runtime pins (apache-tvm-ffi, z3-solver) installed as a pip --target folder."""
    key = hashlib.sha256("\n".join([target.python, *target.runtime]).encode()).hexdigest()[:12]
    return _ensure_wheels(target.runtime, target, cache / "target-site" / f"{target.arch.name}-{key}", log)


def prepare_target(target: TargetPackages, arches_table: Path, cache: Path, host_python: Path,
                   environ: dict[str, str], toolchain_file: Path, log=print) -> tuple[CrossCompiler, TargetLayout]:
    """Cross compiler, target CUDA, target wheels, sysroot, and the toolchain file written at `toolchain_file`."""
    compiler = ensure_cross_compiler(target.arch, environ, log)
    layout = TargetLayout(cuda=target_cuda(target, cache, log), site=target_site(target, cache, log),
                          sysroot=ensure_sysroot(target.arch, load_debian(arches_table), cache, environ, log),
                          host_python=host_python)
    write_toolchain_file(toolchain_file, compiler, layout)
    return compiler, layout
