"""The kit wheel's runtime files (patches 0014, 0015) on a shared machine: secrets kept out of the state file, no folder
or link planted in /tmp followed, reports bounded, a forked child's monitor state its own (issue 25, items 7-11).
Slow: needs the built wheel; no GPU (the wheel's own modules, called as the monitor calls them)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
PROBE = Path(__file__).resolve().parent / "fixtures" / "hang" / "runtime_probe.py"
SECRET_ARGS = ["--cache-remote", "http://user:se/cret@host/x", "--password", "hunter2", "token=abc", "plain"]


@pytest.fixture(scope="module")
def found(venv, cuda_env) -> dict:
    run = subprocess.run([str(venv), str(PROBE), *SECRET_ARGS], capture_output=True, text=True, env=cuda_env,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_the_state_file_keeps_no_secret_of_argv(found):
    assert found["argv"][1:] == ["--cache-remote", "http://<redacted>@host/x", "--password", "<redacted>",
                                 "token=<redacted>", "plain"]


def test_the_state_file_is_written_once_while_nothing_changes(found):
    assert found["writes_for_three_unchanged_ticks"] == 1


def test_runtime_folders_planted_by_others_are_refused_and_ours_closed(found):
    assert found["folder_mode"] == "0o700"
    assert "is not a folder (a symbolic link or a file)" in found["symlink"]
    assert "belongs to uid 65534, not to this user" in found["other_user"]
    assert found["loose_mode_after"] == "0o700"


def test_a_report_is_never_written_through_a_link(found):
    assert found["through_link"] is None  # refused (O_NOFOLLOW), said on stderr
    assert found["victim_after"] == "keep\n"


def test_a_report_file_stops_growing_at_its_cap(found):
    assert "reached 1 MiB; this report went to stderr only" in found["capped"]
    assert found["capped_size"] == 1 << 20


def test_old_reports_of_processes_that_are_gone_are_removed_recent_ones_kept(found):
    assert found["first_write"].startswith("tilelang launch watchdog: report written to ")
    assert found["old_dead_removed"] is True
    assert found["fresh_kept"] is True


def test_a_child_forked_while_the_monitor_lock_is_held_gets_its_own(found):
    assert found["child_after_fork"] == 0


def test_the_state_files_temporary_is_never_written_through_a_planted_link(found):
    """Item 8: the writer used `.<pid>.json.tmp`, opened with O_TRUNC and following links; now a fresh name."""
    assert found["tmp_victim_after"] == "keep\n"
    assert found["state_after_planted_tmp"] == {"link": False, "changed": 1}


def test_a_stall_reported_three_times_is_one_full_report_then_a_line_each(found):
    """Item 9: the full report (every thread's stack) once, then one short line per repeat."""
    report = found["report"]
    assert report["stacks"] == 1 and report["headers"] == 1, report
    assert len(report["repeats"]) == 2, report
    assert "(report 2)" in report["repeats"][0] and "(report 3)" in report["repeats"][1], report


def test_a_reported_launchs_string_arguments_are_redacted(found):
    """Item 7: the report shows a launch's arguments; a URL's credentials and a token= value are not shown."""
    assert found["report"]["secret"] is False and found["report"]["redacted"] is True


def test_abort_flushes_what_the_process_printed_and_exits_124(found):
    """Item 11: `os._exit(124)` skipped flushing: a line printed to a pipe before the abort was lost."""
    aborted = found["abort"]
    assert aborted["code"] == 124 and aborted["stdout"] == "printed before the abort\n", aborted
    assert len(aborted["said"]) == 1 and "stdout and stderr flushed" in aborted["said"][0], aborted
