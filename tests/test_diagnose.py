"""diagnose on real processes in known states: each is named correctly (no GPU, no TileLang wheel)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from conftest import Lines, process_tree

from tlkit.diagnose import procfs
from tlkit.diagnose.command import diagnose
from tlkit.diagnose.evidence import STATE_SCHEMA, sample_tree
from tlkit.diagnose.stacks import PTRACE_SCOPE
from tlkit.diagnose.verdict import peer_wait, process_group

FIX = Path(__file__).parent / "fixtures" / "diagnose"
BOUND = 120.0  # on waiting for a fixture's line or exit: a broken fixture fails instead of hanging the suite


@contextlib.contextmanager
def running(argv: list[str], ready: str | None, **kwargs) -> Iterator[subprocess.Popen]:
    """`argv` as a process tree (conftest.process_tree) that, unless `ready` is None, has printed a line
    starting with `ready`."""
    with process_tree(argv, stdout=subprocess.PIPE, **kwargs) as proc:
        if ready is not None:
            lines = Lines(proc.stdout).until(ready, BOUND)
            assert lines[0].startswith(ready), f"{argv}: expected {ready!r}, got {lines!r}"
        yield proc


def one(verdicts, pid):
    return next(v for v in verdicts if v.pid == pid)


def verdict_of(script: str, ready: str, kind: str):
    """The verdict on the fixture `script` once it has said `ready`, which must be of `kind`."""
    with running([sys.executable, str(FIX / script)], ready) as p:
        v = one(diagnose([p.pid], seconds=1.5), p.pid)
    assert v.kind == kind, v.line() + "\n" + "\n".join(v.evidence)
    return v


def test_a_python_spin_is_named_with_its_frame():
    v = verdict_of("spin.py", "spinning", "spinning")
    assert "spin_forever (spin.py:" in v.summary
    assert v.progressing is False
    assert "main thread: spin_forever" in "\n".join(v.evidence)


def test_two_threads_taking_two_locks_in_opposite_order_are_named_a_deadlock():
    v = verdict_of("deadlock.py", "deadlocked", "deadlock")
    assert v.summary.startswith("deadlock? 2 threads waiting on locks, none running: ")
    assert "(red-then-blue) at take (deadlock.py:" in v.summary
    assert "(blue-then-red) at take (deadlock.py:" in v.summary
    assert v.progressing is False
    # the main thread's join blocks on a lock too, but to wait for a thread to end: not counted
    assert "main thread waits for a thread to finish at <module> (deadlock.py:" in "\n".join(v.evidence)


def test_a_thread_blocked_on_a_lock_whose_holder_waits_on_an_event_is_waiting_on_a_lock():
    v = verdict_of("lock_held.py", "blocked", "lock")
    assert v.summary.startswith("waiting on a lock at wait_for_the_lock (lock_held.py:")
    assert v.progressing is False
    # the holder's Event.wait is a wait for an event, not a second lock: no deadlock is claimed
    assert "(holder) waits for a condition or event at hold_it (lock_held.py:" in "\n".join(v.evidence)


def test_an_idle_thread_pool_waits_for_work_and_is_neither_a_deadlock_nor_a_lock_wait():
    """Each idle worker waits in SimpleQueue.get, which blocks on a lock underneath: with native stacks
    (the C call says it) and without (the Python frame says it) the process is the main thread's read."""
    with running([sys.executable, str(FIX / "idle_pool.py")], "idle", stdin=subprocess.PIPE) as p:
        verdicts = {native: one(diagnose([p.pid], seconds=1.0, native=native), p.pid) for native in (True, False)}
    for native, v in verdicts.items():
        assert v.kind == "io", f"native={native}: " + v.line() + "\n" + "\n".join(v.evidence)
        assert v.summary.endswith("at <module> (idle_pool.py:32); 2 thread(s) waiting for work"), v.summary
        assert v.progressing is None  # idle, neither PROGRESSING nor STUCK
        waits = [e for e in v.evidence if " waits for " in e]
        assert len(waits) == 2 and all("waits for work at _worker (concurrent/futures/thread.py:" in e
                                       for e in waits), waits


def test_a_catastrophic_regex_is_native_code_not_a_python_spin():
    v = verdict_of("native_regex.py", "matching", "native")
    assert v.summary.startswith("running native code in sre_")  # the regex engine's match loop
    assert "under match_forever (native_regex.py:" in v.summary
    assert v.details["library"].startswith(("libpython3", "python3"))  # _sre is built into the interpreter


def _write_state(folder: Path, pid: int, found: str) -> None:
    """The kit wheel's state file for `pid` (docs/runtime-state.md) during a launch-watchdog stall. `found`: what
    the watchdog's events showed: "stuck" (#12 started and has not finished), "foreign" (the stall is between
    #11, complete, and #12, not started) or "candidates" (#12 without events, or foreign work)."""
    now = time.time()
    launch = {"seq": 12, "kernel": "main_kernel", "factory": "fp8_gemm_kernel(N=1024, K=4096)", "device": 0,
              "stream": "0x0", "launched": now - 130, "age_s": 130.0}
    done = {**launch, "seq": 11, "kernel": "act_quant_kernel", "factory": "act_quant_kernel(N=4096)"}
    found_fields = {"stuck": {"stuck": launch, "candidates": [], "foreign": False, "not_started": None},
                    "foreign": {"stuck": None, "candidates": [], "foreign": True, "not_started": launch},
                    "candidates": {"stuck": None, "candidates": [launch], "foreign": True, "not_started": None}}[found]
    state = {"schema": STATE_SCHEMA, "pid": pid, "start_ticks": procfs.sample(pid).start_ticks, "written": now,
             "tilelang": "0.1.14+tlkit", "argv": [], "compiles": [], "distributed": None,
             "launches": {"count": 12, "pending": [launch], "last_completed": [done], "recent": [done, launch]},
             "stall": {"since": now - 10, "device": 0, "stream": "0x0", "first_pending": launch,
                       "last_completed": done, "verdict": f"({found})", "report": None, "reports": 1,
                       **found_fields}}
    (folder / f"{pid}.json").write_text(json.dumps(state))


def test_a_gpu_wait_may_be_a_collective_with_a_process_group_and_a_stall_before_a_tilelang_launch(tmp_path):
    """NCCL cannot run here: the decision is tested on real processes, a gloo rank (its process group seen in
    its threads' names) and a plain one, with the state file the kit wheel writes during a stall."""
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    env = {**os.environ, "TILELANG_RUNTIME_DIR": str(runtime), "RANK": "1", "WORLD_SIZE": "2"}
    store = tmp_path / "store"
    argv = [sys.executable, str(FIX / "gloo_rank.py")]
    with running(argv + ["1", "2", str(store)], None, stdin=subprocess.PIPE, env=env) as r1, \
            running(argv + ["0", "2", str(store)], "in all_reduce"), \
            running([sys.executable, str(FIX / "spin.py")], "spinning", env=env) as plain:
        assert Lines(r1.stdout).until("joined", BOUND)[0].startswith("joined")
        _write_state(runtime, r1.pid, "foreign")
        _write_state(runtime, plain.pid, "foreign")
        observed = sample_tree([r1.pid, plain.pid], 0.2, native=False).observed
        rank, other = observed[r1.pid], observed[plain.pid]
        assert rank.state is not None and rank.state["distributed"] is None  # the backend comes from the threads
        assert process_group(rank) == "gloo"
        assert peer_wait(rank) == "this may be a collective waiting for a peer (gloo rank 1 of 2)"
        assert process_group(other) is None
        assert peer_wait(other) is None  # the same stall without a process group
        _write_state(runtime, r1.pid, "candidates")  # a TileLang launch without events, or foreign work
        assert peer_wait(sample_tree([r1.pid], 0.2, native=False).observed[r1.pid]) == \
            "this may be a collective waiting for a peer (gloo rank 1 of 2)"
        _write_state(runtime, r1.pid, "stuck")
        assert peer_wait(sample_tree([r1.pid], 0.2, native=False).observed[r1.pid]) is None  # a kernel that started


def test_a_rank_blocked_in_a_gloo_all_reduce_names_the_collective(tmp_path):
    store = tmp_path / "store"
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    argv = [sys.executable, str(FIX / "gloo_rank.py")]
    # rank 1 cannot print before rank 0 has joined the group: start it, then rank 0, then read both
    with running(argv + ["1", "2", str(store)], None, stdin=subprocess.PIPE) as r1, \
            running(argv + ["0", "2", str(store)], "in all_reduce",
                    env={**os.environ, "TILELANG_RUNTIME_DIR": str(runtime)}) as r0:
        assert Lines(r1.stdout).until("joined", BOUND)[0].startswith("joined")
        verdicts = diagnose([r0.pid, r1.pid], seconds=1.5)
        # gloo on CUDA tensors waits for the rank's own stream inside all_reduce (seen on the H200: the rank whose
        # kernel never finished was in all_reduce): the launch watchdog's kernel is named beside the collective
        _write_state(runtime, r0.pid, "stuck")
        stalled = one(diagnose([r0.pid], seconds=0.5, gpu=False), r0.pid)
        _write_state(runtime, r0.pid, "foreign")
        foreign = one(diagnose([r0.pid], seconds=0.5, gpu=False), r0.pid)
        _write_state(runtime, r0.pid, "candidates")
        undecided = one(diagnose([r0.pid], seconds=0.5, gpu=False), r0.pid)
    v0, v1 = one(verdicts, r0.pid), one(verdicts, r1.pid)
    assert v0.kind == "collective", v0.line() + "\n" + "\n".join(v0.evidence)
    assert v0.details["operation"] == "all_reduce"
    assert v0.details["backend"] == "gloo"
    assert v0.progressing is False
    assert "launch watchdog" not in v0.summary  # no state file yet: nothing to name
    assert v1.kind == "io", v1.line()  # the rank that never joined waits on its input
    assert stalled.kind == "collective"
    assert stalled.summary.endswith("; its own GPU work is stalled: the launch watchdog: #12 main_kernel started and "
                                    "has not finished")
    # the watchdog's evidence as it found it: no TileLang kernel is named stuck when the stall is not TileLang's
    assert foreign.summary.endswith("its own GPU work is stalled: the launch watchdog: stuck in work that is not "
                                    "TileLang's, queued between #11 act_quant_kernel (complete) and #12 main_kernel "
                                    "(not started)")
    assert undecided.summary.endswith("the launch watchdog's candidates: #12 main_kernel, or work that is not "
                                      "TileLang's")


def test_a_process_waiting_on_a_compiler_that_never_finishes_names_the_compiler():
    with running([sys.executable, str(FIX / "compile_parent.py")], "started") as p:
        verdicts = diagnose([p.pid], seconds=1.0)
    v = one(verdicts, p.pid)
    assert v.kind == "compiling", v.line()
    assert "waiting for nvcc (pid " in v.summary
    assert v.progressing is False
    # the compiler is evidence of its parent, not a verdict of its own
    assert [x.pid for x in verdicts if x.kind == "compiling"] == [p.pid]
    assert not any("nvcc" in x.label and x.pid != p.pid for x in verdicts)


def test_a_pid_that_does_not_exist_gets_one_line():
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    v = one(diagnose([pid_max + 1], seconds=0.1), pid_max + 1)
    assert v.line() == f"PID {pid_max + 1}: no such process"


def test_a_process_that_exits_while_sampled_is_said_to_have_exited():
    with process_tree([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE) as proc:

        def end_it(k: int, _n: int) -> None:
            if k == 1:  # after the first look: the process ends before the second
                proc.stdin.close()
                proc.wait(timeout=BOUND)

        v = one(diagnose([proc.pid], seconds=0.5, on_sample=end_it), proc.pid)
    assert v.kind == "exited"
    assert v.line().endswith("exited while being sampled")


def test_the_command_prints_verdicts_and_json_and_refuses_a_bad_pid(tmp_path):
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    out = tmp_path / "v.json"
    with running([sys.executable, str(FIX / "spin.py")], "spinning") as p:
        run = subprocess.run([sys.executable, "-m", "tlkit", "diagnose", str(p.pid), str(pid_max + 1),
                              "--seconds", "1", "--json", str(out)], capture_output=True, text=True)
    assert run.returncode == 2  # a PID that does not exist
    assert f"PID {pid_max + 1}: no such process" in run.stdout
    assert "spinning in Python at spin_forever" in run.stdout
    data = json.loads(out.read_text())
    assert {d["kind"] for d in data} == {"spinning", "missing"}
    gone = subprocess.run([sys.executable, "-m", "tlkit", "diagnose", str(pid_max + 1)], capture_output=True,
                          text=True)  # only PIDs that do not exist: one line, no sampling window first
    assert gone.returncode == 2 and (gone.stdout, gone.stderr) == (f"PID {pid_max + 1}: no such process\n", "")
    bad = subprocess.run([sys.executable, "-m", "tlkit", "diagnose", "abc"], capture_output=True, text=True)
    assert bad.returncode == 2
    assert "'abc' is not a PID" in bad.stderr
    assert "Traceback" not in bad.stderr


def diagnose_cli(pid: int, prefix: tuple[str, ...] = ()) -> tuple[subprocess.CompletedProcess, dict]:
    """`python -m tlkit diagnose PID --json -` (after `prefix`, a command that runs it): the run, with the
    text on stderr, and the verdict on `pid` from the JSON on stdout."""
    run = subprocess.run([*prefix, sys.executable, "-m", "tlkit", "diagnose", str(pid), "--seconds", "0.3",
                          "--json", "-"], capture_output=True, text=True)
    assert "Traceback" not in run.stderr, run.stderr
    verdicts = json.loads(run.stdout) if run.stdout.strip() else []
    return run, next((d for d in verdicts if d["pid"] == pid), {})


def test_a_process_that_is_not_python_gets_one_line_naming_it():
    with running(["cat"], None, stdin=subprocess.PIPE) as p:
        p.stdin.write("ready\n")
        p.stdin.flush()
        assert p.stdout.readline() == "ready\n"  # cat has replaced the forked Python: it echoes
        run, v = diagnose_cli(p.pid)
    assert run.returncode == 0, run.stderr  # only a PID that does not exist makes it 2
    assert v["kind"] == "not-python" and v["progressing"] is None, v
    line = f"PID {p.pid} (cat): not a Python process (cat); 0% CPU, state S"
    assert run.stderr.splitlines()[1:] == [line], run.stderr  # after the progress line; one line (issue 25 item 13)
    assert any(e.startswith("state S") for e in v["evidence"])  # the evidence stays in the JSON


def test_diagnosing_its_own_shell_leaves_out_itself_and_its_ancestors():
    """Issue 25 item 13: `diagnose $$` listed diagnose itself (and called it STUCK); the shell, diagnose and
    the py-spy it starts are left out, the shell's other child is diagnosed."""
    script = (f'sleep 600 & echo $! >&2; "{sys.executable}" -m tlkit diagnose $$ --seconds 0.3 --json -; '
              'code=$?; kill $!; exit $code')
    with process_tree(["sh", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE) as shell:
        out, err = shell.communicate(timeout=300)
    sleeper = int(err.splitlines()[0])
    assert shell.returncode == 0, err
    verdicts = [(v["pid"], v["kind"]) for v in json.loads(out)]
    assert verdicts[1:] == [(sleeper, "not-python")], out
    assert verdicts[0][1] == "left-out"  # the shell itself: one line saying why it has no verdict


def test_pid_1_or_a_tree_too_large_is_refused_in_one_line_before_any_sampling():
    run = subprocess.run([sys.executable, "-m", "tlkit", "diagnose", "1"], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 2 and not run.stdout
    assert run.stderr.count("\n") == 1, run.stderr
    assert run.stderr.startswith("tlkit: error: PID 1 heads ") and "(the whole machine)" in run.stderr
    assert "pass --all" in run.stderr


def test_a_tree_of_more_than_256_processes_is_refused_in_one_line_before_any_sampling():
    """Issue 25 item 13, the other half: a shell with 300 sleeping children is no job to py-spy one by one."""
    # the group ends itself when its stdin closes: also if the test's process is killed outright
    script = "i=0; while [ $i -lt 300 ]; do sleep 600 & i=$((i+1)); done; echo ready; read _; kill 0"
    with running(["sh", "-c", script], "ready", stdin=subprocess.PIPE) as p:
        run = subprocess.run([sys.executable, "-m", "tlkit", "diagnose", str(p.pid)], capture_output=True,
                             text=True, timeout=120)
    assert run.returncode == 2 and not run.stdout
    assert run.stderr.count("\n") == 1, run.stderr
    assert run.stderr.startswith(f"tlkit: error: PID {p.pid} heads 301 processes (more than 256)"), run.stderr
    assert "pass --all" in run.stderr


def test_an_attach_that_ptrace_refuses_is_one_line_saying_how_to_allow_it():
    """A real refusal: the target makes itself non-dumpable, which refuses ptrace to its own user; root may
    attach anyway (CAP_SYS_PTRACE), so as root diagnose runs as nobody, which may not attach to root's process."""
    code = ("import ctypes, sys; ctypes.CDLL(None).prctl(4, 0); "  # PR_SET_DUMPABLE 0
            "print('ready', flush=True); sys.stdin.read()")
    prefix = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups") if os.geteuid() == 0 else ()
    with running([sys.executable, "-c", code], "ready", stdin=subprocess.PIPE) as p:
        run, v = diagnose_cli(p.pid, prefix)
    assert run.returncode == 0, run.stderr  # only a PID that does not exist makes it 2
    line = run.stderr.splitlines()[1]  # after the progress line, before the evidence
    assert line.startswith(f"PID {p.pid} (") and line.endswith(v["summary"]), run.stderr
    yama = PTRACE_SCOPE.exists()
    refused = "attaching was refused (ptrace" + ("; kernel.yama.ptrace_scope=" if yama else "): ")
    assert f": no stacks (stacks: {refused}" in line and "run diagnose as root or as the process's user" in line, line
    assert ("`sudo sysctl kernel.yama.ptrace_scope=0`" in line) == yama  # no such setting on a kernel without Yama
    assert line.endswith(", or start the container with --cap-add SYS_PTRACE); 0% CPU"), line
    assert v["progressing"] is None, v  # nothing could be seen: neither STUCK nor PROGRESSING


def test_a_gpu_wait_whose_launch_outlasts_the_window_is_stuck_though_the_state_moved(tmp_path):
    """STUCK means stuck: the state file's launch count moving (or the CPU stack in the driver's wait) is no
    progress while the launch the process waits for has not completed for longer than the window."""
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    # a package named torch on the path, as py-spy then names the frame's file torch/cuda/gpu_wait.py
    env = {**os.environ, "TILELANG_RUNTIME_DIR": str(runtime), "PYTHONPATH": str(FIX / "standin")}
    with running([sys.executable, "-m", "torch.cuda.gpu_wait"], "waiting", env=env) as p:
        state_path = runtime / f"{p.pid}.json"

        def launches_counted(pending_age: float | None, from_look: int = 0):
            """A state writer for diagnose's on_sample: the launch count moves at each look; a launch made
            `pending_age` s before the write is pending from look `from_look` on."""
            def write(k: int, _n: int) -> None:
                now = time.time()
                pending = [] if pending_age is None or k < from_look else [
                    {"seq": 7, "kernel": "lcg_kernel", "factory": "lcg_kernel(outer=9)", "device": 0,
                     "stream": "0x0", "launched": now - pending_age}]
                state = {"schema": STATE_SCHEMA, "pid": p.pid, "start_ticks": procfs.sample(p.pid).start_ticks,
                         "written": now, "argv": [], "compiles": [], "distributed": None, "stall": None,
                         "launches": {"count": 6 + k, "pending": pending, "last_completed": [], "recent": []}}
                state_path.write_text(json.dumps(state))
            return write

        verdicts = {}
        for name, writer in (("busy", launches_counted(None)), ("held", launches_counted(120.0)),
                             ("young", launches_counted(0.0, from_look=1))):
            writer(0, 2)
            verdicts[name] = one(diagnose([p.pid], seconds=0.5, on_sample=writer, gpu=False), p.pid)
    busy, held, young = verdicts["busy"], verdicts["held"], verdicts["young"]
    assert busy.kind == held.kind == young.kind == "gpu", held.line()
    assert busy.progressing is True  # launches move and nothing has been pending: progress
    assert held.progressing is False and held.line().startswith(f"PID {held.label}: STUCK: waiting for the GPU")
    assert young.progressing is True  # a launch made during the window is work in flight
