"""CUDA_HOME folders composed for another machine from the kit's PyPI toolkits; nothing in them is copied but
nvcc and its nvcc.profile, which nvcc reads beside itself and whose TOP is then the composed folder.

- cross_toolkit: this machine's nvcc, cicc and ptxas with the target's include/ and lib/, for a cross build
  (nvcc links what it builds against TOP/lib, which must be the target's);
- emulated_toolkit: the target's own nvcc and tools, each run under qemu-user, for the checks under emulation."""

from __future__ import annotations

from pathlib import Path


def _nvcc_copy(source_bin: Path, dest_bin: Path, name: str = "nvcc") -> Path:
    dest_bin.mkdir(parents=True, exist_ok=True)
    (dest_bin / "nvcc.profile").write_bytes((source_bin / "nvcc.profile").read_bytes())
    nvcc = dest_bin / name
    nvcc.write_bytes((source_bin / "nvcc").read_bytes())
    nvcc.chmod(0o755)
    return nvcc


def cross_toolkit(host: Path, target: Path, dest: Path) -> Path:
    """`dest`: nvcc of `host` (this machine's nvidia/cu13) that compiles and links against `target`'s headers
    and libraries; the host compiler is the toolchain file's CMAKE_CUDA_HOST_COMPILER."""
    _nvcc_copy(host / "bin", dest / "bin")
    for tool in sorted((host / "bin").iterdir()):
        if tool.name not in ("nvcc", "nvcc.profile"):
            (dest / "bin" / tool.name).symlink_to(tool)
    (dest / "nvvm").symlink_to(host / "nvvm")
    for name in ("include", "lib", "cuda_cccl"):
        if (target / name).exists():
            (dest / name).symlink_to(target / name)
    return dest


NVCC_TOOLS = ("bin2c", "cudafe++", "fatbinary", "nvlink", "ptxas", "__nvcc_device_query")


def _script(path: Path, lines: list[str]) -> None:
    path.write_text("#!/bin/sh\n" + "\n".join(lines) + "\n")
    path.chmod(0o755)


def emulated_toolkit(cuda: Path, sysroot: Path, qemu: str, cc: str, cxx: str, dest: Path) -> Path:
    """A CUDA_HOME at `dest` whose programs run the target's toolkit under qemu-user; returns dest.

    qemu-user follows no exec: a program the emulated nvcc starts through sh (cicc, ptxas, the host compiler) runs
    on this machine directly. So every program here is a script of this machine: nvcc, cicc, ptxas, ... call
    qemu on the target's own binary, and gcc/g++ (found first on the PATH nvcc sets) are the cross compiler,
    which is what gcc is on the target."""
    (dest / "nvvm" / "bin").mkdir(parents=True)
    for name in ("include", "lib", "cuda_cccl"):
        if (cuda / name).exists():
            (dest / name).symlink_to(cuda / name)
    (dest / "nvvm" / "libdevice").symlink_to(cuda / "nvvm" / "libdevice")
    _nvcc_copy(cuda / "bin", dest / "bin", "nvcc.target")
    (dest / "bin" / "crt").symlink_to(cuda / "bin" / "crt")

    def under_qemu(binary: Path | str, as_itself: bool = False) -> list[str]:
        """`as_itself`: the target program's argv[0] is this script (qemu -0), and so is a python's
        sys.executable."""
        argv0 = ' -0 "$0"' if as_itself else ""
        return [f'exec "{qemu}" -L "{sysroot}"{argv0} "{binary}" "$@"']

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
    # The target's pythons, each started as itself (-0 "$0"): its sys.executable is then this script, so a
    # program it starts with sys.executable (patch 0007's compiler supervisor) runs under qemu too, not as an
    # aarch64 file this machine cannot exec.
    for python in sorted((sysroot / "usr" / "bin").glob("python3.[0-9]*")):
        if python.name.replace("python3.", "").isdigit():
            _script(dest / "bin" / python.name, under_qemu(python, as_itself=True))
    return dest
