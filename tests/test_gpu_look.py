"""diagnose's look at the GPU (src/tlkit/diagnose/gpu_look.py): cuda-gdb's batch output parsed from real captures
(tests/data/cuda-gdb/, taken on an H100/H200 by tests/fixtures/gpu/capture_cuda_gdb.sh), and the command's
behaviour where cuda-gdb is missing. cuda-gdb cannot attach here (no GPU): the whole command is run against real
processes with a stand-in cuda-gdb (tests/fixtures/diagnose/cuda-gdb-replay) that prints those captures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from test_diagnose import FIX, running

from tlkit.diagnose.gpu_look import GpuLook, parse, same_launches
from tlkit.diagnose.verdict import Verdict, add_gpu_look

KIT = Path(__file__).resolve().parents[1]


def _diagnose(pid: int, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tlkit", "diagnose", str(pid), "--seconds", "0.5", *args],
                          capture_output=True, text=True, env=env, timeout=120)


def test_without_cuda_gdb_one_line_says_how_to_get_it_and_nothing_else_changes(tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "CUDA_HOME": str(tmp_path),
           "PYTHONPATH": str(FIX / "standin")}  # torch.cuda.gpu_wait: a process waiting in torch.cuda's synchronize
    with running([sys.executable, "-m", "torch.cuda.gpu_wait"], "waiting", env=env) as p:
        looked = _diagnose(p.pid, "--gpu", env=env)
        plain = _diagnose(p.pid, "--no-gpu", env=env)
    assert looked.returncode == 0, looked.stderr
    lines = [line for line in looked.stdout.splitlines() if "cuda-gdb" in line]
    assert lines == ["    GPU look: cuda-gdb not found (PATH, $CUDA_HOME/bin, /usr/local/cuda/bin): install the CUDA "
                     "toolkit's cuda-gdb (Debian/Ubuntu: cuda-gdb-13-x from NVIDIA's repository) or put it on PATH; "
                     "nothing else changes"]
    verdict = looked.stdout.splitlines()[0]
    assert verdict == plain.stdout.splitlines()[0]
    assert verdict.startswith(f"PID {p.pid} ") and ": waiting for the GPU in torch.cuda.synchronize" in verdict
    assert "cuda-gdb" not in plain.stdout


def test_gpu_and_no_gpu_exclude_each_other():
    run = subprocess.run([sys.executable, "-m", "tlkit", "diagnose", "1", "--gpu", "--no-gpu"], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 2 and "not allowed with argument" in run.stderr


CAPTURES = KIT / "tests" / "data" / "cuda-gdb"
REPLAY = FIX / "cuda-gdb-replay"


def _capture(name: str) -> str:
    return (CAPTURES / f"{name}.txt").read_text()


def test_a_tilelang_kernel_stuck_in_an_inlined_header_is_named_by_its_translation_unit():
    """The flag stall (stock wheel): the PC's line is a CCCL atomic in a header; the kernel is TileLang's because
    nvcc's internal symbol names tvm_kernels.cu as the unit it was inlined into."""
    (k,) = parse(_capture("flag-1"))
    assert (k.name, k.kind, k.device, k.grid, k.grid_dim, k.block_dim, k.warps) == (
        "spin_kernel", "tilelang", 0, 64, (1, 1, 1), (32, 1, 1), 1)
    assert (os.path.basename(k.file), k.line, k.unit) == ("cuda_ptx_generated.h", 842, "tvm_kernels_cu")
    assert k.text().startswith("TileLang kernel spin_kernel on cuda:0, grid 1x1x1, block 32x1x1, 1 warp(s) "
                               "active at cuda_ptx_generated.h:842 (inlined into tvm_kernels.cu)")


def test_a_foreign_kernel_without_line_information_is_not_tilelang_and_shows_its_pc():
    (k,) = parse(_capture("foreign-1"))
    assert (k.name, k.kind, k.grid, k.block_dim, k.file, k.unit) == (
        "at::cuda::(anonymous namespace)::spin_kernel", "other", 62, (1, 1, 1), None, None)
    assert k.text() == (f"at::cuda::(anonymous namespace)::spin_kernel (not TileLang) on cuda:0, grid 1x1x1, "
                        f"block 1x1x1, 1 warp(s) active, pc {k.pc}")
    assert k.pc.startswith("0x")


def test_a_tilelang_kernel_with_its_own_line_in_a_deleted_source_says_the_file_is_gone():
    (k,) = parse(_capture("finite"))
    assert (k.name, k.kind, k.line, k.unit) == ("lcg_kernel", "tilelang", 23, None)
    assert k.file.endswith("/tvm_kernels.cu") and not os.path.exists(k.file)
    assert k.text().endswith("at tvm_kernels.cu:23 (that file no longer exists)")


def test_a_process_with_no_kernel_resident_has_none():
    look = GpuLook(1, kernels=parse(_capture("idle")))
    assert look.kernels == [] and look.summary() == "on the GPU now: no kernel of this process is resident"


def test_the_same_launch_at_two_looks_is_held_and_different_launches_are_not():
    flag = [GpuLook(1, kernels=parse(_capture(n))) for n in ("flag-1", "flag-2")]
    assert [k.name for k in same_launches(*flag)] == ["spin_kernel"]
    assert same_launches(flag[0], GpuLook(1, kernels=parse(_capture("finite")))) == []
    # the same function name in another launch (another grid ID) is not the same launch
    moved = GpuLook(1, kernels=parse(_capture("flag-2").replace("grid 64,", "grid 65,").replace(" 64 Active ",
                                                                                                 " 65 Active ")))
    assert [k.grid for k in moved.kernels] == [65] and same_launches(flag[0], moved) == []


def _replayed(tmp_path: Path, *captures: str) -> dict[str, str]:
    return {**os.environ, "PATH": f"{REPLAY}:{Path(sys.executable).parent}:/usr/bin:/bin",
            "PYTHONPATH": str(FIX / "standin"), "CUDA_GDB_REPLAY_LOG": str(tmp_path / "calls.jsonl"),
            "CUDA_GDB_REPLAY": os.pathsep.join(str(CAPTURES / f"{c}.txt") for c in captures)}


def test_diagnose_gpu_names_the_tilelang_kernel_on_the_gpu(tmp_path):
    """The whole command on a real process waiting in torch.cuda's synchronize (stand-in torch), with cuda-gdb's
    look replayed from the flag stall. The wait lasted the whole window, so the process is STUCK already and
    one look is enough."""
    env = _replayed(tmp_path, "flag-1", "flag-2")
    with running([sys.executable, "-m", "torch.cuda.gpu_wait"], "waiting", env=env) as p:
        run = _diagnose(p.pid, "--gpu", env=env)
    assert run.returncode == 0, run.stderr
    verdict = run.stdout.splitlines()[0]
    assert verdict.startswith(f"PID {p.pid} (") and ": STUCK: waiting for the GPU in torch.cuda.synchronize" in verdict
    assert ("; on the GPU now: TileLang kernel spin_kernel on cuda:0, grid 1x1x1, block 32x1x1, 1 warp(s) active at "
            "cuda_ptx_generated.h:842 (inlined into tvm_kernels.cu)") in verdict
    calls = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    assert len(calls) == 1
    argv = calls[0]  # a batch attach to that process, with no init file
    assert argv[:5] == ["-q", "-nx", "-batch", "-p", str(p.pid)]
    assert [argv[i + 1] for i in range(5, len(argv), 2)][:2] == ["info cuda kernels", "info cuda sms"]


def test_the_same_launch_resident_at_two_looks_makes_a_process_stuck_whatever_its_stack_did():
    """Issue 24 item 4: a process whose CPU stack moved (PROGRESSING by its stack) is STUCK when the same launch
    is resident at both looks; a different launch at the second look leaves the verdict as it was."""
    looks = [GpuLook(7, 9.0, kernels=parse(_capture(n))) for n in ("flag-1", "flag-2")]
    v = Verdict(7, "7 (python)", "gpu", "waiting for the GPU in cuCtxSynchronize_v2", progressing=True)
    add_gpu_look(v, looks)
    assert v.progressing is False and v.line().startswith("PID 7 (python): STUCK: waiting for the GPU in ")
    assert "resident at both looks (same grid): spin_kernel" in v.evidence
    other = Verdict(7, "7 (python)", "gpu", "waiting for the GPU in cuCtxSynchronize_v2", progressing=True)
    add_gpu_look(other, [looks[0], GpuLook(7, 9.0, kernels=parse(_capture("finite")))])
    assert other.progressing is True and not any("resident at both" in e for e in other.evidence)
    assert other.line().endswith("; on the GPU now: " + parse(_capture("finite"))[0].text())


def test_diagnose_gpu_says_a_foreign_kernel_is_not_tilelang(tmp_path):
    env = _replayed(tmp_path, "foreign-1", "foreign-2")
    with running([sys.executable, "-m", "torch.cuda.gpu_wait"], "waiting", env=env) as p:
        run = _diagnose(p.pid, "--gpu", env=env)
    verdict = run.stdout.splitlines()[0]
    assert ": STUCK: " in verdict and "TileLang kernel" not in verdict
    assert "; on the GPU now: at::cuda::(anonymous namespace)::spin_kernel (not TileLang) on cuda:0" in verdict


def test_diagnose_gpu_says_when_no_kernel_of_the_process_is_resident(tmp_path):
    env = _replayed(tmp_path, "idle")
    with running([sys.executable, "-m", "torch.cuda.gpu_wait"], "waiting", env=env) as p:
        run = _diagnose(p.pid, "--gpu", env=env)
    verdict = run.stdout.splitlines()[0]
    assert verdict.endswith("; on the GPU now: no kernel of this process is resident")
    assert len((tmp_path / "calls.jsonl").read_text().splitlines()) == 1


def test_the_kit_wheels_kept_source_is_named_as_the_file_it_is():
    """The kit wheel compiles tl-kernel-<hash>.cu (patch 0017); nvcc spells that unit `tl_kernel_<hash>_cu` in its
    internal symbols. The flag capture, its unit renamed so, names the real file back."""
    text = _capture("flag-1").replace("_14_tvm_kernels_cu_", "_29_tl_kernel_0123abcd4567ef89_cu_")
    (k,) = parse(text)
    assert (k.kind, k.unit) == ("tilelang", "tl_kernel_0123abcd4567ef89_cu")
    assert "(inlined into tl-kernel-0123abcd4567ef89.cu)" in k.text()


def test_a_cuda_gdb_that_lists_nothing_and_does_not_say_none_is_a_failed_look_not_an_idle_gpu(tmp_path):
    """A cuda-gdb that fails (it cannot attach, it dies) prints neither kernel rows nor "No CUDA kernels": diagnose
    must not turn that into "no kernel of this process is resident"."""
    failed = tmp_path / "failed.txt"
    failed.write_text("cuda-gdb: cannot attach to process\n")
    env = {**_replayed(tmp_path, "idle"), "CUDA_GDB_REPLAY": str(failed)}
    with running([sys.executable, "-m", "torch.cuda.gpu_wait"], "waiting", env=env) as p:
        run = _diagnose(p.pid, "--gpu", env=env)
    assert run.returncode == 0, run.stderr
    assert "no kernel of this process is resident" not in run.stdout
    assert [line for line in run.stdout.splitlines() if "GPU look" in line] == [
        "    GPU look: cuda-gdb listed no kernels and did not say there were none (cuda-gdb: cannot attach to process)"]
