"""The default suite, run again and again beside busy processes (run by hand; issue 25: "passes 20 times in
a row under stress-like load"). Prints the machine, one line per run (exit status, pytest's summary, wall
seconds) and at the end how many passed, the longest run of passes and the median wall time. Every run's
output is kept in --out (run-K.txt), so a random failure leaves its evidence (and, with `-- --durations=N`,
the slowest tests of each run can be compared), and each finished run is a line of runs.jsonl there.

    python benchmarks/suite_under_load.py --python .nox/tests/bin/python --runs 20 --busy 4 --out reports/stress

20 runs take longer than a working session here, and the machine goes with the session: `--resume` goes on
with an --out of the same invocation (same commit, a clean tree, the same arguments and machine), counting
its finished runs; a run cut off by the machine's end has no line and is run again. Without --resume, an
--out that already holds runs is refused.

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
    invocation = {"commit": commit(), "machine": describe(), "python": args.python, "busy": args.busy,
                  "run_timeout": args.run_timeout, "pytest_args": args.pytest_args}
    records = earlier_runs(args.out, invocation, args.resume)
    print(invocation["machine"])
    print(f"{args.runs} runs of `{args.python} -m pytest -q {' '.join(args.pytest_args)}` in {KIT} at "
          f"{invocation['commit']}, {args.busy} busy processes beside it", flush=True)
    for r in records:
        print(line(r) + " (earlier)", flush=True)
    env = {**os.environ, "PYTHONPATH": str(KIT / "src")}  # the supervisor is `python -m tlkit.base.procs`
    loop = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_DFL)\nwhile True: pass"  # ends quietly
    busy = [subprocess.Popen(procs.tied([sys.executable, "-c", loop]), env=env) for _ in range(args.busy)]
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stopped: the runs so far are still summed up
    try:
        for k in range(len(records) + 1, args.runs + 1):
            if any(proc.poll() is not None for proc in busy):
                sys.exit("suite_under_load: a busy process ended; the load is not what it says")
            record = one_run(k, args)
            write_whole(args.out / f"run-{k}.txt", record.pop("output"))
            with open(args.out / "runs.jsonl", "a") as lines:
                lines.write(json.dumps(record) + "\n")
            records.append(record)  # counted once it is written: a stop before that runs it again on --resume
            print(line(record), flush=True)
    except KeyboardInterrupt:
        print(f"stopped during run {len(records) + 1} (`--resume` goes on from there)", flush=True)
    finally:
        for proc in busy:
            procs.stop(proc)
    if records:
        print("\n" + tally(records), flush=True)


def one_run(k: int, args: argparse.Namespace) -> dict:
    """Run K of the suite: its exit status, pytest's summary line, wall seconds and output."""
    start = time.monotonic()
    try:
        run = procs.run([args.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args.pytest_args],
                        capture_output=True, cwd=KIT, timeout=args.run_timeout,
                        env={**os.environ, "PYTHONPATH": str(KIT / "src")})
        code, out = run.returncode, run.stdout.decode(errors="replace") + run.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired as timeout:
        code, out = "timeout", f"{timeout.output or b''!r}\nno end after {args.run_timeout:.0f} s"
    summary = next((s for s in reversed(out.splitlines()) if " in " in s and "=" not in s[:1]), "(no summary)")
    return {"run": k, "code": code, "wall": round(time.monotonic() - start, 1), "summary": summary.strip(),
            "output": out}


def line(record: dict) -> str:
    return f"run {record['run']:2}: exit {record['code']}, {record['summary']}, {record['wall']:.0f} s"


def tally(records: list[dict]) -> str:
    """How many runs passed, the longest run of passes and the median wall time."""
    passed = streak = best = 0
    for r in records:
        streak = streak + 1 if r["code"] == 0 else 0
        passed += r["code"] == 0
        best = max(best, streak)
    return (f"{passed} of {len(records)} runs passed; longest run of passes {best}; "
            f"median wall {statistics.median(r['wall'] for r in records):.0f} s")


def commit() -> str:
    """The clone's commit; a tree with local changes or untracked files is refused: the runs name a commit."""
    changed = subprocess.run(["git", "status", "--porcelain"], cwd=KIT, capture_output=True, text=True,
                             check=True).stdout
    if changed.strip():
        sys.exit(f"suite_under_load: {KIT} has local changes ({changed.splitlines()[0].strip()}): the runs would "
                 "name a commit they did not test")
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=KIT, capture_output=True, text=True,
                          check=True).stdout.strip()


def earlier_runs(out: Path, invocation: dict, resume: bool) -> list[dict]:
    """The finished runs of this invocation in `out` (none for a new one); a mismatch is a one-line error."""
    inside = out.resolve().is_relative_to(KIT)
    if inside and subprocess.run(["git", "check-ignore", "-q", str(out)], cwd=KIT).returncode != 0:
        sys.exit(f"suite_under_load: --out {out} is inside the clone and not ignored by git: --resume would find "
                 "the clone changed (reports/ is ignored)")
    out.mkdir(parents=True, exist_ok=True)
    saved, jsonl = out / "invocation.json", out / "runs.jsonl"
    if not resume:
        if any(out.glob("run-*.txt")) or jsonl.exists():
            sys.exit(f"suite_under_load: --out {out} already holds runs: give a new folder, or --resume")
        write_whole(saved, json.dumps(invocation, indent=1) + "\n")
        return []
    if not saved.exists():
        sys.exit(f"suite_under_load: --resume: {saved} does not exist: nothing to go on with")
    before = json.loads(saved.read_text())
    if before != invocation:
        differ = "; ".join(f"{k} {before.get(k)!r} then, {v!r} now" for k, v in invocation.items()
                           if before.get(k) != v)
        sys.exit(f"suite_under_load: --resume: {saved} is another invocation: {differ}")
    for part in out.glob("*.part"):  # a write the machine's end cut off (this invocation's: it matched)
        part.unlink()
    lines = jsonl.read_text().splitlines() if jsonl.exists() else []
    records = []
    for number, text in enumerate(lines, 1):
        try:
            records.append(json.loads(text))
        except json.JSONDecodeError:
            if number < len(lines):  # only the last line can have been cut off mid-write
                sys.exit(f"suite_under_load: --resume: {jsonl}:{number} is not a run record: {text[:80]!r}")
    if [r.get("run") for r in records] != list(range(1, len(records) + 1)):
        sys.exit(f"suite_under_load: --resume: {jsonl} does not number its runs 1 to {len(records)}")
    write_whole(jsonl, "".join(json.dumps(r) + "\n" for r in records))
    return records


def write_whole(path: Path, text: str) -> None:
    """Written beside, then renamed: a run cut off mid-write leaves no half file."""
    part = path.with_name(path.name + ".part")
    part.write_text(text)
    part.replace(path)


if __name__ == "__main__":
    main()
