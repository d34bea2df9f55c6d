"""verify-aarch64: a missing wheel, variant or saved source set is one line before any download (default suite);
the emulated install, import and sm_121a compiles of the model's kernels, with their CUDA sources equal to the
x86_64 ones saved in tests/data, for the stock aarch64 wheel and the kit's own (slow suite; the kit's fails without
its wheel in dist/)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tlkit.wheel.pipeline import BuildInput, make_plan

KIT = Path(__file__).resolve().parents[1]
BOUND_S = 3600  # pip install of torch's aarch64 wheels plus the emulated steps; a bound, not a timing


def verify(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tlkit", "verify-aarch64", *args], capture_output=True, text=True,
                          timeout=BOUND_S, env=env)


def test_missing_kit_wheel_is_one_line_before_any_download(tmp_path):
    kit, env = _tmp_kit(tmp_path)
    cache = tmp_path / "cache"
    res = verify(env=env)
    label = make_plan(BuildInput(jobs=1)).label
    assert res.returncode == 2
    assert res.stderr.splitlines() == [
        f"tlkit: error: no aarch64 wheel tilelang-0.1.14+{label} (the current recipe and series) in {kit / 'dist'}: "
        "build it with `nox -s build-wheel -- --arch aarch64`, or check the stock wheel with "
        "`nox -s verify-aarch64 -- --pypi 0.1.14`"]
    assert not cache.exists() and not (kit / "build").exists()


def _tmp_kit(tmp_path: Path, verify_toml_edit=None) -> tuple[Path, dict[str, str]]:
    kit = tmp_path / "kit"
    for folder in ("recipes", "patches", "verify"):
        shutil.copytree(KIT / folder, kit / folder)
    if verify_toml_edit:
        toml = kit / "verify" / "verify.toml"
        toml.write_text(verify_toml_edit(toml.read_text()))
    return kit, {**os.environ, "TLKIT_ROOT": str(kit), "TLKIT_CACHE_DIR": str(tmp_path / "cache")}


def test_bad_only_or_variant_name_or_missing_sources_is_one_line_before_any_download(tmp_path):
    kit, env = _tmp_kit(tmp_path, lambda t: t.replace('"fp4_quant[N=128,', '"fp4_quant[N=129,'))
    wheel = tmp_path / "tilelang-0.1.14-cp39-abi3-manylinux_2_17_aarch64.whl"
    wheel.write_bytes(b"")
    res = verify("--wheel", str(wheel), env=env)
    assert res.returncode == 2
    assert res.stderr.splitlines() == [
        f"tlkit: error: {kit / 'verify' / 'verify.toml'}: aarch64_variants names "
        "'fp4_quant[N=129,block_size=32,inplace=True,scale_dtype=e8m0]', which "
        f"{kit / 'verify' / 'variants.toml'} does not have"]
    res = verify("--wheel", str(wheel), "--only", "gemm[", env=env)
    assert res.returncode == 2 and res.stderr.startswith("tlkit: error: --only 'gemm[': not a regular expression")
    res = verify("--wheel", str(wheel), "--only", "^fp8_gemm", env=env)  # the tmp kit has no tests/data
    assert res.returncode == 2
    assert res.stderr.splitlines() == [f"tlkit: error: {kit / 'tests/data/stock-sources/0.1.14/manifest.json'}: no "
                                       "such file; generate the saved sources first (see the README)"]
    assert not (tmp_path / "cache").exists() and not (kit / "build").exists()


def _check(res: subprocess.CompletedProcess, version: str) -> None:
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert f"  import tilelang {version}" in res.stdout
    compiled = [ln for ln in res.stdout.splitlines() if ln.startswith("  ") and " sm_121a: " in ln]
    kernels = {ln.split("[")[0].strip() for ln in compiled}
    assert kernels == {"act_quant", "fp4_quant", "fp8_gemm", "fp4_gemm", "sparse_attn", "hc_split_sinkhorn"}
    assert all(ln.endswith(("source identical", "source identical up to workspace names"))
               or ", not launchable (as x86_64): SharedMemoryLimitError: " in ln for ln in compiled), compiled
    assert len(compiled) == 7 and res.stdout.rstrip().splitlines()[-1].startswith("verify-aarch64: ok (7 of 7 as "
                                                                                   "x86_64: ")


@pytest.mark.slow
def test_stock_aarch64_wheel_installs_imports_and_compiles_under_emulation():
    """The stock PyPI aarch64 wheel: its sm_121a sources equal the stock x86_64 wheel's (tests/data)."""
    _check(verify("--pypi", "0.1.14"), "0.1.14")


@pytest.mark.slow
def test_kit_aarch64_wheel_installs_imports_and_compiles_under_emulation():
    """The kit's own aarch64 wheel from dist/ (`nox -s build-wheel -- --arch aarch64`); without it the command
    fails in one line, and so does this test."""
    _check(verify(), "0.1.14")
