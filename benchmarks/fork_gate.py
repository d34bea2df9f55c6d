"""Cost of patch 0020's fork gate (run by hand; prints the machine and medians).

Two wheels' Pythons (with and without the patch), alternating, --repeat fresh processes each:
1. Z3 query cost: microseconds per `Analyzer.can_prove` of a nonlinear fact (each one a Z3 check inside one
   NoForkSection).
2. fork() while a second thread runs Z3 queries without pause: how long os.fork() takes in the parent
   (with the gate it waits for the query in flight), median and 90th percentile over all --repeat x --forks
   forks of a wheel.
3. Contention, as under par_compile: for each --threads N, N threads that each create an Analyzer (a Z3
   context: a NoForkSection of its own) and run 5 queries on it, again and again; analyzers per second
   across all threads. Every entry into Z3 passes the gate's one mutex; this shows what that costs when
   many threads compile at once.

    python benchmarks/fork_gate.py --with PATCHED/bin/python --without UNPATCHED/bin/python [--threads 1,8,16]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

KIT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(KIT / "src"))

from tlkit.base.machine import describe  # noqa: E402

FIXTURES = KIT / "tests" / "fixtures" / "hang"  # z3_load: the analyzer and query the fork fixtures use
MEASURE = """
import json, os, sys, threading, time
queries, forks = int(sys.argv[1]), int(sys.argv[2])
sys.path.insert(0, sys.argv[3])
import tilelang
from z3_load import prover, query
from z3_load import queries as query_loop
a, x, y = prover()
start = time.perf_counter()
for n in range(queries):
    query(a, x, y, n)
per_query_us = (time.perf_counter() - start) / queries * 1e6
stop = threading.Event()
querying = threading.Thread(target=query_loop, args=(stop, False))  # unarmed: the gate alone
querying.start()
took = []
for _ in range(forks):
    t = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    took.append(time.perf_counter() - t)
    os.waitpid(pid, 0)
stop.set()
querying.join()  # a thread still inside Z3 when the interpreter exits aborts it
def churn(out, rounds):
    for n in range(rounds):
        b, u, v = prover()
        for k in range(5):
            query(b, u, v, n * 5 + k)
    out.append(rounds)
rates = {}
for count in [int(n) for n in sys.argv[4].split(",")]:
    done, rounds = [], int(sys.argv[5])
    workers = [threading.Thread(target=churn, args=(done, rounds)) for _ in range(count)]
    t = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if len(done) != count:  # a thread that raised would make the rate look lower than it is
        sys.exit(f"{count - len(done)} of {count} threads failed")
    rates[count] = sum(done) / (time.perf_counter() - t)
print(json.dumps({"query_us": per_query_us, "fork_ms": [s * 1e3 for s in took], "analyzers_per_s": rates}))
"""


def thread_counts(text: str) -> list[int]:
    counts = [int(n) for n in text.split(",") if n.strip().isdigit()]
    if len(counts) != len(text.split(",")) or min(counts) < 1 or len(set(counts)) != len(counts):
        raise argparse.ArgumentTypeError(f"{text!r}: distinct whole numbers of at least 1, comma-separated")
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--with", dest="patched", required=True, help="Python of a wheel with patch 0020")
    ap.add_argument("--without", required=True, help="Python of a wheel without it")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--queries", type=int, default=3000)
    ap.add_argument("--forks", type=int, default=200)
    ap.add_argument("--threads", type=thread_counts, default="1,2",
                    help="thread counts for the contention measure (comma-separated, each at least 1)")
    ap.add_argument("--rounds", type=int, default=200, help="analyzers each thread creates per thread count")
    args = ap.parse_args()
    for flag, python in (("--with", args.patched), ("--without", args.without)):
        if not Path(python).is_file():
            sys.exit(f"fork_gate: {flag} {python}: no such interpreter")
    print(describe())
    runs: dict[str, list[dict]] = {"with": [], "without": []}
    for _ in range(args.repeat):
        for label, python in (("with", args.patched), ("without", args.without)):
            proc = subprocess.run([python, "-c", MEASURE, str(args.queries), str(args.forks), str(FIXTURES),
                                   ",".join(map(str, args.threads)), str(args.rounds)],
                                  capture_output=True, text=True, timeout=1800)
            if proc.returncode:
                sys.exit(f"{label} ({python}): {proc.stderr.strip().splitlines()[-1:]}")
            runs[label].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    print(f"\n{args.repeat} fresh processes per wheel, alternating; {args.queries} queries, {args.forks} forks each")
    print(f"{'patch 0020':<10} {'us/query (median)':>18} {'fork ms median':>15} {'fork ms p90':>12} "
          f"{'fork ms max':>12}")
    for label, results in runs.items():
        forks = sorted(ms for r in results for ms in r["fork_ms"])
        p90 = forks[min(len(forks) - 1, int(0.9 * len(forks)))]
        print(f"{label:<10} {statistics.median(r['query_us'] for r in results):18.1f} "
              f"{statistics.median(forks):15.2f} {p90:12.2f} {forks[-1]:12.2f}", flush=True)
    counts = list(runs["with"][0]["analyzers_per_s"])
    if counts:
        print(f"\nanalyzers per second (each with 5 queries), all threads together, median of {args.repeat}")
        print(f"{'patch 0020':<10} " + " ".join(f"{'threads ' + n:>12}" for n in counts))
        for label, results in runs.items():
            print(f"{label:<10} " + " ".join(f"{statistics.median(r['analyzers_per_s'][n] for r in results):12.0f}"
                                             for n in counts), flush=True)


if __name__ == "__main__":
    main()
