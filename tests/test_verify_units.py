"""Shared-memory accounting, variant expansion and the report writers, on hand-made verdicts."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tlkit.base.errors import RecipeError
from tlkit.verify.assess import Verdict, assess
from tlkit.verify.options import Sm120Input, resolve_sm120
from tlkit.verify.report import (
    RunInfo,
    compare_table,
    markdown_table,
    terminal_table,
    toolkit_table,
    write_reports,
)
from tlkit.verify.smem import base_arch, check, limit_for, load_limits, nvcc_reserved
from tlkit.verify.subject.compiled import first_error_line, normalized_source
from tlkit.verify.variants import Variant, load_variants
from tlkit.verify.workers import Run, innermost_frames, split_log, warnings_in

DATA = Path(__file__).resolve().parent / "data"

KIT = Path(__file__).resolve().parents[1]
LIMITS = KIT / "verify" / "shared-memory-limits.toml"


def test_limits_table():
    limits = load_limits(LIMITS)
    assert limit_for("sm_120", limits, LIMITS) == 101376
    assert limit_for("sm_120a", limits, LIMITS) == 101376
    assert limit_for("sm_90a", limits, LIMITS) == 232448
    assert base_arch("sm_100f") == "sm_100"
    with pytest.raises(RecipeError, match=r"\[limits.sm_61\] no shared-memory limit for sm_61"):
        limit_for("sm_61", limits, LIMITS)


def test_smem_check_names_largest_buffers():
    c = check(1024, 104448, 101376, [("probs", 4096), ("q_tile", 32768), ("kv_tile", 65536), ("o_tile", 32768)],
              reserved=1024)
    assert not c.fits and c.total == 104448
    assert c.message("sm_120") == (
        "needs 104,448 B of shared memory per block (0 static + 104,448 dynamic, besides nvcc's 1,024 B "
        "reservation), sm_120 allows 101,376 B: cannot launch; largest shared buffers: kv_tile 65,536 B, "
        "o_tile 32,768 B, q_tile 32,768 B, probs 4,096 B")
    assert check(0, 101376, 101376, []).fits  # exactly at the limit launches


@pytest.mark.parametrize("arch, reserved", [("sm_120", 1024), ("sm_120a", 1024), ("sm_121a", 1024), ("sm_90a", 1024),
                                            ("sm_89", 0), ("sm_80", 0)])
def test_nvcc_reservation_is_not_counted_from_sm90_on(arch, reserved):
    """Issue 14 item 6: the device's limit leaves out the 1,024 B nvcc reserves from compute capability 9.0 on
    (measured on the H200: the limit launches, one byte more does not), so verify-sm120 judges a cubin's static
    shared memory without it, as patch 0001 does at compile time: 1 byte under, at and over the margin."""
    limits = load_limits(LIMITS)
    limit = limit_for(arch, limits, LIMITS)
    assert nvcc_reserved(arch) == reserved
    data = {"archs": [arch], "functions": {"k": {"reg": 64, "stack": 0, "shared": reserved, "local": 0}},
            "buffers": [["buf_dyn_shmem", limit]]}
    for dynamic, fits in ((limit - 1, True), (limit, True), (limit + 1, False)):
        v = assess(Run(Variant("k", (("n", 1),), (1,)), arch, "ok", 1.0, data={**data, "dynamic_smem": {"k": dynamic}}),
                   limits, LIMITS)
        assert (v.status == "ok") is fits and v.smem_counted == dynamic, (dynamic, v.status, v.message)
    # A kernel that also declares static shared memory of its own: that part counts.
    v = assess(Run(Variant("k", (("n", 1),), (1,)), arch, "ok", 1.0,
                   data={**data, "functions": {"k": {"reg": 64, "stack": 0, "shared": reserved + 16, "local": 0}},
                         "dynamic_smem": {"k": limit - 15}}), limits, LIMITS)
    assert v.status == "not launchable" and v.smem_counted == limit + 1, v.message


def test_shipped_variant_matrix():
    vs = load_variants(KIT / "verify" / "variants.toml")
    by_name = {v.name: v for v in vs}
    attn = sorted((v.kwargs["h"], v.kwargs.get("block", 64), v.world_sizes) for v in vs
                  if v.kernel == "sparse_attn_kernel")
    # the model's heads per world size, and the sm_120 fit variants (own world_sizes) beside the size they serve
    assert attn == [(16, 64, (4, 8)), (32, 32, (2,)), (32, 64, (2,)), (64, 16, (1,)), (64, 16, (1,)), (64, 64, (1,))]
    narrowed = load_variants(KIT / "verify" / "variants.toml", [4])
    assert not any("block" in v.kwargs for v in narrowed)  # a fit variant serves its own world size only
    assert by_name["fp8_gemm[K=1024,N=32768,scale_dtype=e8m0]"].world_sizes == (1,)
    assert by_name["fp8_gemm[K=1024,N=4096,scale_dtype=e8m0]"].world_sizes == (2, 8)
    assert {v.kernel for v in vs} == {"act_quant_kernel", "fp4_quant_kernel", "fp8_gemm_kernel", "fp4_gemm_kernel",
                                      "sparse_attn_kernel", "hc_split_sinkhorn_kernel"}
    assert len(vs) == len(set(vs))


def test_variant_table_errors(tmp_path):
    bad = tmp_path / "v.toml"
    bad.write_text('world_sizes = [3]\n[[variant]]\nkernel = "k"\nargs = { N = 1024 }\nshard = "N"\n')
    with pytest.raises(RecipeError, match=r"\[variant\[0\].args\] N=1024 does not divide by world size 3"):
        load_variants(bad)
    bad.write_text('world_sizes = [1]\n[[variant]]\nkernel = "k"\nargs = {}\nshard = "rows"\n')
    with pytest.raises(RecipeError, match=r"\[variant\[0\].shard\] must be one of"):
        load_variants(bad)
    bad.write_text('world_sizes = [1, 2]\n[[variant]]\nkernel = "k"\nargs = {}\nworld_sizes = [3]\n')
    with pytest.raises(RecipeError, match=r"\[variant\[0\].world_sizes\] must be among the table's world_sizes"):
        load_variants(bad)


def test_a_variant_with_its_own_bound_keeps_it_and_the_others_take_the_runs(tmp_path):
    table = tmp_path / "v.toml"
    table.write_text('world_sizes = [1, 2]\n'
                     '[[variant]]\nkernel = "slow_kernel"\nargs = { h = 64 }\nshard = "h"\nmin_h = 64\n'
                     'bound_seconds = 20\n'
                     '[[variant]]\nkernel = "quick_kernel"\nargs = { n = 1 }\n')
    slow, quick = load_variants(table)
    assert slow.world_sizes == (1, 2)  # both sizes give one variant, which keeps its bound
    assert (slow.compile_bound(300.0), quick.compile_bound(300.0)) == (20, 300.0)


@pytest.mark.parametrize("rows, message", [
    ('[[variant]]\nkernel = "k"\nargs = {}\nbound_seconds = 0\n',
     r"\[variant\[0\].bound_seconds\] must be 1 to 604800 seconds, got 0"),
    ('[[variant]]\nkernel = "k"\nargs = {}\nbound_seconds = 10000000000\n',
     r"\[variant\[0\].bound_seconds\] must be 1 to 604800 seconds, got 10000000000"),
    ('[[variant]]\nkernel = "k"\nargs = {}\nbound_seconds = 20\n'
     '[[variant]]\nkernel = "k"\nargs = {}\nbound_seconds = 30\n',
     r"\[variant\[1\].bound_seconds\] k\[\] is also in an earlier row with bound_seconds 20; one variant has one "
     r"bound"),
    ('[[variant]]\nkernel = "k"\nargs = {}\n'
     '[[variant]]\nkernel = "k"\nargs = {}\nbound_seconds = 30\n',
     r"\[variant\[1\].bound_seconds\] k\[\] is also in an earlier row without bound_seconds; one variant has one "
     r"bound"),
])
def test_a_bad_variant_bound_is_one_line_naming_the_row(tmp_path, rows, message):
    table = tmp_path / "v.toml"
    table.write_text("world_sizes = [1]\n" + rows)
    with pytest.raises(RecipeError, match=message):
        load_variants(table)


def run(status="ok", **data) -> Run:
    v = Variant("sparse_attn_kernel", (("d", 512), ("h", 32)), (2,))
    return Run(v, "sm_120", status, 9.5, data=data)


def test_assess_flags_unlaunchable_and_wrong_arch():
    limits = load_limits(LIMITS)
    data = {"archs": ["sm_120"], "functions": {"k": {"reg": 255, "stack": 0, "shared": 1024, "local": 0}},
            "dynamic_smem": {"k": 104448}, "buffers": [["kv_tile", 65536]], "source_sha256": "ab"}
    v = assess(run(**data), limits, LIMITS)
    assert v.status == "not launchable" and "kv_tile 65,536 B" in v.message and v.regs == 255
    v = assess(run(**{**data, "dynamic_smem": {"k": 8192}}), limits, LIMITS)
    assert v.ok and v.static_smem + v.dynamic_smem == 9216
    v = assess(run(**{**data, "archs": ["sm_50"]}), limits, LIMITS)
    assert v.status == "wrong arch" and "sm_50" in v.message
    refused = Run(run().variant, "sm_120", "compile error", 2.0,
                        "SharedMemoryLimitError: kernel sparse_attn_kernel needs 105,472 B of shared memory")
    v = assess(refused, limits, LIMITS)
    assert v.status == "not launchable" and v.message.startswith("SharedMemoryLimitError: kernel sparse_attn_kernel")
    v = assess(Run(run().variant, "sm_120", "timeout", 300, "killed after 300 s in stage: compile"), limits,
               LIMITS)
    assert v.status == "timeout" and not v.ok


def verdicts() -> list[Verdict]:
    return [
        Verdict("hc_split_sinkhorn_kernel", "hc[hc=4]", (1, 2), "sm_120", "ok", 3.5, regs=19, stack=0,
                static_smem=1024, dynamic_smem=96, smem_limit=101376, smem_counted=96, source_sha256="aa"),
        Verdict("sparse_attn_kernel", "sparse_attn[h=32]", (2,), "sm_120", "not launchable", 9.0,
                message="needs 104,448 B", static_smem=1024, dynamic_smem=104448, smem_limit=101376,
                smem_counted=104448,
                warnings=["Warning: [ThreadSync] race remains"], source_sha256="bb"),
        Verdict("spin_kernel", "spin[n=3]", (2,), "sm_120", "timeout", 20.0, message="killed after 20 s"),
    ]


def info() -> RunInfo:
    return RunInfo("tilelang 0.1.14", ("sm_120",), 20.0, 2, 31.0, 30.0, "test machine")


def test_report_files(tmp_path):
    paths = write_reports(tmp_path, info(), verdicts())
    doc = json.loads(paths[0].read_text())
    assert doc["ok"] is False and doc["summary"] == {"ok": 1, "not launchable": 1, "timeout": 1}
    assert doc["results"][1]["warnings"] == ["Warning: [ThreadSync] race remains"]
    suite = ET.parse(paths[1]).getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "1")
    cases = suite.findall("testcase")
    assert cases[1].find("failure").get("type") == "not launchable"
    assert cases[2].find("error").get("type") == "timeout"
    assert cases[1].find("system-err").text == "Warning: [ThreadSync] race remains"
    md = paths[2].read_text()
    assert "| `sparse_attn[h=32]` | 2 | sm_120 | not launchable | 9.0 |" in md
    assert "104,448/101,376" in md


def test_the_summary_names_a_variants_own_bound_and_its_worst_case_counts_it():
    longer = dataclasses.replace(info(), own_bounds={"spin[n=3]": 50.0})  # 3 variants, 2 jobs: 2 rounds of 50 s
    assert terminal_table(longer, verdicts()).endswith(
        "against a bound of 20 s per compile (spin[n=3]: 50 s), so at most 100 s in all.")


def test_terminal_summary_states_bound():
    text = terminal_table(info(), verdicts())
    assert "Failures:\n  sparse_attn[h=32] sm_120: not launchable: needs 104,448 B" in text
    assert "Warning: [ThreadSync] race remains\n    in 1: sparse_attn[h=32] sm_120" in text
    assert text.endswith("Matrix wall time 31 s with 2 jobs (venv set-up 30 s) against a bound of 20 s per compile, "
                         "so at most 40 s in all.")
    assert "| `spin[n=3]` | 2 | sm_120 | timeout | 20.0 |" in markdown_table(info(), verdicts())


def test_compare_table():
    kit, stock = verdicts(), verdicts()
    stock[0].seconds, stock[1].source_sha256 = 7.0, "cc"
    stock[1].regs, stock[1].smem_counted = 200, 90_000
    lines = compare_table("kit", "stock", kit, stock).splitlines()
    spans = [m.span() for m in re.finditer(r"-+", lines[2])]  # the rule under the header: one run per column
    table = [[line[a:b].strip() if i < len(spans) - 1 else line[a:].strip() for i, (a, b) in enumerate(spans)]
             for line in lines[1:]]
    rows = {row[0]: dict(zip(table[0], row, strict=True)) for row in table[2:]}
    assert table[0] == ["variant", "target", "this", "other", "this s", "other s", "ratio", "regs", "local B",
                        "shared B", "same source"]
    assert (rows["hc[hc=4]"]["ratio"], rows["hc[hc=4]"]["same source"]) == ("0.50", "yes")
    # one value where both agree, this/other where they differ (shared memory with thousands separators)
    sa = rows["sparse_attn[h=32]"]
    assert (sa["regs"], sa["shared B"], sa["local B"], sa["same source"]) == ("-/200", "104,448/90,000", "-", "NO")
    stock[1].normalized_source_sha256 = kit[1].normalized_source_sha256 = "nn"
    assert compare_table("kit", "stock", kit, stock).splitlines()[4].endswith("yes, up to workspace names")


def test_normalized_source_renumbers_workspaces_by_first_use():
    a = "f(workspace_1); g(workspace); h(workspace_1); int workspace_10;"
    b = "f(workspace); g(workspace_1); h(workspace); int workspace_10;"
    assert normalized_source(a) == normalized_source(b)
    assert normalized_source(a).endswith("\nf(workspace#0); g(workspace#1); h(workspace#0); int workspace#2;")
    assert normalized_source("f(workspace); g(workspace);") != normalized_source("f(workspace); g(workspace_1);")


def test_normalized_source_equates_two_real_compiles_whose_reductions_traded_workspace_slots():
    """The stock 0.1.14 wheel's sparse_attn (h=16, sm_120) and the same kernel from another run: the max and
    the sum reductions use each other's slot; the code is otherwise the same. Using one slot for both is not."""
    stock = (DATA / "stock-sources" / "0.1.14" / "sparse_attn_d=512_h=16_scale=0.044194173824159216" /
             "sm_120.cu").read_text()
    traded = (DATA / "workspace-order" / "sparse_attn_h16_sm_120_slots_traded.cu").read_text()
    assert stock != traded and normalized_source(stock) == normalized_source(traded)
    one_slot = traded.replace("(float*)workspace_1)", "(float*)workspace)")
    assert one_slot != traded and normalized_source(one_slot) != normalized_source(stock)
    moved = traded.replace("buf_dyn_shmem + 84992", "buf_dyn_shmem + 84996")
    assert normalized_source(moved) != normalized_source(stock)


def _reductions(kernels: list[tuple[str, list[tuple[str, str, int]]]]) -> str:
    """A source of kernels, each a list of (workspace, reduction op, threads); workspaces in name order take
    the slots at 0, 4096, ... across the whole source."""
    text, slot = [], 0
    for kernel, uses in kernels:
        text.append(f'extern "C" __global__ void {kernel}(float* x) {{')
        for name in sorted({n for n, _, _ in uses}):
            text.append(f"  void* {name} = ((void*)((char*)buf_dyn_shmem + {4096 * slot}));")
            slot += 1
        text += [f"  x[0] = tl::AllReduce<tl::{op}, {threads}, 32, 0>::run(x[0], (&(((float*)" + name + ")[0])));"
                 for name, op, threads in uses]
        text.append("}")
    return "\n".join(text) + "\n"


def test_normalized_source_keeps_unlike_or_cross_kernel_workspaces_bound_to_their_slots():
    """Found in review: the first version called these equal. Reductions of different sizes trading slots (a
    1,024-thread reduction moved into the smaller slot), and two kernels' workspaces trading offsets."""
    like = _reductions([("k", [("workspace", "MaxOp", 256), ("workspace_1", "SumOp", 256)])])
    like_traded = _reductions([("k", [("workspace_1", "MaxOp", 256), ("workspace", "SumOp", 256)])])
    assert like != like_traded and normalized_source(like) == normalized_source(like_traded)
    unlike = _reductions([("k", [("workspace", "SumOp", 1024), ("workspace_1", "MaxOp", 32)])])
    unlike_traded = _reductions([("k", [("workspace_1", "SumOp", 1024), ("workspace", "MaxOp", 32)])])
    assert normalized_source(unlike) != normalized_source(unlike_traded)
    two = _reductions([("a", [("workspace", "MaxOp", 256)]), ("b", [("workspace_1", "MaxOp", 256)])])
    two_traded = two.replace("+ 0)", "+ x)").replace("+ 4096)", "+ 0)").replace("+ x)", "+ 4096)")
    assert normalized_source(two) != normalized_source(two_traded)


def test_log_parsing():
    log = ("noise\n=== tlkit: target sm_120 ===\n[20:29:58] : Warning: [ThreadSync] x\n"
           "2026 [TileLang:tilelang.jit.kernel:INFO] compile warning-free\n=== tlkit: target sm_120a ===\nok\n")
    parts = split_log(log)
    assert warnings_in(parts["sm_120"]) == ["Warning: [ThreadSync] x"]
    assert warnings_in(parts["sm_120a"]) == []
    built = "[21:27:22] /src/transform/thread_storage_sync.cc:1084: Warning: [ThreadSync] x\n"
    assert warnings_in(built) == ["Warning: [ThreadSync] x"]
    stack = ('Thread 0x1 (most recent call first):\n  File "/a/b.py", line 3 in other\n\n'
             'Current thread 0x2 (most recent call first):\n  File "/x/lower.py", line 10 in lower\n'
             '  File "/x/jit.py", line 20 in compile\n')
    assert innermost_frames(stack) == ["lower.py:10 lower", "jit.py:20 compile"]


@pytest.mark.parametrize(("argv", "named"), [
    (["verify-sm120", "--only", "("], "--only '(': not a regular expression"),
    (["verify-sm120", "--bound=-1"], "--bound -1: "),
    (["verify-sm120", "--bound", "nan"], "--bound nan: "),
    (["verify-sm120", "--bound", "inf"], "--bound inf: "),
    (["verify-sm120", "--bound", "0"], "--bound 0: "),
    (["verify-sm120", "--bound", "1e10"], "--bound 1e+10: a bound must be a number of seconds above 0, at most 604800"),
    (["verify-aarch64", "--bound", "1e10"], "--bound 1e+10: a bound must be a number of seconds above 0"),
    (["verify-sm120", "--jobs", "0"], "--jobs 0: "),
    # issue 25 item 12: each was a traceback, or a per-variant worker crash, or never checked
    (["verify-sm120", "--world-sizes", "abc"], "--world-sizes 'abc': comma-separated whole numbers"),
    (["verify-sm120", "--targets", "sm_120,sm_999"], "--targets sm_999: not a CUDA architecture"),
    (["verify-sm120", "--kernels", "{tmp}/bad_kernels.py"], "--kernels {tmp}/bad_kernels.py:2: "),
    (["doctor", "--python", "/nonexistent/python"], "--python /nonexistent/python: No such file or directory"),
    (["doctor", "--python", "{tmp}"], "--python {tmp}: Permission denied"),  # a folder is no interpreter
    (["build-wheel", "--recipe", "{tmp}"], "{tmp}: [-] is a folder, not a TOML file"),
])
def test_a_bad_verify_option_is_one_line_naming_it(argv, named, tmp_path):
    """verify-gpu checks for a GPU first; its --bound and --launch-bound go through the same `seconds`."""
    (tmp_path / "bad_kernels.py").write_text("import os\ndef kernel(:\n    pass\n")
    argv, named = [a.format(tmp=tmp_path) for a in argv], named.format(tmp=tmp_path)
    res = subprocess.run([sys.executable, "-m", "tlkit", *argv], capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.startswith(f"tlkit: error: {named}")
    assert res.stderr.count("\n") == 1 and not res.stdout


def test_the_toolkit_table_gives_outcomes_median_seconds_same_source_and_the_first_error():
    """verify-sm120 --cuda with several toolkits: one row per toolkit and target."""
    newer = verdicts()
    newer[0].seconds, newer[1].source_sha256 = 5.5, "changed"
    newer[2].message = "ptxas fatal   : Unsupported .version 9.9\nmore"
    newer[2].status = "compile error"
    lines = toolkit_table([("13.2", verdicts()), ("13.5", newer)]).splitlines()
    assert lines[0].split("  ")[0] == "CUDA" and "source = CUDA 13.2's" in lines[0]
    assert lines[2].split() == ["13.2", "sm_120", "1", "1", "1", "6.2", "2/2", "spin[n=3]:", "killed", "after", "20",
                                "s"]
    assert lines[3].split()[:7] == ["13.5", "sm_120", "1", "1", "1", "7.2", "1/2"]
    assert lines[3].endswith("spin[n=3]: ptxas fatal   : Unsupported .version 9.9")


@pytest.mark.parametrize(("argv", "line"), [
    (["--cuda", "13.9"], "--cuda 13.9: '13.9' is not a supported CUDA toolkit; choose from 13.0, 13.1, 13.2, 13.3, "
                         "13.4, 13.5 or all"),
    (["--cuda", "13.5,banana"], "--cuda 13.5,banana: 'banana' is not a supported CUDA toolkit; choose from 13.0, "
                                "13.1, 13.2, 13.3, 13.4, 13.5 or all"),
    (["--cuda", "all", "--save-sources", "x"], "--save-sources keeps one set of sources: give one toolkit, not "
                                               "--cuda all"),
])
def test_a_bad_verify_cuda_is_one_line_naming_it_and_the_toolkits(argv, line, tmp_path):
    res = subprocess.run([sys.executable, "-m", "tlkit", "verify-sm120", "--pypi", "0.1.14", *argv],
                         capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.splitlines() == [f"tlkit: error: {line}"] and not res.stdout


@pytest.mark.parametrize(("given", "toolkits"), [
    (None, ("13.5",)), ("13.2", ("13.2",)), ("13.5,13.3", ("13.5", "13.3")),
    ("all", ("13.0", "13.1", "13.2", "13.3", "13.4", "13.5"))])
def test_verify_cuda_takes_any_toolkit_of_the_table_a_list_or_all(given, toolkits):
    """Any row of recipes/cuda-toolchains.toml, not only those the recipe builds with: this check decides that."""
    opts = resolve_sm120(Sm120Input(pypi="0.1.14", cuda=given))
    assert opts.toolkits == toolkits and opts.common.cuda == toolkits[0]


def test_patch_0001_and_verify_sm120_hold_kernels_to_the_same_limits():
    """The compile-time check (patch 0001's PER_BLOCK_LIMIT) and verify-sm120's table must agree wherever both
    name a compute capability; 0001 also keeps 10.1, which CUDA 13 renamed 11.0 (the table has sm_110)."""
    patch = next((KIT / "patches" / "0.1.14").glob("tilelang/0001-*.patch")).read_text()
    block = re.search(r"^\+PER_BLOCK_LIMIT = \{\n(.*?)^\+\}", patch, re.MULTILINE | re.DOTALL)
    assert block, "PER_BLOCK_LIMIT not found in patch 0001"
    in_patch = {int(cc): int(limit) for cc, limit in re.findall(r"(\d+): (\d+)", block.group(1))}
    table = {int(arch[3:]): limit for arch, limit in load_limits(LIMITS).items()}
    assert len(in_patch) >= 13 and set(in_patch) - set(table) == {101} and set(table) <= set(in_patch)
    assert {cc: in_patch[cc] for cc in table} == table


def test_the_error_line_of_a_failed_compile_is_the_compilers_not_a_banner():
    """Issue 25 item 12: nvcc's real complaint came 195 lines below a banner and preprocessor output."""
    noise = "\n".join(f'# {i} "/tmp/tvm_kernel.cu"' for i in range(195))
    exc = RuntimeError(f"Compilation error:\n{noise}\nnvcc fatal   : Unsupported gpu architecture 'sm_999'\n")
    assert first_error_line(exc) == "nvcc fatal   : Unsupported gpu architecture 'sm_999'"
    exc = RuntimeError("Compilation error:\n/tmp/k.cu(12): error: identifier \"__fadd2_rn\" is undefined\n1 error")
    assert first_error_line(exc) == '/tmp/k.cu(12): error: identifier "__fadd2_rn" is undefined'
