"""Settings and limits of the kit wheel, each exercised for real (tests/fixtures/hang/settings_probe.py), and
the apache-tvm-ffi check's escape hatch. Slow: needs the built wheel (`nox -s tests -- -m slow`)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
PROBE = Path(__file__).resolve().parent / "fixtures" / "hang" / "settings_probe.py"


@pytest.fixture(scope="module")
def probe(venv, cuda_env, tmp_path_factory) -> dict:
    env = {**cuda_env, "TILELANG_CACHE_DIR": str(tmp_path_factory.mktemp("kc"))}
    run = subprocess.run([str(venv), str(PROBE)], capture_output=True, text=True, env=env, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_deadline_precedence_keyword_then_pass_config_then_environment(probe):
    assert (probe["keyword_wins"], probe["pass_config_over_env"], probe["env_used"], probe["default"]) == (
        3.0, 5.0, 7.0, 600.0)
    assert probe["zero_disables"] == float("inf")


def test_invalid_deadline_and_progress_values_name_their_source(probe):
    assert probe["bad_keyword"]["error"] == "ValueError"
    assert probe["bad_keyword"]["message"].startswith("the compile_deadline argument must be")
    assert 'pass_configs["tl.compile_deadline_seconds"] must be' in probe["bad_pass_config"]["message"]
    assert "TILELANG_COMPILE_DEADLINE_SECONDS must be" in probe["bad_env"]["message"]
    assert "TILELANG_COMPILE_PROGRESS_SECONDS must be" in probe["bad_progress_env"]["message"]


def test_tilelang_compile_takes_the_deadline_keyword(probe):
    assert probe["compile_keyword"]["error"] == "CompileTimeoutError", probe["compile_keyword"]
    assert "deadline of 2 s" in probe["compile_keyword"]["message"]


def test_shared_memory_check_agrees_with_the_device_at_the_margin(probe):
    # 101,376 B, sm_120's per-block limit, compiles; one byte more fails (the 1,024 B nvcc reserves in every
    # kernel are outside that limit: measured at launch on the H200, docs/hang-diagnosis.md)
    assert "ok" in probe["smem_at_margin"], probe["smem_at_margin"]
    assert probe["smem_one_over"]["is_limit_error"], probe["smem_one_over"]
    assert "needs 101,377 B of shared memory per block (0 static + 101,377 dynamic)" in \
        probe["smem_one_over"]["message"]
    assert "ok" in probe["smem_check_off"]
    assert "must be 'error', 'warn' or 'off', got 'maybe'" in probe["smem_check_invalid"]["message"]


def test_launch_watchdog_settings(probe):
    assert probe["watchdog_default"] == "Settings(seconds=120.0, action='report', sample_ms=2.0, repeat_seconds=60.0)"
    assert probe["watchdog_env"] == "Settings(seconds=30.0, action='abort', sample_ms=2.0, repeat_seconds=60.0)"
    assert "TILELANG_LAUNCH_WATCHDOG_ACTION must be one of report, abort, got 'kill'" in \
        probe["watchdog_bad_action"]["message"]
    assert probe["watchdog_bad_seconds"]["message"].startswith("configure(seconds=...) must be a number >= 0")
    assert "seconds=0" in probe["watchdog_configure"]


def test_skip_tvm_ffi_version_check_lets_an_unsupported_version_import(venv, tmp_path):
    # a fake apache-tvm-ffi version (its metadata says 0.1.99) is refused, and accepted with the escape hatch
    site = tmp_path / "site"
    dist = site / "apache_tvm_ffi-0.1.99.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: apache-tvm-ffi\nVersion: 0.1.99\n")
    code = "import tilelang; print(tilelang.__version__)"
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}
    refused = subprocess.run([str(venv), "-c", code], capture_output=True, text=True, env=env)
    assert refused.returncode != 0 and "0.1.99" in refused.stderr, refused.stderr[-2000:]
    allowed = subprocess.run([str(venv), "-c", code], capture_output=True, text=True,
                             env={**env, "TILELANG_SKIP_TVM_FFI_VERSION_CHECK": "1"})
    assert allowed.returncode == 0 and allowed.stdout.startswith("0.1.14+tlkit"), allowed.stderr[-2000:]
