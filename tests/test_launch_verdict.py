"""The launch watchdog's attribution (patch 0015's tilelang/jit/launch_verdict.py, taken from the real patch with
git apply) on recorded event states: a kernel is stuck only if it started and has not finished; work that is not
TileLang's is named when the events leave nothing else; otherwise every possibility is a candidate."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

KIT = Path(__file__).resolve().parents[1]
PATCH = next((KIT / "patches" / "0.1.14").glob("tilelang/0015-*.patch"))
MODULE = "tilelang/jit/launch_verdict.py"


@pytest.fixture(scope="module")
def lv(tmp_path_factory):
    """The module as the patch adds it (a new file: git apply needs no preimage)."""
    tree = tmp_path_factory.mktemp("tree")
    subprocess.run(["git", "init", "-q", str(tree)], check=True)
    subprocess.run(["git", "apply", f"--include={MODULE}", str(PATCH)], cwd=tree, check=True)
    spec = importlib.util.spec_from_file_location("launch_verdict", tree / MODULE)
    module = importlib.util.module_from_spec(spec)
    sys.modules["launch_verdict"] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def seen(lv, *pairs):
    return [lv.Seen(seq, state) for seq, state in pairs]


def test_foreign_work_between_a_complete_and_a_not_started_launch_blames_no_tilelang_kernel(lv):
    # SAMPLE_MS=0: #12's after-event fired, #13's before-event did not: the stall is between them
    a = lv.attribute(11, seen(lv, (12, lv.COMPLETE), (13, lv.NOT_STARTED), (14, lv.NOT_STARTED)), False, 0)
    assert (a.stuck, a.candidates, a.foreign, a.complete, a.not_started) == (None, (), True, 12, 13)
    assert "not TileLang's" in a.verdict and "between TileLang launch #12 (complete) and #13 (not started)" in a.verdict
    assert a.oldest == 13


def test_a_launch_that_started_and_did_not_finish_is_the_one_stuck(lv):
    a = lv.attribute(11, seen(lv, (12, lv.UNSAMPLED), (13, lv.STARTED), (14, lv.NOT_STARTED), (15, lv.UNSAMPLED)),
                     False, 2)
    # #13's before-event fired, so #12 (unsampled) is complete too, and nothing foreign is running
    assert (a.stuck, a.candidates, a.foreign, a.complete, a.not_started) == (13, (), False, 12, 14)
    assert a.verdict.startswith("TileLang kernel #13 started and has not finished")


def test_unsampled_launches_before_a_not_started_one_are_candidates_with_foreign_work_none_stuck(lv):
    # the default sampling: #12 has no events; the stall is #12 or foreign work before #13
    a = lv.attribute(11, seen(lv, (12, lv.UNSAMPLED), (13, lv.NOT_STARTED), (14, lv.UNSAMPLED)), False, 2)
    assert (a.stuck, a.candidates, a.foreign, a.not_started) == (None, (12,), True, 13)
    assert "not told apart" in a.verdict and "within 2 ms" in a.verdict and "--gpu" in a.verdict


def test_an_unsampled_tail_on_a_busy_stream_is_all_candidates(lv):
    a = lv.attribute(11, seen(lv, (12, lv.UNSAMPLED), (13, lv.UNSAMPLED)), False, 2)
    assert (a.stuck, a.candidates, a.foreign, a.complete, a.not_started) == (None, (12, 13), True, 11, None)
    assert "after them" in a.verdict
    assert a.oldest == 12


def test_a_later_fired_event_proves_the_earlier_launches_complete(lv):
    # stream order: #14's after-event fired, so #12 and #13 (whatever their own events said) completed
    a = lv.attribute(11, seen(lv, (12, lv.NOT_STARTED), (13, lv.UNSAMPLED), (14, lv.COMPLETE), (15, lv.STARTED)),
                     False, 2)
    assert (a.stuck, a.complete) == (15, 14)


def test_nothing_pending_when_the_stream_drained(lv):
    a = lv.attribute(11, seen(lv, (12, lv.UNSAMPLED)), True, 2)
    assert (a.stuck, a.candidates, a.foreign, a.oldest) == (None, (), False, None)


def test_no_launch_known_complete_yet_is_said_so(lv):
    a = lv.attribute(None, seen(lv, (1, lv.UNSAMPLED)), False, 2)
    assert a.candidates == (1,) and "no TileLang launch is known complete" in a.verdict


def test_an_unknown_state_is_an_error_naming_the_launch(lv):
    with pytest.raises(ValueError, match=r"launch #7: unknown state 'running'"):
        lv.attribute(None, seen(lv, (7, "running")), False, 2)
