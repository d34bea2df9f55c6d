"""Fetching with the real pip client from a local find-links folder, and git sources from local repos."""

from __future__ import annotations

import pytest
from conftest import TINY, make_sdist

from tlkit.base.errors import FetchError
from tlkit.wheel.recipe import GitSource, SdistSource
from tlkit.wheel.sources import fetch_git, fetch_sdist, sha256_file


def leftovers(cache):
    return sorted(p.name for p in (cache / "sources" / "sha256").iterdir())


def test_sdist_fetched_with_pip_and_cached(tmp_path, find_links):
    _, sha = make_sdist(TINY, find_links)
    cache = tmp_path / "cache"
    got = fetch_sdist(SdistSource("tlkit-fixture-ext", "1.0.0", sha), cache, log=lambda *_: None)
    assert got == cache / "sources" / "sha256" / sha / "tlkit_fixture_ext-1.0.0.tar.gz"
    assert sha256_file(got) == sha
    # cached: served without pip even when the index is gone
    (find_links / got.name).unlink()
    assert fetch_sdist(SdistSource("tlkit-fixture-ext", "1.0.0", sha), cache, log=lambda *_: None) == got


def test_sha256_mismatch_keeps_nothing(tmp_path, find_links):
    _, sha = make_sdist(TINY, find_links)
    wrong = "0" * 64
    cache = tmp_path / "cache"
    with pytest.raises(FetchError) as info:
        fetch_sdist(SdistSource("tlkit-fixture-ext", "1.0.0", wrong), cache, log=lambda *_: None)
    assert f"has sha256 {sha}, the recipe pins {wrong}; nothing was kept" in str(info.value)
    assert leftovers(cache) == []


def test_corrupt_cache_entry_is_detected_and_removed(tmp_path, find_links):
    _, sha = make_sdist(TINY, find_links)
    cache = tmp_path / "cache"
    got = fetch_sdist(SdistSource("tlkit-fixture-ext", "1.0.0", sha), cache, log=lambda *_: None)
    got.write_bytes(got.read_bytes()[:100])  # truncated
    with pytest.raises(FetchError, match="corrupt entry was removed"):
        fetch_sdist(SdistSource("tlkit-fixture-ext", "1.0.0", sha), cache, log=lambda *_: None)
    assert leftovers(cache) == []
    assert sha256_file(fetch_sdist(SdistSource("tlkit-fixture-ext", "1.0.0", sha), cache, log=lambda *_: None)) == sha


def test_missing_package_is_a_clear_error(tmp_path, find_links, monkeypatch):
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    with pytest.raises(FetchError, match="pip could not download the tlkit-no-such-pkg==1.0.0 sdist"):
        fetch_sdist(SdistSource("tlkit-no-such-pkg", "1.0.0", "1" * 64), tmp_path / "c", log=lambda *_: None)
    assert leftovers(tmp_path / "c") == []


def test_git_source_from_local_repo(tmp_path, upstream):
    repo, commit, tvm_commit = upstream
    tree = fetch_git(GitSource(f"file://{repo}", commit, "0.1.14", tvm_commit), tmp_path / "c", log=lambda *_: None)
    assert (tree / "VERSION").read_text() == "0.1.14\n"
    assert (tree / "3rdparty" / "tvm" / "tvm.txt").read_text() == "tvm fork\n"
    assert not list(tree.rglob(".git"))


def test_git_source_with_other_tvm_pin_is_refused(tmp_path, upstream):
    repo, commit, _ = upstream
    other = "f" * 40
    with pytest.raises(FetchError, match=f"pins 3rdparty/tvm at [0-9a-f]{{40}}, the recipe expects tvm_commit {other}"):
        fetch_git(GitSource(str(repo), commit, "0.1.14", other), tmp_path / "c", log=lambda *_: None)
    assert list((tmp_path / "c" / "sources" / "git").iterdir()) == []


def test_git_source_checks_version_and_commit(tmp_path, upstream):
    repo, commit, tvm_commit = upstream
    with pytest.raises(FetchError, match="VERSION says '0.1.14', the recipe says '0.1.15'"):
        fetch_git(GitSource(str(repo), commit, "0.1.15", tvm_commit), tmp_path / "c", log=lambda *_: None)
    with pytest.raises(FetchError, match="e" * 40):
        fetch_git(GitSource(str(repo), "e" * 40, "0.1.14", tvm_commit), tmp_path / "c", log=lambda *_: None)
    assert list((tmp_path / "c" / "sources" / "git").iterdir()) == []
