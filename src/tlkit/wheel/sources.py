"""Fetching the pinned source into the cache: an sdist via pip (sha256-checked), or a git commit.

Cache entries appear only when complete and verified: downloads land in a temporary folder
beside the entry and are renamed into place; a bad download leaves nothing behind."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tarfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from tlkit.base import procs
from tlkit.base.cacheentry import is_ready, staged_entry
from tlkit.base.errors import FetchError
from tlkit.wheel.recipe import GitSource, SdistSource


@dataclass(frozen=True)
class FetchedSource:
    """A verified source: an sdist archive, or a plain tree checked out from git."""

    digest: str  # sha256:<hex> or git:<commit>
    archive: Path | None = None
    tree: Path | None = None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_source(source: SdistSource | GitSource, cache: Path, log=print) -> FetchedSource:
    if isinstance(source, SdistSource):
        return FetchedSource(source.digest, archive=fetch_sdist(source, cache, log))
    return FetchedSource(source.digest, tree=fetch_git(source, cache, log))


def fetch_sdist(source: SdistSource, cache: Path, log=print) -> Path:
    """Return the cached sdist, downloading it with pip when absent; its sha256 is checked every time."""
    entry = cache / "sources" / "sha256" / source.sha256
    existing = sorted(entry.glob("*.tar.gz")) if entry.is_dir() else []
    if existing:
        actual = sha256_file(existing[0])
        if actual == source.sha256:
            return existing[0]
        shutil.rmtree(entry)
        raise FetchError(f"cached {existing[0]} has sha256 {actual}, expected {source.sha256}; "
                         "the corrupt entry was removed, run again to download it anew")
    spec = f"{source.package}=={source.version}"
    log(f"fetch: pip download {spec} (sdist)")
    # No marker: the entry holds one archive whose sha256 is checked at every use (above).
    with staged_entry(entry, None) as staged:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", source.package,
               "--disable-pip-version-check", "--quiet", "--dest", str(staged), spec]
        res = procs.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            raise FetchError(f"pip could not download the {spec} sdist:\n{res.stderr.strip()}")
        files = [p for p in staged.iterdir() if p.name.endswith((".tar.gz", ".zip"))]
        if len(files) != 1:
            raise FetchError(f"pip download {spec} gave {[p.name for p in files]}, expected one sdist")
        actual = sha256_file(files[0])
        if actual != source.sha256:
            raise FetchError(f"{files[0].name} from the index has sha256 {actual}, the recipe pins "
                             f"{source.sha256}; nothing was kept (truncated download, or a re-upload?)")
    return entry / files[0].name


# Every git the kit runs: no `git gc --auto` / `git maintenance run --auto` (they detach and would outlive the
# kit), no hooks from the user's configuration or templates.
GIT_NOTHING_IN_BACKGROUND = ("-c", "gc.auto=0", "-c", "maintenance.auto=false", "-c", "core.hooksPath=/dev/null")


def _git(args: list[str], cwd: Path, what: str) -> str:
    cmd = ["git", *GIT_NOTHING_IN_BACKGROUND, "-c", "protocol.file.allow=always", "-c", "advice.detachedHead=false",
           *args]
    res = procs.run(cmd, cwd=cwd, capture_output=True, text=True)  # a fetch may run for minutes
    if res.returncode != 0:
        raise FetchError(f"{what} failed: git {' '.join(args)}\n{res.stderr.strip()}")
    return res.stdout


def _local_clone(url: str) -> Path | None:
    """The repository on this machine that `url` names (an absolute path, or a file: URL: %-escapes decoded,
    host empty or localhost), else None; a file: URL that names no folder is an error, not a reason to go to
    the network for the submodules."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise FetchError(f"url = {url!r}: a file: URL names a folder on this machine (file:///path)")
        path = Path(urllib.parse.unquote(parts.path))
        if not path.is_dir():
            raise FetchError(f"url = {url!r}: no such folder {path}")
        return path
    path = Path(url)
    return path if not parts.scheme and path.is_absolute() and path.is_dir() else None


def _update_submodules(tree: Path, clone: Path | None) -> None:
    """Check out the submodules of `tree` at the commits it pins, recursively. From a local clone, each submodule
    the clone has checked out is taken from there: .gitmodules names GitHub, which may be unreachable (the reason
    for a local clone), and is not the clone the recipe names. The others come from their .gitmodules URL."""
    if clone is None:
        _git(["submodule", "update", "--init", "--recursive", "-q"], tree, "submodule update")
        return
    if not (tree / ".gitmodules").is_file():
        return
    _git(["submodule", "--quiet", "init"], tree, "submodule init")
    paths = {}
    for line in _git(["config", "--file", ".gitmodules", "--list"], tree, "reading .gitmodules").splitlines():
        key, _, path = line.partition("=")
        if key.startswith("submodule.") and key.endswith(".path"):
            name = key[len("submodule."):-len(".path")]
            paths[path] = clone / path if (clone / path / ".git").exists() else None
            if paths[path] is not None:
                _git(["config", f"submodule.{name}.url", str(clone / path)], tree, f"taking {path} from the clone")
    _git(["submodule", "--quiet", "update"], tree, "submodule update")
    for path, mine in paths.items():
        if (tree / path / ".git").exists():
            _update_submodules(tree / path, mine)


def fetch_git(source: GitSource, cache: Path, log=print) -> Path:
    """Check out `commit` with its submodules; refuse a TVM pin that differs from the recipe's."""
    entry = cache / "sources" / "git" / source.commit
    if is_ready(entry):
        return entry / "tree"
    log(f"fetch: git {source.url} @ {source.commit}")
    with staged_entry(entry, f"{source.url} {source.commit}") as staged:
        tree = staged / "tree"
        tree.mkdir(parents=True)
        _git(["init", "-q"], tree, "git init")
        try:
            _git(["fetch", "-q", "--depth", "1", source.url, source.commit], tree, "shallow fetch")
        except FetchError:  # servers that refuse fetching by id: take everything, then pick the commit
            _git(["fetch", "-q", source.url, "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"],
                 tree, f"fetch of {source.url}")
        try:
            _git(["checkout", "-q", source.commit], tree, "checkout")
        except FetchError:
            raise FetchError(f"commit {source.commit} is not in {source.url}") from None
        gitlink = _git(["ls-tree", "HEAD", source.tvm_path], tree, "reading the TVM pin").split()
        if len(gitlink) < 3 or gitlink[0] != "160000":
            raise FetchError(f"{source.url} @ {source.commit[:12]} has no submodule at {source.tvm_path}")
        if gitlink[2] != source.tvm_commit:
            raise FetchError(f"{source.url} @ {source.commit[:12]} pins {source.tvm_path} at {gitlink[2]}, "
                             f"the recipe expects tvm_commit {source.tvm_commit}")
        _update_submodules(tree, _local_clone(source.url))
        head = _git(["rev-parse", "HEAD"], tree / source.tvm_path, "reading the TVM checkout").strip()
        if head != source.tvm_commit:
            raise FetchError(f"{source.tvm_path} checked out {head}, expected {source.tvm_commit}")
        version_file = tree / "VERSION"
        if version_file.is_file() and version_file.read_text().strip() != source.version:
            raise FetchError(f"{source.url} @ {source.commit[:12]}: VERSION says "
                             f"{version_file.read_text().strip()!r}, the recipe says {source.version!r}")
        for git_meta in sorted(tree.rglob(".git"), key=lambda p: len(p.parts), reverse=True):
            shutil.rmtree(git_meta) if git_meta.is_dir() else git_meta.unlink()
    return entry / "tree"


def unpack_into(fetched: FetchedSource, dest: Path) -> None:
    """Lay the source out in the empty folder `dest` (an sdist's top folder is stripped)."""
    dest.mkdir(parents=True, exist_ok=True)
    if fetched.tree is not None:
        shutil.copytree(fetched.tree, dest, symlinks=True, dirs_exist_ok=True)
        return
    assert fetched.archive is not None
    with tarfile.open(fetched.archive) as tar:
        members = tar.getmembers()
        tops = {m.name.split("/", 1)[0] for m in members}
        if len(tops) != 1:
            raise FetchError(f"{fetched.archive.name}: expected one top folder, found {sorted(tops)[:5]}")
        top = tops.pop()
        kept = []
        for m in members:
            if m.name == top:
                continue
            m.name = m.name.split("/", 1)[1]
            kept.append(m)
        kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(dest, members=kept, **kwargs)
    os.utime(dest)
