#!/bin/bash
# Issue 29's unity-build experiment (docs/build-cache.md): copy the prepared tree of the last build, configure it
# with CMake's unity build at batch size B (sources in skip.cmake compiled alone), and compile the four object
# targets with ninja -k 0 and ccache off, each compile's wall, user and system seconds in build/unity-bB/times.log.
# Needs a finished `nox -s build-wheel` of the default recipe (its tree, CMakeInit.txt, CMakeCache.txt: the build
# venv and the CUDA toolchain are read from them) and /usr/bin/time (Debian: the `time` package).
#   [nice -n 10] tools/unity/run.sh B          a fresh copy, then the build
#   [nice -n 10] tools/unity/run.sh B again    the same copy re-configured (skip.cmake edited), built again
#   python3 tools/unity/compare.py build/unity-bB COLD.ninja_log   (a copy of the cold build's
#   build/tilelang-0.1.14-cu13.2/src/build/.ninja_log, kept before the next build of the recipe overwrites it)
set -eu -o pipefail
case "${1:-}:${2:-}" in
  [1-9]*:|[1-9]*:again) ;;
  *) echo "usage: tools/unity/run.sh BATCH_SIZE [again]" >&2; exit 2 ;;
esac
B=$1; here=$(cd "$(dirname "$0")" && pwd); kit=$(cd "$here/../.." && pwd)
SRC=$kit/build/tilelang-0.1.14-cu13.2/src
W=$kit/build/unity-b$B
[ -x /usr/bin/time ] || { echo "run.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
[ -f "$SRC/build/CMakeCache.txt" ] || { echo "run.sh: no finished build in $SRC/build: run nox -s build-wheel" >&2; exit 2; }
cached() { sed -n "s/^$1:[A-Z]*=//p" "$SRC/build/CMakeCache.txt" | head -1; }
BE=$(dirname "$(dirname "$(cached Python_EXECUTABLE)")")  # the build venv
CU=$(cached CUDAToolkit_ROOT)
[ "${2:-}" != again ] || [ -d "$W/src" ] || { echo "run.sh: no earlier run in $W to build again" >&2; exit 2; }
export CCACHE_DISABLE=1  # for every compile of the experiment (TileLang sets ccache as the C and CUDA launcher)
if [ "${2:-}" != again ]; then
  rm -rf "$W"; mkdir -p "$W/src"
  tar -C "$SRC" --exclude=./build --exclude=./.git -cf - . | tar -C "$W/src" -xf -
  sed -i "1i #pragma once" "$W/src/src/transform/common/loop_fusion_utils.h"  # no include guard upstream
  for f in src/transform/common/loop_guard.cc 3rdparty/tvm/src/arith/simplify_step_guard.cc; do  # the kit's own
    sed -i 's/^  transform::PassContext ctx = transform::PassContext::Current();/  tvm::transform::PassContext ctx = tvm::transform::PassContext::Current();/' "$W/src/$f"
  done
  printf '#!/bin/sh\nexec /usr/bin/time -f "%%e %%U %%S %%C" -a -o %s/times.log "$@"\n' "$W" > "$W/launch.sh"
  chmod +x "$W/launch.sh"
fi
echo "=== configure $(date +%s)" >> "$W/times.log"
cd "$W/src" && env PATH="$BE/bin:$PATH" CUDACXX="$CU/bin/nvcc" CUDAToolkit_ROOT="$CU" WITH_PIP_CUDA_TOOLCHAIN="$CU" \
  USE_CUDA=ON USE_ROCM=OFF NO_VERSION_LABEL=1 \
  cmake -S . -B build -G Ninja -C "$SRC/build/CMakeInit.txt" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE="$B" \
  -DCMAKE_UNITY_BUILD_RELOCATABLE=ON -DCMAKE_CXX_COMPILER_LAUNCHER="$W/launch.sh" \
  -DCMAKE_PROJECT_tvm_INCLUDE="$here/skip.cmake" -DCMAKE_PROJECT_TILE_LANG_INCLUDE="$here/skip.cmake" \
  > "$W/configure.log" 2>&1 || { echo "configure failed: $W/configure.log"; exit 1; }
status=0
env PATH="$BE/bin:$PATH" ninja -C build -k 0 -j "$(nproc)" tilelang_objs tvm_objs tvm_runtime_objs tvm_ffi_objs \
  > "$W/ninja.log" 2>&1 || status=$?
echo "ninja exit status $status: $(grep -c '^FAILED' "$W/ninja.log") unity or source file(s) failed (see $W/ninja.log)"
