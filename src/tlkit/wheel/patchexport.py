"""patches-export: the commits of a git tree above `upstream` written out as the recipe's series, each patch in
the folder of the upstream it goes to, and the recipe's series list rewritten to match.

All or nothing: the patches are written and checked in a folder beside the series, then the folder and the
recipe are swapped in by renames; on any error the series and the recipe are left as they were."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from tlkit.base.errors import PatchError, RecipeError
from tlkit.wheel.recipe import Recipe, load_recipe
from tlkit.wheel.series import Series, load_series, owner, parse_patch
from tlkit.wheel.tree import BASELINE, dirty_files, git

# The developer's git configuration must not change the files (diff.noprefix, format.signOff, format.headers...).
_PLAIN_GIT = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
_SECTION = re.compile(r"^\[[^\]\n]+\]\s*(#.*)?$", re.M)
_SERIES = re.compile(r"^series\s*=\s*\[[^\]]*\]", re.M)


def _check_tree(tree: Path) -> int:
    """The number of commits to export; a tree that cannot be exported as it is fails here, in one line."""
    if not (tree / ".git").exists():
        raise PatchError(f"{tree}: not a git tree (export from the prepared source, build/<recipe>-cu<X.Y>/src)")
    if git(tree, "rev-parse", "--verify", "--quiet", f"{BASELINE}^{{commit}}", check=False).returncode != 0:
        raise PatchError(f"{tree}: has no '{BASELINE}' branch (the unpatched source the series applies to)")
    if git(tree, "merge-base", "--is-ancestor", BASELINE, "HEAD", check=False).returncode != 0:
        raise PatchError(f"{tree}: HEAD does not descend from '{BASELINE}'")
    dirty = dirty_files(tree)
    if dirty:
        raise PatchError(f"{tree}: has uncommitted changes ({dirty[0].strip()}, ...): commit or stash them first")
    merges = git(tree, "rev-list", "--merges", f"{BASELINE}..HEAD").stdout.split()
    if merges:
        raise PatchError(f"{tree}: commit {merges[0][:12]} is a merge; the series is a straight line of commits")
    count = int(git(tree, "rev-list", "--count", f"{BASELINE}..HEAD").stdout)
    if count == 0:
        raise PatchError(f"{tree}: no commits above '{BASELINE}': nothing to export")
    return count


def _format_patches(tree: Path, out: Path, count: int) -> list[Path]:
    out.mkdir()
    # --abbrev=8: blob ids in `index` lines of the same length whatever the number of objects in the tree
    # (git's default grows with it, and would rewrite every patch of a tree with more history)
    cmd = ["git", "format-patch", f"{BASELINE}..HEAD", "--zero-commit", "--no-signature", "--no-cover-letter",
           "--no-thread", "--suffix=.patch", "--abbrev=8", "-o", str(out)]
    res = subprocess.run(cmd, cwd=tree, env={**os.environ, **_PLAIN_GIT}, capture_output=True, text=True)
    if res.returncode != 0:
        raise PatchError(f"git format-patch in {tree} failed: {res.stderr.strip()}")
    files = sorted(out.glob("*.patch"))
    if len(files) != count:
        raise PatchError(f"git format-patch in {tree} wrote {len(files)} patch(es) for {count} commit(s)")
    return files


def _entry(tree: Path, position: str, file: Path, upstreams: dict[str, str]) -> str:
    """The series entry of one exported patch: its name, in the folder of the one upstream whose files it changes."""
    try:
        patch = parse_patch(file)
    except PatchError as exc:
        raise PatchError(str(exc).replace(str(file), f"{tree}: commit {position} ({file.name})")) from None
    if not upstreams:
        return file.name
    owners = sorted({owner(f, upstreams) or "?" for f in patch.files()})
    if len(owners) != 1 or owners[0] == "?":
        whose = " and ".join(f"{o} ({upstreams[o]})" if o != "?" else "no upstream's" for o in owners)
        raise PatchError(f"{tree}: commit {position} ({file.name}) changes files of {whose}: "
                         "one commit per upstream (split it)")
    return f"{owners[0]}/{file.name}"


def series_text(recipe_text: str, entries: list[str], recipe: Path) -> str:
    """`recipe_text` with the [patches] table's series list replaced by `entries`, everything else kept."""
    start = re.search(r"^\[patches\]\s*(#.*)?$", recipe_text, re.M)
    if start is None:
        raise PatchError(f"{recipe}: has no [patches] table to write the series into")
    following = _SECTION.search(recipe_text, start.end())
    end = following.start() if following else len(recipe_text)
    body = recipe_text[start.end():end]
    listed = "series = [\n" + "".join(f'    "{e}",\n' for e in entries) + "]"
    new_body, n = _SERIES.subn(listed, body)
    if n != 1:
        raise PatchError(f"{recipe}: its [patches] table has {n} 'series = [...]' lists, expected one")
    return recipe_text[:start.end()] + new_body + recipe_text[end:]


def _read_recipe(recipe_path: Path, stage: Path) -> Recipe:
    """The recipe with its series list left out: the list is what the export rewrites, and the one there now may
    not fit the recipe's upstreams yet (a series being laid out by upstream for the first time)."""
    staged = stage / recipe_path.name
    staged.write_text(series_text(recipe_path.read_text(encoding="utf-8"), [], recipe_path), encoding="utf-8")
    try:
        return load_recipe(staged)
    except RecipeError as exc:
        raise RecipeError(recipe_path, exc.key, exc.problem) from None


def export_series(tree: Path, recipe_path: Path, patches_root: Path, log=print) -> Series:
    """Write the commits of `tree` above `upstream` as the series of the recipe at `recipe_path` (patches under
    patches_root/<dir>) and its series list; returns the series as written."""
    tree = tree.resolve()
    count = _check_tree(tree)
    patches_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".export.", dir=patches_root) as tmp:
        stage = Path(tmp)
        recipe = _read_recipe(recipe_path, stage)
        base = patches_root / recipe.patch_dir
        files = _format_patches(tree, stage / "formatted", count)
        entries = [_entry(tree, f"{i}/{count}", f, recipe.upstreams) for i, f in enumerate(files, 1)]
        new = stage / "new"
        for file, entry in zip(files, entries, strict=True):
            (new / entry).parent.mkdir(parents=True, exist_ok=True)
            file.rename(new / entry)
        if base.is_dir():  # anything but patches (a README) stays
            for kept in base.rglob("*"):
                if kept.is_file() and kept.suffix != ".patch":
                    (new / kept.relative_to(base)).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(kept, new / kept.relative_to(base))
        load_series(stage, "new", entries, recipe.upstreams)  # what the build will read: headers, folders
        staged_recipe = stage / recipe_path.name
        staged_recipe.write_text(series_text(recipe_path.read_text(encoding="utf-8"), entries, recipe_path),
                                 encoding="utf-8")
        if load_recipe(staged_recipe).series != tuple(entries):
            raise PatchError(f"{recipe_path}: the rewritten series list does not read back as written")
        fd, swap = tempfile.mkstemp(prefix=f".{recipe_path.name}.", dir=recipe_path.parent)
        os.close(fd)
        try:
            shutil.copyfile(staged_recipe, swap)
            shutil.copymode(recipe_path, swap)
            base.parent.mkdir(parents=True, exist_ok=True)
            if base.exists():
                base.rename(stage / "old")  # removed with the staging folder
            new.rename(base)
            try:
                os.replace(swap, recipe_path)
            except BaseException:
                base.rename(stage / "failed")
                if (stage / "old").exists():
                    (stage / "old").rename(base)
                raise
        finally:
            Path(swap).unlink(missing_ok=True)
    log(f"patches-export: {count} patch(es) from {tree} into {base}, series listed in {recipe_path}")
    return load_series(patches_root, recipe.patch_dir, entries, recipe.upstreams)
