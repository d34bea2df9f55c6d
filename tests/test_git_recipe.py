"""A recipe whose [source] is a local clone of TileLang at a tag (docs/git-source.md), end to end with the kit's
own command: a repository shaped like tile-ai/tilelang at v0.1.15 (VERSION, a TVM submodule at 3rdparty/tvm that
its .gitmodules takes from GitHub), the recipe written as the document says, and `python -m tlkit patches-check`
run as a process with git allowed the file protocol only, so nothing is fetched from the network."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import KIT, commit_file, git

from tlkit.wheel.recipe import load_recipe

TAG = "v0.1.15"
HEADER = "What: {what}\nWhy: {why}\nUpstream-Issue: none (test fixture)\nUpstream-Status: not applicable\n"
ENV_PY = "def max_passes():\n    return 100\n"
SIMPLIFY_CC = "int RewriteCap() {\n  return 0;\n}\n"


@pytest.fixture
def clone(upstream, tmp_path) -> Path:
    """The `upstream` repository made the shape of `git clone --recurse-submodules` of tile-ai/tilelang at v0.1.15:
    VERSION says 0.1.15, a TileLang file and a TVM file to patch, a submodule of TVM's own (3rdparty/tvm-ffi), and
    each .gitmodules names a GitHub URL. The tagged TVM commit exists only in the clone's own 3rdparty/tvm."""
    repo, _, _ = upstream
    ffi = tmp_path / "tvm-ffi"
    commit_file(ffi, "ffi.txt", "tvm-ffi\n", "tvm-ffi")
    tvm = repo / "3rdparty" / "tvm"
    (tvm / "src").mkdir()
    (tvm / "src" / "simplify.cc").write_text(SIMPLIFY_CC)
    git(tvm, "submodule", "-q", "add", str(ffi), "3rdparty/tvm-ffi")
    git(tvm, "config", "-f", ".gitmodules", "submodule.3rdparty/tvm-ffi.url", "https://github.com/apache/tvm-ffi")
    git(tvm, "add", ".")
    git(tvm, "commit", "-qm", "tvm: the fork as TileLang 0.1.15 pins it")
    git(repo, "config", "-f", ".gitmodules", "submodule.3rdparty/tvm.url", "https://github.com/TileLang/tvm")
    (repo / "VERSION").write_text("0.1.15\n")
    (repo / "tilelang").mkdir()
    (repo / "tilelang" / "env.py").write_text(ENV_PY)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "release 0.1.15")
    git(repo, "tag", "-a", TAG, "-m", "TileLang 0.1.15")
    return repo


def pins(clone: Path) -> tuple[str, str]:
    """(commit, tvm_commit) read from the clone with the two commands docs/git-source.md gives."""
    commit = git(clone, "rev-parse", f"{TAG}^{{commit}}")
    mode, kind, tvm_commit = git(clone, "ls-tree", TAG, "3rdparty/tvm").split()[:3]
    assert (mode, kind) == ("160000", "commit")
    return commit, tvm_commit


def make_series(kit: Path, clone: Path, tmp_path: Path) -> list[str]:
    """Two git format-patch files, one per upstream, written the way a developer does: commits on a flat tree of
    the tagged files, exported with git, laid out as the recipe's `series` names them under patches/0.1.15/."""
    flat = tmp_path / "flat"
    flat.mkdir()
    git(flat, "init", "-q", "-b", "main")
    (flat / "tilelang").mkdir()
    (flat / "tilelang" / "env.py").write_text(git(clone, "show", f"{TAG}:tilelang/env.py") + "\n")
    tvm_file = flat / "3rdparty" / "tvm" / "src" / "simplify.cc"
    tvm_file.parent.mkdir(parents=True)
    tvm_file.write_text(git(clone / "3rdparty" / "tvm", "show", f"{pins(clone)[1]}:src/simplify.cc") + "\n")
    git(flat, "add", ".")
    git(flat, "commit", "-qm", "upstream")
    (flat / "tilelang" / "env.py").write_text(ENV_PY.replace("100", "64"))
    git(flat, "commit", "-qam", "guards: fewer layout passes\n\n" + HEADER.format(what="a lower cap.", why="a test."))
    tvm_file.write_text(SIMPLIFY_CC.replace("0", "1000"))
    git(flat, "commit", "-qam", "guards: a rewrite cap\n\n" + HEADER.format(what="a cap.", why="a test."))
    out = tmp_path / "exported"
    names = git(flat, "format-patch", "--zero-commit", "--no-signature", "-o", str(out), "HEAD~2").splitlines()
    series = [f"tilelang/{Path(names[0]).name}", f"tvm/{Path(names[1]).name}"]
    for entry, exported in zip(series, names, strict=True):
        target = kit / "patches" / "0.1.15" / entry
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(Path(exported).read_bytes())
    return series


def write_recipe(kit: Path, clone: Path, commit: str, tvm_commit: str, series: list[str]) -> Path:
    """recipes/tilelang-0.1.14.toml with its [source] and [patches] replaced, as docs/git-source.md says."""
    source = (f'[source]\nkind = "git"\nurl = "file://{clone}"\ncommit = "{commit}"\n'
              f'tvm_commit = "{tvm_commit}"\nversion = "0.1.15"\n\n')
    patches = ('[patches]\ndir = "0.1.15"\nupstreams = { tilelang = ".", tvm = "3rdparty/tvm" }\n'
               f'series = [{", ".join(f"{s!r}" for s in series)}]\n\n')
    text = (KIT / "recipes" / "tilelang-0.1.14.toml").read_text()
    text, n_source = re.subn(r"(?ms)^\[source\]\n.*?(?=^\[cuda\])", lambda _: source, text)
    text, n_patches = re.subn(r"(?ms)^\[patches\]\n.*?(?=^\[build\])", lambda _: patches, text)
    assert (n_source, n_patches) == (1, 1)
    recipe = kit / "recipes" / "tilelang-0.1.15.toml"
    recipe.write_text(text)
    return recipe


def patches_check(kit: Path, recipe: Path, cache: Path) -> subprocess.CompletedProcess:
    # GIT_ALLOW_PROTOCOL: git may use the file protocol only, so a submodule taken from .gitmodules' GitHub URL
    # fails at once instead of going to the network; the kit must take it from the clone.
    env = {**os.environ, "TLKIT_ROOT": str(kit), "TLKIT_CACHE_DIR": str(cache), "GIT_ALLOW_PROTOCOL": "file"}
    env.pop("TLKIT_CACHE_REMOTE", None)
    return subprocess.run([sys.executable, "-m", "tlkit", "patches-check", "--recipe", str(recipe)], env=env,
                          cwd=kit, capture_output=True, text=True, timeout=300)


def test_a_tag_of_a_local_clone_builds_from_the_recipe_the_document_gives(kit, clone, tmp_path):
    commit, tvm_commit = pins(clone)
    series = make_series(kit, clone, tmp_path)
    recipe = write_recipe(kit, clone, commit, tvm_commit, series)
    assert load_recipe(recipe).source.digest == f"git:{commit}"
    cache = tmp_path / "cache"
    run = patches_check(kit, recipe, cache)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert f"fetch: git file://{clone} @ {commit}" in lines
    report = lines[lines.index(f"{recipe}: 2 patch(es)") + 1:]
    assert [line.split() for line in report] == [[series[0], "applies"], [series[1], "applies"]]
    # the cached source is the tag's tree with the TVM commit it pins, taken from the clone's own submodule
    tree = cache / "sources" / "git" / commit / "tree"
    assert (tree / "VERSION").read_text() == "0.1.15\n"
    assert (tree / "3rdparty" / "tvm" / "src" / "simplify.cc").read_text() == SIMPLIFY_CC
    assert (tree / "3rdparty" / "tvm" / "3rdparty" / "tvm-ffi" / "ffi.txt").read_text() == "tvm-ffi\n"
    assert not list(tree.rglob(".git"))


def test_the_clone_s_own_submodule_checkout_does_not_change_what_is_built(kit, clone, tmp_path):
    """A clone whose 3rdparty/tvm is checked out elsewhere (a `git submodule update --remote`, a stale checkout):
    the recipe written from the tag still gets the commit the tag pins."""
    commit, tvm_commit = pins(clone)
    series = make_series(kit, clone, tmp_path)
    git(clone / "3rdparty" / "tvm", "checkout", "-q", "HEAD~1")
    run = patches_check(kit, write_recipe(kit, clone, commit, tvm_commit, series), tmp_path / "cache")
    assert run.returncode == 0, run.stdout + run.stderr
    tree = tmp_path / "cache" / "sources" / "git" / commit / "tree"
    assert (tree / "3rdparty" / "tvm" / "src" / "simplify.cc").read_text() == SIMPLIFY_CC


def moved_submodule(clone: Path) -> tuple[str, str, str]:
    """tvm_commit read from the clone's checked-out submodule (not from the tag) after it moved on."""
    commit, pinned = pins(clone)
    return commit, commit_file(clone / "3rdparty" / "tvm", "src/later.cc", "int later;\n", "tvm: later work"), pinned


def moved_tag(clone: Path) -> tuple[str, str, str]:
    """The tag moved to a commit that pins another TVM; commit re-read from it, tvm_commit kept from before."""
    _, old_tvm = pins(clone)
    commit_file(clone / "3rdparty" / "tvm", "src/fix.cc", "int fix;\n", "tvm: a fix")
    git(clone, "commit", "-qam", "bump tvm")
    git(clone, "tag", "-f", "-a", TAG, "-m", "TileLang 0.1.15, again")
    commit, pinned = pins(clone)
    return commit, old_tvm, pinned


@pytest.mark.parametrize("mistake", [moved_submodule, moved_tag], ids=["submodule-moved", "tag-moved"])
def test_a_tvm_commit_other_than_the_tag_s_pin_is_refused_in_one_line(kit, clone, tmp_path, mistake):
    series = make_series(kit, clone, tmp_path)
    commit, tvm_commit, pinned = mistake(clone)
    assert tvm_commit != pinned
    cache = tmp_path / "cache"
    run = patches_check(kit, write_recipe(kit, clone, commit, tvm_commit, series), cache)
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.splitlines() == [f"tlkit: error: file://{clone} @ {commit[:12]} pins 3rdparty/tvm at {pinned}, "
                                       f"the recipe expects tvm_commit {tvm_commit}"]
    assert list((cache / "sources" / "git").iterdir()) == []  # nothing kept
