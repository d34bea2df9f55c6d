"""Hangs in a user's run name themselves (patches 0013-0015 and `tlkit diagnose`), against the built wheel; run by
hand (`nox -s tests -- -m slow`). No GPU: compiles are for sm_120, held by the documented fault-injection
point; ranks run on CPU with gloo under torchrun."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
from pathlib import Path

import pytest
from conftest import Lines, process_tree

from tlkit.diagnose.command import diagnose

pytestmark = pytest.mark.slow
FIX = Path(__file__).resolve().parent / "fixtures" / "hang"
GUARD = 600.0  # a bound on waiting for an expected line, so a broken wheel fails instead of hanging the suite


def session(argv: list[str], env: dict[str, str]):
    return process_tree(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def test_a_held_compile_prints_progress_and_diagnose_names_kernel_and_stage(venv, cuda_env, tmp_path):
    env = {**cuda_env, "TILELANG_COMPILE_PROGRESS_SECONDS": "2", "TILELANG_CACHE_DIR": str(tmp_path / "kc"),
           "TILELANG_RUNTIME_DIR": str(tmp_path / "run")}
    with session([str(venv), str(FIX / "held_compile.py")], env) as p:
        # the first progress line may come before lowering reaches layout inference on a loaded machine
        lines = Lines(p.stderr).until("LayoutInference", GUARD)
        progress = lines[-1]
        verdicts = diagnose([p.pid], seconds=1.0)
        state_file = tmp_path / "run" / f"{p.pid}.json"
        assert state_file.is_file()
    assert "kernel `scaled_copy_kernel`" in progress and "jit factory scaled_copy(256, 2.0)" in progress
    assert "for cuda sm_120" in progress and "now in: " in progress and "LayoutInference" in progress
    assert "no deadline" in progress
    v = next(v for v in verdicts if v.pid == p.pid)
    assert v.kind == "compiling", v.line()
    assert "kernel `scaled_copy_kernel` (jit factory scaled_copy(256, 2.0)) for cuda sm_120" in v.summary
    assert "LayoutInference" in v.details["compile"]["stage"]


def torchrun(venv, scenario: str) -> list[str]:
    return [str(venv), "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
            str(FIX / "two_ranks.py"), scenario]


def rank_env(cuda_env, tmp_path) -> dict[str, str]:
    return {**cuda_env, "TILELANG_COMPILE_PROGRESS_SECONDS": "2", "TILELANG_CACHE_DIR": str(tmp_path / "kc"),
            "TILELANG_RUNTIME_DIR": str(tmp_path / "run")}


def test_torchrun_rank0_held_in_compile_rank1_in_all_reduce_both_named(venv, cuda_env, tmp_path):
    with session(torchrun(venv, "compile"), rank_env(cuda_env, tmp_path)) as launcher:
        stderr = Lines(launcher.stderr)
        out = stderr.until("rank 1: entering all_reduce", GUARD)
        if not any("tilelang: still compiling" in line for line in out):
            stderr.until("tilelang: still compiling", GUARD)
        verdicts = diagnose([launcher.pid], seconds=1.5)
    by_kind = {v.kind: v for v in verdicts}
    assert "compiling" in by_kind and "collective" in by_kind, "\n".join(v.line() for v in verdicts)
    compiling, waiting = by_kind["compiling"], by_kind["collective"]
    assert "rank 0 of 2" in compiling.label and "rank 1 of 2" in waiting.label
    assert "kernel `scaled_copy_kernel`" in compiling.summary and "LayoutInference" in compiling.summary
    assert waiting.details["operation"] == "all_reduce" and waiting.details["backend"] == "gloo"
    assert any(v.pid == launcher.pid for v in verdicts)  # the launcher itself has a verdict too


def test_torchrun_rank0_swallowed_an_error_rank1_waits_in_all_reduce(venv, cuda_env, tmp_path):
    """Scenario 3 of the two-rank issue: rank 0's request fails (the kit refuses a kernel over sm_120's shared
    memory), its loop swallows the error and waits for work; rank 1 waits for it in all_reduce. The error is on
    rank 0's stderr, and diagnose shows rank 1 in the collective and rank 0 outside any collective or compile."""
    with session(torchrun(venv, "swallowed"), rank_env(cuda_env, tmp_path)) as launcher:
        stderr = Lines(launcher.stderr)
        out = stderr.until("rank 0: request failed; serving", GUARD)
        if not any("rank 1: entering all_reduce" in line for line in out):
            out += stderr.until("rank 1: entering all_reduce", GUARD)
        verdicts = diagnose([launcher.pid], seconds=1.5)
    text = "".join(out)
    assert "SharedMemoryLimitError" in text and "101377" in text.replace(",", ""), text[-3000:]
    ranks = {r: next(v for v in verdicts if f"rank {r} of 2" in v.label) for r in (0, 1)}
    assert ranks[1].kind == "collective" and ranks[1].details["operation"] == "all_reduce", ranks[1].line()
    assert ranks[0].kind not in ("collective", "compiling"), ranks[0].line()


def test_no_compiler_outlives_a_compiling_process_killed_with_sigkill(venv, cuda_env, tmp_path):
    fifo = tmp_path / "pids"
    os.mkfifo(fifo)
    env = {**cuda_env, "TILELANG_CACHE_DIR": str(tmp_path / "kc")}
    with session([str(venv), str(FIX / "killed_while_compiling.py"), str(fifo), str(tmp_path / "cuda")], env) as p:
        with open(fifo) as f:  # blocks until the fake nvcc and its child run
            nvcc, child = (int(x) for x in f.read().split())
        watchers = [os.pidfd_open(pid) for pid in (nvcc, child)]
        os.kill(p.pid, signal.SIGKILL)  # the compiling process alone, not its group
        p.wait(timeout=GUARD)
        # a pidfd turns readable when its process has ended: no polling
        outlived = [pid for pid, fd in zip((nvcc, child), watchers, strict=True)
                    if not select.select([fd], [], [], GUARD)[0]]
        for fd in watchers:
            os.close(fd)
    assert outlived == [], f"compilers {outlived} (nvcc {nvcc}, its child {child}) outlived the killed process"


def test_children_forked_while_other_threads_query_z3_do_not_block(venv, tmp_path):
    """Issue 25 item 14, the cause of the forked-compile hang: Z3 holds process-wide mutexes during a query
    (its allocator's counters, its Ctrl-C handler list, its global parameters), and a child forked while another
    thread of the parent held one blocked for ever at its first query. Without patch 0020, 4 of 990 children
    blocked here (docs/hang-diagnosis.md), so this fails before the fix with a probability of about 0.98; with
    the patch fork() waits for the queries in flight, and no child can inherit such a mutex locked."""
    stacks = tmp_path / "stuck-stacks"
    stacks.mkdir()
    env = {**os.environ, "CHILD_BOUND_S": "60", "STUCK_STACKS_DIR": str(stacks)}
    run = subprocess.run([str(venv), str(FIX / "fork_z3_queries.py"), "1000", "4"], capture_output=True, text=True,
                         env=env, timeout=3600)  # 1,000 children took 5 min; a fork that never returns ends here
    native = "".join(f"\n--- {f} (its end)\n{f.read_text()[-4000:]}" for f in sorted(stacks.iterdir()))
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.splitlines()[-1] == "children 1000 failed 0", run.stdout[-2000:] + native


def test_compiles_in_children_forked_under_load_do_not_deadlock(venv, cuda_env, tmp_path):
    """Each child has its own bound (GUARD, in the fixture: SIGALRM); the run's bound is the sum of theirs. One
    bound of GUARD for all 12 sequential compiles failed on a loaded 2-core machine, deadlock or not (issue 25
    item 14)."""
    stacks = tmp_path / "stuck-stacks"
    stacks.mkdir()
    env = {**cuda_env, "TILELANG_CACHE_DIR": str(tmp_path / "kc"), "CHILD_BOUND_S": str(int(GUARD)),
           "STUCK_STACKS_DIR": str(stacks)}
    run = subprocess.run([str(venv), str(FIX / "fork_under_load.py"), "12"], capture_output=True, text=True,
                         env=env, timeout=12 * GUARD + 300)
    assert run.returncode == 0, run.stderr[-3000:]
    statuses = [line.split() for line in run.stdout.splitlines() if re.fullmatch(r"\d+ -?\d+", line)]
    native = "".join(f"\n--- {f} (its end)\n{f.read_text()[-4000:]}" for f in sorted(stacks.iterdir()))
    assert len(statuses) == 12 and all(s[1] == "0" for s in statuses), run.stdout + run.stderr[-2000:] + native
