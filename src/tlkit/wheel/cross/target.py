"""Everything of the target machine a cross build reads, gathered once under the cache: its CUDA toolkit and
runtime wheels (pip --platform), its Debian sysroot, and the cross compiler; then the toolchain file."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tlkit.base.cacheentry import cached_entry, is_ready
from tlkit.base.errors import KitError
from tlkit.wheel.cross.arch import load_debian
from tlkit.wheel.cross.cmake import TargetLayout, write_toolchain_file
from tlkit.wheel.cross.compiler import CrossCompiler, ensure_cross_compiler
from tlkit.wheel.cross.cudahome import cross_toolkit
from tlkit.wheel.cross.packages import TargetPackages, install_target
from tlkit.wheel.cross.sysroot import ensure_sysroot
from tlkit.wheel.toolchain import Toolchain

ELF_MACHINES = {62: "x86_64", 183: "aarch64"}  # e_machine of the ELF header


def elf_machine(path: Path) -> str:
    """The machine an ELF file is for (what `readelf -h` calls Machine), to check a download before use."""
    with open(path, "rb") as f:
        head = f.read(20)
    if head[:4] != b"\x7fELF":
        raise KitError(f"{path} is not an ELF file")
    code = int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")
    return ELF_MACHINES.get(code, f"machine {code}")


def _ensure_wheels(requirements: tuple[str, ...], target: TargetPackages, prefix: Path, log) -> Path:
    if not is_ready(prefix):
        log(f"target: installing {target.arch.name} wheels {' '.join(requirements)}")
    return cached_entry(prefix, " ".join(requirements), lambda staged: install_target(requirements, target, staged),
                        log)


def _dev_links(lib: Path) -> None:
    """libX.so -> libX.so.N beside each versioned library, as a -dev package would give: the wheels ship only
    the versioned names, and CMake's FindCUDAToolkit looks for the plain ones."""
    for versioned in sorted(lib.glob("lib*.so.*")):
        plain = lib / (versioned.name.split(".so.")[0] + ".so")
        if not plain.exists():
            plain.symlink_to(versioned.name)


def target_cuda(target: TargetPackages, cache: Path, log=print) -> Path:
    """The target's nvidia/cu13 (include/, lib/), checked to hold the target's libcudart."""
    nvcc = next(r for r in target.toolkit if r.startswith("nvidia-cuda-nvcc=="))
    prefix = cache / "target-cuda" / f"cuda-{nvcc.split('==')[1]}-{target.arch.name}"
    if not is_ready(prefix):
        log(f"target: installing {target.arch.name} wheels {' '.join(target.toolkit)}")

    def fill(staged: Path) -> None:
        install_target(target.toolkit, target, staged)
        _dev_links(staged / "nvidia" / "cu13" / "lib")

    root = cached_entry(prefix, " ".join(target.toolkit), fill, log) / "nvidia" / "cu13"
    cudart = next((root / "lib").glob("libcudart.so.*"), None)
    if cudart is None or elf_machine(cudart) != target.arch.name:
        raise KitError(f"{root / 'lib'} holds no {target.arch.name} libcudart; remove {prefix} and run again")
    return root


def target_site(target: TargetPackages, cache: Path, log=print) -> Path:
    """The target's runtime pins (apache-tvm-ffi, z3-solver) installed as a pip --target folder."""
    key = hashlib.sha256("\n".join([target.python, *target.runtime]).encode()).hexdigest()[:12]
    return _ensure_wheels(target.runtime, target, cache / "target-site" / f"{target.arch.name}-{key}", log)


def cross_nvcc(host: Toolchain, cuda: Path, cache: Path, log=print) -> Path:
    """This machine's nvcc composed with the target's include/ and lib/ (cudahome.cross_toolkit), made once."""
    key = hashlib.sha256(f"{host.root}\n{cuda}".encode()).hexdigest()[:12]
    entry = cache / "target-cuda" / f"cross-{host.spec.key}-{key}"
    return cached_entry(entry, f"{host.root} + {cuda}", lambda staged: cross_toolkit(host.root, cuda, staged),
                        log) / "bin" / "nvcc"


def prepare_target(target: TargetPackages, host: Toolchain, arches_table: Path, cache: Path, host_python: Path,
                   environ: dict[str, str], toolchain_file: Path, log=print) -> tuple[CrossCompiler, TargetLayout]:
    """Cross compiler, target CUDA, target wheels, sysroot, and the toolchain file written at `toolchain_file`;
    `host`: this machine's toolkit of the same CUDA row, whose nvcc does the compiling."""
    compiler = ensure_cross_compiler(target.arch, environ, log)
    cuda = target_cuda(target, cache, log)
    layout = TargetLayout(cuda=cuda, nvcc=cross_nvcc(host, cuda, cache, log), site=target_site(target, cache, log),
                          sysroot=ensure_sysroot(target.arch, load_debian(arches_table), cache, environ, log),
                          host_python=host_python)
    write_toolchain_file(toolchain_file, compiler, layout)
    return compiler, layout
