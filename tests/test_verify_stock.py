"""verify-sm120 for real against the stock PyPI tilelang 0.1.14 wheel (no GPU): a launchable kernel, one
that compiles but cannot launch on sm_120, and one that hangs and must be killed at the bound."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import marked_processes

KIT = Path(__file__).resolve().parents[1]
FIX = Path(__file__).resolve().parent / "fixtures" / "verify"


def test_stock_wheel_subset(tmp_path):
    reports = tmp_path / "reports"
    cmd = [sys.executable, "-m", "tlkit", "verify-sm120", "--pypi", "0.1.14", "--targets", "sm_120",
           "--kernels", str(FIX / "kernels_with_hang.py"), "--variants", str(FIX / "variants.toml"),
           "--reports", str(reports)]  # the run's bound is verify.toml's; spin_kernel has its own (20 s)
    mark = str(tmp_path)  # in the environment of the kit and of every worker it starts
    res = subprocess.run(cmd, capture_output=True, text=True,
                         env={**os.environ, "TLKIT_ROOT": str(KIT), "TLKIT_TEST_MARK": mark}, timeout=900)
    out = res.stdout
    assert res.returncode == 1, res.stderr[-3000:]  # a failure is reported as such
    doc = json.loads((reports / "tilelang-0.1.14" / "verify.json").read_text())
    got = {r["kernel"]: r for r in doc["results"]}
    hc, attn, spin = got["hc_split_sinkhorn_kernel"], got["sparse_attn_kernel"], got["spin_kernel"]

    assert hc["status"] == "ok" and hc["archs"] == ["sm_120"] and hc["regs"] > 0
    assert hc["dynamic_smem"] == 96

    # h = 64 / world size 2 = 32 heads of 512: 104,448 B dynamic, more than sm_120's 101,376 B
    assert attn["variant"] == "sparse_attn[d=512,h=32]"
    assert attn["status"] == "not launchable" and attn["dynamic_smem"] == 104448
    assert "sm_120 allows 101,376 B: cannot launch; largest shared buffers: kv_tile 65,536 B" in attn["message"]
    assert any("[ThreadSync]" in w and "race remains" in w for w in attn["warnings"])

    assert spin["status"] == "timeout"
    assert "killed after 20 s in stage: elaborate" in spin["message"]
    assert "kernels_with_hang.py" in spin["message"] and "spin_kernel" in spin["message"]
    assert spin["seconds"] >= 20  # killed at the bound, not before (how long the kill took is no promise)

    suite = ET.parse(reports / "tilelang-0.1.14" / "verify.xml").getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "1")
    assert "| `sparse_attn[d=512,h=32]` | 2 | sm_120 | not launchable |" in (
        reports / "tilelang-0.1.14" / "verify.md").read_text()
    assert "tilelang 0.1.14: 3 compiles (3 variants x 1 targets): 1 ok, 1 not launchable, 1 timeout." in out
    assert "against a bound of 300 s per compile (spin[n=3]: 20 s), so at most" in out
    assert doc["run"]["bound"] == 300 and doc["run"]["own_bounds"] == {"spin[n=3]": 20}
    # the killed worker left no process behind
    assert marked_processes(mark) == []
