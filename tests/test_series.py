"""Patch series on real git trees: apply one commit per patch, atomic failure, already-upstream, check."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EPOCH, TINY, TINY_PATCHES, git, make_sdist

from tlkit.base.errors import PatchError
from tlkit.wheel.series import load_series, parse_patch
from tlkit.wheel.sources import FetchedSource
from tlkit.wheel.tree import check_series, prepare_tree, scratch_tree

NAMES = sorted(p.name for p in TINY_PATCHES.glob("*.patch"))


@pytest.fixture
def source(tmp_path) -> FetchedSource:
    archive, sha = make_sdist(TINY, tmp_path / "sdist")
    return FetchedSource(f"sha256:{sha}", archive=archive)


@pytest.fixture
def patches(tmp_path) -> Path:
    folder = tmp_path / "patches" / "tinyext"
    shutil.copytree(TINY_PATCHES, folder)
    return tmp_path / "patches"


def broken_copy(patches: Path, name: str, old: str, new: str) -> None:
    p = patches / "tinyext" / name
    p.write_text(p.read_text().replace(old, new))


def test_header_fields_are_required(tmp_path):
    p = tmp_path / "0001-x.patch"
    p.write_text((TINY_PATCHES / NAMES[0]).read_text().replace("Upstream-Status: not applicable\n", ""))
    with pytest.raises(PatchError, match=r"0001-x.patch: header lacks Upstream-Status:"):
        parse_patch(p)
    p.write_text("just text\n")
    with pytest.raises(PatchError, match="not a git format-patch file"):
        parse_patch(p)


def test_series_folder_must_match_recipe(patches):
    with pytest.raises(PatchError, match=f"{NAMES[1]} not listed in the recipe"):
        load_series(patches, "tinyext", NAMES[:1])
    with pytest.raises(PatchError, match="0003-gone.patch: listed in the recipe's series but missing"):
        load_series(patches, "tinyext", [*NAMES, "0003-gone.patch"])


def test_a_patch_in_an_upstream_folder_changes_only_that_upstreams_files(patches):
    """The C code (src/) is one upstream's, the rest another's: 0002 changes both and is refused, naming the file."""
    upstreams = {"tinyext": ".", "native": "src"}
    base = patches / "tinyext"
    for name, folder in zip(NAMES, ("native", "tinyext"), strict=True):
        (base / folder).mkdir(exist_ok=True)
        (base / name).rename(base / folder / name)
    entries = [f"native/{NAMES[0]}", f"tinyext/{NAMES[1]}"]
    with pytest.raises(PatchError) as info:
        load_series(patches, "tinyext", entries, upstreams)
    assert str(info.value) == (f"{base / entries[1]}: changes src/tiny.c, which is the native upstream's (src), not "
                               "tinyext's (.): split the patch by upstream")
    # without the upstreams (a flat recipe) the same files load, and a stray one in a subfolder is still found
    assert [p.name for p in load_series(patches, "tinyext", entries).patches] == entries
    with pytest.raises(PatchError, match=f"{entries[1]} not listed in the recipe"):
        load_series(patches, "tinyext", entries[:1], upstreams)


def test_digest_follows_content_and_order(patches):
    a = load_series(patches, "tinyext", NAMES).digest
    broken_copy(patches, NAMES[1], "hello from the tlkit series", "hello again")
    assert load_series(patches, "tinyext", NAMES).digest != a


def test_prepare_creates_one_commit_per_patch(tmp_path, source, patches):
    series = load_series(patches, "tinyext", NAMES)
    dest = tmp_path / "work" / "src"
    assert prepare_tree(dest, source, series, EPOCH, log=lambda *_: None) == "created"
    log = git(dest, "log", "--format=%s").splitlines()
    assert log == ["tiny: greet from the series", "tiny: the answer is 42", f"upstream: {source.digest}"]
    assert "PyLong_FromLong(42)" in (dest / "src" / "tiny.c").read_text()
    assert git(dest, "status", "--porcelain") == ""
    # a developer's export reproduces the series' diffs
    exported = git(dest, "format-patch", "--stdout", "upstream")
    assert "+    return PyUnicode_FromString(\"hello from the tlkit series\");" in exported
    assert prepare_tree(dest, source, series, EPOCH, log=lambda *_: None) == "reused"


def test_failing_patch_leaves_no_tree(tmp_path, source, patches):
    broken_copy(patches, NAMES[1], "-    return PyUnicode_FromString(\"hello from upstream\");",
                "-    return PyUnicode_FromString(\"hello from elsewhere\");")
    series = load_series(patches, "tinyext", NAMES)
    dest = tmp_path / "work" / "src"
    with pytest.raises(PatchError) as info:
        prepare_tree(dest, source, series, EPOCH, log=lambda *_: None)
    msg = str(info.value)
    assert f"patch 2/2 {NAMES[1]} (conflicts): src/tiny.c: hunk #1 of 1 (@@ -8,7 +8,7 @@) does not apply" in msg
    assert not dest.exists()
    assert list((tmp_path / "work").iterdir()) == []  # no temporary leftovers


def test_failing_reapply_restores_previous_state(tmp_path, source, patches):
    dest = tmp_path / "work" / "src"
    (patches / "tinyext" / NAMES[1]).unlink()
    prepare_tree(dest, source, load_series(patches, "tinyext", NAMES[:1]), EPOCH, log=lambda *_: None)
    untouched = dest / "CMakeLists.txt"
    os.utime(untouched, (1_000_000_000, 1_000_000_000))
    # a changed series is re-applied in place: untouched files keep their mtime (incremental builds)
    shutil.copy(TINY_PATCHES / NAMES[1], patches / "tinyext" / NAMES[1])
    assert prepare_tree(dest, source, load_series(patches, "tinyext", NAMES), EPOCH, log=lambda *_: None) == "reapplied"
    assert untouched.stat().st_mtime == 1_000_000_000
    # ... and a series that fails part-way puts the tree back where it was
    head = git(dest, "rev-parse", "HEAD")
    broken_copy(patches, NAMES[1], "+# patched by 0002", "+# patched by 0002 (v2)")
    broken_copy(patches, NAMES[1], " __all__ = [", " __all__ = (")
    with pytest.raises(PatchError, match=f"patch 2/2 {NAMES[1]} \\(conflicts\\): tinyext/__init__.py: hunk #1"):
        prepare_tree(dest, source, load_series(patches, "tinyext", NAMES), EPOCH, log=lambda *_: None)
    assert git(dest, "rev-parse", "HEAD") == head
    assert git(dest, "status", "--porcelain") == ""


def test_dirty_tree_is_refused(tmp_path, source, patches):
    dest = tmp_path / "src"
    series = load_series(patches, "tinyext", NAMES)
    prepare_tree(dest, source, series, EPOCH, log=lambda *_: None)
    (dest / "src" / "tiny.c").write_text("edited\n")
    with pytest.raises(PatchError, match="uncommitted changes"):
        prepare_tree(dest, source, series, EPOCH, log=lambda *_: None)
    assert prepare_tree(dest, source, series, EPOCH, clean=True, log=lambda *_: None) == "created"
    assert "edited" not in (dest / "src" / "tiny.c").read_text()


def test_already_upstream_detected(tmp_path, patches):
    # upstream that already carries patch 0001
    archive, sha = make_sdist(TINY, tmp_path / "sdist",
                              edit=lambda rel, data: data.replace(b"FromLong(41)", b"FromLong(42)")
                              if rel == "src/tiny.c" else data)
    fetched = FetchedSource(f"sha256:{sha}", archive=archive)
    series = load_series(patches, "tinyext", NAMES)
    with scratch_tree(fetched, EPOCH, tmp_path) as tmp:
        outcomes = check_series(Path(tmp) / "src", series, EPOCH)
    assert [(o.patch.name, o.status) for o in outcomes] == [(NAMES[0], "already upstream"), (NAMES[1], "applies")]
    with pytest.raises(PatchError, match=f"patch 1/2 {NAMES[0]} \\(already upstream\\): its reverse applies"):
        prepare_tree(tmp_path / "w" / "src", fetched, series, EPOCH, log=lambda *_: None)
    assert not (tmp_path / "w" / "src").exists()


def test_check_reports_conflicts_and_keeps_going(tmp_path, source, patches):
    broken_copy(patches, NAMES[0], "-    return PyLong_FromLong(41);", "-    return PyLong_FromLong(40);")
    series = load_series(patches, "tinyext", NAMES)
    with scratch_tree(source, EPOCH, tmp_path) as tmp:
        outcomes = check_series(Path(tmp) / "src", series, EPOCH)
    assert [o.status for o in outcomes] == ["conflicts", "applies"]
    assert outcomes[0].detail == "src/tiny.c: hunk #1 of 1 (@@ -4,7 +4,7 @@) does not apply"


def test_a_patch_touching_a_file_the_build_rewrites_is_refused(tmp_path, source, patches):
    # a hunk on .git_commit.txt (rewritten by every TileLang build) appended to the second patch
    p = patches / "tinyext" / NAMES[1]
    text = p.read_text()
    marker = "\n-- \n" if "\n-- \n" in text else None
    hunk = ("diff --git a/.git_commit.txt b/.git_commit.txt\nnew file mode 100644\nindex 0000000..d00491f\n"
            "--- /dev/null\n+++ b/.git_commit.txt\n@@ -0,0 +1 @@\n+1\n")
    p.write_text(text.replace(marker, "\n" + hunk + marker, 1) if marker else text + hunk)
    series = load_series(patches, "tinyext", NAMES)
    with scratch_tree(source, EPOCH, tmp_path) as tmp:
        outcomes = check_series(Path(tmp) / "src", series, EPOCH)
    assert [o.status for o in outcomes] == ["applies", "touches build output"]
    assert ".git_commit.txt is rewritten by every build" in outcomes[1].detail
    with pytest.raises(PatchError, match=f"patch 2/2 {NAMES[1]} \\(touches build output\\)"):
        prepare_tree(tmp_path / "w" / "src", source, series, EPOCH, log=lambda *_: None)


# Prepares a tree as a child subreaper: a process git detaches (`git gc --auto`) is re-parented to it, and it
# reaps and counts every such orphan before it exits (wait() returns each; ECHILD when none is left).
SUBREAPER_PREPARE = """
import ctypes, os, sys
from pathlib import Path
assert ctypes.CDLL(None).prctl(36, 1) == 0  # PR_SET_CHILD_SUBREAPER
from tlkit.wheel.series import load_series
from tlkit.wheel.sources import FetchedSource
from tlkit.wheel.tree import prepare_tree
archive, sha, patches, dest = sys.argv[1:5]
names = sorted(p.name for p in (Path(patches) / "tinyext").glob("*.patch"))
prepare_tree(Path(dest), FetchedSource(f"sha256:{sha}", archive=Path(archive)),
             load_series(Path(patches), "tinyext", names), int(sys.argv[5]), log=lambda *_: None)
orphans = 0
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
    orphans += 1
print(orphans)
"""


def _blobs_in_folder_17(count: int) -> dict[str, bytes]:
    """Files whose git blob ids start with 17: `git gc --auto` estimates the loose objects from that folder."""
    found, i = {}, 0
    while len(found) < count:
        data = f"pad {i}\n".encode()
        if hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest().startswith("17"):
            found[f"pad/{len(found)}.txt"] = data
        i += 1
    return found


def test_preparing_a_tree_leaves_no_git_process_behind(tmp_path, patches):
    """Issue 25 item 3: a commit on a tree with many loose objects starts `git gc --auto`, which detaches and
    outlives the kit. With the user's gc.auto at 1 and four loose objects in objects/17, a git of the kit
    that allowed it would leave an orphan here; the kit's git runs with gc.auto=0 and no maintenance."""
    src = tmp_path / "tiny"
    shutil.copytree(TINY, src)
    for rel, data in _blobs_in_folder_17(4).items():
        (src / rel).parent.mkdir(exist_ok=True)
        (src / rel).write_bytes(data)
    archive, sha = make_sdist(src, tmp_path / "sdist")
    config = tmp_path / "gitconfig"
    config.write_text("[gc]\n\tauto = 1\n\tautoDetach = true\n[maintenance]\n\tauto = true\n")
    env = {**os.environ, "GIT_CONFIG_GLOBAL": str(config), "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    res = subprocess.run([sys.executable, "-c", SUBREAPER_PREPARE, str(archive), sha, str(patches),
                          str(tmp_path / "w" / "src"), str(EPOCH)], env=env, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "0", "git left a background process (gc/maintenance) behind"
    assert not list((tmp_path / "w" / "src" / ".git" / "objects" / "pack").glob("*.pack"))  # no gc ran at all
