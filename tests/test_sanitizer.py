"""verify-gpu --sanitize: which compute-sanitizer runs (the machine's, else the pinned PyPI wheel's, fetched for real),
and how its reports become verdicts per variant. The latter over a fake compute-sanitizer, since neither the real
one nor the GPU worker it runs can do anything here without a GPU: a real executable that takes compute-sanitizer's
command line and plays the worker it is given (tlkit.verify.subject.launch_kernels, which needs a GPU and TileLang)
through the worker side of the real protocol, printing report lines as compute-sanitizer 2025.3 and 2026.3 printed them
on an H200 (racy and divergent test kernels launched by a worker under tlkit's `sanitize`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tlkit.base.errors import KitError
from tlkit.base.paths import cache_root
from tlkit.verify.cli import find_sanitizer, record_sanitizer, subject_env
from tlkit.verify.config import load_config
from tlkit.verify.gpu import GpuContext, sanitize
from tlkit.verify.variants import Variant
from tlkit.verify.workers import Run

KIT = Path(__file__).resolve().parents[1]
START_BOUND = 120.0  # interpreter start-up on a loaded machine
RACY = Variant("racy_kernel", (("n", 1),))
TIDY = Variant("tidy_kernel", (("n", 2),))
HEADER = "========= COMPUTE-SANITIZER"
RACE = ["========= Error: Race reported between Write access at racy_kernel(float *)+0xa0 in racy.cu:4",
        "=========     and Write access at racy_kernel(float *)+0xa0 in racy.cu:4 [63 hazards]",
        "=========     and Read access at racy_kernel(float *)+0xb0 in racy.cu:5 [264 hazards]",
        "========= "]
BARRIER = [line for thread in range(3) for line in (
    "========= Barrier error detected. Divergent thread(s) in warp.",
    "=========     at racy_kernel(float *)+0xc0 in racy.cu:16",
    f"=========     by thread ({thread},0,0) in block (0,0,0)",
    "=========     Saved host backtrace up to driver entry point at kernel launch time",
    "=========         Host Frame: run [0x8dce] in racy.so",
    "========= ")]
REPORTS = {  # tool: (what it printed after the racy kernel, its last line)
    "racecheck": (RACE, "========= RACECHECK SUMMARY: 1 hazard displayed (1 error, 0 warnings)"),
    "synccheck": (BARRIER, "========= ERROR SUMMARY: 3 errors"),
}
# compute-sanitizer 2026.3's lines when its target died of a signal: about the process, not a kernel
DIED = ["========= Error: process didn't terminate successfully",
        "=========     The application may have hit an error when dereferencing Unified Memory from the host. Please "
        "rerun the application under cuda-gdb or a host debugger to catch host side errors."]
# what the 13.2.87 wheel's compute-sanitizer printed (exit 255): it lacks the launcher, so the worker never started
STARTS_NOTHING = ["========= Error: Target application terminated before first instrumented API call",
                  "========= Error: couldn't find exit code."]

FAKE = '''#!{python}
"""A fake compute-sanitizer: records its arguments, then does what plan.json beside it says."""
import json
import sys
from pathlib import Path

from tlkit.verify.subject.protocol import start

plan = json.loads(Path(__file__).with_name("plan.json").read_text())
Path(plan["argv_file"]).write_text(json.dumps(sys.argv[1:]))
print("{header}", flush=True)
if plan["starts_nothing"]:
    print("\\n".join(plan["at_exit"]), flush=True)
    sys.exit(plan["exit_code"])
spec = json.loads(sys.argv[-1])  # the worker's command line ends with its spec
events = start(spec)
events.emit(event="stage", stage="import tilelang and torch")
for i, item in enumerate(spec["variants"]):
    events.begin(i)
    events.emit(event="launch", stage="launch: first launch and synchronisation",
                what="first launch and synchronisation", grid=[1, 1, 1], block=[128, 1, 1])
    for line in plan["reports"].get(item["factory"], []):  # after the kernel ended, as the real one prints
        print(line)
    print(f"{{item['factory']}}: compared with the reference", flush=True)
    events.emit(event="result", status="ok", error="")
events.emit(event="done")
print("\\n".join(plan["at_exit"]), flush=True)
sys.exit(plan["exit_code"])
'''


def fake_sanitizer(folder: Path, reports: dict[str, list[str]], at_exit: list[str], exit_code: int = 0,
                   starts_nothing: bool = False) -> Path:
    """The fake compute-sanitizer in `folder`: `reports` per kernel factory, `at_exit` after the worker's end."""
    folder.mkdir(parents=True, exist_ok=True)
    plan = {"argv_file": str(folder / "argv.json"), "reports": reports, "at_exit": at_exit, "exit_code": exit_code,
            "starts_nothing": starts_nothing}
    (folder / "plan.json").write_text(json.dumps(plan))
    exe = folder / "compute-sanitizer"
    exe.write_text(FAKE.format(python=sys.executable, header=HEADER))
    exe.chmod(0o755)
    return exe


def context(tmp_path: Path) -> GpuContext:
    """verify-gpu's context as run_subject makes it, for the kit's own cases."""
    env = subject_env({}, (), tmp_path / "kernel-cache")
    timing = {"warmup": 3, "repeats": 20, "batch": 10, "sleep_cycles": 5_000_000}
    return GpuContext(Path(sys.executable), KIT / "verify" / "kernels.py", None, env, START_BOUND, 20.0,
                      {"M": 64, "b": 2, "m": 64, "n": 64, "topk": 128}, {}, timing, tmp_path / "runs")


def launched() -> list[Run]:
    """Both variants as the GPU run left them: ok."""
    return [Run(RACY, "0", "ok"), Run(TIDY, "1", "ok")]


@pytest.mark.parametrize("ending", ["summary", "worker died at exit"])
@pytest.mark.parametrize("tool", sorted(REPORTS))
def test_a_reported_hazard_fails_its_own_variant_and_the_front_ends_lines_none(tmp_path, tool, ending):
    """The hazard printed while the racy variant ran makes it "hazard"; the variant printed last stays clean though
    the sanitizer's lines about the whole process follow it."""
    lines, summary = REPORTS[tool]
    at_exit = [summary] if ending == "summary" else [*DIED, summary]
    exe = fake_sanitizer(tmp_path / "fake", {"racy_kernel": lines}, at_exit, 255 if DIED[0] in at_exit else 0)
    said: list[str] = []
    found = sanitize([RACY, TIDY], context(tmp_path), str(exe), tool, said.append)
    first = "Error: Race reported between Write access at racy_kernel(float *)+0xa0 in racy.cu:4" \
        if tool == "racecheck" else "Barrier error detected. Divergent thread(s) in warp."
    count = 1 if tool == "racecheck" else 3
    assert found == {RACY: f"{count} hazard line(s): {first}", TIDY: "clean"}
    assert said == [f"[{tool}] {found[RACY]:<12} racy[n=1]", f"[{tool}] clean        tidy[n=2]"]
    runs = launched()
    record_sanitizer(runs, tool, found)
    assert [(r.status, r.error, r.data[tool]) for r in runs] == [
        ("hazard", f"compute-sanitizer {tool}: {found[RACY]}", found[RACY]), ("ok", "", "clean")]


def test_the_sanitizer_gets_its_tool_and_the_worker_with_the_sanitizers_sizes(tmp_path):
    exe = fake_sanitizer(tmp_path / "fake", {}, [REPORTS["racecheck"][1]])
    assert sanitize([RACY, TIDY], context(tmp_path), str(exe), "racecheck", lambda line: None) == {
        RACY: "clean", TIDY: "clean"}
    argv = json.loads((tmp_path / "fake" / "argv.json").read_text())
    assert argv[:5] == ["--tool", "racecheck", "--print-limit", "50", sys.executable]
    assert argv[5:7] == ["-m", "tlkit.verify.subject.launch_kernels"]
    spec = json.loads(argv[7])
    assert spec["parent"] is None and spec["reference_on_cpu"] is True and spec["compile_only"] is False
    assert (spec["dims"]["M"], spec["dims"]["topk"], spec["edges"]) == (65, 100, {})  # partial tiles, masked block
    assert spec["timing"] == {"warmup": 0, "repeats": 1, "batch": 1, "sleep_cycles": 0}  # one launch each
    assert [v["factory"] for v in spec["variants"]] == ["racy_kernel", "tidy_kernel"]


def test_a_sanitizer_that_starts_no_worker_leaves_every_variant_not_sanitized(tmp_path):
    exe = fake_sanitizer(tmp_path / "fake", {}, STARTS_NOTHING, 255, starts_nothing=True)
    found = sanitize([RACY, TIDY], context(tmp_path), str(exe), "racecheck", lambda line: None)
    assert found == {RACY: "not run (crash)", TIDY: "not run (worker ended before it)"}
    runs = launched()
    record_sanitizer(runs, "racecheck", found)
    assert [r.status for r in runs] == ["not sanitized", "not sanitized"]
    assert runs[1].error == "compute-sanitizer racecheck: not run (worker ended before it)"


def test_without_a_compute_sanitizer_on_the_machine_the_pinned_pypi_one_is_fetched_and_runs(tmp_path):
    """Nothing on PATH or in $CUDA_HOME/bin: the wheel of verify.toml, installed in the kit's cache (a real
    download from PyPI the first time)."""
    requirement = load_config(KIT / "verify" / "verify.toml").compute_sanitizer
    said: list[str] = []
    found = Path(find_sanitizer(None, requirement, {"PATH": str(tmp_path / "bin"), "CUDA_HOME": str(tmp_path)},
                                cache_root(), said.append))
    prefix = cache_root() / "tools" / requirement.replace("==", "-")
    assert found == prefix / "nvidia" / "cu13" / "bin" / "compute-sanitizer"
    assert said == [f"verify-gpu --sanitize: compute-sanitizer {found} (from PyPI {requirement}, none on PATH or "
                    "in $CUDA_HOME/bin)"]
    res = subprocess.run([str(found), "--version"], capture_output=True, text=True)
    assert res.returncode == 0 and "NVIDIA (R) Compute Sanitizer" in res.stdout, res.stderr
    # what compute-sanitizer executes to start the worker: without it (the 13.2.87 wheel) no target ever starts
    launcher = prefix / "nvidia" / "cu13" / "compute-sanitizer" / "TreeLauncherSubreaper"
    assert launcher.is_file() and os.access(launcher, os.X_OK)


def test_the_named_sanitizer_comes_first_then_the_machines(tmp_path):
    """--sanitizer PATH, else PATH, else $CUDA_HOME/bin; each said with where it came from. No download."""
    named, on_path, in_home = (tmp_path / d / "compute-sanitizer" for d in ("named", "bin", "cuda/bin"))
    for exe in (named, on_path, in_home):
        exe.parent.mkdir(parents=True)
        exe.write_text("#!/bin/sh\n")
        exe.chmod(0o755)
    env = {"PATH": str(on_path.parent), "CUDA_HOME": str(in_home.parent.parent)}
    said: list[str] = []
    cache = tmp_path / "cache"  # nothing is fetched into it
    assert find_sanitizer(named, "unused==0", env, cache, said.append) == str(named)
    assert find_sanitizer(None, "unused==0", env, cache, said.append) == str(on_path)
    assert find_sanitizer(None, "unused==0", {**env, "PATH": str(tmp_path)}, cache, said.append) == str(in_home)
    assert [line.rsplit(" (from ", 1)[1] for line in said] == ["--sanitizer)", "PATH)", "$CUDA_HOME/bin)"]
    with pytest.raises(KitError, match=r"^--sanitizer \S+/nothing-here: no such executable file$"):
        find_sanitizer(tmp_path / "nothing-here", "unused==0", env, cache, said.append)
