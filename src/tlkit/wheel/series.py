"""The patch series of a recipe: its files, their headers and the hash that goes into the label."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tlkit.base.errors import PatchError

REQUIRED_FIELDS = ("What", "Why", "Upstream-Issue", "Upstream-Status")
_FIELD = re.compile(r"^([A-Z][A-Za-z-]+):\s*(.*)$")
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class Patch:
    path: Path
    subject: str
    fields: dict[str, str]
    sha256: str
    name: str  # as the recipe's series lists it: NNNN-x.patch, or upstream/NNNN-x.patch

    @property
    def upstream(self) -> str:
        """The folder of the upstream project this patch goes to ("" in a series without upstreams)."""
        return self.name.rpartition("/")[0]

    def files(self) -> list[str]:
        """The paths this patch changes (from its `diff --git a/X b/X` headers)."""
        return [line.split()[-1][2:] for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines()
                if line.startswith("diff --git ")]

    def hunks(self, file: str) -> list[tuple[int, str]]:
        """(old start line, hunk header) of each hunk this patch has for `file`."""
        found, current = [], None
        for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("diff --git "):
                parts = line.split()
                current = parts[2][2:] if len(parts) >= 4 else None
            elif current == file and (m := _HUNK.match(line)):
                found.append((int(m.group(1)), line.split(" @@")[0] + " @@"))
        return found


@dataclass(frozen=True)
class Series:
    folder: Path
    patches: tuple[Patch, ...]

    @property
    def digest(self) -> str:
        """sha256 over names and contents in order: changes with any edit, reorder, add or drop."""
        h = hashlib.sha256()
        for p in self.patches:
            h.update(f"{p.name}\0{p.sha256}\n".encode())
        return h.hexdigest()


def parse_patch(path: Path, name: str | None = None) -> Patch:
    """A git format-patch file whose message carries What/Why/Upstream-Issue/Upstream-Status lines."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PatchError(f"{path}: cannot read: {exc}") from None
    if not text.startswith("From ") or "\nSubject: " not in text:
        raise PatchError(f"{path}: not a git format-patch file (no 'From '/'Subject:' header)")
    if "\ndiff --git " not in text:
        raise PatchError(f"{path}: contains no 'diff --git' section")
    head = text.split("\ndiff --git ", 1)[0]
    lines = head.splitlines()
    subject = next(ln for ln in lines if ln.startswith("Subject: "))[len("Subject: "):]
    subject = re.sub(r"^\[PATCH[^\]]*\]\s*", "", subject)
    fields: dict[str, str] = {}
    for line in lines:
        m = _FIELD.match(line)
        if m and m.group(1) in REQUIRED_FIELDS:
            fields[m.group(1)] = m.group(2).strip()
    missing = [f for f in REQUIRED_FIELDS if not fields.get(f)]
    if missing:
        raise PatchError(f"{path}: header lacks {', '.join(f + ':' for f in missing)} "
                         f"(every patch says {', '.join(REQUIRED_FIELDS)})")
    return Patch(path, subject, fields, hashlib.sha256(text.encode()).hexdigest(), name or path.name)


def owner(file: str, upstreams: Mapping[str, str]) -> str | None:
    """The upstream that owns `file`: the one whose part of the source is the longest that holds it."""
    best, depth = None, -1
    for folder, part in upstreams.items():
        if part == "." and depth < 0:
            best, depth = folder, 0
        elif part != "." and file.startswith(part + "/") and len(part) > depth:
            best, depth = folder, len(part)
    return best


def check_upstream(patch: Patch, upstreams: Mapping[str, str]) -> None:
    """A patch in an upstream's folder changes only files that upstream owns (else it goes to the wrong review)."""
    for file in patch.files():
        found = owner(file, upstreams)
        if found != patch.upstream:
            whose = f"the {found} upstream's ({upstreams[found]})" if found else "no upstream's"
            raise PatchError(f"{patch.path}: changes {file}, which is {whose}, not {patch.upstream}'s "
                             f"({upstreams[patch.upstream]}): split the patch by upstream")


def load_series(patches_root: Path, folder: str, names: tuple[str, ...] | list[str],
                upstreams: Mapping[str, str] | None = None) -> Series:
    """Load the recipe's series; a .patch file under the folder that the recipe does not list is an error,
    so that nothing is silently left out. With `upstreams` (the recipe's), each patch must change only files
    of the upstream whose subfolder holds it."""
    base = patches_root / folder
    if names and not base.is_dir():
        raise PatchError(f"patch folder {base} does not exist")
    listed = set(names)
    if base.is_dir():
        stray = sorted(rel for p in base.rglob("*.patch") if (rel := p.relative_to(base).as_posix()) not in listed)
        if stray:
            raise PatchError(f"{base}: {', '.join(stray)} not listed in the recipe's [patches] series")
    patches = []
    for name in names:
        path = base / name
        if not path.is_file():
            raise PatchError(f"{path}: listed in the recipe's series but missing")
        patch = parse_patch(path, name)
        if upstreams:
            check_upstream(patch, upstreams)
        patches.append(patch)
    return Series(base, tuple(patches))
