"""Fuzz the loop guards: compile randomized small TileLang kernels with the default caps; a guard that trips
(LoopGuardError) or a deadline that expires on any of them is a false trip.

Standalone (stdlib + the TileLang under test): run it with the interpreter of the venv that holds the
wheel, from the kit's root, e.g.
`PYTHONPATH=src build/verify/venvs/wheel/*/bin/python -m tlkit.verify.subject.fuzz_guards --count 40 --out fuzz.json`.
Five kernel families (element-wise, row reduction, GEMM, block quantisation, transposing copy) get random
shapes, tile sizes, dtypes, thread counts and pipeline depths from --seed. Each kernel prints one line;
--out keeps every result (with the generated source's sha256), and --against OTHER.json compares two runs
of the same seed (e.g. kit vs stock wheel): outcomes and sources must agree. Exit 1 on any false trip or
disagreement. Errors the stock wheel would raise as well (a random tile TileLang rejects) are reported as
"compile error", not counted as trips."""

import argparse
import hashlib
import json
import os
import random
import sys
import time

from tlkit.verify.subject.compiled import normalized_source

THREADS = (32, 64, 128, 256)
FLOATS = ("float16", "bfloat16", "float32")


def elementwise(rng, T):
    M, N = rng.choice((256, 512, 1000, 2048)), rng.choice((128, 384, 1024))
    bm, bn = rng.choice((16, 32, 64)), rng.choice((32, 64, 128))
    dt, threads = rng.choice(FLOATS), rng.choice(THREADS)
    alpha = rng.choice((0.5, 2.0, -1.25))

    @T.prim_func
    def elementwise(A: T.Tensor((M, N), dt), B: T.Tensor((M, N), dt), C: T.Tensor((M, N), dt)):
        with T.Kernel(T.ceildiv(N, bn), T.ceildiv(M, bm), threads=threads) as (bx, by):
            a = T.alloc_fragment((bm, bn), dt)
            b = T.alloc_shared((bm, bn), dt)
            T.copy(A[by * bm, bx * bn], a)
            T.copy(B[by * bm, bx * bn], b)
            for i, j in T.Parallel(bm, bn):
                a[i, j] = a[i, j] * T.Cast(dt, alpha) + b[i, j]
            T.copy(a, C[by * bm, bx * bn])

    return elementwise, dict(M=M, N=N, bm=bm, bn=bn, dtype=dt, threads=threads)


def row_reduce(rng, T):
    M, N = rng.choice((128, 512, 4096)), rng.choice((64, 128, 256, 512))
    bm = rng.choice((8, 16, 32, 64))
    dt, threads = rng.choice(FLOATS), rng.choice(THREADS[1:])
    op = rng.choice(("sum", "max", "absmax"))
    reduce = {"sum": T.reduce_sum, "max": T.reduce_max, "absmax": T.reduce_absmax}[op]

    @T.prim_func
    def row_reduce(A: T.Tensor((M, N), dt), R: T.Tensor((M,), "float32")):
        with T.Kernel(T.ceildiv(M, bm), threads=threads) as bx:
            tile = T.alloc_shared((bm, N), dt)
            vals = T.alloc_fragment((bm, N), "float32")
            out = T.alloc_fragment((bm,), "float32")
            T.copy(A[bx * bm, 0], tile)
            T.copy(tile, vals)
            reduce(vals, out, dim=1)
            T.copy(out, R[bx * bm])

    return row_reduce, dict(M=M, N=N, bm=bm, dtype=dt, threads=threads, op=op)


def gemm(rng, T):
    M, N, K = rng.choice((256, 512, 1024)), rng.choice((256, 512)), rng.choice((256, 512, 1024))
    bm, bn, bk = rng.choice((32, 64, 128)), rng.choice((64, 128)), rng.choice((32, 64))
    dt, threads, stages = rng.choice(("float16", "bfloat16")), rng.choice((128, 256)), rng.choice((0, 1, 2, 3))
    trans_b = rng.random() < 0.5
    b_shape, b_tile = ((N, K), (bn, bk)) if trans_b else ((K, N), (bk, bn))

    @T.prim_func
    def gemm(A: T.Tensor((M, K), dt), B: T.Tensor(b_shape, dt), C: T.Tensor((M, N), "float32")):
        with T.Kernel(T.ceildiv(N, bn), T.ceildiv(M, bm), threads=threads) as (bx, by):
            a = T.alloc_shared((bm, bk), dt)
            b = T.alloc_shared(b_tile, dt)
            acc = T.alloc_fragment((bm, bn), "float32")
            T.clear(acc)
            for k in T.Pipelined(T.ceildiv(K, bk), num_stages=stages):
                T.copy(A[by * bm, k * bk], a)
                if trans_b:
                    T.copy(B[bx * bn, k * bk], b)
                else:
                    T.copy(B[k * bk, bx * bn], b)
                T.gemm(a, b, acc, transpose_B=trans_b)
            T.copy(acc, C[by * bm, bx * bn])

    return gemm, dict(M=M, N=N, K=K, bm=bm, bn=bn, bk=bk, dtype=dt, threads=threads, stages=stages,
                      transpose_B=trans_b)


def block_quant(rng, T):
    N = rng.choice((128, 448, 1024, 4096))
    block = rng.choice((32, 64, 128))
    rows = rng.choice((16, 32, 64))
    dt, threads = rng.choice(("float16", "bfloat16")), rng.choice(THREADS[1:])
    q = rng.choice(("float8_e4m3", "int8"))
    q_max = 448.0 if q == "float8_e4m3" else 127.0
    M = T.symbolic("M")
    groups = T.ceildiv(N, block)

    @T.prim_func
    def block_quant(X: T.Tensor((M, N), dt), Y: T.Tensor((M, N), q), S: T.Tensor((M, groups), "float32")):
        with T.Kernel(T.ceildiv(M, rows), groups, threads=threads) as (bm, bg):
            tile = T.alloc_shared((rows, block), dt)
            vals = T.alloc_fragment((rows, block), "float32")
            amax = T.alloc_fragment((rows,), "float32")
            out = T.alloc_fragment((rows, block), q)
            T.copy(X[bm * rows, bg * block], tile)
            T.copy(tile, vals)
            T.reduce_absmax(vals, amax, dim=1)
            for r in T.Parallel(rows):
                amax[r] = T.max(amax[r], 1e-4) / q_max
            for r, c in T.Parallel(rows, block):
                out[r, c] = T.Cast(q, T.clamp(vals[r, c] / amax[r], -q_max, q_max))
            for r in T.Parallel(rows):
                S[bm * rows + r, bg] = amax[r]
            T.copy(out, Y[bm * rows, bg * block])

    return block_quant, dict(N=N, block=block, rows=rows, dtype=dt, threads=threads, q=q)


def transpose(rng, T):
    M, N = rng.choice((256, 1024)), rng.choice((256, 512, 2048))
    b = rng.choice((16, 32, 64))
    dt, out_dt, threads = rng.choice(FLOATS), rng.choice(FLOATS), rng.choice(THREADS)

    @T.prim_func
    def transpose(A: T.Tensor((M, N), dt), B: T.Tensor((N, M), out_dt)):
        with T.Kernel(T.ceildiv(N, b), T.ceildiv(M, b), threads=threads) as (bx, by):
            tile = T.alloc_shared((b, b), dt)
            flipped = T.alloc_fragment((b, b), out_dt)
            T.copy(A[by * b, bx * b], tile)
            for i, j in T.Parallel(b, b):
                flipped[i, j] = T.Cast(out_dt, tile[j, i])
            T.copy(flipped, B[bx * b, by * b])

    return transpose, dict(M=M, N=N, b=b, dtype=dt, out_dtype=out_dt, threads=threads)


FAMILIES = (elementwise, row_reduce, gemm, block_quant, transpose)


def compile_one(tilelang, T, target, index, seed, pass_configs):
    rng = random.Random(f"{seed}-{index}")
    family = FAMILIES[index % len(FAMILIES)]
    func, params = family(rng, T)
    start = time.perf_counter()
    result = {"index": index, "family": family.__name__, "params": params}
    try:
        kernel = tilelang.compile(func, target=target, pass_configs=pass_configs)
        normalized = normalized_source(kernel.get_kernel_source())
        result.update(outcome="ok", sha256=hashlib.sha256(normalized.encode()).hexdigest())
    except Exception as exc:  # an outcome to report, not a crash of the fuzzer
        trip = type(exc).__name__ in ("LoopGuardError", "CompileTimeoutError")
        last = (str(exc).strip().splitlines() or [""])[-1][:300]
        result.update(outcome="FALSE TRIP" if trip else "compile error", error=f"{type(exc).__name__}: {last}")
    result["seconds"] = round(time.perf_counter() - start, 2)
    return result


def compare(mine, theirs):
    """Lines naming every kernel whose outcome or source differs between two runs of one seed."""
    other = {r["index"]: r for r in theirs["results"]}
    out = []
    for r in mine["results"]:
        o = other.get(r["index"])
        if o is None:
            out.append(f"#{r['index']}: not in the other run")
        elif (r["outcome"], r.get("sha256")) != (o["outcome"], o.get("sha256")):
            out.append(f"#{r['index']} {r['family']} {r['params']}: {r['outcome']} vs {o['outcome']}"
                       + (" (different source)" if r["outcome"] == o["outcome"] == "ok" else ""))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=40)
    p.add_argument("--seed", type=int, default=2328)
    p.add_argument("--target", default="sm_120")
    p.add_argument("--out", help="write every result to this JSON file")
    p.add_argument("--against", help="a JSON file of another run with the same seed and count to compare with")
    args = p.parse_args()
    if args.against and not os.path.isfile(args.against):
        sys.exit(f"--against {args.against}: no such file")

    import tilelang
    import tilelang.language as T
    from tvm.target import Target

    target = Target({"kind": "cuda", "arch": args.target})
    configs = {"tl.disable_warp_specialized": True, "tl.disable_tma_lower": True}
    version = getattr(tilelang, "__version__", "?")
    print(f"fuzz: tilelang {version}, {args.count} kernels, seed {args.seed}, target {args.target}, default caps",
          flush=True)
    results = []
    for i in range(args.count):
        r = compile_one(tilelang, T, target, i, args.seed, configs)
        results.append(r)
        print(f"[{i + 1}/{args.count}] {r['outcome']:<13} {r['seconds']:6.2f} s  {r['family']} {r['params']}"
              + (f"  {r['error']}" if "error" in r else ""), flush=True)
    doc = {"tilelang": version, "seed": args.seed, "count": args.count, "target": args.target, "results": results}
    if args.out:
        with open(args.out, "w") as f:
            json.dump(doc, f, indent=1)
    counts = {}
    for r in results:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    print("summary: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    bad = counts.get("FALSE TRIP", 0)
    if args.against:
        with open(args.against) as f:
            differences = compare(doc, json.load(f))
        print(f"against {args.against}: " + ("same outcome and source for every kernel" if not differences else
                                             f"{len(differences)} differ"))
        for line in differences:
            print("  " + line)
        bad += len(differences)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
