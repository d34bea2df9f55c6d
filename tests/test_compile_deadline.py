"""The compile deadline (patches 0005 and 0007-0010) against the built wheel, run by hand (`pytest -m slow`).

A hang is injected at each stage of a real compile for sm_120 (tests/fixtures/deadline/driver.py):
a Python-level pass, a C++ lowering loop, nvcc, the host compiler of the wrapper build, a hard Z3
query. Each must end with tilelang.CompileTimeoutError within deadline + max(10 %, 2 s), with a
message that says where, and leave no cache entry, no running compiler, no held lock, and a
process in which the next compile works."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
DRIVER = Path(__file__).resolve().parent / "fixtures" / "deadline" / "driver.py"
DEADLINE = 6.0
# What the message's "Stuck in:" line must name for each injected hang.
WHERE = {
    "python_pass": "pass tlkit.InjectedHang",
    "cpp_loop": "the layout-inference work queue (FinishInferQueue)",
    "nvcc": "running nvcc",
    "host_compiler": "running c++",
    "z3": "the Z3 prover",
}


def run_driver(python: Path, stage: str, deadline: float, work: Path, env: dict[str, str]) -> dict:
    proc = subprocess.run([str(python), str(DRIVER), stage, str(deadline), str(work)], capture_output=True,
                          text=True, env={**env, "TILELANG_CACHE_DIR": str(work / "kcache")}, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("stage", sorted(WHERE))
def test_hang_ends_with_compile_timeout_error(venv, cuda_env, tmp_path, stage):
    result = run_driver(venv, stage, DEADLINE, tmp_path, cuda_env)
    message = result["message"] or ""

    assert result["is_compile_timeout"] and result["is_timeout_error"], (result["error_type"], message)
    # Never before the deadline; the upper bound only proves it ended (the overshoot is measured, with medians,
    # by benchmarks/compile_deadline.py: a timed bound here would fail on a loaded 2-core machine).
    assert DEADLINE <= result["elapsed"] <= DEADLINE + 120, result["elapsed"]
    # The message names the kernel, the jit factory with its arguments, the target, the stage, the
    # passes completed, elapsed time and deadline, how to raise it, and the stack dump.
    assert "kernel `scaled_copy`" in message
    assert "jit factory factory(256, 3.0)" in message
    assert "for target cuda sm_120" in message
    assert f"deadline of {DEADLINE:g} s" in message and "elapsed" in message
    stuck = next(line for line in message.splitlines() if line.startswith("Stuck in:"))
    assert WHERE[stage] in stuck, stuck
    assert "Passes completed:" in message
    assert "compile_deadline=SECONDS" in message and "TILELANG_COMPILE_DEADLINE_SECONDS" in message
    dump = Path(result["stack_dump"])
    assert dump.name in message and "--- compiling thread" in dump.read_text()
    # Post-conditions.
    assert result["cache_entries"] == [] and result["staging"] == []
    assert result["fake_compiler_pids_alive"] == [] and result["children"] == []
    assert result["lock_free"]
    assert result["next_compile"] == "ok"


def test_upstream_nvcc_timeout_still_bounds_each_nvcc_run(venv, cuda_env, tmp_path):
    """TILELANG_COMPILE_TIMEOUT_SECONDS keeps upstream's meaning with the deadline off: the hung nvcc is
    killed with its child at that bound and the compile raises upstream's RuntimeError."""
    # 20 s: the bound also applies to the real nvcc of the next compile, which takes over 3 s on a loaded machine
    result = run_driver(venv, "nvcc", 0, tmp_path, {**cuda_env, "TILELANG_COMPILE_TIMEOUT_SECONDS": "20"})
    assert result["error_type"] == "RuntimeError", (result["error_type"], result["message"])
    assert "NVCC compilation timed out after 20" in result["message"]
    assert result["elapsed"] >= 20
    assert result["fake_compiler_pids_alive"] == [] and result["children"] == []
    assert result["next_compile"] == "ok"


def test_deadlines_expiring_at_random_points_leave_no_lock_held(venv, cuda_env, tmp_path):
    """Issue 14 item 8: the asynchronous interrupt is kept for Python code without a pass boundary, sent
    only when the compiling thread is outside lock-taking code. 100 deadlines at random points, then every
    lock reachable from TileLang, TVM and logging is free and the next compile works."""
    fixture = Path(__file__).resolve().parent / "fixtures" / "hang" / "random_expirations.py"
    proc = subprocess.run([str(venv), str(fixture), "100", "2328"], capture_output=True, text=True,
                          env={**cuda_env, "TILELANG_CACHE_DIR": str(tmp_path / "kc")}, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["compiles"] == 100 and result["last_compile_ok"]
    # The deadlines really landed at many points: most compiles timed out, in more than one stage.
    assert result["timeouts"] >= 50 and len(result["stages"]) >= 2, result


MESSAGE_PROBE = """
import json, sys
from tilelang.jit.deadline import CompileTimeoutError, _Interrupt, _cpp_deadline_message

said = "the compile deadline of 6 s passed in the Z3 prover (Z3Prover::CanProve)"
cpp = CompileTimeoutError(said)  # as tvm_ffi builds it from C++'s error: the message alone
earlier = CompileTimeoutError("TileLang compile of kernel `k` did not finish", deadline=6.0, stage="lower")


def interrupted_while_handling(error):
    try:
        raise error
    except BaseException:
        try:
            raise _Interrupt("late")
        except _Interrupt as exc:
            return exc


def interrupted_at_init():
    # the interrupt lands at the first line of CompileTimeoutError.__init__, as tvm_ffi starts building C++'s error
    def tracer(frame, event, arg):
        if event == "call" and frame.f_code is CompileTimeoutError.__init__.__code__:
            sys.settrace(None)
            raise _Interrupt("late")
    sys.settrace(tracer)
    try:
        CompileTimeoutError(said)
    except _Interrupt as exc:
        return exc
    finally:
        sys.settrace(None)


print(json.dumps({"own": _cpp_deadline_message(cpp), "context": _cpp_deadline_message(interrupted_while_handling(cpp)),
                  "at_init": _cpp_deadline_message(interrupted_at_init()),
                  "retry": _cpp_deadline_message(interrupted_while_handling(earlier)),
                  "plain": _cpp_deadline_message(_Interrupt("late"))}))
"""


def test_the_c_deadline_message_is_recovered_when_the_interrupt_overtook_it_and_only_then(venv, tmp_path):
    """0009: the message's [C++: ...] part comes from C++'s own error even when the Python interrupt overtook it
    (as the error's context, or inside CompileTimeoutError.__init__ while tvm_ffi built it, seen under load on
    the Z3 stage); never from an earlier compile's timeout that a retry was handling."""
    res = subprocess.run([str(venv), "-c", MESSAGE_PROBE], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    found = json.loads(res.stdout.strip().splitlines()[-1])
    said = "the compile deadline of 6 s passed in the Z3 prover (Z3Prover::CanProve)"
    assert found == {"own": said, "context": said, "at_init": said, "retry": None, "plain": None}
