#!/bin/bash
# Unity batch-size experiment (issue 29, docs/build-cache.md): copy the prepared tree of the last build, which
# carries patches 0018/0019 (unity builds, the sources compiled alone), configure the copy with
# TILELANG_UNITY_BUILD_BATCH_SIZE=B, and compile the four object targets with ninja -k 0 and ccache off, so that
# every unity unit that fails at this size is listed in one run; each compile's wall, user and system seconds go
# to build/unity-bB/times.log. A unit that fails names a file to add to the patch's SKIP_UNITY_BUILD_INCLUSION list.
# Needs a finished `nox -s build-wheel` of the default recipe (its tree, CMakeInit.txt, CMakeCache.txt: the build
# venv and the CUDA toolchain are read from them) and /usr/bin/time (Debian: the `time` package).
#   [nice -n 10] tools/unity/run.sh B
#   python3 tools/unity/compare.py build/unity-bB COLD.ninja_log   (a copy of a cold build's
#   build/tilelang-0.1.14-cu13.2/src/build/.ninja_log, kept before the next build of the recipe overwrites it)
set -eu -o pipefail
case "$#:${1:-}" in
  1:[1-9]|1:[1-9][0-9]|1:[1-9][0-9][0-9]) ;;
  *) echo "usage: tools/unity/run.sh BATCH_SIZE (1-999)" >&2; exit 2 ;;
esac
B=$1; here=$(cd "$(dirname "$0")" && pwd); kit=$(cd "$here/../.." && pwd)
SRC=$kit/build/tilelang-0.1.14-cu13.2/src
W=$kit/build/unity-b$B
[ -x /usr/bin/time ] || { echo "run.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
[ -f "$SRC/build/CMakeCache.txt" ] || { echo "run.sh: no finished build in $SRC/build: run nox -s build-wheel" >&2; exit 2; }
grep -qs TILELANG_UNITY_BUILD_BATCH_SIZE "$SRC/CMakeLists.txt" ||
  { echo "run.sh: $SRC has no unity-build patch (0019): build the current recipe first" >&2; exit 2; }
cached() { sed -n "s/^$1:[A-Z]*=//p" "$SRC/build/CMakeCache.txt" | head -1; }
BE=$(dirname "$(dirname "$(cached Python_EXECUTABLE)")")  # the build venv
CU=$(cached CUDAToolkit_ROOT)
export CCACHE_DISABLE=1  # for every compile of the experiment (TileLang sets ccache as the C and CUDA launcher)
rm -rf "$W"; mkdir -p "$W/src"
tar -C "$SRC" --exclude=./build --exclude=./.git -cf - . | tar -C "$W/src" -xf -
printf '#!/bin/sh\nexec /usr/bin/time -f "%%e %%U %%S %%C" -a -o %s/times.log "$@"\n' "$W" > "$W/launch.sh"
chmod +x "$W/launch.sh"
echo "=== configure $(date +%s)" >> "$W/times.log"
cd "$W/src" && env PATH="$BE/bin:$PATH" CUDACXX="$CU/bin/nvcc" CUDAToolkit_ROOT="$CU" WITH_PIP_CUDA_TOOLCHAIN="$CU" \
  USE_CUDA=ON USE_ROCM=OFF NO_VERSION_LABEL=1 \
  cmake -S . -B build -G Ninja -C "$SRC/build/CMakeInit.txt" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON -DTILELANG_UNITY_BUILD=ON -DTILELANG_UNITY_BUILD_BATCH_SIZE="$B" \
  -DCMAKE_CXX_COMPILER_LAUNCHER="$W/launch.sh" > "$W/configure.log" 2>&1 ||
  { echo "configure failed: $W/configure.log"; exit 1; }
status=0
env PATH="$BE/bin:$PATH" ninja -C build -k 0 -j "$(nproc)" tilelang_objs tvm_objs tvm_runtime_objs tvm_ffi_objs \
  > "$W/ninja.log" 2>&1 || status=$?
echo "ninja exit status $status: $(grep -c '^FAILED' "$W/ninja.log") unity or source file(s) failed (see $W/ninja.log)"
exit "$status"
