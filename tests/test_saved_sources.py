"""Saved CUDA sources (src/tlkit/verify/saved_sources.py): save a run's sources, check a later run against
them, and never leave a half-written set behind."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tlkit.base.errors import KitError
from tlkit.base.paths import folder_name
from tlkit.verify.assess import Verdict
from tlkit.verify.saved_sources import (
    IDENTICAL,
    MANIFEST,
    SAME_VERDICT,
    UP_TO_WORKSPACES,
    compare_sources,
    matches_table,
    save_sources,
)

KIT = Path(__file__).resolve().parents[1]
SOURCE = "extern \"C\" __global__ void k(float* workspace, float* workspace_1) {\n  workspace[0] = workspace_1[0];\n}\n"


def run_with(runs: Path, sources: dict[tuple[str, str], str | None], status: str = "ok") -> list[Verdict]:
    """Verdicts as a verify run reports them, with each source written where the worker writes it."""
    verdicts = []
    for (variant, target), text in sources.items():
        v = Verdict("k", variant, (1,), target, status if text is None else "ok", 1.0)
        if text is not None:
            folder = runs / folder_name(variant)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{target}.cu").write_text(text)
            v.source_sha256 = hashlib.sha256(text.encode()).hexdigest()
        verdicts.append(v)
    return verdicts


def test_saved_then_compared_identical_with_one_file_per_distinct_source(tmp_path):
    stock = run_with(tmp_path / "stock", {("k[N=1]", "sm_120"): SOURCE, ("k[N=1]", "sm_120a"): SOURCE,
                                          ("k[N=2]", "sm_120"): None}, status="not launchable")
    saved = tmp_path / "saved"
    assert save_sources(saved, tmp_path / "stock", stock, "tilelang 0.1.14", "python -m tlkit ...") == 1
    manifest = json.loads((saved / MANIFEST).read_text())
    assert manifest["wheel"] == "tilelang 0.1.14" and manifest["generated_by"] == "python -m tlkit ..."
    assert manifest["entries"]["k[N=1] | sm_120a"]["file"] == "k_N=1/sm_120.cu"
    assert manifest["entries"]["k[N=2] | sm_120"] == {"status": "not launchable"}
    assert sorted(p.name for p in saved.rglob("*.cu")) == ["sm_120.cu"]

    kit = run_with(tmp_path / "kit", {("k[N=1]", "sm_120"): SOURCE, ("k[N=1]", "sm_120a"): SOURCE,
                                      ("k[N=2]", "sm_120"): None}, status="not launchable")
    matches = compare_sources(saved, tmp_path / "kit", kit)
    assert [m.outcome for m in matches] == [IDENTICAL, IDENTICAL, SAME_VERDICT]
    assert all(m.ok for m in matches)
    assert "summary: 2 identical, 1 same verdict, no source here" in matches_table("saved", matches)


def test_workspace_numbering_alone_is_not_a_difference_but_code_is(tmp_path):
    saved = tmp_path / "saved"
    save_sources(saved, tmp_path / "stock", run_with(tmp_path / "stock", {("k", "sm_120"): SOURCE,
                                                                          ("j", "sm_120"): SOURCE}), "stock", "cmd")
    swapped = SOURCE.replace("workspace_1", "TMP").replace("workspace", "workspace_1").replace("TMP", "workspace")
    changed = SOURCE.replace("= workspace_1[0]", "= 2.0f * workspace_1[0]")
    kit = run_with(tmp_path / "kit", {("k", "sm_120"): swapped, ("j", "sm_120"): changed})
    k, j = compare_sources(saved, tmp_path / "kit", kit)
    assert k.outcome == UP_TO_WORKSPACES and k.ok
    assert j.outcome == "DIFFERENT" and not j.ok
    assert "first difference at line 2" in j.detail and "2.0f" in j.detail


def test_a_variant_the_saved_set_lacks_or_a_lost_compile_is_a_failure(tmp_path):
    saved = tmp_path / "saved"
    save_sources(saved, tmp_path / "stock", run_with(tmp_path / "stock", {("k", "sm_120"): SOURCE}), "stock", "c")
    kit = run_with(tmp_path / "kit", {("k", "sm_120"): None, ("new", "sm_120"): SOURCE}, status="compile error")
    lost, new = compare_sources(saved, tmp_path / "kit", kit)
    assert (lost.outcome, lost.detail) == ("DIFFERENT", "saved: ok, now: compile error")
    assert new.outcome == "MISSING" and str(saved / MANIFEST) in new.detail


def test_a_failed_save_leaves_the_old_set_whole_and_no_staging(tmp_path):
    saved = tmp_path / "saved"
    save_sources(saved, tmp_path / "stock", run_with(tmp_path / "stock", {("k", "sm_120"): SOURCE}), "stock", "c")
    before = {p.relative_to(saved): p.read_bytes() for p in saved.rglob("*") if p.is_file()}
    broken = run_with(tmp_path / "again", {("k", "sm_120"): SOURCE})
    (tmp_path / "again" / "k" / "sm_120.cu").unlink()
    with pytest.raises(KitError, match=r"k sm_120: compiled, but its source .*sm_120.cu is missing"):
        save_sources(saved, tmp_path / "again", broken, "stock", "c")
    assert {p.relative_to(saved): p.read_bytes() for p in saved.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again", "saved", "stock"]


def test_missing_or_broken_manifest_is_named(tmp_path):
    with pytest.raises(KitError, match=r"manifest.json: no such file"):
        compare_sources(tmp_path, tmp_path, [])
    (tmp_path / MANIFEST).write_text("{")
    with pytest.raises(KitError, match=r"manifest.json: not valid JSON"):
        compare_sources(tmp_path, tmp_path, [])


def test_the_saved_stock_sources_cover_every_variant_and_target():
    """The test data in the repo was generated by `nox -s stock-sources` from the stock wheel, for the whole
    variant table; every file the manifest names is there and has the recorded sha256."""
    from tlkit.verify.variants import load_variants

    saved = KIT / "tests" / "data" / "stock-sources" / "0.1.14"
    manifest = json.loads((saved / MANIFEST).read_text())
    assert manifest["wheel"].startswith("tilelang 0.1.14") and "--pypi 0.1.14" in manifest["generated_by"]
    from tlkit.verify.config import load_config

    names = {v.name for v in load_variants(KIT / "verify" / "variants.toml", None)}
    targets = load_config(KIT / "verify" / "verify.toml").targets
    assert set(targets) == {"sm_120", "sm_120a", "sm_121", "sm_121a"}
    assert set(manifest["entries"]) == {f"{name} | {target}" for name in names for target in targets}
    for entry in manifest["entries"].values():
        if "file" in entry:
            assert hashlib.sha256((saved / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]


def test_verify_refuses_a_missing_source_set_before_it_runs_anything(tmp_path):
    """`verify-sm120 --expect-sources DIR` names the missing manifest at once (no venv, no toolchain)."""
    res = subprocess.run([sys.executable, "-m", "tlkit", "verify-sm120", "--pypi", "0.1.14", "--expect-sources",
                          str(tmp_path / "none")], capture_output=True, text=True, cwd=KIT, timeout=60)
    assert res.returncode != 0
    assert f"{tmp_path / 'none' / MANIFEST}: no such file" in res.stderr
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize("run, launched", [("h200-verify-gpu-sm120-source-stock.json", 29),
                                           ("h200-p6d1b16e2-verify-gpu-sm120-source.json", 30)])
def test_the_sm120a_sources_run_on_the_gpu_are_the_ones_verify_sm120_saved(run, launched):
    """Issue 17: the H200 runs of `verify-gpu --sm120-source` (the stock wheel's 29 model variants; the kit wheel's
    32 variants, of which 30 fit sm_120) carried, for every variant with a source, byte for byte the source
    verify-sm120 saves for sm_120 from the stock wheel (docs/device-runs)."""
    from tlkit.verify.saved_sources import gpu_sources_match

    results = json.loads((KIT / "docs" / "device-runs" / run).read_text())["results"]
    ran = [r for r in results if r.get("source_sha256")]  # the kit wheel generates no source over sm_120's limit
    found = gpu_sources_match(ran, KIT / "tests" / "data" / "stock-sources" / "0.1.14")
    assert len(found) == launched and set(found.values()) == {"identical"}, found
