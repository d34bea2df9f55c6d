"""Running the target's programs on this machine under qemu-user (Debian's qemu-user, installed by the kit
where missing), with the target's sysroot as the root for its loader and libraries."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tlkit.cross.arch import Arch
from tlkit.cross.debian import find_or_install
from tlkit.supervise import tied


def ensure_qemu(arch: Arch, environ: dict[str, str], log=print) -> str:
    return find_or_install([arch.qemu], "qemu-user", f"running {arch.name} programs", environ, log)[0]


def emulated(qemu: str, sysroot: Path, argv: list[str]) -> list[str]:
    """`argv` (a target program and its arguments) as a command of this machine."""
    return [qemu, "-L", str(sysroot), *argv]


def run_emulated(qemu: str, sysroot: Path, argv: list[str], env: dict[str, str], timeout: float,
                 cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run under qemu, tied to this process and bounded by `timeout` (TimeoutExpired past it)."""
    return subprocess.run(tied(emulated(qemu, sysroot, argv)), env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


NVCC_TOOLS = ("bin2c", "cudafe++", "fatbinary", "nvlink", "ptxas", "__nvcc_device_query")


def _script(path: Path, lines: list[str]) -> None:
    path.write_text("#!/bin/sh\n" + "\n".join(lines) + "\n")
    path.chmod(0o755)


def emulated_toolkit(cuda: Path, sysroot: Path, qemu: str, cc: str, cxx: str, dest: Path) -> Path:
    """A CUDA_HOME at `dest` whose programs run the target's toolkit under qemu-user; returns dest.

    qemu-user follows no exec: a program the emulated nvcc starts through sh (cicc, ptxas, the host compiler) runs
    on this machine directly. So every program here is a script of this machine: nvcc, cicc, ptxas, ... call
    qemu on the target's own binary, and gcc/g++ (found first on the PATH nvcc sets) are the cross compiler,
    which is what gcc is on the target. nvcc itself is a copy beside its nvcc.profile, whose TOP is then `dest`."""
    (dest / "bin").mkdir(parents=True)
    (dest / "nvvm" / "bin").mkdir(parents=True)
    for name in ("include", "lib", "cuda_cccl"):
        if (cuda / name).exists():
            (dest / name).symlink_to(cuda / name)
    (dest / "nvvm" / "libdevice").symlink_to(cuda / "nvvm" / "libdevice")
    (dest / "bin" / "crt").symlink_to(cuda / "bin" / "crt")
    (dest / "bin" / "nvcc.profile").write_bytes((cuda / "bin" / "nvcc.profile").read_bytes())
    real_nvcc = dest / "bin" / "nvcc.target"
    real_nvcc.write_bytes((cuda / "bin" / "nvcc").read_bytes())
    real_nvcc.chmod(0o755)

    def under_qemu(binary: Path | str) -> list[str]:
        return [f'exec "{qemu}" -L "{sysroot}" "{binary}" "$@"']

    # Found beside the script, not at `dest`: the folder may be made elsewhere and renamed into place.
    _script(dest / "bin" / "nvcc", under_qemu('${0%/*}/nvcc.target'))
    _script(dest / "nvvm" / "bin" / "cicc", under_qemu(cuda / "nvvm" / "bin" / "cicc"))
    for tool in NVCC_TOOLS:
        if (cuda / "bin" / tool).is_file():
            _script(dest / "bin" / tool, under_qemu(cuda / "bin" / tool))
    # nvcc passes -m64 to its host compiler, which GCC for aarch64 does not take (it is LP64 only).
    drop_m64 = 'for a do shift; [ "$a" = -m64 ] || set -- "$@" "$a"; done'
    _script(dest / "bin" / "gcc", [drop_m64, f'exec "{cc}" "$@"'])
    _script(dest / "bin" / "g++", [drop_m64, f'exec "{cxx}" "$@"'])
    return dest
