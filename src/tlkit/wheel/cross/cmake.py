"""The CMake toolchain file of a cross build: the target's compiler, and every header and library CMake looks
for taken from the target's side (its CUDA toolkit wheels, its z3-solver wheel, the Debian packages of its
Python), never from this machine's."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tlkit.base.cacheentry import atomic_write_text
from tlkit.wheel.cross.compiler import CrossCompiler


@dataclass(frozen=True)
class TargetLayout:
    """Where the target's files are on this machine."""

    cuda: Path  # the target toolkit's nvidia/cu13 (include/, lib/) from the aarch64 wheels
    nvcc: Path  # this machine's nvcc, composed with the target's include/ and lib/ (cudahome.cross_toolkit)
    site: Path  # pip --target folder of the target's runtime wheels (z3/, tvm_ffi/)
    sysroot: Path  # the target's Debian packages unpacked (usr/include/python3.X, usr/include/<triplet>/...)
    host_python: Path  # the build's own interpreter: CMake runs it (cython, scripts), it is never linked


def _cmake_str(value: object) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def toolchain_text(compiler: CrossCompiler, layout: TargetLayout, modules: Path) -> str:
    arch = compiler.arch
    include = layout.sysroot / "usr" / "include"
    roots = [layout.cuda, layout.site / "z3", layout.sysroot, layout.sysroot / "usr"]
    lines = [
        f"# Written by tlkit (src/tlkit/wheel/cross/cmake.py): build for {arch.name} ({arch.triplet}) on another "
        "machine.",
        "set(CMAKE_SYSTEM_NAME Linux)",
        f"set(CMAKE_SYSTEM_PROCESSOR {arch.name})",
        f"set(CMAKE_C_COMPILER {_cmake_str(compiler.cc)})",
        f"set(CMAKE_CXX_COMPILER {_cmake_str(compiler.cxx)})",
        f"set(CMAKE_CUDA_HOST_COMPILER {_cmake_str(compiler.cxx)})",
        "# Headers and libraries only from the target's side; programs (cmake, ninja, nvcc, python) from here.",
        f"set(CMAKE_FIND_ROOT_PATH {' '.join(_cmake_str(r) for r in roots)})",
        "set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)",
        "set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)",
        "set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)",
        "set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)",
        f"set(CUDAToolkit_ROOT {_cmake_str(layout.cuda)})",
        "# nvcc runs here and links against TOP/lib, so it is this machine's nvcc in a folder whose lib/ is the",
        "# target's; the cache entry is what FindCUDAToolkit takes instead of CUDAToolkit_ROOT/bin/nvcc.",
        f"set(CMAKE_CUDA_COMPILER {_cmake_str(layout.nvcc)})",
        f"set(CUDAToolkit_NVCC_EXECUTABLE {_cmake_str(layout.nvcc)} CACHE FILEPATH \"nvcc for the target\")",
        f"set(TLKIT_TARGET_SITE {_cmake_str(layout.site)})",
        "# Python: this machine's interpreter runs; the target's headers come from the target's Debian",
        "# <triplet>-python3.X-config, which FindPython finds under Python_ROOT_DIR when cross-compiling. Its",
        "# pyconfig.h is Debian's multiarch wrapper: the target's own is reached through -idirafter, searched",
        "# after the compiler's own libc headers. Extensions are abi3 (USE_SABI): FindPython reports no SOABI",
        "# for a cross build, only the SOSABI abi3.",
        f"set(Python_EXECUTABLE {_cmake_str(layout.host_python)})",
        "set(Python3_EXECUTABLE ${Python_EXECUTABLE})",
        f"set(Python_ROOT_DIR {_cmake_str(layout.sysroot / 'usr')})",
        "set(Python3_ROOT_DIR ${Python_ROOT_DIR})",
        f"set(CMAKE_C_FLAGS_INIT \"-idirafter {include}\")",
        f"set(CMAKE_CXX_FLAGS_INIT \"-idirafter {include}\")",
        f"set(CMAKE_CUDA_FLAGS_INIT \"-Xcompiler=-idirafter,{include}\")",
        "# The kit's find modules ahead of the project's (TileLang finds z3 by `import z3` in the build's Python,",
        "# which is this machine's).",
        f"list(PREPEND CMAKE_MODULE_PATH {_cmake_str(modules)})",
    ]
    return "\n".join(lines) + "\n"


# The target's z3 from its z3-solver wheel (z3/include, z3/lib on CMAKE_FIND_ROOT_PATH), with the names TileLang's
# CMakeLists.txt uses: the imported target z3::libz3 and Z3_* variables.
FIND_Z3 = """# Written by tlkit (src/tlkit/wheel/cross/cmake.py): z3 of the target machine's z3-solver wheel.
if(TARGET z3::libz3)
  return()
endif()
find_path(Z3_INCLUDE_DIR z3++.h)
find_library(Z3_LIBRARY NAMES z3)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Z3 REQUIRED_VARS Z3_LIBRARY Z3_INCLUDE_DIR)
if(Z3_FOUND)
  add_library(z3::libz3 SHARED IMPORTED GLOBAL)
  set_target_properties(z3::libz3 PROPERTIES IMPORTED_LOCATION "${Z3_LIBRARY}"
                                             INTERFACE_INCLUDE_DIRECTORIES "${Z3_INCLUDE_DIR}")
  set(Z3_CXX_INCLUDE_DIRS ${Z3_INCLUDE_DIR})
  set(Z3_C_INCLUDE_DIRS ${Z3_INCLUDE_DIR})
endif()
"""


def write_toolchain_file(path: Path, compiler: CrossCompiler, layout: TargetLayout) -> Path:
    """The toolchain file and, in <name>.modules/ beside it, the kit's find modules; each written beside and
    renamed, so a build never reads half of one."""
    modules = modules_dir(path)
    atomic_write_text(modules / "FindZ3.cmake", FIND_Z3)
    atomic_write_text(path, toolchain_text(compiler, layout, modules))
    return path


def modules_dir(toolchain_file: Path) -> Path:
    return toolchain_file.with_name(toolchain_file.name + ".modules")
