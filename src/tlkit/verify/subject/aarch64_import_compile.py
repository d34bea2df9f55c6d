"""Run by the target's python3 under qemu-user (not imported by the kit): import TileLang, then compile one small
kernel for the target GPU; prints one JSON line per step so that the kit reads each time even if a later step
dies. argv: TARGET_ARCH (e.g. sm_121a) or "-" for import only."""

import json
import sys
import time

start = time.perf_counter()
import tilelang  # noqa: E402

print(json.dumps({"step": "import", "seconds": round(time.perf_counter() - start, 1),
                  "version": tilelang.__version__}), flush=True)
if sys.argv[1] != "-":
    import tilelang.language as T  # noqa: E402
    from tvm.target import Target  # noqa: E402

    @T.prim_func
    def add(A: T.Tensor((1024,), "float32"), B: T.Tensor((1024,), "float32")):
        with T.Kernel(8, threads=128) as bx:
            for i in T.Parallel(128):
                B[bx * 128 + i] = A[bx * 128 + i] + 1.0

    start = time.perf_counter()
    kernel = tilelang.compile(add, target=Target({"kind": "cuda", "arch": sys.argv[1]}))
    source = kernel.get_kernel_source()
    print(json.dumps({"step": "compile", "seconds": round(time.perf_counter() - start, 1), "arch": sys.argv[1],
                      "source_has_kernel": "B[" in source}), flush=True)
