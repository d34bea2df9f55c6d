"""The verification engine's workers (src/tlkit/verify/workers.py) against small fake workers, real
processes speaking the real protocol: started fresh (verify-gpu) and forked by a job server (verify-sm120)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import Lines, marked_processes, process_tree

from tlkit.verify.gpu import GpuContext, run_worker
from tlkit.verify.sm120 import Job, RunContext
from tlkit.verify.variants import Variant
from tlkit.verify.workers import Child, ForkServer, Run, attach_logs, exited, spawn, subject_path, watch

FAKE = Path(__file__).resolve().parent / "fixtures" / "workers" / "fake_worker.py"
STAGES = ("import tilelang", "elaborate", "compile")
VARIANT = Variant("fake_kernel", (("n", 1),), (1,))
START_BOUND = 120.0  # interpreter start-up on a loaded machine
STAGE_BOUND = 1.0  # what a stage gets once it has begun


@contextlib.contextmanager
def workers(kind: str, tmp_path: Path) -> Iterator[Callable[[object], Child]]:
    """A function from a behaviour to a started fake worker: a fresh process, or a child of one job server."""
    if kind == "spawned":
        yield lambda behaviour: spawn([sys.executable, str(FAKE)], {"behaviour": behaviour}, dict(os.environ),
                                      tmp_path, re.sub(r"\W+", "-", str(behaviour))[:20])
        return
    server = ForkServer([sys.executable, str(FAKE)], {"server": True}, dict(os.environ), tmp_path, "server")
    try:
        assert server.start(START_BOUND).stopped
        count = iter(range(100))
        yield lambda behaviour: server.fork({"behaviour": behaviour}, tmp_path / f"task-{next(count)}", "sm_120")
    finally:
        server.close()
    assert ended(server.process.pid)


def ended(pid: int) -> bool:
    """Whether `pid` is gone (or a zombie), waiting for it at most a minute."""
    return exited(pid, 60)


def stage_bounds(helpers: list[int]) -> Callable[[dict], float | None]:
    """Each stage gets STAGE_BOUND from when it is announced; the helper process the fake starts is noted."""

    def on_event(ev: dict) -> float | None:
        if ev.get("event") == "helper":
            helpers.append(os.pidfd_open(ev["pid"]))
            return None
        return STAGE_BOUND if ev.get("event") == "stage" else None

    return on_event


@pytest.mark.parametrize("kind", ["spawned", "forked"])
@pytest.mark.parametrize("stage", STAGES)
def test_a_worker_that_hangs_is_killed_at_its_bound_with_stage_frames_and_group(tmp_path, kind, stage):
    with workers(kind, tmp_path) as start:
        child = start({"hang": stage})
        helpers: list[int] = []
        seen = watch(child, START_BOUND, stage_bounds(helpers))
        run = seen.failure(VARIANT, "sm_120")
        assert seen.timed_out and seen.bound == STAGE_BOUND
        assert run.status == "timeout" and run.stage == stage and run.key == "sm_120"
        assert run.error.startswith(f"killed after {STAGE_BOUND:g} s in stage: {stage}; innermost frames: "
                                    "fake_worker.py:")
        assert " hang_here" in run.error.split("<-")[0]  # the innermost frame first
        assert str(child.stack_file) in run.error and "hang_here" in child.stack_file.read_text()
        # the worker and the helper it started in its group are gone
        assert ended(child.pid)
        assert select.select(helpers, [], [], 60)[0] == helpers
        for fd in helpers:
            os.close(fd)
        if kind == "forked":  # the job server lives on and forks the next task
            after = watch(start("warn"), START_BOUND)
            assert [r["status"] for r in after.results] == ["ok", "ok"]


@pytest.mark.parametrize("kind", ["spawned", "forked"])
def test_what_a_worker_leaves_running_in_its_group_ends_when_it_exits(tmp_path, kind):
    fifo = tmp_path / "helper-stdout"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # before the worker opens it for writing
    try:
        with workers(kind, tmp_path) as start:
            assert watch(start({"leave": str(fifo)}), START_BOUND).code == 0
            # the helper holds the FIFO's only write end: end of file once it has ended
            assert select.select([reader], [], [], 60)[0] == [reader] and os.read(reader, 1) == b""
    finally:
        os.close(reader)


@pytest.mark.parametrize("kind", ["spawned", "forked"])
def test_a_worker_that_crashes_is_reported_with_signal_stage_and_log_tail(tmp_path, kind):
    with workers(kind, tmp_path) as start:
        child = start("crash")
        seen = watch(child, START_BOUND)
        run = seen.failure(VARIANT, "sm_120")
        assert not seen.timed_out and seen.code == -6
        assert run.status == "crash" and run.stage == "compile" and run.key == "sm_120"
        assert run.error.startswith("worker died (signal 6) in stage: compile: ")
        assert "about to crash in the compiler" in run.error


@pytest.mark.parametrize("kind", ["spawned", "forked"])
def test_warnings_are_collected_per_key(tmp_path, kind):
    with workers(kind, tmp_path) as start:
        child = start("warn")
        seen = watch(child, START_BOUND)
        runs = [Run(VARIANT, r.pop("key"), r.pop("status"), r.pop("seconds")) for r in seen.results]
        assert seen.code == 0 and seen.failure(VARIANT, "sm_120a") is None  # after the tier took the events
        attach_logs(runs, child.log_file)
        assert [(r.key, r.warnings) for r in runs] == [("sm_120", ["UserWarning: first"]),
                                                      ("sm_120a", ["Warning: second"])]
        assert all(r.log == str(child.log_file) for r in runs)


@pytest.mark.parametrize("kind", ["spawned", "forked"])
def test_a_worker_that_closes_its_events_but_never_exits_is_killed_at_the_deadline(tmp_path, kind):
    with workers(kind, tmp_path) as start:
        child = start("mute")
        seen = watch(child, START_BOUND, stage_bounds([]))
        assert not seen.timed_out and seen.code == -signal.SIGKILL and ended(child.pid)
        run = seen.failure(VARIANT, "sm_120")
        assert run.status == "crash" and run.error.startswith("worker died (signal 9) in stage: compile")


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["killed", "ctrl-c"])
def test_a_job_server_its_child_and_the_childs_helper_end_with_the_kit(tmp_path, how):
    kit = subprocess.Popen([sys.executable, str(FAKE.parent / "fake_kit.py"), str(tmp_path)], stdout=subprocess.PIPE,
                           text=True)
    try:
        pids = json.loads(Lines(kit.stdout).until("{", START_BOUND)[-1])
        fds = [os.pidfd_open(pids[name]) for name in ("server", "child", "helper")]
    except BaseException:
        kit.kill()
        raise
    try:
        kit.send_signal(how)
        kit.wait(timeout=60)
        gone: list[int] = []
        while len(gone) < len(fds):  # each pidfd turns readable when its process ends
            ready = select.select([fd for fd in fds if fd not in gone], [], [], 60)[0]
            assert ready, f"still running a minute after the kit ended: {pids}"
            gone += ready
    finally:
        if kit.poll() is None:  # it ignored the signal: gone now, and its workers with it (parent-death signal)
            kit.kill()
            kit.wait(timeout=60)
        for fd in fds:
            os.close(fd)


def test_the_ctrl_c_test_passes_in_a_suite_started_with_sigint_ignored(tmp_path):
    """Issue 25 item 14: a background job of a non-interactive shell (`.ci/run &`, nohup) starts the suite with
    SIGINT ignored, and every child inherits that: the fake kit above then ignored its Ctrl-C and the test
    failed at its bound. Here the suite is started so, through a shell that ignores SIGINT and execs pytest on
    the Ctrl-C case alone; the conftest gives children the default disposition back."""
    case = f"{Path(__file__).name}::test_a_job_server_its_child_and_the_childs_helper_end_with_the_kit[ctrl-c]"
    argv = ["sh", "-c", 'trap "" INT; exec "$0" -m pytest -q -p no:cacheprovider --basetemp "$1" "$2"',
            sys.executable, str(tmp_path / "inner"), case]
    with process_tree(argv, cwd=Path(__file__).parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as run:
        out, err = run.communicate(timeout=600)  # the tree (its fake kit too) is killed if this bound is hit
    assert run.returncode == 0 and "1 passed" in out, out[-3000:] + err[-2000:]


def test_a_job_server_that_ends_when_asked_to_fork_is_started_again_once_then_the_target_is_a_crash(tmp_path):
    site = tmp_path / "site" / "tilelang"
    site.mkdir(parents=True)
    (site / "__init__.py").write_text('__version__ = "fake"\n')
    loads = tmp_path / "loads.txt"
    module = tmp_path / "kernels.py"  # imports a torch that has initialised CUDA, so the server refuses to fork
    module.write_text(f"import sys, types\nopen({str(loads)!r}, 'a').write('loaded\\n')\n"
                      "sys.modules['torch'] = types.SimpleNamespace(cuda=types.SimpleNamespace(is_initialized=lambda: "
                      "True))\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site.parent), subject_path()])}
    job = Job(RunContext(Path(sys.executable), module, Path("cuobjdump"), env, START_BOUND, tmp_path / "work"), 0)
    [run] = job.run(VARIANT, ["sm_120", "sm_120a"])
    assert run.status == "crash" and run.key == "sm_120" and run.stage == "fork a child"
    assert "CUDA was initialised in the verify-sm120 job server; refusing to fork" in run.error
    assert loads.read_text() == "loaded\n" * 2 and job.server is None


def test_ctrl_c_in_verify_gpu_kills_the_running_compiles_and_starts_no_queued_one(tmp_path):
    site = tmp_path / "site" / "tilelang"
    site.mkdir(parents=True)
    address = tmp_path / "started.sock"
    # a fake TileLang whose import says the worker's PID on a socket and never returns
    site.joinpath("__init__.py").write_text(
        f"import os, signal, socket\nsaid = socket.socket(socket.AF_UNIX)\nsaid.connect({str(address)!r})\n"
        "said.sendall(f'{os.getpid()}\\n'.encode())\nwhile True:\n    signal.pause()\n")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(address))
    listener.listen()
    listener.settimeout(START_BOUND)
    kit = subprocess.Popen([sys.executable, str(FAKE.parent / "fake_gpu_kit.py"), str(site.parent), str(tmp_path)],
                           stderr=subprocess.PIPE, text=True)
    fds = []
    try:
        for _ in range(2):  # both job slots busy
            conn, _ = listener.accept()
            conn.settimeout(START_BOUND)  # the worker sends its PID at once; a bound, not a delay
            fds.append(os.pidfd_open(int(conn.makefile().readline())))
        kit.send_signal(signal.SIGINT)
        assert kit.wait(timeout=START_BOUND) != 0 and "KeyboardInterrupt" in kit.stderr.read()
        assert select.select(fds, [], [], 60)[0] == fds  # those workers ended
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):  # and no queued compile started
            listener.accept()
    finally:
        kit.kill()
        for fd in fds:
            os.close(fd)


def test_stacks_come_from_the_python_worker_under_a_wrapper(tmp_path):
    """A wrapper (here sh, which SIGUSR1 would kill; compute-sanitizer in verify-gpu) is the process the kit started;
    the stack request goes to the worker's own PID, from its first event."""
    wrapper = ["sh", "-c", '"$@"; exit $?', "sh"]
    child = spawn([*wrapper, sys.executable, str(FAKE)], {"behaviour": {"hang": "compile"}, "parent": None},
                  dict(os.environ), tmp_path, "wrapped")
    seen = watch(child, START_BOUND, stage_bounds([]))
    assert seen.timed_out and child.python_pid not in (0, child.pid)
    assert seen.frames and " hang_here" in seen.frames[0]


def test_verify_gpu_holds_each_variant_to_its_own_compile_bound_from_its_begin(tmp_path):
    """verify-gpu workers (the real launch_kernels; TileLang and torch are small fakes, no GPU here), three at once:
    a variant with the table's bound_seconds is killed at that bound once it has begun, in a worker that did another
    variant first; one without keeps the run's bound though a later variant of its batch has a shorter one; and a
    worker's start-up (its imports) is under the run's bound, whatever the first variant's own."""
    kernels = tmp_path / "kernels.py"
    kernels.write_text("import signal\n\n\ndef refused_kernel(n):\n    raise ValueError('no such size')\n\n\n"
                       "def spin_kernel(n):\n    while True:\n        signal.pause()\n")
    mark = str(tmp_path)  # in every worker's environment
    fake_torch = {"quick": "class cuda:\n    is_available = staticmethod(lambda: True)\n",
                  "stuck": "import threading\nthreading.Event().wait()\n"}  # an import that never returns

    def context(torch: str, run_bound: float) -> GpuContext:
        site = tmp_path / f"site-{torch}"
        for name, text in {"tilelang": "__version__ = 'fake'\n", "torch": fake_torch[torch]}.items():
            (site / name).mkdir(parents=True, exist_ok=True)
            (site / name / "__init__.py").write_text(text)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), subject_path()]), "TLKIT_TEST_MARK": mark}
        return GpuContext(Path(sys.executable), kernels, None, env, run_bound, run_bound, {}, {}, {}, tmp_path)

    refused, spin, spin_own = (Variant("refused_kernel", (("n", 1),)), Variant("spin_kernel", (("n", 1),)),
                               Variant("spin_kernel", (("n", 2),), bound=3))
    quick = context("quick", START_BOUND)
    cases = {"own bound after another variant": ([refused, spin_own], quick),
             "the run's bound before a shorter one": ([spin, spin_own], context("quick", 30.0)),
             "the run's bound at start-up": ([spin_own], context("stuck", 30.0))}
    with ThreadPoolExecutor(len(cases)) as pool:  # each worker has its own folder (its tag)
        futures = {name: pool.submit(run_worker, batch, ctx, True, tag=str(i))
                   for i, (name, (batch, ctx)) in enumerate(cases.items())}
    got = {name: future.result() for name, future in futures.items()}
    first, second = got["own bound after another variant"]
    assert (first.variant, first.status) == (refused, "compile error") and "no such size" in first.error
    assert (second.variant, second.status) == (spin_own, "timeout"), second.error
    assert second.error.startswith("killed after 3 s in stage: elaborate (build the TIR from the factory); innermost "
                                   "frames: kernels.py:10 spin_kernel")
    [hung] = got["the run's bound before a shorter one"]
    assert (hung.variant, hung.status) == (spin, "timeout")
    assert hung.error.startswith("killed after 30 s in stage: elaborate"), hung.error
    [stuck] = got["the run's bound at start-up"]
    assert (stuck.variant, stuck.status) == (spin_own, "timeout")
    assert stuck.error.startswith("killed after 30 s in stage: import tilelang and torch"), stuck.error
    assert marked_processes(mark) == []  # every killed worker is gone
