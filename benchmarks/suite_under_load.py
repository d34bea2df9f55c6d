"""The default suite, run again and again beside busy processes (run by hand; issue 25: "passes 20 times in
a row under stress-like load"). Prints the machine, one line per run (exit status, pytest's summary, wall
seconds) and at the end how many passed, the longest run of passes and the median wall time. Every run's
output is kept in --out (run-K.txt), so a random failure leaves its evidence (and, with `-- --durations=N`,
the slowest tests of each run can be compared), and each finished run is a line of runs.jsonl there.

    python benchmarks/suite_under_load.py --python .nox/tests/bin/python --runs 20 --busy 4 --out reports/stress

20 runs take longer than a working session here, and the machine goes with the session: `--resume` goes on
with an --out of the same invocation (same commit, clean tree, same arguments), counting its finished runs; a
run cut off by the machine's end has no line and is run again. Without --resume, an --out that already holds
runs is refused.

The busy processes are pure-Python loops, each under the kit's supervisor (`tlkit.base.procs.tied`), so
they end with this script however it ends.
"""

from __future__ import annotations

import argparse
import json
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
    ap.add_argument("--resume", action="store_true", help="go on with the finished runs in --out")
    ap.add_argument("pytest_args", nargs="*", help="after --: passed to pytest")
    args = ap.parse_args()
    invocation = {"commit": commit(), "python": args.python, "busy": args.busy, "pytest_args": args.pytest_args}
    done = earlier_runs(args.out, invocation, args.resume)
    print(describe())
    print(f"{args.runs} runs of `{args.python} -m pytest -q {' '.join(args.pytest_args)}` in {KIT} at "
          f"{invocation['commit']}, {args.busy} busy processes beside it", flush=True)
    for r in done:
        print(f"run {r['run']:2}: exit {r['code']}, {r['summary']}, {r['wall']:.0f} s (earlier)", flush=True)
    env = {**os.environ, "PYTHONPATH": str(KIT / "src")}  # the supervisor is `python -m tlkit.base.procs`
    loop = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_DFL)\nwhile True: pass"  # ends quietly
    busy = [subprocess.Popen(procs.tied([sys.executable, "-c", loop]), env=env) for _ in range(args.busy)]
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stopped: the runs so far are still summed up
    walls, passed, streak, best = [], 0, 0, 0
    for r in done:
        walls.append(r["wall"])
        passed, streak = (passed + 1, streak + 1) if r["code"] == 0 else (passed, 0)
        best = max(best, streak)
    try:
        for k in range(len(done) + 1, args.runs + 1):
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
            write_whole(args.out / f"run-{k}.txt", out)
            record = {"run": k, "code": code, "wall": round(wall, 1), "summary": summary.strip()}
            with open(args.out / "runs.jsonl", "a") as lines:
                lines.write(json.dumps(record) + "\n")
            print(f"run {k:2}: exit {code}, {summary.strip()}, {wall:.0f} s", flush=True)
    except KeyboardInterrupt:
        print(f"stopped during run {len(walls) + 1} (`--resume` goes on from there)", flush=True)
    finally:
        for proc in busy:
            procs.stop(proc)
    if not walls:
        return
    print(f"\n{passed} of {len(walls)} runs passed; longest run of passes {best}; "
          f"median wall {statistics.median(walls):.0f} s", flush=True)


def commit() -> str:
    """The clone's commit; a tree with local changes is refused, since the figure names a commit."""
    changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=KIT, capture_output=True,
                             text=True, check=True).stdout
    if changed.strip():
        sys.exit(f"suite_under_load: {KIT} has local changes ({changed.splitlines()[0].strip()}): the runs would "
                 "name a commit they did not test")
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=KIT, capture_output=True, text=True,
                          check=True).stdout.strip()


def earlier_runs(out: Path, invocation: dict, resume: bool) -> list[dict]:
    """The finished runs of this invocation in `out` (none for a new one); a mismatch is a one-line error."""
    out.mkdir(parents=True, exist_ok=True)
    saved = out / "invocation.json"
    if not resume:
        if any(out.glob("run-*.txt")) or saved.exists():
            sys.exit(f"suite_under_load: --out {out} already holds runs: give a new folder, or --resume")
        write_whole(saved, json.dumps(invocation, indent=1) + "\n")
        return []
    if not saved.exists():
        sys.exit(f"suite_under_load: --resume: {saved} does not exist: nothing to go on with")
    before = json.loads(saved.read_text())
    if before != invocation:
        differ = ", ".join(f"{k} {before.get(k)!r} then, {v!r} now" for k, v in invocation.items()
                           if before.get(k) != v)
        sys.exit(f"suite_under_load: --resume: {saved} is another invocation: {differ}")
    jsonl = out / "runs.jsonl"
    lines = jsonl.read_text().splitlines() if jsonl.exists() else []
    done = [json.loads(line) for line in lines if line.endswith("}")]  # a line cut off mid-write is dropped
    write_whole(jsonl, "".join(json.dumps(r) + "\n" for r in done))
    return done


def write_whole(path: Path, text: str) -> None:
    """Written beside, then renamed: a run cut off mid-write leaves no half file."""
    part = path.with_name(path.name + ".part")
    part.write_text(text)
    part.replace(path)


if __name__ == "__main__":
    main()
