"""The kit's cross toolchain for real: the target's packages gathered, the toolchain file written, a small CMake
project (C++ with the target's libcudart and libz3, an abi3 Python extension) cross-built for aarch64, checked
with readelf and run under qemu-user, the extension imported by the target's own python3 under emulation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, user_toolchain

from tlkit.base.paths import cache_root
from tlkit.wheel.buildenv import ensure_buildenv
from tlkit.wheel.cross.cudahome import emulated_toolkit
from tlkit.wheel.cross.emulate import ensure_qemu, run_emulated
from tlkit.wheel.cross.target import elf_machine, prepare_target
from tlkit.wheel.pipeline import BuildInput, make_plan

KIT = Path(__file__).resolve().parents[1]
ARCHES = KIT / "recipes" / "arches.toml"
BOUND_S = 600  # a bound so that a stuck emulator fails the test; not a timing


@pytest.fixture(scope="module")
def aarch64(tmp_path_factory):
    # CUDA 13.2: the toolkit the aarch64 wheel was built and measured with (docs/aarch64.md), not the default
    plan = make_plan(BuildInput(jobs=1, arch="aarch64", cuda="13.2"))
    out = tmp_path_factory.mktemp("cross")
    env = dict(os.environ)
    host = user_toolchain(plan.cuda)
    compiler, layout = prepare_target(plan.target, host, ARCHES, cache_root(), Path(sys.executable), env,
                                      out / "toolchain.cmake", log=lambda *_: None)
    return plan, compiler, layout, out, ensure_qemu(plan.arch, env, log=lambda *_: None)


def readelf_machine(path: Path) -> str:
    out = subprocess.run(["readelf", "-h", str(path)], capture_output=True, text=True, check=True).stdout
    return next(ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.strip().startswith("Machine:"))


def test_toolchain_file_takes_the_targets_compiler_and_roots(aarch64):
    plan, compiler, layout, out, _ = aarch64
    text = (out / "toolchain.cmake").read_text()
    assert "set(CMAKE_SYSTEM_PROCESSOR aarch64)" in text
    assert f'set(CMAKE_CXX_COMPILER "{compiler.cxx}")' in text and compiler.cxx.endswith("aarch64-linux-gnu-g++")
    assert f'"{layout.cuda}"' in text and f'"{layout.site / "z3"}"' in text and f'"{layout.sysroot / "usr"}"' in text
    assert "CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY" in text and "CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER" in text
    # nvcc is this machine's (it runs here), its lib/ the target's (what it links against).
    assert f'set(CMAKE_CUDA_COMPILER "{layout.nvcc}")' in text
    assert elf_machine(layout.nvcc.resolve()) == "x86_64" and (layout.nvcc.parent.parent / "lib").resolve() == \
        (layout.cuda / "lib").resolve()
    assert (out / "toolchain.cmake.modules" / "FindZ3.cmake").is_file()


def test_fixture_cross_builds_for_aarch64_and_runs_under_qemu(aarch64):
    plan, compiler, layout, out, qemu = aarch64
    tools = ensure_buildenv(["cmake==4.4.5", "ninja==1.13.2"], cache_root(), log=lambda *_: None) / "bin"
    build = out / "build"
    configure = subprocess.run([str(tools / "cmake"), "-S", str(FIXTURES / "crossprobe"), "-B", str(build), "-G",
                                "Ninja", f"-DCMAKE_MAKE_PROGRAM={tools / 'ninja'}",
                                f"-DCMAKE_TOOLCHAIN_FILE={out / 'toolchain.cmake'}"],
                               capture_output=True, text=True, timeout=BOUND_S)
    assert configure.returncode == 0, configure.stdout + configure.stderr
    # Each library came from the target's side, none from this machine's.
    line = next(ln for ln in configure.stdout.splitlines() if "crossprobe:" in ln)
    assert f"cudart {layout.cuda}/lib/libcudart.so" in line and f"z3 {layout.site}/z3/lib/libz3.so" in line, line
    assert f"python {layout.sysroot}/usr/include/python3.11" in line, line
    compiled = subprocess.run([str(tools / "ninja"), "-C", str(build)], capture_output=True, text=True,
                              timeout=BOUND_S)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    probe, module = build / "probe", build / "_probe.abi3.so"
    assert readelf_machine(probe) == "AArch64" and readelf_machine(module) == "AArch64"

    env = {**os.environ, "LD_LIBRARY_PATH": f"{layout.cuda / 'lib'}:{layout.site / 'z3' / 'lib'}"}
    ran = run_emulated(qemu, layout.sysroot, [str(probe)], env, BOUND_S)
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0] == "cudart 13020" and lines[1] == "z3 sat" and lines[2].startswith("libstdc++ 2"), lines
    assert lines[3].startswith("devices cudaError"), lines  # the runtime answered; no driver under qemu
    sections = subprocess.run(["readelf", "-SW", str(probe)], capture_output=True, text=True, check=True).stdout
    assert ".nv_fatbin" in sections  # the sm_121a kernel, built by nvcc into the aarch64 program

    python = layout.sysroot / "usr" / "bin" / "python3.11"
    imported = run_emulated(qemu, layout.sysroot, [str(python), "-c", "import platform, _probe; "
                                                   "print(platform.machine(), _probe.machine())"],
                            {**os.environ, "PYTHONPATH": str(build)}, BOUND_S)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.split() == ["aarch64", "aarch64"]


def test_emulated_python_sees_an_aarch64_cpu(aarch64):
    """The sysroot's proc/cpuinfo stands in for this machine's under qemu -L (without it `import torch` dies)."""
    plan, _, layout, _, qemu = aarch64
    python = layout.sysroot / "usr" / "bin" / "python3.11"
    res = run_emulated(qemu, layout.sysroot, [str(python), "-c", "print(open('/proc/cpuinfo').read())"],
                       dict(os.environ), BOUND_S)
    assert res.returncode == 0, res.stderr
    assert "CPU implementer\t: 0x41" in res.stdout and f"CPU part\t: 0x{plan.arch.emulated_cpu.split(':0x')[1]}" \
        in res.stdout


def test_emulated_toolkit_compiles_for_sm_121a_with_the_aarch64_nvcc(aarch64, tmp_path):
    """nvcc, cicc and ptxas of the aarch64 toolkit, each under qemu-user, its host compiler the cross GCC."""
    plan, compiler, layout, _, qemu = aarch64
    shim = emulated_toolkit(layout.cuda, layout.sysroot, qemu, compiler.cc, compiler.cxx, tmp_path / "cuda")
    kernel = tmp_path / "k.cu"
    kernel.write_text("__global__ void k(float* a) { a[threadIdx.x] += 1.0f; }\n")
    version = subprocess.run([str(shim / "bin" / "nvcc"), "--version"], capture_output=True, text=True,
                             timeout=BOUND_S)
    assert version.returncode == 0 and "release 13.2, V13.2.86" in version.stdout, version.stderr
    res = subprocess.run([str(shim / "bin" / "nvcc"), "-arch=sm_121a", "-cubin", "-o", str(tmp_path / "k.cubin"),
                          str(kernel)], capture_output=True, text=True, timeout=BOUND_S, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert readelf_machine(tmp_path / "k.cubin") == "NVIDIA CUDA architecture"
    assert elf_machine(layout.cuda / "bin" / "nvcc") == "aarch64"  # it was the aarch64 nvcc that ran


def test_emulated_python_starts_itself_again_through_sys_executable(aarch64, tmp_path):
    """Patch 0007 runs nvcc under a supervisor started with sys.executable. qemu-user follows no exec, so the
    emulated toolkit's python3.11 is a script that starts the target's python as itself: a child started with
    sys.executable is the emulated python again (with the sysroot's binary this machine cannot exec it)."""
    plan, compiler, layout, _, qemu = aarch64
    shim = emulated_toolkit(layout.cuda, layout.sysroot, qemu, compiler.cc, compiler.cxx, tmp_path / "cuda")
    code = ("import platform, subprocess, sys; print(sys.executable, platform.machine()); "
            "print(subprocess.run([sys.executable, '-c', 'import platform; print(platform.machine())'], "
            "capture_output=True, text=True, check=True).stdout.strip())")
    res = subprocess.run([str(shim / "bin" / "python3.11"), "-c", code], capture_output=True, text=True,
                         timeout=BOUND_S)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == [str(shim / "bin" / "python3.11"), "aarch64", "aarch64"]
