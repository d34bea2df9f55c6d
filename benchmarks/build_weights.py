"""Per-folder weights for the build ETA from the .ninja_log of a cold build: steps and mean seconds per step
for each folder, as the TOML table recipes/build-times/<recipe>.toml that tlkit.wheel.progress reads.

Usage: python benchmarks/build_weights.py NINJA_LOG "what was measured, where" > recipes/build-times/R.toml
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path, PurePosixPath

from tlkit.wheel.progress import fmt_seconds, ninja_log_model


def main(log: Path, measured: str) -> None:
    model = ninja_log_model(log)
    if model is None:
        sys.exit(f"{log}: no steps in this ninja log")
    folders: dict[str, list[float]] = defaultdict(list)
    for unit, (_, seconds) in model.steps.items():
        if unit.startswith("/"):  # CMake's own bookkeeping under the build folder's absolute path: seconds in
            continue  # all, and a path that would tie the table to one checkout
        parent = str(PurePosixPath(unit).parent)
        folders[unit if parent == "." else parent].append(seconds)  # a top-level output is its own row
    total = sum(sum(s) for s in folders.values())
    print(f"# Seconds per build step by folder (tlkit.wheel.progress: the ETA's model when the build folder has no\n"
          f"# .ninja_log yet). Written by benchmarks/build_weights.py from a cold build's ninja log: {len(model.steps)}"
          f" steps,\n# {fmt_seconds(total)} of compiler time in all.")
    print(f'measured = "{measured}"\n\n[folders]')
    for folder in sorted(folders):
        times = folders[folder]
        print(f'"{folder}" = {{ steps = {len(times)}, seconds = {sum(times) / len(times):.1f} }}')


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), sys.argv[2])
