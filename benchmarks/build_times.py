"""Build-time benchmark for `tlkit build-wheel` (run by hand; prints the machine and medians).

Scenarios, each repeated --repeat times through the real CLI (python -m tlkit build-wheel):
  rebuild      the CMake build folder deleted, ccache warm (a fresh checkout of the same recipe)
  incremental  one patched C++ file touched (src/cuda/op/builtin.cc), everything else up to date
  edit         one C++ edit as a patch author makes it: a new line of code in src/cuda/op/builtin.cc committed
               in the work tree (a line never built before, so the compile cache misses: the kit's cache line
               is printed), then the build; after the last run, or Ctrl-C, SIGTERM or SIGHUP, the tree is reset,
               and built again (not measured), so dist/ holds the series' wheel
  noop         nothing changed
After every run but an edit's the wheel's sha256 is recorded: identical inputs must give identical bytes.
Also prints the wheel's size next to the stock PyPI wheel of the same version."""

from __future__ import annotations

import argparse
import hashlib
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KIT = Path(__file__).resolve().parents[1]
EDITED = Path("src", "cuda", "op", "builtin.cc")  # a C++ file a patch changes, in the work tree
sys.path.insert(0, str(KIT / "src"))

from tlkit.base.machine import describe  # noqa: E402
from tlkit.wheel.pipeline import BuildInput, make_plan  # noqa: E402
from tlkit.wheel.tree import git  # noqa: E402


def run_build(args: list[str]) -> tuple[float, Path, str]:
    """Seconds, the wheel, and the kit's `compile cache: ...` line."""
    start = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "tlkit", "build-wheel", *args], check=True, cwd=KIT,
                         stdout=subprocess.PIPE, text=True)
    seconds = time.monotonic() - start
    wheel = max((KIT / "dist").glob("tilelang-*.whl"), key=lambda p: p.stat().st_mtime)
    cache = next((ln for ln in run.stdout.splitlines() if ln.startswith("compile cache:")), "")
    return seconds, wheel, cache


def stop_as_interrupt(signum: int, _frame) -> None:
    """SIGTERM and SIGHUP end the benchmark as Ctrl-C does, so that the edits are undone."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


def commit_edit(tree: Path, n: int) -> None:
    """A line of code (not a comment, which ccache's preprocessed mode would not see) in builtin.cc, committed so
    that the kit takes the tree as it is."""
    source = tree / EDITED
    with source.open("a") as f:
        f.write(f"\nnamespace {{ [[maybe_unused]] const long tlkit_bench_edit_{n} = {time.time_ns()}L; }}\n")
    git(tree, "commit", "-q", "-m", f"build_times: edit {n}", str(source.relative_to(tree)))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--scenarios", default="rebuild,incremental,noop")
    p.add_argument("build_args", nargs="*", help="passed to build-wheel (e.g. --cuda 13.2)")
    args = p.parse_args()
    plan = make_plan(BuildInput())
    tree = plan.work / "src"
    print(f"machine: {describe()}")
    print(f"recipe: {plan.recipe.name}, work tree {tree}")
    signal.signal(signal.SIGTERM, stop_as_interrupt)
    signal.signal(signal.SIGHUP, stop_as_interrupt)
    _, wheel, _ = run_build(args.build_args)  # make sure everything exists first (not measured)
    print(f"  setup build: sha256 {sha(wheel)[:16]} (not counted: its build folder may predate the series)")
    digests: set[str] = set()
    results: dict[str, list[float]] = {}
    for scenario in args.scenarios.split(","):
        before_edits = git(tree, "rev-parse", "HEAD").stdout.strip()
        try:
            for i in range(args.repeat):
                if scenario == "rebuild":
                    shutil.rmtree(tree / "build")
                elif scenario == "incremental":
                    (tree / EDITED).touch()
                elif scenario == "edit":
                    commit_edit(tree, i + 1)
                seconds, wheel, cache = run_build(args.build_args)
                if scenario != "edit":
                    digests.add(sha(wheel))
                results.setdefault(scenario, []).append(seconds)
                print(f"  {scenario} #{i + 1}: {seconds:.1f} s  sha256 {sha(wheel)[:16]}  ({cache})", flush=True)
        finally:  # the work tree goes back to the series, however the edits end
            if scenario == "edit":
                git(tree, "reset", "-q", "--hard", before_edits)
        if scenario == "edit":
            _, wheel, _ = run_build(args.build_args)
            print(f"  tree reset after the edits and built again: sha256 {sha(wheel)[:16]} (not counted)")
    for scenario, times in results.items():
        print(f"{scenario}: median {statistics.median(times):.1f} s over {len(times)} runs "
              f"({', '.join(f'{t:.1f}' for t in times)})")
    compared = sum(len(t) for name, t in results.items() if name != "edit")
    if compared:
        print(f"byte-identical wheels across the {compared} measured builds without an edit: {len(digests) == 1}")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:",
                        "-d", tmp, f"tilelang=={plan.recipe.version}"], check=True)
        stock = next(Path(tmp).glob("*.whl"))
        print(f"wheel size: kit {wheel.stat().st_size / 2**20:.1f} MiB ({wheel.name}) vs PyPI "
              f"{stock.stat().st_size / 2**20:.1f} MiB ({stock.name})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
