"""Running the target's programs on this machine under qemu-user (Debian's qemu-user, installed by the kit
where missing), with the target's sysroot as the root for its loader and libraries."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tlkit.base import procs
from tlkit.wheel.cross.arch import Arch
from tlkit.wheel.cross.debian import find_or_install


def ensure_qemu(arch: Arch, environ: dict[str, str], log=print) -> str:
    return find_or_install([arch.qemu], "qemu-user", f"running {arch.name} programs", environ, log)[0]


def emulated(qemu: str, sysroot: Path, argv: list[str]) -> list[str]:
    """`argv` (a target program and its arguments) as a command of this machine."""
    return [qemu, "-L", str(sysroot), *argv]


def run_emulated(qemu: str, sysroot: Path, argv: list[str], env: dict[str, str], timeout: float,
                 cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run under qemu, tied to this process and bounded by `timeout` (TimeoutExpired past it)."""
    return procs.run(emulated(qemu, sysroot, argv), env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)
