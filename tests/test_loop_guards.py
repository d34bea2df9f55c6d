"""Loop guards (patch 0006) against the built wheel, run by hand (`pytest -m slow`): each cap forced to 1
through its PassContext key trips on a real kernel (the model's act_quant, verify/kernels.py) with an
error that names the kernel, pass, loop, step count and cap, operator, level, buffers and key."""

from __future__ import annotations

import json
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


@pytest.mark.parametrize("key", sorted(LOOPS))
def test_cap_of_one_trips_with_a_full_error(venv, cuda_env, tmp_path, key):
    proc = subprocess.run([str(venv), "-c", COMPILE, str(KIT / "verify"), key], capture_output=True, text=True,
                          env={**cuda_env, "TILELANG_CACHE_DIR": str(tmp_path)}, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    message = result["message"] or ""
    assert result["is_guard"], result
    assert "kernel `block_quant`" in message and "for target cuda sm_120" in message
    assert "pass tl.LayoutInference" in message
    assert f"{LOOPS[key]} ran 2 steps, over its cap of 1" in message
    assert "operator #" in message and "(tl." in message and "at inference level" in message
    assert "buffers whose layout was in play:" in message
    assert f'pass_configs={{"{key}": N}}' in message
