"""conftest.Lines, which the slow hang tests wait on: on a real process's pipe."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import Lines, process_tree

TWO_AT_ONCE = "import sys; sys.stdout.write('one\\ntwo\\n'); sys.stdout.flush(); sys.stdin.read()"


def test_a_line_that_came_with_the_previous_one_is_found():
    """Both lines arrive in one write, so one buffered read takes both: the second must still be found
    (select on the pipe would wait for more input that never comes, the process sits on its stdin)."""
    with process_tree([sys.executable, "-c", TWO_AT_ONCE], stdin=subprocess.PIPE, stdout=subprocess.PIPE) as p:
        lines = Lines(p.stdout)
        assert lines.until("one", 120) == ["one\n"]
        assert lines.until("two", 120) == ["two\n"]


def test_a_stream_that_ends_first_fails_with_what_came():
    with process_tree([sys.executable, "-c", "print('only line')"], stdout=subprocess.PIPE) as p:
        lines = Lines(p.stdout)
        with pytest.raises(AssertionError, match="'never' never came; got:\nonly line"):
            lines.until("never", 120)
        with pytest.raises(AssertionError, match="'again' never came"):  # ended stays ended
            lines.until("again", 120)
