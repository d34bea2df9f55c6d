"""Compile-deadline benchmark (run by hand; prints the machine, distributions and medians).

1. Overshoot: for each injection point of tests/fixtures/deadline/driver.py (a Python pass, a C++
   lowering loop, nvcc, the host compiler, a Z3 query), --trials compiles that hang, each with a
   deadline of --deadline seconds; prints how long after the deadline the CompileTimeoutError came
   (min / median / p90 / max) against the allowed max(10 %, 2 s).
2. Overhead: the six DeepSeek-V4-Flash kernels (one variant each) compiled for sm_120 with the kit
   wheel (deadline on, default 600 s) and with the stock PyPI 0.1.14 wheel, alternating, --repeat
   times each in fresh processes with empty caches; medians per kernel and of the total, of the wall-clock
   time (the figure the 3 % bound is about) and of the CPU time of the process and its compilers.

    python benchmarks/compile_deadline.py --kit-python KIT_VENV/bin/python --stock-python STOCK/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

KIT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(KIT / "src"))

from tlkit.base.machine import describe  # noqa: E402

DRIVER = KIT / "tests" / "fixtures" / "deadline" / "driver.py"
STAGES = ("python_pass", "cpp_loop", "nvcc", "host_compiler", "z3")
SIX = [  # (factory in verify/kernels.py, keyword arguments): one variant of each kernel
    ("act_quant_kernel", {"N": 4096, "block_size": 128, "scale_dtype": "float8_e8m0fnu", "round_scale": True}),
    ("fp4_quant_kernel", {"N": 128, "block_size": 32, "scale_dtype": "float8_e8m0fnu", "inplace": True}),
    ("fp8_gemm_kernel", {"N": 1024, "K": 4096, "scale_dtype": "float8_e8m0fnu"}),
    ("fp4_gemm_kernel", {"N": 2048, "K": 4096, "scale_dtype": "float8_e8m0fnu"}),
    ("sparse_attn_kernel", {"h": 16, "d": 512, "scale": 512 ** -0.5}),
    ("hc_split_sinkhorn_kernel", {"hc": 4, "sinkhorn_iters": 20, "eps": 1e-6}),
]
COMPILE_SIX = """
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
import kernels, tilelang
from tvm.target import Target
def cpu():
    t = os.times()  # this process and its waited-for children (nvcc and what it runs)
    return t.user + t.system + t.children_user + t.children_system
out = {}
for name, kwargs in json.loads(sys.argv[2]):
    factory = getattr(kernels, name)
    start, start_cpu = time.perf_counter(), cpu()
    prim = factory.get_tir(**kwargs)
    tilelang.compile(prim, out_idx=getattr(factory, "out_idx", None), target=Target({"kind": "cuda", "arch": "sm_120"}),
                     pass_configs=getattr(factory, "pass_configs", None))
    out[name] = [time.perf_counter() - start, cpu() - start_cpu]
print(json.dumps(out))
"""


def overshoot(python: str, env: dict, trials: int, deadline: float) -> None:
    allowed = max(0.1 * deadline, 2.0)
    print(f"\novershoot after a {deadline:g} s deadline, {trials} trials per injection point (allowed {allowed:g} s):")
    print(f"{'injection point':<15} {'min':>7} {'median':>7} {'p90':>7} {'max':>7}  all CompileTimeoutError")
    for stage in STAGES:
        late, ok = [], True
        for _ in range(trials):
            with tempfile.TemporaryDirectory() as tmp:
                proc = subprocess.run([python, str(DRIVER), stage, str(deadline), tmp], capture_output=True, text=True,
                                      env={**env, "TILELANG_CACHE_DIR": f"{tmp}/kcache"}, timeout=600)
                result = json.loads(proc.stdout.strip().splitlines()[-1])
                ok &= bool(result["is_compile_timeout"]) and result["next_compile"] == "ok"
                late.append(result["elapsed"] - deadline)
        late.sort()
        p90 = late[min(len(late) - 1, int(0.9 * len(late)))]
        print(f"{stage:<15} {late[0]:7.2f} {statistics.median(late):7.2f} {p90:7.2f} {late[-1]:7.2f}  {ok}", flush=True)


def overhead(kit: str, stock: str, env: dict, repeat: int) -> None:
    # times[measure][wheel][kernel]: one value per run; measure 0 = wall seconds, 1 = CPU seconds
    times: list[dict[str, dict[str, list[float]]]] = [{"kit": {}, "stock": {}}, {"kit": {}, "stock": {}}]
    for _ in range(repeat):
        for label, python in (("kit", kit), ("stock", stock)):
            with tempfile.TemporaryDirectory() as tmp:
                cmd = [python, "-c", COMPILE_SIX, str(KIT / "verify"), json.dumps(SIX)]
                proc = subprocess.run(cmd, capture_output=True, text=True, env={**env, "TILELANG_CACHE_DIR": tmp},
                                      timeout=1200)
                if proc.returncode:
                    sys.exit(f"{label}: {proc.stderr[-2000:]}")
                per_kernel = json.loads(proc.stdout.strip().splitlines()[-1])
                for measure in (0, 1):
                    for name, pair in per_kernel.items():
                        times[measure][label].setdefault(name, []).append(pair[measure])
                    run_sum = sum(pair[measure] for pair in per_kernel.values())
                    times[measure][label].setdefault("total", []).append(run_sum)
    for measure, what in ((0, "wall-clock"), (1, "CPU (process + nvcc)")):
        print(f"\ncompile time for sm_120, {what}, median of {repeat} fresh processes each "
              "(kit: deadline on, 600 s default):")
        print(f"{'kernel':<26} {'kit s':>7} {'stock s':>8} {'kit/stock':>9}")
        for name in [n for n, _ in SIX] + ["total"]:
            k, s = statistics.median(times[measure]["kit"][name]), statistics.median(times[measure]["stock"][name])
            print(f"{name:<26} {k:7.2f} {s:8.2f} {k / s:9.3f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kit-python", required=True)
    ap.add_argument("--stock-python")
    ap.add_argument("--cuda-home", default=os.environ.get("CUDA_HOME"))
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--deadline", type=float, default=5.0)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--skip-overshoot", action="store_true")
    args = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TILELANG_")}
    env.update(CUDA_HOME=args.cuda_home, PATH=f"{args.cuda_home}/bin:{env['PATH']}")
    print(describe())
    if args.stock_python:
        overhead(args.kit_python, args.stock_python, env, args.repeat)
    if not args.skip_overshoot:
        overshoot(args.kit_python, env, args.trials, args.deadline)


if __name__ == "__main__":
    main()
