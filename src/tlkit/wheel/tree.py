"""The prepared source tree: upstream as a git baseline commit, then one commit per patch.

`prepare_tree` is atomic: a new tree is assembled in a temporary sibling and renamed into place,
and an existing tree whose series changed is moved back to its previous commit if a patch fails.
Either way no half-patched tree is left behind."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tlkit.base.errors import PatchError
from tlkit.base.redact import redact_data
from tlkit.wheel.series import Patch, Series
from tlkit.wheel.sources import GIT_NOTHING_IN_BACKGROUND, FetchedSource, unpack_into

BASELINE = "upstream"
BRANCH = "tlkit"
STATE = "tlkit-state.json"
# Written by builds inside the tree; never part of the source state.
IGNORED = ("/build/", "/.git_commit.txt", "/dist/", "*.egg-info/", "__pycache__/")
# Tracked files that a build rewrites (TileLang's version provider records the tree's HEAD there).
BUILD_REWRITES = (".git_commit.txt",)
_IDENTITY = {"GIT_AUTHOR_NAME": "tlkit", "GIT_AUTHOR_EMAIL": "tlkit@localhost",
             "GIT_COMMITTER_NAME": "tlkit", "GIT_COMMITTER_EMAIL": "tlkit@localhost"}


@dataclass(frozen=True)
class PatchOutcome:
    patch: Patch
    status: str  # "applies" | "already upstream" | "conflicts" | "touches build output"
    detail: str = ""


def git(tree: Path, *args: str, epoch: int | None = None, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, **_IDENTITY}
    if epoch is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{epoch} +0000"
    res = subprocess.run(["git", *GIT_NOTHING_IN_BACKGROUND, *args], cwd=tree, env=env, capture_output=True, text=True)
    if check and res.returncode != 0:
        raise PatchError(f"git {' '.join(args)} in {tree} failed:\n{res.stderr.strip()}")
    return res


def init_baseline(tree: Path, fetched: FetchedSource, epoch: int) -> None:
    """Unpack the source into the empty `tree` and commit it as the upstream baseline."""
    unpack_into(fetched, tree)
    git(tree, "init", "-q", "-b", BRANCH)
    git(tree, "config", "core.autocrlf", "false")
    info = tree / ".git" / "info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "attributes").write_text("* -text -filter -ident\n")  # keep bytes exactly as shipped
    (info / "exclude").write_text("\n".join(IGNORED) + "\n")
    git(tree, "add", "-A", "-f", ".")
    git(tree, "commit", "-q", "--no-verify", "-m", f"upstream: {fetched.digest}", epoch=epoch)
    git(tree, "branch", BASELINE)


def _failure_detail(patch: Patch, stderr: str) -> str:
    """Name the file and hunk git could not place, from git's own message."""
    m = re.search(r"patch failed: (.+?):(\d+)", stderr)
    if m:
        file, line = m.group(1), int(m.group(2))
        hunks = patch.hunks(file)
        for i, (start, header) in enumerate(hunks, 1):
            if start == line:
                return f"{file}: hunk #{i} of {len(hunks)} ({header}) does not apply"
        return f"{file}: hunk at line {line} does not apply"
    m = re.search(r"error: (.+?): (does not exist in index|No such file or directory)", stderr)
    if m:
        return f"{m.group(1)}: file not found in the tree"
    m = re.search(r"error: (.+?): already exists in (index|working directory)", stderr)
    if m:
        return f"{m.group(1)}: file to be created already exists"
    lines = [ln for ln in stderr.splitlines() if ln.startswith("error:")]
    return (lines[0] if lines else stderr.strip().splitlines()[0] if stderr.strip() else "git am failed")


FAILED = ("conflicts", "touches build output")


def _touches_build_output(patch: Patch) -> PatchOutcome | None:
    rewritten = sorted(set(patch.files()) & set(BUILD_REWRITES))
    if not rewritten:
        return None
    return PatchOutcome(patch, "touches build output",
                        f"{', '.join(rewritten)} is rewritten by every build: drop its hunks from the patch")


def check_patch(tree: Path, patch: Patch) -> PatchOutcome:
    """Classify a patch against the tree as it is now, without changing it."""
    refused = _touches_build_output(patch)
    if refused is not None:
        return refused
    if git(tree, "apply", "--check", str(patch.path), check=False).returncode == 0:
        return PatchOutcome(patch, "applies")
    if git(tree, "apply", "--check", "--reverse", str(patch.path), check=False).returncode == 0:
        return PatchOutcome(patch, "already upstream", "its reverse applies: drop it from the series")
    res = git(tree, "apply", "--check", "--verbose", str(patch.path), check=False)
    return PatchOutcome(patch, "conflicts", _failure_detail(patch, res.stderr))


def apply_patch(tree: Path, patch: Patch, position: str, epoch: int) -> None:
    """Commit `patch` on top of the tree with git am; on failure say which patch, file and hunk."""
    refused = _touches_build_output(patch)
    if refused is not None:
        raise PatchError(f"patch {position} {patch.name} ({refused.status}): {refused.detail}")
    res = git(tree, "am", "--quiet", "--keep-cr", "--committer-date-is-author-date", str(patch.path),
              epoch=epoch, check=False)
    if res.returncode == 0:
        return
    git(tree, "am", "--abort", check=False)
    outcome = check_patch(tree, patch)
    detail = outcome.detail if outcome.status != "applies" else _failure_detail(patch, res.stderr)
    raise PatchError(f"patch {position} {patch.name} ({outcome.status}): {detail}")


def apply_series(tree: Path, series: Series, epoch: int) -> None:
    total = len(series.patches)
    for i, patch in enumerate(series.patches, 1):
        apply_patch(tree, patch, f"{i}/{total}", epoch)


def _read_state(tree: Path) -> dict:
    try:
        return json.loads((tree / ".git" / STATE).read_text())
    except (OSError, ValueError):
        return {}


def _write_state(tree: Path, fetched: FetchedSource, series: Series) -> None:
    state = {"source": fetched.digest, "series": series.digest, "patches": [p.name for p in series.patches]}
    (tree / ".git" / STATE).write_text(json.dumps(redact_data(state), indent=1) + "\n")


def dirty_files(tree: Path) -> list[str]:
    lines = git(tree, "status", "--porcelain", "--untracked-files=all").stdout.splitlines()
    return [ln for ln in lines if ln[3:] not in BUILD_REWRITES]


def prepare_tree(dest: Path, fetched: FetchedSource, series: Series, epoch: int, clean: bool = False,
                 log=print) -> str:
    """Make `dest` hold upstream + series. Returns what was done: reused, reapplied or created."""
    state = _read_state(dest) if dest.is_dir() else {}
    if state.get("source") == fetched.digest and not clean:
        dirty = dirty_files(dest)
        if dirty:
            raise PatchError(f"{dest} has uncommitted changes ({dirty[0].strip()}, ...): commit them and "
                             "export with `git format-patch upstream`, or pass --clean to start over")
        if state.get("series") == series.digest:
            return "reused"
        # Same upstream, different series: rewind in place, so unchanged files keep their mtimes and
        # the build folder stays valid (an incremental rebuild).
        previous = git(dest, "rev-parse", "HEAD").stdout.strip()
        log(f"tree: re-applying {len(series.patches)} patch(es) on {BASELINE} in {dest}")
        git(dest, "checkout", "-q", "-f", "-B", BRANCH, BASELINE)
        try:
            apply_series(dest, series, epoch)
        except BaseException:
            git(dest, "checkout", "-q", "-f", "-B", BRANCH, previous, check=False)
            raise
        _write_state(dest, fetched, series)
        return "reapplied"

    dest.parent.mkdir(parents=True, exist_ok=True)
    log(f"tree: unpacking {fetched.digest} and applying {len(series.patches)} patch(es) into {dest}")
    with tempfile.TemporaryDirectory(prefix=f".{dest.name}.new.", dir=dest.parent) as tmp:
        staged = Path(tmp) / dest.name
        staged.mkdir()
        init_baseline(staged, fetched, epoch)
        apply_series(staged, series, epoch)
        _write_state(staged, fetched, series)
        if dest.exists():
            old = Path(tmp) / "old"
            dest.rename(old)  # removed with the temporary folder
        staged.rename(dest)
    return "created"


def check_series(tree: Path, series: Series, epoch: int) -> list[PatchOutcome]:
    """Classify each patch in order on a scratch tree, applying the ones that apply."""
    outcomes = []
    for patch in series.patches:
        outcome = check_patch(tree, patch)
        if outcome.status == "applies":
            apply_patch(tree, patch, patch.name, epoch)
        outcomes.append(outcome)
    return outcomes


def scratch_tree(fetched: FetchedSource, epoch: int, parent: Path | None = None) -> tempfile.TemporaryDirectory:
    """A temporary baseline tree (for patches-check); the caller owns its cleanup."""
    tmp = tempfile.TemporaryDirectory(prefix="tlkit-check.", dir=parent)
    init_baseline(Path(tmp.name) / "src", fetched, epoch)
    return tmp
