"""The GPU tier's report logic, its settings file, the environment doctor's judgements, and what both
commands do on a machine without a GPU (this one)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tlkit.base.errors import RecipeError
from tlkit.verify.config import load_config, load_gpu_config
from tlkit.verify.doctor import Finding, assess, toolkit_finding
from tlkit.verify.gpu_report import (
    GpuRunInfo,
    compare_table,
    markdown_table,
    summary,
    terminal_table,
    write_gpu_reports,
)
from tlkit.verify.smem import load_limits
from tlkit.verify.variants import Variant
from tlkit.verify.workers import Run

KIT = Path(__file__).resolve().parents[1]


def runs() -> list[Run]:
    ok = Run(Variant("fp8_gemm_kernel", (("K", 1024), ("N", 2048)), (4,)), "0", "ok",
             data={"compile_s": 12.0, "median_ms": 0.0096, "grid": [16, 2, 1], "block": [128, 1, 1],
                   "dynamic_smem": 82048, "smem_limit": 232448,
                   "errors": {"C": {"tolerance": "gemm_bf16", "max_abs_err": 0.5, "ref_max_abs": 200.0,
                                    "bad": 0, "elements": 131072}}},
             warnings=[])
    wrong = Run(Variant("hc_split_sinkhorn_kernel", (("hc", 4),), (1, 2)), "1", "wrong",
                data={"compile_s": 3.0, "median_ms": 0.005, "grid": [256, 1, 1], "block": [64, 1, 1],
                      "errors": {"comb": {"tolerance": "fp32", "max_abs_err": 0.01, "ref_max_abs": 1.0, "bad": 1,
                                          "elements": 4096, "first_bad": {"index": [2, 1, 3], "got": 0.26,
                                                                          "want": 0.25}}}})
    hang = Run(Variant("spin_kernel", (("n", 32),), (1,)), "2", "device hang",
               error="first launch and synchronisation did not complete within 20 s (grid (1, 1, 1), "
                     "block (32, 1, 1))",
               data={"grid": [1, 1, 1], "block": [32, 1, 1], "compile_s": 3.9},
               gpu_after="yes: a fresh process summed 2^20 floats on the GPU correctly (4.1 s with start-up)")
    return [ok, wrong, hang]


def info() -> GpuRunInfo:
    return GpuRunInfo("tilelang 0.1.14+tlkit", "NVIDIA H100 (sm_90)", "test box", 51.0, 300, 20, "median of 20")


def test_terminal_table_names_wrong_elements_and_hangs():
    text = terminal_table(info(), runs())
    assert "fp8_gemm[K=1024,N=2048]  4    ok" in text
    assert "9.6" in text and "82,048/232,448" in text and "2.5e-03" in text
    assert ("hc_split_sinkhorn[hc=4]: wrong: comb: 1/4096 elements outside 'fp32', first at [2, 1, 3]: "
            "got 0.26, want 0.25") in text
    assert ("spin[n=32]: device hang: first launch and synchronisation did not complete within 20 s (grid (1, 1, 1), "
            "block (32, 1, 1)); GPU usable afterwards: yes") in text
    assert text.endswith("3 variants: 1 ok, 1 wrong, 1 device hang. Wall time 51 s; bounds 300 s per compile, "
                         "20 s per launch. Times: median of 20.")
    own = dataclasses.replace(info(), own_bounds={"spin[n=32]": 40.0})
    assert summary(own, runs()).endswith("Wall time 51 s; bounds 300 s per compile (spin[n=32]: 40 s), 20 s per "
                                         "launch. Times: median of 20.")


def test_json_and_markdown_reports(tmp_path):
    paths = write_gpu_reports(tmp_path / "r", info(), runs())
    doc = json.loads(paths[0].read_text())
    assert doc["ok"] is False
    assert [r["status"] for r in doc["results"]] == ["ok", "wrong", "device hang"]
    assert doc["results"][2]["gpu_after"].startswith("yes") and doc["results"][0]["kwargs"] == {"K": 1024, "N": 2048}
    assert "| `spin[n=32]` | 1 | device hang | 3.9 | - | 1x1x1 | 32x1x1 |" in markdown_table(info(), runs())


def test_compare_table_ratio():
    kit, stock = runs(), runs()
    stock[0].data = {**stock[0].data, "median_ms": 0.0100}
    lines = compare_table("kit", "stock", kit, stock).splitlines()
    assert lines[3].split() == ["fp8_gemm[K=1024,N=2048]", "ok", "ok", "9.6", "10.0", "0.960"]
    assert lines[5].split()[-1] == "-"  # no time for a hung kernel


def test_gpu_config_reads():
    cfg = load_gpu_config(KIT / "verify" / "gpu.toml")
    assert cfg.dims["M"] == 64 and cfg.tolerances["exact"] == {"rtol": 0.0, "atol": 0.0} and cfg.launch_seconds > 0


@pytest.mark.parametrize("shipped, bad, message", [
    ("fp32 = { rtol = 0.0001, atol = 0.00001 }", "fp32 = { rtol = -1, atol = 0.00001 }",
     r"gpu.toml.*tolerance.fp32.rtol.*must be >= 0"),
    ("topk = 128", "topk = 0", r"dims.topk.*at least 1"),
    ("launch_seconds = 30 ", "launch_seconds = 0 ",
     r"gpu.toml: \[bounds.launch_seconds\] must be 1 to 604800 seconds, got 0"),
    ("compile_seconds = 300 ", "compile_seconds = 999999999999 ",
     r"\[bounds.compile_seconds\] must be 1 to 604800 seconds, got 999999999999"),
])
def test_a_bad_gpu_toml_value_is_one_line_naming_it(tmp_path, shipped, bad, message):
    text = (KIT / "verify" / "gpu.toml").read_text()
    assert shipped in text  # the shipped table has the line this case spoils
    (tmp_path / "gpu.toml").write_text(text.replace(shipped, bad))
    with pytest.raises(RecipeError, match=message):
        load_gpu_config(tmp_path / "gpu.toml")


def test_verify_tomls_bound_is_checked_as_every_bound(tmp_path):
    bad = tmp_path / "verify.toml"
    bad.write_text((KIT / "verify" / "verify.toml").read_text().replace("bound_seconds = 300", "bound_seconds = 0"))
    with pytest.raises(RecipeError, match=r"verify.toml: \[bound_seconds\] must be 1 to 604800 seconds, got 0"):
        load_config(bad)


@pytest.mark.parametrize("driver,toolkit,level,words", [
    ("12.8", "13.2", "PROBLEM", "will not load"),
    ("13.0", "13.2", "note", "minor version compatibility"),
    ("13.0", "13.0", "ok", "CUDA 13.0; the driver supports CUDA 13.0"),
    (None, "13.2", "note", "not compared"),
])
def test_toolkit_against_driver(driver, toolkit, level, words):
    f = toolkit_finding(driver, toolkit, "nvcc")
    assert f.level == level and words in f.text


def test_doctor_judges_a_report():
    limits = load_limits(KIT / "verify" / "shared-memory-limits.toml")
    report = {"python": "/p/python3", "driver_cuda": "12.8", "driver_version": "570.1", "error": None,
              "devices": [{"index": 0, "name": "RTX PRO 6000", "cc_major": 12, "cc_minor": 0, "arch": "sm_120",
                           "sm_count": 188, "smem_per_block": 49152, "smem_per_block_optin": 101376}],
              "nvcc": {"path": "/x/nvcc", "version": "13.2"},
              "packages": {"tilelang": "0.1.14+tlkit", "apache-tvm-ffi": "0.1.12", "torch": None},
              "provenance": {"label": "tlkit.cu132.p1", "toolchain": {"cuda": "13.2"}},
              "auto_target": {"target": None, "error": "ValueError: no target"}}
    findings = assess(report, limits)
    levels = [f.level for f in findings]
    assert findings[0] == Finding("ok", "GPU 0: RTX PRO 6000, compute capability 12.0 (sm_120), 188 SMs, shared "
                                        "memory per block 101,376 B with opt-in (49,152 B without)")
    assert levels.count("PROBLEM") == 4  # wheel toolkit, nvcc, torch missing, no auto target with a GPU present
    assert any("torch NOT INSTALLED" in f.text for f in findings)


def test_doctor_and_verify_gpu_without_a_gpu():
    """This machine has no NVIDIA driver: the doctor says so (and is not a failure for that); verify-gpu
    says there is nothing to run and exits 0."""
    res = subprocess.run([sys.executable, "-m", "tlkit", "doctor", "--python", sys.executable, "--json"],
                         capture_output=True, text=True, cwd=KIT)
    doc = json.loads(res.stdout)
    assert doc["report"]["devices"] == [] and doc["report"]["packages"]["tilelang"] is None
    assert doc["findings"][0]["text"].startswith("no NVIDIA GPU: ")
    assert res.returncode == 1  # tilelang is not installed in the kit's own environment: a problem, said
    res = subprocess.run([sys.executable, "-m", "tlkit", "verify-gpu"], capture_output=True, text=True, cwd=KIT)
    assert res.returncode == 0 and res.stdout.startswith("verify-gpu: no NVIDIA GPU on this machine")


# Two ways an sm_120a source can use what an older GPU lacks: an intrinsic declared only from sm_100 on, and
# a PTX instruction that only sm_100's ptxas takes.
NO_FALLBACK_SOURCES = {
    "intrinsic": ('#include <cuda_runtime.h>\n'
                  'extern "C" __global__ void k(float2* x) { x[0] = __fadd2_rn(x[0], x[1]); }\n', "__fadd2_rn"),
    "ptx": ('extern "C" __global__ void k(unsigned long long* x) {\n'
            '  unsigned long long d;\n'
            '  asm volatile("add.rn.f32x2 %0, %1, %2;" : "=l"(d) : "l"(x[0]), "l"(x[1]));\n'
            '  x[0] = d;\n}\n', "add.f32x2"),
}


@pytest.mark.parametrize("kind", sorted(NO_FALLBACK_SOURCES))
def test_a_blackwell_primitive_with_no_fallback_is_named_from_the_real_compilers_error(cuda_env, tmp_path, kind):
    """verify-gpu --sm120-source reports such a kernel as `no fallback` naming the primitive
    (subject/launch_kernels.py); the name comes from what the pinned nvcc and ptxas say when compiling for the H100's
    sm_90."""
    from tlkit.verify.subject.compiled import missing_primitives

    text, name = NO_FALLBACK_SOURCES[kind]
    (tmp_path / "k.cu").write_text(text)
    for arch, expect_rc in (("sm_90", "error"), ("sm_100a", 0)):
        proc = subprocess.run(["nvcc", "-cubin", f"-arch={arch}", "k.cu", "-o", f"{arch}.cubin"], cwd=tmp_path,
                              env=cuda_env, capture_output=True, text=True)
        if expect_rc == 0:
            assert proc.returncode == 0, proc.stderr
            assert missing_primitives(proc.stdout + proc.stderr) == []
        else:
            assert proc.returncode != 0
            assert missing_primitives(proc.stdout + proc.stderr) == [name], proc.stderr
