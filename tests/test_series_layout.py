"""The recipe's real series on the pinned TileLang sdist (fetched into the kit's cache as patches-check does): split
by upstream, and exactly what patches-export writes. (That the split changed no file of the patched source was
checked once, at the split: the 13- and 17-patch series gave the same git tree, e18e49e6.)

The series apply to a baseline of only the files they touch, taken from the sdist: every other file is the sdist's
in every tree compared, so equal trees here are equal trees of the whole source, in seconds instead of minutes."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import pytest
from conftest import KIT, git

from tlkit.base.paths import cache_root
from tlkit.wheel.patchexport import export_series
from tlkit.wheel.recipe import load_recipe
from tlkit.wheel.series import Series, load_series
from tlkit.wheel.sources import FetchedSource, fetch_source
from tlkit.wheel.tree import apply_series, init_baseline

RECIPE = KIT / "recipes" / "tilelang-0.1.14.toml"


@pytest.fixture(scope="module")
def sdist() -> FetchedSource:
    return fetch_source(load_recipe(RECIPE).source, cache_root(), log=lambda *_: None)


def series_of(kit: Path) -> Series:
    recipe = load_recipe(kit / "recipes" / RECIPE.name)
    return load_series(kit / "patches", recipe.patch_dir, recipe.series, recipe.upstreams)


def touched_only(sdist: FetchedSource, files: set[str], dest: Path) -> FetchedSource:
    """A source tree of those of `files` that the sdist has (the others are created by a patch)."""
    with tarfile.open(sdist.archive) as tar:
        for member in tar:
            rel = member.name.split("/", 1)[-1]
            if rel in files and member.isfile():
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                (dest / rel).write_bytes(tar.extractfile(member).read())
    return FetchedSource(sdist.digest, tree=dest)


def patched_tree(base: FetchedSource, series: Series, tree: Path) -> tuple[str, Path]:
    """(tree hash, tree) of `series` applied, one commit per patch, on `base` in the new git tree `tree`."""
    epoch = load_recipe(RECIPE).source_date_epoch
    init_baseline(tree, base, epoch)
    apply_series(tree, series, epoch)
    return git(tree, "rev-parse", "HEAD^{tree}"), tree


def test_each_patch_sits_in_the_folder_of_the_upstream_whose_files_it_changes():
    series = series_of(KIT)
    for patch in series.patches:
        in_tvm = {f.startswith("3rdparty/tvm/") for f in patch.files()}
        assert in_tvm == {patch.upstream == "tvm"}, patch.name
    assert [p.name.split("/")[1][:4] for p in series.patches] == [f"{n:04d}" for n in range(1, len(series.patches) + 1)]


def test_the_series_is_what_patches_export_writes_from_its_tree(sdist, tmp_path):
    """Applied and exported again, the series and the recipe come back byte for byte: no hand edit, stale name or
    wrong folder in patches/."""
    now = series_of(KIT)
    base = touched_only(sdist, {f for p in now.patches for f in p.files()}, tmp_path / "touched")
    _, tree = patched_tree(base, now, tmp_path / "tree")
    kit = tmp_path / "kit"
    shutil.copytree(KIT / "recipes", kit / "recipes")
    (kit / "patches").mkdir()
    export_series(tree, kit / "recipes" / RECIPE.name, kit / "patches", log=lambda *_: None)
    assert (kit / "recipes" / RECIPE.name).read_bytes() == RECIPE.read_bytes()
    written = {p.relative_to(kit / "patches").as_posix(): p.read_bytes() for p in (kit / "patches").rglob("*")
               if p.is_file()}
    committed = {p.relative_to(KIT / "patches").as_posix(): p.read_bytes() for p in (KIT / "patches").rglob("*")
                 if p.is_file() and p.relative_to(KIT / "patches").parts[0] == "0.1.14"}
    assert written == committed
