"""patches-export on real git trees: the fixture's series prepared, its commits split by upstream with git, written
back as the series (one folder per upstream) and the recipe's list; a refusal leaves series and recipe as they were."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EPOCH, TINY, git, make_sdist, write_recipe

from tlkit.base.errors import PatchError
from tlkit.wheel.patchexport import export_series
from tlkit.wheel.recipe import load_recipe
from tlkit.wheel.series import load_series
from tlkit.wheel.sources import FetchedSource
from tlkit.wheel.tree import git as tree_git
from tlkit.wheel.tree import prepare_tree, scratch_tree

# The fixture's C code (src/) goes to one upstream, the rest of the project to another.
UPSTREAMS = 'upstreams = { tinyext = ".", native = "src" }\n'
HEADER = "What: {what}\nWhy: {why}\nUpstream-Issue: none (test fixture)\nUpstream-Status: not applicable\n"


@pytest.fixture
def made(kit, tmp_path) -> tuple[Path, Path, FetchedSource]:
    """(the recipe, the prepared tree, the source): the fixture's flat series applied in a real git tree."""
    archive, sha = make_sdist(TINY, tmp_path / "sdist")
    fetched = FetchedSource(f"sha256:{sha}", archive=archive)
    names = sorted(p.name for p in (kit / "patches" / "tinyext").glob("*.patch"))
    recipe = write_recipe(kit, "tiny", sha, names)
    series = load_series(kit / "patches", "tinyext", names)
    tree = tmp_path / "work" / "src"
    prepare_tree(tree, fetched, series, EPOCH, log=lambda *_: None)
    return recipe, tree, fetched


def snapshot(kit: Path, recipe: Path) -> dict[str, bytes]:
    """Every file under patches/ (hidden ones included) and the recipe, by path."""
    files = {p.relative_to(kit).as_posix(): p.read_bytes() for p in (kit / "patches").rglob("*") if p.is_file()}
    return {**files, "recipe": recipe.read_bytes()}


def with_upstreams(recipe: Path) -> None:
    text = recipe.read_text()
    recipe.write_text(text.replace('dir = "tinyext"\n', f'dir = "tinyext"\n{UPSTREAMS}'))


def commit(tree: Path, message: str, *files: str) -> None:
    git(tree, "add", *files)
    git(tree, "commit", "-q", "-m", message)


def split_second_commit(tree: Path) -> None:
    """The fixture's 0002 changes src/ and tinyext/: made into one commit per upstream, as a developer would."""
    git(tree, "reset", "-q", "HEAD~1")
    commit(tree, "tiny: greet from the series (C part)\n\n" + HEADER.format(what="greeting() names the series.",
                                                                          why="one upstream per commit."),
           "src/tiny.c")
    commit(tree, "tiny: mark the package as patched\n\n" + HEADER.format(what="a comment in tinyext/__init__.py.",
                                                                        why="one upstream per commit."),
           "tinyext/__init__.py")


def test_export_writes_the_series_by_upstream_and_lists_it(kit, made, tmp_path):
    recipe, tree, fetched = made
    with_upstreams(recipe)
    split_second_commit(tree)
    series = export_series(tree, recipe, kit / "patches", log=lambda *_: None)
    entries = ["native/0001-tiny-the-answer-is-42.patch", "native/0002-tiny-greet-from-the-series-C-part.patch",
               "tinyext/0003-tiny-mark-the-package-as-patched.patch"]
    assert [p.name for p in series.patches] == entries
    assert load_recipe(recipe).series == tuple(entries)
    assert sorted(p.relative_to(kit / "patches" / "tinyext").as_posix()
                  for p in (kit / "patches").rglob("*") if p.is_file()) == entries  # the flat files are gone
    assert sorted(p.name for p in (kit / "patches").iterdir()) == ["tinyext"]  # no staging folder left
    text = (kit / "patches" / "tinyext" / entries[1]).read_text()
    assert text.startswith("From 0000000000000000000000000000000000000000 ")  # --zero-commit
    assert "\n-- \n" not in text  # --no-signature
    # the written series, applied to the source, gives the tree it was exported from
    with scratch_tree(fetched, EPOCH, tmp_path) as tmp:
        fresh = Path(tmp) / "src"
        prepare_tree(fresh, fetched, series, EPOCH, log=lambda *_: None)
        assert git(fresh, "rev-parse", "HEAD^{tree}") == git(tree, "rev-parse", "HEAD^{tree}")
    # the rest of the recipe is as it was
    assert recipe.read_text().count("[patches]") == 1 and 'native = "src"' in recipe.read_text()


def test_a_commit_that_mixes_upstreams_is_refused_and_nothing_changes(kit, made):
    recipe, tree, _ = made
    with_upstreams(recipe)
    before = snapshot(kit, recipe)
    with pytest.raises(PatchError) as info:
        export_series(tree, recipe, kit / "patches", log=lambda *_: None)
    assert str(info.value) == (f"{tree}: commit 2/2 (0002-tiny-greet-from-the-series.patch) changes files of native "
                               "(src) and tinyext (.): one commit per upstream (split it)")
    assert snapshot(kit, recipe) == before


def test_a_commit_without_its_header_fields_is_refused_and_nothing_changes(kit, made):
    recipe, tree, _ = made
    (tree / "README.md").write_text("more\n")
    commit(tree, "tiny: no header\n\nWhat: a line.\n", "README.md")
    before = snapshot(kit, recipe)
    with pytest.raises(PatchError, match=r"commit 3/3 \(0003-tiny-no-header.patch\): header lacks Why:, "
                                         r"Upstream-Issue:, Upstream-Status:"):
        export_series(tree, recipe, kit / "patches", log=lambda *_: None)
    assert snapshot(kit, recipe) == before


def test_the_command_refuses_a_dirty_tree_in_one_line(kit, made):
    recipe, tree, _ = made
    (tree / "src" / "tiny.c").write_text("edited\n")
    before = snapshot(kit, recipe)
    run = subprocess.run([sys.executable, "-m", "tlkit", "patches-export", str(tree), "--recipe", "tiny"],
                         env={**os.environ, "TLKIT_ROOT": str(kit)}, capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.splitlines() == [f"tlkit: error: {tree}: has uncommitted changes (M src/tiny.c, ...): "
                                       "commit or stash them first"]
    assert snapshot(kit, recipe) == before


def test_the_command_exports_a_flat_series_through_the_kit(kit, made):
    """Without upstreams in the recipe the series stays flat; the command reads the kit from TLKIT_ROOT."""
    recipe, tree, _ = made
    (tree / "README.md").write_text("more\n")
    commit(tree, "tiny: a third change\n\n" + HEADER.format(what="README.", why="a third patch."), "README.md")
    run = subprocess.run([sys.executable, "-m", "tlkit", "patches-export", str(tree), "--recipe", "tiny"],
                         env={**os.environ, "TLKIT_ROOT": str(kit)}, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    names = ["0001-tiny-the-answer-is-42.patch", "0002-tiny-greet-from-the-series.patch",
             "0003-tiny-a-third-change.patch"]
    assert load_recipe(recipe).series == tuple(names)
    assert sorted(p.name for p in (kit / "patches" / "tinyext").iterdir()) == names
    assert "Subject: [PATCH 3/3] tiny: a third change" in (kit / "patches" / "tinyext" / names[2]).read_text()
    assert tree_git(tree, "status", "--porcelain").stdout == ""  # the tree itself is not touched
