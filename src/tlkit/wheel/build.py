"""Running the PEP 517 build (python -m build, scikit-build-core, ninja, ccache) with a progress line
and the full log under the build folder."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from tlkit.base.errors import BuildError
from tlkit.base.machine import meminfo_bytes
from tlkit.base.procs import stop, tied
from tlkit.base.redact import redact
from tlkit.wheel.progress import Progress, fmt_seconds, load_cost_model
from tlkit.wheel.toolchain import Toolchain

GIB = 1 << 30
MEM_PER_JOB = 2 * GIB  # TileLang's heaviest translation units peak near 1 GiB; keep headroom
BUILD_DIR = "build"  # scikit-build-core's build folder, inside the tree: kept between runs
STOP_GRACE_SECONDS = 10.0  # ninja and the compilers stop on SIGINT within this; SIGKILL after it


def available_memory() -> int:
    """Free memory for the compilers; 4 GiB where /proc/meminfo says nothing."""
    return meminfo_bytes("MemAvailable") or 4 * GIB


def default_jobs() -> int:
    """One job per core, fewer when free memory would not hold them."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, available_memory() // MEM_PER_JOB))


def build_environment(buildenv: Path, toolchain: Toolchain | None, extra: dict[str, str], jobs: int,
                      epoch: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    env["PATH"] = f"{buildenv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["CMAKE_GENERATOR"] = "Ninja"
    env["CMAKE_BUILD_PARALLEL_LEVEL"] = str(jobs)
    env["SOURCE_DATE_EPOCH"] = str(epoch)
    env["PYTHONUNBUFFERED"] = "1"
    if toolchain is not None:
        # TileLang's CMake tries a host CUDA first; point every lookup at the pinned PyPI toolkit.
        env["WITH_PIP_CUDA_TOOLCHAIN"] = str(toolchain.root)
        env["CUDAToolkit_ROOT"] = str(toolchain.root)
        env["CUDACXX"] = str(toolchain.nvcc)
    return env


def run_build(tree: Path, buildenv: Path, env: dict[str, str], out_dir: Path, log_path: Path,
              log=print, keep_fds: tuple[int, ...] = (), weights: Path | None = None,
              settings: tuple[str, ...] = ()) -> Path:
    """Build one wheel from `tree` into `out_dir` (a fresh folder). Returns the wheel. `weights`: the
    recipe's per-folder step costs, for the ETA when the build folder has no ninja log yet; `settings`: more
    scikit-build-core config settings (a cross build's toolchain file).

    Ctrl-C stops ninja and returns with KeyboardInterrupt; the build folder is kept, so the next run
    resumes where this one stopped."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [str(buildenv / "bin" / "python"), "-m", "build", "--wheel", "--no-isolation",
           "--outdir", str(out_dir), "-C", f"build-dir={BUILD_DIR}"]
    for setting in settings:
        cmd += ["-C", setting]
    log(f"build: {' '.join(cmd)}\nbuild: full log in {log_path}")
    model = load_cost_model(tree / BUILD_DIR / ".ninja_log", weights)
    log(f"build: ETA from {model.source}")
    progress = Progress(model=model)
    start = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as logf:
        logf.write(redact(f"# cwd: {tree}\n# cmd: {' '.join(cmd)}\n"))
        logged = ("CUDA", "WITH_PIP", "CMAKE", "USE_", "NO_", "SOURCE", "SKBUILD", "_PYTHON_HOST")
        for key in sorted(k for k in env if k.startswith(logged)):
            logf.write(redact(f"# env {key}={env[key]}\n"))
        logf.flush()
        # Own session: Ctrl-C reaches tlkit alone, which then stops the whole build (procs.stop). Under the
        # supervisor, no process of the build outlives this one, however this one ends.
        supervised = tied(cmd, STOP_GRACE_SECONDS)
        proc = subprocess.Popen(supervised, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, errors="replace", bufsize=1, start_new_session=True, pass_fds=keep_fds)
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                logf.write(redact(line))
                progress.feed(line)
            code = proc.wait()
        except KeyboardInterrupt:
            stop(proc)  # the supervisor ends every process of the build (SIGINT, SIGKILL after the grace)
            logf.write("\n# interrupted\n")
            progress.close()
            raise
        finally:
            progress.close()
    if code != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-25:]
        raise BuildError(f"the PEP 517 build failed (exit {code}) after {fmt_seconds(time.monotonic() - start)}; "
                         f"last lines of {log_path}:\n" + "\n".join(tail))
    wheels = sorted(out_dir.glob("*.whl"))
    if len(wheels) != 1:
        raise BuildError(f"the build produced {[w.name for w in wheels]} in {out_dir}, expected one wheel")
    log(f"build: done in {fmt_seconds(time.monotonic() - start)}: {wheels[0].name}")
    return wheels[0]

