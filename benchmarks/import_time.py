"""`import tilelang` time of two or more wheels' venvs, and the size of their wheels (run by hand; prints the
machine and medians). Each sample is a fresh interpreter that imports tilelang and reports how long the
import took; the venvs take turns, so a change in the machine's load falls on all of them alike.

    python3 benchmarks/import_time.py --repeat 11 NAME=VENV_PYTHON[=WHEEL] ...
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

PROBE = "import time; t = time.perf_counter(); import tilelang; print(time.perf_counter() - t)"


def sample(python: str) -> float:
    res = subprocess.run([python, "-c", PROBE], capture_output=True, text=True, cwd="/", timeout=300)
    if res.returncode != 0:
        raise SystemExit(f"{python}: import tilelang failed: {res.stderr.strip().splitlines()[-1:]}")
    return float(res.stdout.strip().splitlines()[-1])


def parse(spec: str) -> dict:
    parts = spec.split("=", 2)  # a wheel's path may hold "=" (the stock-sources folders do)
    if len(parts) not in (2, 3) or not all(parts):
        raise SystemExit(f"import_time.py: {spec!r}: expected NAME=VENV_PYTHON or NAME=VENV_PYTHON=WHEEL")
    return {"name": parts[0], "python": parts[1], "wheel": parts[2] if len(parts) == 3 else ""}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("venvs", nargs="+", metavar="NAME=PYTHON[=WHEEL]")
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    entries = [parse(spec) for spec in args.venvs]
    for e in entries:
        sample(e["python"])  # warm the page cache: every timed sample then reads the same files from memory
        e["samples"] = []
    for _ in range(args.repeat):
        for e in entries:
            e["samples"].append(sample(e["python"]))
    print(f"machine: {describe()}")
    print(f"import tilelang, wall seconds in a fresh interpreter, median of {args.repeat} (min-max):")
    for e in entries:
        size = f", wheel {Path(e['wheel']).stat().st_size:,} B" if e.get("wheel") else ""
        s = e["samples"]
        print(f"  {e['name']:<24} {statistics.median(s):.3f} s ({min(s):.3f}-{max(s):.3f}){size}")
    if args.json:
        args.json.write_text(json.dumps({"machine": describe(), "entries": entries}, indent=1) + "\n")


if __name__ == "__main__":
    main()
