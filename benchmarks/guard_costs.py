"""Two figures behind patches 0005 and 0010's choices (run by hand; prints the machine and medians).

1. Cost of a Z3 query three ways: plain, with the compile deadline armed (the kit's watchdog interrupt),
   and with Z3's own `timeout` parameter set (how 0005 first bounded a query): --queries small
   `can_prove` calls that only Z3 answers, --repeat times each in one fresh process per mode.
2. Headroom of the rewrite-simplifier cap: the most rewrites one simplify call made while compiling
   each of the six kernels for sm_120 (`arith.SimplifyRewriteStepsHighWater`), against the default cap.

    python3 benchmarks/guard_costs.py --kit-python KIT_VENV/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

KIT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(KIT / "src"))
sys.path.insert(0, str(KIT / "benchmarks"))

from compile_deadline import SIX  # noqa: E402

from tlkit.base.machine import describe  # noqa: E402

Z3_QUERIES = """
import json, sys, time
import tilelang, tvm, tvm_ffi
from tvm import tirx as tir
mode, queries = sys.argv[1], int(sys.argv[2])
a = tvm.arith.Analyzer()
x = tir.Var("x", "int32")
a.bind(x, tvm.ir.Range(0, 1000))
if mode == "deadline armed":
    tvm_ffi.get_global_func("arith.ArmCompileDeadline")(600.0)
if mode == "z3 timeout set":
    a.set_z3_timeout_ms(599000)
start = time.perf_counter()
proved = sum(bool(a.can_prove(tir.Or(tir.floormod(x + i, 2) == 0, tir.floormod(x + i, 2) == 1)))
             for i in range(queries))
print(json.dumps({"seconds": time.perf_counter() - start, "proved": proved}))
"""

HIGH_WATER = """
import json, sys
sys.path.insert(0, sys.argv[1])
import kernels, tilelang, tvm_ffi
from tvm.target import Target
tilelang.disable_cache()
high_water = tvm_ffi.get_global_func("arith.SimplifyRewriteStepsHighWater")
out = {}
for name, kwargs in json.loads(sys.argv[2]):
    factory = getattr(kernels, name)
    high_water(True)
    tilelang.compile(factory.get_tir(**kwargs), out_idx=getattr(factory, "out_idx", None),
                     target=Target({"kind": "cuda", "arch": "sm_120"}), pass_configs=factory.pass_configs)
    out[name] = high_water(False)
print(json.dumps(out))
"""

MODES = ("plain", "deadline armed", "z3 timeout set")
DEFAULT_CAP = 1_000_000  # tl.simplify.max_rewrite_steps, patch 0010


def run_json(cmd: list[str], env: dict) -> dict:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1200)
    if proc.returncode:
        sys.exit(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kit-python", required=True)
    ap.add_argument("--cuda-home", default=os.environ.get("CUDA_HOME"))
    ap.add_argument("--queries", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TILELANG_")}
    env.update(CUDA_HOME=args.cuda_home, PATH=f"{args.cuda_home}/bin:{env['PATH']}")
    print(describe())

    seconds: dict[str, list[float]] = {m: [] for m in MODES}
    for _ in range(args.repeat):
        for mode in MODES:
            result = run_json([args.kit_python, "-c", Z3_QUERIES, mode, str(args.queries)], env)
            assert result["proved"] == args.queries, result
            seconds[mode].append(result["seconds"])
    print(f"\n{args.queries} Z3 queries, median of {args.repeat} processes per mode:")
    plain = statistics.median(seconds["plain"])
    for mode in MODES:
        s = statistics.median(seconds[mode])
        print(f"{mode:<16} {s:7.3f} s  {1e6 * (s - plain) / args.queries:+7.1f} us a query against plain")

    high = run_json([args.kit_python, "-c", HIGH_WATER, str(KIT / "verify"), json.dumps(SIX)], env)
    print(f"\nmost rewrites in one simplify call, compiling for sm_120 (default cap {DEFAULT_CAP:,}):")
    for name, steps in high.items():
        print(f"{name:<26} {steps:7d}")


if __name__ == "__main__":
    main()
