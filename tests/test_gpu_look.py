"""diagnose's look at the GPU (src/tlkit/diagnose/gpu_look.py): cuda-gdb's batch output parsed from real captures
(tests/data/cuda-gdb/, taken on an H100/H200 by tests/fixtures/gpu/capture_cuda_gdb.sh), and the command's
behaviour where cuda-gdb is missing. cuda-gdb cannot attach here (no GPU): the command is run against real
processes with a stand-in cuda-gdb executable that replays a capture."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from test_diagnose import FIX, running

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
