"""diagnose on real processes in known states: each is named correctly (no GPU, no TileLang wheel)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from conftest import process_tree

from tlkit.diagnose.command import diagnose

FIX = Path(__file__).parent / "fixtures" / "diagnose"


@contextlib.contextmanager
def running(argv: list[str], ready: str | None, **kwargs) -> Iterator[subprocess.Popen]:
    """`argv` as a process tree (conftest.process_tree) that, unless `ready` is None, has printed a line
    starting with `ready`."""
    with process_tree(argv, stdout=subprocess.PIPE, **kwargs) as proc:
        if ready is not None:
            line = proc.stdout.readline()
            assert line.startswith(ready), f"{argv}: expected {ready!r}, got {line!r}"
        yield proc


def one(verdicts, pid):
    return next(v for v in verdicts if v.pid == pid)


def test_a_python_spin_is_named_with_its_frame():
    with running([sys.executable, str(FIX / "spin.py")], "spinning") as p:
        v = one(diagnose([p.pid], seconds=1.5), p.pid)
    assert v.kind == "spinning", v.line()
    assert "spin_forever (spin.py:" in v.summary
    assert v.progressing is False
    assert "main thread: spin_forever" in "\n".join(v.evidence)


def test_a_rank_blocked_in_a_gloo_all_reduce_names_the_collective(tmp_path):
    store = tmp_path / "store"
    argv = [sys.executable, str(FIX / "gloo_rank.py")]
    # rank 1 cannot print before rank 0 has joined the group: start it, then rank 0, then read both
    with running(argv + ["1", "2", str(store)], None, stdin=subprocess.PIPE) as r1, \
            running(argv + ["0", "2", str(store)], "in all_reduce") as r0:
        assert r1.stdout.readline().startswith("joined")
        verdicts = diagnose([r0.pid, r1.pid], seconds=1.5)
    v0, v1 = one(verdicts, r0.pid), one(verdicts, r1.pid)
    assert v0.kind == "collective", v0.line() + "\n" + "\n".join(v0.evidence)
    assert v0.details["operation"] == "all_reduce"
    assert v0.details["backend"] == "gloo"
    assert v0.progressing is False
    assert v1.kind == "io", v1.line()  # the rank that never joined waits on its input


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
                proc.wait()

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
    bad = subprocess.run([sys.executable, "-m", "tlkit", "diagnose", "abc"], capture_output=True, text=True)
    assert bad.returncode == 2
    assert "'abc' is not a PID" in bad.stderr
    assert "Traceback" not in bad.stderr
