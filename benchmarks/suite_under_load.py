"""The default suite, run again and again beside busy processes (run by hand; issue 25: "passes 20 times in
a row under stress-like load"). Prints the machine, one line per run (exit status, pytest's summary, wall
seconds) and at the end how many passed, the longest run of passes and the median wall time. Every run's
output is kept in --out (run-K.txt), so a random failure leaves its evidence (and, with `-- --durations=N`,
the slowest tests of each run can be compared); an --out that already holds runs is refused.

    python benchmarks/suite_under_load.py --python .nox/tests/bin/python --runs 20 --busy 4 --out reports/stress

The busy processes are pure-Python loops, each under the kit's supervisor (`tlkit.base.procs.tied`), so
they end with this script however it ends.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

KIT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(KIT / "src"))

from tlkit.base import procs  # noqa: E402
from tlkit.base.machine import describe  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python", default=sys.executable, help="an interpreter with the kit and its test extras")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--busy", type=int, default=4, help="busy processes beside the suite")
    ap.add_argument("--out", type=Path, default=KIT / "reports" / "suite-under-load")
    ap.add_argument("--run-timeout", type=float, default=3600, help="seconds one run may take (a hang ends there)")
    ap.add_argument("pytest_args", nargs="*", help="after --: passed to pytest")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if any(args.out.glob("run-*.txt")):
        sys.exit(f"suite_under_load: --out {args.out} already holds runs of another invocation: give a new folder")
    print(describe())
    print(f"{args.runs} runs of `{args.python} -m pytest -q {' '.join(args.pytest_args)}` in {KIT}, "
          f"{args.busy} busy processes beside it", flush=True)
    env = {**os.environ, "PYTHONPATH": str(KIT / "src")}  # the supervisor is `python -m tlkit.base.procs`
    loop = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_DFL)\nwhile True: pass"  # ends quietly
    busy = [subprocess.Popen(procs.tied([sys.executable, "-c", loop]), env=env) for _ in range(args.busy)]
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stopped: the runs so far are still summed up
    walls, passed, streak, best = [], 0, 0, 0
    try:
        for k in range(1, args.runs + 1):
            start = time.monotonic()
            if any(proc.poll() is not None for proc in busy):
                sys.exit("suite_under_load: a busy process ended; the load is not what it says")
            try:
                run = procs.run([args.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args.pytest_args],
                                capture_output=True, cwd=KIT, timeout=args.run_timeout, env=env)
                code, out = run.returncode, run.stdout.decode(errors="replace") + run.stderr.decode(errors="replace")
            except subprocess.TimeoutExpired as timeout:
                code, out = "timeout", f"{timeout.output or b''!r}\nno end after {args.run_timeout:.0f} s"
            wall = time.monotonic() - start
            walls.append(wall)
            summary = next((line for line in reversed(out.splitlines()) if " in " in line and "=" not in line[:1]),
                           "(no summary)")
            if code == 0:
                passed, streak = passed + 1, streak + 1
                best = max(best, streak)
            else:
                streak = 0
            (args.out / f"run-{k}.txt").write_text(out)
            print(f"run {k:2}: exit {code}, {summary.strip()}, {wall:.0f} s", flush=True)
    except KeyboardInterrupt:
        print(f"stopped during run {len(walls) + 1}", flush=True)
    finally:
        for proc in busy:
            procs.stop(proc)
    if not walls:
        return
    print(f"\n{passed} of {len(walls)} runs passed; longest run of passes {best}; "
          f"median wall {statistics.median(walls):.0f} s", flush=True)


if __name__ == "__main__":
    main()
