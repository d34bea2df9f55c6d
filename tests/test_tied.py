"""Commands the kit runs through `tlkit.base.procs.tied` (pip installs, venv and toolchain set-up, background
deletions) end when the kit process dies, however: real processes, a SIGKILLed parent."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tlkit.base import procs
from tlkit.verify.venv import _abandoned

KIT = Path(__file__).resolve().parents[1]
BOUND = 120.0  # interpreter start-ups on a loaded machine; the test waits on a pipe, not on this

# The "kit": runs a tied command that says it is up on the pipe it inherits, then waits forever.
PARENT = """
import os, subprocess, sys
from tlkit.base.procs import tied
fd = int(sys.argv[1])
subprocess.run(tied([sys.executable, "-c", "import os, sys, time; os.write(int(sys.argv[1]), b'up'); time.sleep(600)",
                     str(fd)]), pass_fds=[fd])
"""


def test_a_tied_command_ends_when_the_kit_is_killed():
    read_fd, write_fd = os.pipe()
    env = {**os.environ, "PYTHONPATH": str(KIT / "src")}
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(write_fd)], pass_fds=[write_fd], env=env)
    os.close(write_fd)  # from here on only the parent, its supervisor and the command hold the write end
    try:
        ready, _, _ = select.select([read_fd], [], [], BOUND)
        assert ready and os.read(read_fd, 2) == b"up"
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=BOUND)
        # EOF once every holder of the write end is gone: the supervisor and the sleeping command too
        ready, _, _ = select.select([read_fd], [], [], BOUND)
        assert ready and os.read(read_fd, 1) == b"", "the tied command outlived the killed kit"
    finally:
        os.close(read_fd)
        if parent.poll() is None:
            parent.kill()


def test_a_trash_folder_is_abandoned_only_when_its_deleter_is_gone(tmp_path):
    gone = subprocess.Popen(["true"])  # a PID that has just ended
    gone.wait(timeout=BOUND)
    assert _abandoned(tmp_path / f".trash-venv-{gone.pid}-123")
    assert not _abandoned(tmp_path / f".trash-venv-{os.getpid()}-123")
    assert _abandoned(tmp_path / ".trash-venv-nopid")


def test_a_tied_command_starts_with_default_signal_dispositions():
    """Issue 25 item 4: Python ignores SIGPIPE and SIGXFSZ, a background shell SIGINT; a command under the
    supervisor must see none of that (ninja would not stop on SIGINT, a pipe reader would not end)."""
    res = procs.run(["grep", "^SigIgn:", "/proc/self/status"], capture_output=True, text=True, timeout=BOUND,
                        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["SigIgn:", "0000000000000000"]


# The "kit" starts a tied command from a thread that then ends: the command must live on (the parent-death
# signal is bound to the thread that forked), and answer on its stdin after the thread is gone.
THREAD_PARENT = """
import os, subprocess, sys, threading
from tlkit.base.procs import tied
box = {}
def start():
    box["tid"] = threading.get_native_id()
    box["proc"] = subprocess.Popen(tied(["sh", "-c", "echo up; read line; echo still $line"]),
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert box["proc"].stdout.readline() == "up\\n"
t = threading.Thread(target=start)
t.start()
t.join()
import time
end = time.monotonic() + 60
while os.path.exists(f"/proc/self/task/{box['tid']}") and time.monotonic() < end:
    time.sleep(0.01)  # polling, bounded: the thread is gone from the process table, its exit signals were sent
assert not os.path.exists(f"/proc/self/task/{box['tid']}")
out, _ = box["proc"].communicate("here\\n", timeout=60)
print(out.strip(), box["proc"].returncode)
"""


def test_a_tied_command_outlives_the_thread_that_started_it_but_not_the_process():
    """Issue 25 item 5: the parent-death signal fires when the forking thread ends; the supervisor must
    tell that from the parent's death (it stays the parent: getppid) and keep the command running."""
    env = {**os.environ, "PYTHONPATH": str(KIT / "src")}
    res = subprocess.run([sys.executable, "-c", THREAD_PARENT], env=env, capture_output=True, text=True,
                         timeout=BOUND)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "still here 0"


# The "kit": build-wheel's SIGTERM handling (a stop raised as an exception) around procs.run of a command
# that says it is up, starts a child of its own and waits: subprocess.run used to SIGKILL the supervisor.
STOPPED_PARENT = """
import signal, sys
from tlkit.base import procs
from tlkit.cli import Terminated, _terminate
signal.signal(signal.SIGTERM, _terminate)
fd = int(sys.argv[1])
child = ("import os, subprocess, sys, time; fd = int(sys.argv[1]); "
         "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], pass_fds=[fd]); "
         "os.write(fd, b'up'); time.sleep(600)")
try:
    procs.run([sys.executable, "-c", child, str(fd)], pass_fds=[fd])
except Terminated:
    sys.exit(143)
"""


def test_sigterm_to_the_kit_during_a_tied_step_ends_the_command_and_its_children():
    """Issue 25 item 2: SIGTERM to the kit during a pip-like step: the command and the child it started end
    (the supervisor is stopped and waited for, not SIGKILLed after 0.25 s leaving its tree to init)."""
    read_fd, write_fd = os.pipe()
    env = {**os.environ, "PYTHONPATH": str(KIT / "src")}
    parent = subprocess.Popen([sys.executable, "-c", STOPPED_PARENT, str(write_fd)], pass_fds=[write_fd], env=env)
    os.close(write_fd)
    try:
        ready, _, _ = select.select([read_fd], [], [], BOUND)
        assert ready and os.read(read_fd, 2) == b"up"
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=BOUND) == 143
        # EOF once every holder of the write end is gone: the supervisor, the command and its child
        ready, _, _ = select.select([read_fd], [], [], BOUND)
        assert ready and os.read(read_fd, 1) == b"", "the tied command outlived the stopped kit"
    finally:
        os.close(read_fd)
        if parent.poll() is None:
            parent.kill()


# Commands the kit runs without a supervisor (`procs.run_alone`) or that run a whole tree (`procs.run`), each
# stood in for by fixtures/hold/hold, which says "up" on a FIFO and never answers: the kit is SIGKILLed while it
# waits, and the test's read end of the FIFO sees end-of-file once every holder (stand-in, its child) has died.
HOLD = KIT / "tests" / "fixtures" / "hold" / "hold"
ALONE_PARENT = """
import sys
from tlkit.base import procs
procs.run_alone(sys.argv[1:], timeout=600)
"""


def _fifo(tmp_path: Path) -> tuple[Path, int]:
    fifo = tmp_path / "hold.fifo"
    os.mkfifo(fifo)
    return fifo, os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # no end-of-file before a writer has come and gone


def _kill_once_up_then_expect_eof(read_fd: int, kit: subprocess.Popen, what: str) -> None:
    """`kit` was started in a session of its own, so that its whole group can be ended if the test fails."""
    try:
        ready, _, _ = select.select([read_fd], [], [], BOUND)
        assert ready and os.read(read_fd, 2) == b"up", f"{what} never started"
        kit.send_signal(signal.SIGKILL)
        kit.wait(timeout=BOUND)
        ready, _, _ = select.select([read_fd], [], [], BOUND)
        assert ready and os.read(read_fd, 1) == b"", f"{what} outlived the SIGKILLed kit"
    finally:
        os.close(read_fd)
        with contextlib.suppress(ProcessLookupError):  # a failed test leaves no stand-in behind either
            os.killpg(kit.pid, signal.SIGKILL)
        kit.wait(timeout=BOUND)


def test_a_command_run_alone_ends_when_the_kit_is_killed(tmp_path):
    fifo, read_fd = _fifo(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(KIT / "src"), "HOLD_FIFO": str(fifo)}
    kit = subprocess.Popen([sys.executable, "-c", ALONE_PARENT, str(HOLD)], env=env, start_new_session=True)
    _kill_once_up_then_expect_eof(read_fd, kit, "the command run alone")


def test_run_alone_says_a_missing_command_as_subprocess_does():
    with pytest.raises(FileNotFoundError) as raised:
        procs.run_alone(["/nonexistent/tool"], timeout=BOUND)
    assert raised.value.filename == "/nonexistent/tool"


@pytest.fixture(scope="module")
def interpreter_without_py_spy(tmp_path_factory) -> tuple[str, dict[str, str]]:
    """A venv of this Python with no py-spy beside it, so that diagnose takes the one on PATH; the kit and its
    dependencies from this test run's paths. Made once for the module's tests."""
    venv = tmp_path_factory.mktemp("no-py-spy") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=BOUND)
    path = os.pathsep.join([str(KIT / "src"), sysconfig.get_paths()["purelib"]])
    return str(venv / "bin" / "python"), {"PYTHONPATH": path}


@pytest.mark.parametrize("tool", ["py-spy", "nvidia-smi"])
def test_diagnose_killed_while_its_tool_runs_leaves_no_tool(tmp_path, tool, interpreter_without_py_spy):
    """Issue 25: py-spy's dump and nvidia-smi's query, run without a supervisor (diagnose may run as another
    user), end with a SIGKILLed diagnose. py-spy runs for a Python target, nvidia-smi after the sampling."""
    fifo, read_fd = _fifo(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / tool).symlink_to(HOLD)
    python, env = interpreter_without_py_spy
    env = {**os.environ, **env, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "HOLD_FIFO": str(fifo)}
    target_argv = [sys.executable, "-c", "import sys; sys.stdin.read()"] if tool == "py-spy" else ["cat"]
    target = subprocess.Popen(target_argv, stdin=subprocess.PIPE)
    try:
        kit = subprocess.Popen([python, "-m", "tlkit", "diagnose", str(target.pid), "--seconds", "0.1", "--no-gpu"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        _kill_once_up_then_expect_eof(read_fd, kit, tool)
    finally:
        target.kill()
        target.wait(timeout=BOUND)


def test_doctor_killed_while_its_probe_runs_leaves_neither_probe_nor_its_children(tmp_path):
    """Issue 25: the environment probe (and the nvcc or nvidia-smi it starts) ends with a SIGKILLed doctor."""
    fifo, read_fd = _fifo(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(KIT / "src"), "HOLD_FIFO": str(fifo), "HOLD_CHILD": "1"}
    kit = subprocess.Popen([sys.executable, "-m", "tlkit", "doctor", "--python", str(HOLD)], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    _kill_once_up_then_expect_eof(read_fd, kit, "the probe or its child")
