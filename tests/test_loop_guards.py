"""Loop guards (patches 0006 and 0011-0012) against the built wheel, run by hand (`pytest -m slow`): each cap
forced to 1 through its PassContext key trips on a real kernel (the model's act_quant, verify/kernels.py)
with an error that names the kernel, pass, loop, step count and cap, operator, level, buffers and key."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
KIT = Path(__file__).resolve().parents[1]
LOOPS = {
    "tl.layout_inference.max_queue_steps": "the layout-inference work queue (FinishInferQueue)",
    "tl.layout_inference.max_free_mode_attempts": "the free-mode layout search over component roots (InferInFreeMode)",
    "tl.layout.max_injectivity_points": "the exact-injectivity enumeration (CheckStaticInjectivity)",
    "tl.loop_vectorize.max_search_steps": "the vector-size search (LoopVectorize, invariant boundary)",
}
COMPILE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import kernels, tilelang
from tvm.target import Target
factory = kernels.act_quant_kernel
configs = dict(factory.pass_configs or {}, **{sys.argv[2]: 1})
try:
    tilelang.compile(factory.get_tir(N=4096), out_idx=factory.out_idx,
                     target=Target({"kind": "cuda", "arch": "sm_120"}), pass_configs=configs)
    print(json.dumps({"error": None}))
except Exception as exc:
    guard = isinstance(exc, tilelang.LoopGuardError)
    print(json.dumps({"error": type(exc).__name__, "is_guard": guard, "message": str(exc)}))
"""


def compile_with_cap_of_one(venv, cuda_env, tmp_path, key: str) -> tuple[dict, str]:
    proc = subprocess.run([str(venv), "-c", COMPILE, str(KIT / "verify"), key], capture_output=True, text=True,
                          env={**cuda_env, "TILELANG_CACHE_DIR": str(tmp_path)}, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result, result["message"] or ""


@pytest.mark.parametrize("key", sorted(LOOPS))
def test_cap_of_one_trips_with_a_full_error(venv, cuda_env, tmp_path, key):
    result, message = compile_with_cap_of_one(venv, cuda_env, tmp_path, key)
    assert result["is_guard"], result
    assert "kernel `block_quant`" in message and "for target cuda sm_120" in message
    assert "pass tl.LayoutInference" in message
    assert f"{LOOPS[key]} ran 2 steps, over its cap of 1" in message
    assert "operator #" in message and "(tl." in message and "at inference level" in message
    assert "buffers whose layout was in play:" in message
    assert f'pass_configs={{"{key}": N}}' in message


def test_simplifier_cap_of_one_trips_with_the_expression(venv, cuda_env, tmp_path):
    """The rewrite simplifier's per-call cap (TVM side) names what it was simplifying, the pass and the
    operator TileLang was inferring at the time, and its key."""
    result, message = compile_with_cap_of_one(venv, cuda_env, tmp_path, "tl.simplify.max_rewrite_steps")
    assert result["is_guard"], result
    assert "kernel `block_quant`" in message and "for target cuda sm_120" in message
    assert re.search(r"; pass tl\.\w+", message), message
    assert "operator #" in message and "at inference level" in message
    assert "the rewrite simplifier made 2 rewrites in one simplify call, over its cap of 1" in message
    assert re.search(r"expression being simplified: \S", message), message
    assert 'pass_configs={"tl.simplify.max_rewrite_steps": N}' in message


def test_fuzzed_kernels_do_not_trip_the_default_caps(venv, cuda_env, tmp_path):
    """A short run of the guard fuzzer, tlkit.verify.subject.fuzz_guards (the full run, and its comparison with
    the stock wheel, is in docs/measurements.md): randomized kernels of every family compile with the default caps."""
    out = tmp_path / "fuzz.json"
    env = {**cuda_env, "TILELANG_CACHE_DIR": str(tmp_path), "PYTHONPATH": f"{KIT / 'src'}:{cuda_env['PYTHONPATH']}"}
    proc = subprocess.run([str(venv), "-m", "tlkit.verify.subject.fuzz_guards", "--count", "10", "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads(out.read_text())["results"]
    assert len(results) == 10 and {r["family"] for r in results} == {
        "elementwise", "row_reduce", "gemm", "block_quant", "transpose"}
    assert all(r["outcome"] == "ok" for r in results), [r for r in results if r["outcome"] != "ok"]
