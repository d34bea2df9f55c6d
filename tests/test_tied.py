"""Commands the kit runs through `tlkit.supervise.tied` (pip installs, venv and toolchain set-up, background
deletions) end when the kit process dies, however: real processes, a SIGKILLed parent."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

from tlkit.verify.venv import _abandoned

KIT = Path(__file__).resolve().parents[1]
BOUND = 120.0  # interpreter start-ups on a loaded machine; the test waits on a pipe, not on this

# The "kit": runs a tied command that says it is up on the pipe it inherits, then waits forever.
PARENT = """
import os, subprocess, sys
from tlkit.supervise import tied
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
        parent.wait()
        # EOF once every holder of the write end is gone: the supervisor and the sleeping command too
        ready, _, _ = select.select([read_fd], [], [], BOUND)
        assert ready and os.read(read_fd, 1) == b"", "the tied command outlived the killed kit"
    finally:
        os.close(read_fd)
        if parent.poll() is None:
            parent.kill()


def test_a_trash_folder_is_abandoned_only_when_its_deleter_is_gone(tmp_path):
    gone = subprocess.Popen(["true"])  # a PID that has just ended
    gone.wait()
    assert _abandoned(tmp_path / f".trash-venv-{gone.pid}-123")
    assert not _abandoned(tmp_path / f".trash-venv-{os.getpid()}-123")
    assert _abandoned(tmp_path / ".trash-venv-nopid")
