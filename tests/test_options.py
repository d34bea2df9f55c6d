"""The one option idiom (issue 26): what the caller said (an input object; the command line's, built by cli.py),
resolved once, with one precedence: the command line, then the environment, then the recipe's or a table's
default. Checked on real cases: the remote compile cache and the kit's paths of a build, and verify's bounds,
whose defaults come from the tables of the kit the environment names."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tlkit.base.errors import KitError
from tlkit.verify.options import SUBJECTS_OWN, GpuInput, Sm120Input, resolve_gpu, resolve_sm120
from tlkit.wheel.pipeline import BuildInput, make_plan

KIT = Path(__file__).resolve().parents[1]


def test_a_builds_remote_cache_is_the_command_lines_then_the_environments_then_none():
    env = {"TLKIT_ROOT": str(KIT), "TLKIT_CACHE_REMOTE": "file:/from/the/environment"}
    assert make_plan(BuildInput(jobs=1, cache_remote="file:/from/the/line"), env).cache_remote == "file:/from/the/line"
    assert make_plan(BuildInput(jobs=1), env).cache_remote == "file:/from/the/environment"
    assert make_plan(BuildInput(jobs=1), {"TLKIT_ROOT": str(KIT)}).cache_remote is None
    # '' on the command line is none, and the environment's value is then not even read (nor checked)
    bad = {**env, "TLKIT_CACHE_REMOTE": "ftp://not.a/remote"}
    assert make_plan(BuildInput(jobs=1, cache_remote=""), bad).cache_remote is None


def test_a_builds_kit_and_cache_are_the_callers_then_the_environments(tmp_path):
    env = {"TLKIT_ROOT": str(tmp_path / "no-kit-here"), "TLKIT_CACHE_DIR": str(tmp_path / "env-cache")}
    plan = make_plan(BuildInput(jobs=1, kit=KIT, cache=tmp_path / "own-cache"), env)
    assert (plan.kit, plan.cache) == (KIT, tmp_path / "own-cache")
    plan = make_plan(BuildInput(jobs=1), {**env, "TLKIT_ROOT": str(KIT)})
    assert (plan.kit, plan.cache) == (KIT, tmp_path / "env-cache")
    assert (plan.dist, plan.work.parent) == (KIT / "dist", KIT / "build")  # the kit's defaults


@pytest.mark.parametrize(("line", "error"), [
    ([], "TLKIT_CACHE_REMOTE='ftp://not.a/remote': the remote compile cache must be a file:, http: or redis: URL"),
    (["--cache-remote", ""], "--jobs must be at least 1, got 0"),
    (["--cache-remote", "http://cache.example/c"], "--jobs must be at least 1, got 0"),
])
def test_build_wheels_command_line_wins_over_the_environment_before_any_work(tmp_path, line, error):
    """A bad $TLKIT_CACHE_REMOTE is the first error, unless the command line names the remote; then the next
    check (--jobs 0 here) is. Nothing is made either way."""
    env = {**os.environ, "TLKIT_ROOT": str(KIT), "TLKIT_CACHE_DIR": str(tmp_path / "cache"),
           "TLKIT_CACHE_REMOTE": "ftp://not.a/remote"}
    res = subprocess.run([sys.executable, "-m", "tlkit", "build-wheel", "--jobs", "0", "--dist", str(tmp_path / "dist"),
                          "--work-dir", str(tmp_path / "build"), *line], env=env, capture_output=True, text=True,
                         timeout=120)
    assert (res.returncode, res.stderr.splitlines()) == (2, [f"tlkit: error: {error}"])
    assert not any((tmp_path / d).exists() for d in ("dist", "build", "cache"))


@pytest.fixture
def other_kit(tmp_path) -> Path:
    """A copy of the kit's tables whose bounds are not the shipped ones."""
    kit = tmp_path / "kit"
    for folder in ("recipes", "verify"):
        shutil.copytree(KIT / folder, kit / folder)
    table = kit / "verify" / "verify.toml"
    table.write_text(table.read_text().replace("bound_seconds = 300", "bound_seconds = 123", 1))
    table = kit / "verify" / "gpu.toml"
    table.write_text(table.read_text().replace("launch_seconds = 30 ", "launch_seconds = 45 ", 1))
    return kit


def test_a_verify_bound_is_the_command_lines_else_the_table_of_the_kit_the_environment_names(other_kit, tmp_path):
    env = {"TLKIT_ROOT": str(other_kit), "TLKIT_CACHE_DIR": str(tmp_path / "cache")}
    opts = resolve_sm120(Sm120Input(pypi="0.1.14"), env)
    assert (opts.common.layout.root, opts.common.cache, opts.common.bound) == (other_kit, tmp_path / "cache", 123.0)
    assert resolve_sm120(Sm120Input(pypi="0.1.14", bound=7.5), env).common.bound == 7.5
    assert resolve_sm120(Sm120Input(pypi="0.1.14"), {"TLKIT_ROOT": str(KIT)}).common.bound == 300.0
    gpu = resolve_gpu(GpuInput(pypi="0.1.14"), env)
    assert (gpu.common.bound, gpu.launch_bound, gpu.target) == (300.0, 45.0, "auto")
    gpu = resolve_gpu(GpuInput(pypi="0.1.14", bound=20.0, launch_bound=2.0, target="cuda"), env)
    assert (gpu.common.bound, gpu.launch_bound, gpu.target) == (20.0, 2.0, "cuda")
    assert not (tmp_path / "cache").exists(), "resolving makes nothing"


def test_compare_is_the_subjects_own_version_unless_it_names_one(tmp_path):
    """--compare: the stock wheel of the subject's version; --compare 0.1.14: that release's, with its pins from
    verify.toml, whatever the subject is (0.1.15 against 0.1.14, issue 28)."""
    env = {"TLKIT_ROOT": str(KIT), "TLKIT_CACHE_DIR": str(tmp_path / "cache")}
    assert resolve_sm120(Sm120Input(pypi="0.1.15"), env).common.compare is None
    same = resolve_sm120(Sm120Input(pypi="0.1.15", compare=SUBJECTS_OWN), env).common.compare
    assert same is not None and same.base_version == "0.1.15" and "tilelang==0.1.15" in same.requirements
    older = resolve_sm120(Sm120Input(pypi="0.1.15", compare="0.1.14"), env).common.compare
    assert older is not None and older.base_version == "0.1.14"
    assert {"tilelang==0.1.14", "apache-tvm-ffi==0.1.12", "z3-solver==4.15.4.0"} <= set(older.requirements)
    gpu = resolve_gpu(GpuInput(pypi="0.1.15", compare="0.1.14"), env).common.compare
    assert gpu is not None and gpu.base_version == "0.1.14"
    assert not (tmp_path / "cache").exists(), "resolving makes nothing"


def test_a_compare_that_cannot_run_is_one_line_before_any_venv(tmp_path):
    env = {**os.environ, "TLKIT_ROOT": str(KIT), "TLKIT_CACHE_DIR": str(tmp_path / "cache")}
    res = subprocess.run([sys.executable, "-m", "tlkit", "verify-sm120", "--pypi", "0.1.15", "--compare", "0.1.9",
                          "--reports", str(tmp_path / "reports")], env=env, capture_output=True, text=True, timeout=120)
    assert (res.returncode, res.stderr.splitlines()) == (2, [
        "tlkit: error: --compare 0.1.9: no known-good runtime pins for stock tilelang 0.1.9 in verify/verify.toml "
        "[stock_pins]; known: 0.1.8, 0.1.10, 0.1.14, 0.1.15"])
    assert not (tmp_path / "cache").exists() and not (tmp_path / "reports").exists()
    for given, error in [(Sm120Input(pypi="0.1.15", compare="banana"), "--compare banana: not a TileLang release "
                                                                        "(e.g. 0.1.14)"),
                         (Sm120Input(pypi="0.1.15", compare=""), "--compare '': not a TileLang release (e.g. 0.1.14)"),
                         (Sm120Input(pypi="0.1.15", compare="0.1.15"), "--compare 0.1.15: the subject is that release "
                                                                        "already (--pypi 0.1.15)")]:
        with pytest.raises(KitError) as info:
            resolve_sm120(given, env)
        assert str(info.value) == error
    with pytest.raises(KitError, match=r"^--compare and --compare-site name the other side twice: give one$"):
        resolve_gpu(GpuInput(sites=(tmp_path,), compare_sites=(tmp_path,), compare=SUBJECTS_OWN), env)
    # verify-gpu resolves its options only where a GPU is found; the same resolution, called here
    with pytest.raises(KitError, match=r"^--compare with --site: name the stock version \(--compare VERSION\) or "
                                       r"give --compare-site$"):
        resolve_gpu(GpuInput(sites=(tmp_path,), compare=SUBJECTS_OWN), env)
