"""The checks that judge a device run of the launch watchdog (tests/fixtures/gpu/check_hang_demo.py), against the
real output of an H200 run kept in docs/device-runs, and against that output with one item missing."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tlkit.diagnose.gpu_look import GpuLook, parse

KIT = Path(__file__).resolve().parents[1]
RUNS = KIT / "docs" / "device-runs"
CHECK = KIT / "tests" / "fixtures" / "gpu" / "check_hang_demo.py"
# run_hang_demo.sh's file names <- the H200 run of the kit wheel p6d1b16e2
RUN = {"hang-report.txt": "h200-p6d1b16e2-hang-report.txt", "diagnose.txt": "h200-p6d1b16e2-hang-diagnose.txt",
       "hang-abort.txt": "h200-p6d1b16e2-hang-abort.txt", "gpu-after.txt": "h200-p6d1b16e2-gpu-after.txt"}


def demo_output(folder: Path) -> Path:
    folder.mkdir()
    for name, kept in RUN.items():
        shutil.copy(RUNS / kept, folder / name)
    return folder


def judge(folder: Path, check: Path = CHECK) -> subprocess.CompletedProcess:
    """A device run's output judged by `check` (check_hang_demo.py, or check_stall_cases.py): PASS/FAIL lines."""
    return subprocess.run([sys.executable, str(check), str(folder)], capture_output=True, text=True, timeout=120)


def test_the_h200_runs_output_passes_every_check(tmp_path):
    res = judge(demo_output(tmp_path / "out"))
    assert res.returncode == 0, res.stdout
    assert res.stdout.count("PASS: ") == 11 and "FAIL" not in res.stdout


@pytest.mark.parametrize("name, old, new, failing", [
    ("hang-report.txt", "has not completed 20.4 s", "has not completed 25.5 s", "within bound + 5 s"),
    ("hang-report.txt", "candidate: kernel spin_kernel", "candidate: kernel other_kernel",
     "it names the spinning kernel and its jit factory"),
    ("hang-report.txt", "grid (1, 1, 1), block (32, 1, 1)", "grid ?, block ?",
     "with grid, block and dynamic shared memory"),
    ("hang-report.txt", "arg 1: shape [32] int32", "arg 1: shape [32] ?", "with each tensor's shape, dtype and device"),
    ("hang-report.txt", "last TileLang kernel known complete", "last kernel", "with the last kernel known complete"),
    ("hang-report.txt", "--- thread MainThread", "--- thread ?", "with every thread's Python stack"),
    ("hang-report.txt", "report written to", "report kept in", "in a file it names"),
    ("diagnose.txt", "STUCK: waiting for the GPU", "PROGRESSING: running",
     "diagnose: STUCK waiting for the GPU, naming the kernel"),
    ("hang-abort.txt", "exit status 124\n", "exit status 137\n", "abort: exit status 124"),
    # timeout(1) exits 124 too: without the watchdog's own line, 124 is not its abort
    ("hang-abort.txt", "action abort: ending process", "action abort: not ending process", "abort: exit status 124"),
    ("gpu-after.txt", "True", "False", "the GPU computes afterwards"),
])
def test_a_run_missing_one_item_fails_naming_it(tmp_path, name, old, new, failing):
    out = demo_output(tmp_path / "out")
    text = (out / name).read_text()
    assert old in text
    (out / name).write_text(text.replace(old, new))
    res = judge(out)
    assert res.returncode == 1
    assert f"FAIL: {failing}\n" in res.stdout
    assert res.stdout.count("FAIL: ") == 1, res.stdout


STALL_CHECK = KIT / "tests" / "fixtures" / "gpu" / "check_stall_cases.py"
STOCK_STALL = RUNS / "h100-stock-stall-2026-12-06"


def test_the_stall_checks_fail_the_h100_stock_run_where_it_called_tilelang_s_kernel_not_tilelang(tmp_path):
    """Issue 24 (d), judged on the real H100 run of the stock wheel (before 8625a92): diagnose was STUCK but
    classed spin_kernel `(not TileLang)`, and the attached kernel had finished before the look. The checks must
    fail exactly those two."""
    out = shutil.copytree(STOCK_STALL, tmp_path / "out")
    res = judge(out, STALL_CHECK)
    assert res.returncode == 1
    assert res.stdout.splitlines() == [
        "PASS: stock flag: diagnose --gpu says STUCK",
        "FAIL: stock flag: it names the TileLang kernel and its line",
        "FAIL: attached mid-run: cuda-gdb saw the kernel",
        "PASS: attached mid-run: the kernel finished with the right result"]


def _looked(raw: str) -> str:
    """What diagnose's verdict line says of a cuda-gdb batch output, with the parser as it is now."""
    return GpuLook(1, kernels=parse(raw)).summary()


def test_the_stall_checks_pass_that_run_read_by_the_current_parser(tmp_path):
    """The same run, its verdict lines rebuilt by the current parser from the run's own cuda-gdb output (kept
    in the JSON) and, for the mid-run look, from the later capture that attached while lcg_kernel ran: every
    check passes. reparsed.txt, kept beside the run, is that same reading."""
    out = shutil.copytree(STOCK_STALL, tmp_path / "out")
    verdict = next(v for v in json.loads((out / "stock-flag-diagnose.json").read_text()) if "gpu_look" in v["details"])
    flag = _looked(verdict["details"]["gpu_look"][-1]["cuda_gdb_output"])
    assert (out / "reparsed.txt").read_text().strip() == flag
    diag = (out / "stock-flag-diagnose.txt").read_text()
    old = re.search(r"on the GPU now: .*$", diag, re.MULTILINE).group(0)
    (out / "stock-flag-diagnose.txt").write_text(diag.replace(old, flag))
    finite = _looked((KIT / "tests" / "data" / "cuda-gdb" / "finite.txt").read_text())
    (out / "finite-diagnose.txt").write_text(f"PID 1 (python3 stall_cases.py finite 30): STUCK: waiting for the GPU; "
                                             f"{finite}\n")
    res = judge(out, STALL_CHECK)
    assert res.returncode == 0, res.stdout
    assert res.stdout.count("PASS: ") == 4


@pytest.mark.parametrize("mode, capture", [("foreign", "foreign-1"), ("foreign", "foreign-2"), ("flag", "flag-1"),
                                           ("flag", "flag-2")])
def test_what_diagnose_says_of_each_real_capture_is_what_the_stall_checks_accept(mode, capture):
    """check_stall_cases' pattern for each stall against the parser's reading of the real cuda-gdb output of that
    stall (tests/data/cuda-gdb), so that the checks of a GPU run cannot drift from what diagnose prints."""
    sys.path.insert(0, str(STALL_CHECK.parent))
    try:
        import check_stall_cases
    finally:
        sys.path.remove(str(STALL_CHECK.parent))
    said = _looked((KIT / "tests" / "data" / "cuda-gdb" / f"{capture}.txt").read_text())
    assert check_stall_cases.ON_GPU[mode].search(said), said
    other = {"foreign": "flag", "flag": "foreign"}[mode]
    assert not check_stall_cases.ON_GPU[other].search(said)


KIT_STALL = RUNS / "h100-p11b7f667-stall-2026-12-07"


@pytest.mark.parametrize("run", [KIT_STALL, RUNS / "h100-pc98e4334-stall-2026-12-07"], ids=lambda p: p.name)
def test_the_h100_run_of_the_kit_wheel_passes_every_stall_check(tmp_path, run):
    """Issue 24 (a)-(c) at 2 ms sampling and at SAMPLE_MS=0, and the mid-run attach, as the H100 ran them with
    the kit wheel p11b7f667 and again with the unity-built pc98e4334 (run_stall_checks.sh): every check passes, as
    the run's own checks.txt says."""
    out = shutil.copytree(run, tmp_path / "out")
    res = judge(out, STALL_CHECK)
    assert res.returncode == 0, res.stdout
    assert res.stdout.count("PASS: ") == 46 and "FAIL" not in res.stdout
    assert res.stdout == (run / "checks.txt").read_text()


@pytest.mark.parametrize("name, old, new, failing", [
    # issue 24's first fault: the report names #9 (not started) as the stuck kernel
    ("foreign-s0-run.txt", "stuck: work that is not TileLang's", "stuck: kernel block_quant_kernel",
     "foreign-s0: no TileLang kernel is called stuck"),
    ("foreign-s0-run.txt", "and #9 (not started)", "and #9", "foreign-s0: the first line says the stall is not "
     "TileLang's, between two launches"),
    ("long-s0-run.txt", "stuck: kernel lcg_kernel", "candidate: kernel lcg_kernel",
     "long-s0: lcg_kernel is the one stuck"),
    ("flag-s2-run.txt", "candidate: kernel fp8_gemm_kernel", "stuck: kernel fp8_gemm_kernel",
     "flag-s2: no kernel but spin_kernel is called stuck"),
    # issue 24's second fault: a long kernel was PROGRESSING because the CPU spun in the driver's wait
    ("long-s2-diagnose.txt", "STUCK: waiting for the GPU", "PROGRESSING: waiting for the GPU",
     "long-s2: diagnose says STUCK"),
    ("foreign-s2-diagnose.txt", "spin_kernel (not TileLang)", "spin_kernel (an NCCL collective)",
     "foreign-s2: diagnose names what is on the GPU"),
    ("finite-run.txt", "result right", "result wrong", "attached mid-run: the kernel finished with the right result"),
])
def test_the_kit_run_with_one_wrong_attribution_fails_naming_it(tmp_path, name, old, new, failing):
    out = shutil.copytree(KIT_STALL, tmp_path / "out")
    text = (out / name).read_text()
    assert old in text
    (out / name).write_text(text.replace(old, new, 1))
    res = judge(out, STALL_CHECK)
    assert res.returncode == 1
    assert res.stdout.count("FAIL: ") == 1 and f"FAIL: {failing}\n" in res.stdout, res.stdout


def test_the_h100_rerun_of_the_stock_wheel_passes_every_stall_check(tmp_path):
    """Issue 24 (d), run again on an H100 with the current parser (2026-12-07): diagnose --gpu names the stock
    wheel's spin_kernel as TileLang's with its line, and a kernel attached mid-run finishes right."""
    out = shutil.copytree(RUNS / "h100-stock-stall-2026-12-07", tmp_path / "out")
    res = judge(out, STALL_CHECK)
    assert res.returncode == 0, res.stdout
    assert res.stdout.count("PASS: ") == 4 and res.stdout == (out / "checks.txt").read_text()
