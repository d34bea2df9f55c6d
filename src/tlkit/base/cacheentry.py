"""Cache entries that appear only when complete: filled in a temporary folder beside the entry, marked READY,
then renamed into place (a venv, which records its own path, is made in place and marked last)."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from tlkit.base.locks import exclusive
from tlkit.base.redact import redact

READY = ".tlkit-ready"


def is_ready(entry: Path) -> bool:
    return (entry / READY).is_file()


def mark_ready(entry: Path, text: str) -> None:
    text = redact(text)  # a git URL or an index URL may carry credentials
    (entry / READY).write_text(text if text.endswith("\n") else text + "\n")


@contextlib.contextmanager
def staged_entry(entry: Path, marker: str | None) -> Iterator[Path]:
    """A path beside `entry` to fill (not yet created). When the block ends, the READY marker (`marker`; None:
    the entry has none) is written in it and it is renamed to `entry`, replacing an incomplete one; on an error
    nothing is kept. An entry another process completed first is kept as it is (same pinned content)."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{entry.name}.", dir=entry.parent) as tmp:
        staged = Path(tmp) / "entry"
        yield staged
        if marker is not None:
            mark_ready(staged, marker)
            if entry.exists() and not is_ready(entry):
                shutil.rmtree(entry)  # left by an interrupted run
        try:
            staged.rename(entry)
        except OSError:
            if not entry.is_dir() or (marker is not None and not is_ready(entry)):
                raise


def atomic_write_text(path: Path, text: str) -> None:
    """`path` with `text`, or as it was: written beside and renamed, so no reader sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.",
                                     suffix=".partial", delete=False) as f:
        f.write(text)
    try:
        Path(f.name).replace(path)
    except BaseException:
        Path(f.name).unlink(missing_ok=True)
        raise


def cached_entry(entry: Path, marker: str, fill: Callable[[Path], object], log=print) -> Path:
    """`entry`, made once by fill(staged folder) under a lock shared by every process, and renamed into place."""
    if not is_ready(entry):
        with exclusive(entry.with_name(entry.name + ".lock"), str(entry), wait=True, log=log):
            if not is_ready(entry):
                with staged_entry(entry, marker) as staged:
                    fill(staged)
    return entry
