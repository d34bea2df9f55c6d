"""verify-sm120's matrix wall time for two checkouts of the kit (e.g. the engine before and after a change) on
one wheel, run by hand; prints the machine and medians. The checkouts take turns, so a change in the machine's
load falls on both alike. Each run reuses its checkout's venv (a first, untimed run of one small variant
makes it).

    python3 benchmarks/verify_matrix.py --wheel dist/W.whl --repeat 3 OLD_CHECKOUT [NEW_CHECKOUT] \\
        -- --kernels K.py --variants V.toml

Per run: the matrix wall time and venv set-up from the report (verify.json), the compile seconds the workers
measured (sum over every compile), and what is left of jobs x wall: interpreters, `import tilelang`, forks,
waiting. Arguments after `--` go to both checkouts' verify-sm120.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KIT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(KIT / "src"))

from tlkit.base.machine import describe  # noqa: E402


def run(checkout: Path, wheel: Path, extra: list[str], reports: Path) -> dict:
    env = {**os.environ, "TLKIT_ROOT": str(checkout), "PYTHONPATH": str(checkout / "src")}
    cmd = [sys.executable, "-m", "tlkit", "verify-sm120", "--wheel", str(wheel), "--reports", str(reports), *extra]
    begun = time.monotonic()
    res = subprocess.run(cmd, cwd=checkout, env=env, capture_output=True, text=True)
    end_to_end = time.monotonic() - begun
    found = list(reports.glob("*/verify.json"))
    if not found:
        raise SystemExit(f"{checkout}: verify-sm120 wrote no report (exit {res.returncode}): {res.stderr[-500:]}")
    doc = json.loads(found[0].read_text())
    compiles = sum(r.get("seconds") or 0.0 for r in doc["results"])
    info = doc["run"]
    return {"end_to_end": end_to_end, "wall": info["wall"], "setup": info["setup"], "jobs": info["jobs"],
            "compiles": compiles, "outside": info["jobs"] * info["wall"] - compiles, "count": len(doc["results"]),
            "summary": doc["summary"]}


def main() -> None:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs="+", type=Path)
    parser.add_argument("--wheel", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--warm-only", default=r"act_quant\[N=256,", help="the variant of the untimed first run")
    args = parser.parse_args(argv)
    checkouts = [c.resolve() for c in (args.checkouts if len(args.checkouts) > 1 else [*args.checkouts, KIT])]
    wheel = args.wheel.resolve()
    samples: dict[Path, list[dict]] = {c: [] for c in checkouts}
    with tempfile.TemporaryDirectory(prefix="verify-matrix.") as tmp:
        for c in checkouts:  # makes (or checks) each checkout's venv with one small variant; not timed
            run(c, wheel, [*extra, "--only", args.warm_only], Path(tmp) / f"warm-{c.name}")
        for i in range(args.repeat):
            for j, c in enumerate(checkouts):
                samples[c].append(run(c, wheel, extra, Path(tmp) / f"{i}-{j}"))
    print(f"machine: {describe()}")
    print(f"wheel: {wheel.name}; verify-sm120 {' '.join(extra)}; median of {args.repeat} runs (min-max)")
    for c in checkouts:
        s = samples[c]

        def fig(key: str) -> str:
            values = [x[key] for x in s]  # noqa: B023 - used at once
            return f"{statistics.median(values):6.1f} ({min(values):.1f}-{max(values):.1f})"

        print(f"  {str(c):<28} end to end {fig('end_to_end')} s, matrix {fig('wall')} s, venv {fig('setup')} s, "
              f"compiles {fig('compiles')} s, outside compiles {fig('outside')} s; {s[0]['count']} compiles, "
              f"{s[0]['summary']}")
    if args.json:
        args.json.write_text(json.dumps({"machine": describe(), "wheel": wheel.name, "extra": extra,
                                         "samples": {str(c): samples[c] for c in checkouts}}, indent=1) + "\n")


if __name__ == "__main__":
    main()
