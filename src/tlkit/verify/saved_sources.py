"""Generated CUDA sources kept as data: save them from one verify run (the stock wheel's, as test data),
then check a later run (the kit wheel's) against them, variant by variant and target by target."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tlkit.base.errors import KitError
from tlkit.base.paths import folder_name
from tlkit.base.texttable import align
from tlkit.verify.assess import Verdict
from tlkit.verify.subject.compiled import normalized_source

MANIFEST = "manifest.json"
IDENTICAL = "identical"
UP_TO_WORKSPACES = "identical up to workspace names"
SAME_VERDICT = "same verdict, no source here"
SAME = (IDENTICAL, UP_TO_WORKSPACES, SAME_VERDICT)


@dataclass(frozen=True)
class SourceMatch:
    variant: str
    target: str
    outcome: str  # one of SAME, or DIFFERENT | MISSING
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome in SAME


def run_source(runs_dir: Path, variant: str, target: str) -> Path:
    """Where the verify worker wrote the CUDA source of one (variant, target)."""
    return runs_dir / folder_name(variant) / f"{target}.cu"


def save_sources(dest: Path, runs_dir: Path, verdicts: list[Verdict], label: str, command: str) -> int:
    """Write every compiled (variant, target)'s source under `dest`, with a manifest naming the wheel and
    the command; a source equal to one already written (sm_120a's usually is sm_120's) is not stored twice.
    Written beside `dest` and renamed over it, so a failure leaves the old set whole."""
    dest = dest.resolve()
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        entries: dict[str, dict] = {}
        written: dict[str, str] = {}  # sha256 -> file
        for v in verdicts:
            key = f"{v.variant} | {v.target}"
            if not v.source_sha256:
                entries[key] = {"status": v.status}
                continue
            src = run_source(runs_dir, v.variant, v.target)
            if not src.is_file():
                raise KitError(f"{v.variant} {v.target}: compiled, but its source {src} is missing")
            if v.source_sha256 not in written:
                rel = Path(folder_name(v.variant)) / f"{v.target}.cu"
                (staging / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, staging / rel)
                written[v.source_sha256] = rel.as_posix()
            entries[key] = {"status": v.status, "file": written[v.source_sha256], "sha256": v.source_sha256}
        manifest = {"wheel": label, "generated_by": command, "entries": entries}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        if dest.exists():
            old = dest.with_name(f".{dest.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            dest.rename(old)
            staging.rename(dest)
            shutil.rmtree(old)
        else:
            staging.rename(dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return len(written)


def load_manifest(saved: Path) -> dict:
    path = saved / MANIFEST
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise KitError(f"{path}: no such file; generate the saved sources first (see the README)") from None
    except json.JSONDecodeError as exc:
        raise KitError(f"{path}: not valid JSON ({exc})") from None


def first_difference(a: str, b: str) -> str:
    for i, (x, y) in enumerate(zip(a.splitlines(), b.splitlines(), strict=False), start=1):
        if x != y:
            return f"first difference at line {i}: {y.strip()[:80]!r} instead of {x.strip()[:80]!r}"
    return f"one is a prefix of the other ({len(a.splitlines())} vs {len(b.splitlines())} lines)"


def compare_sources(saved: Path, runs_dir: Path, verdicts: list[Verdict]) -> list[SourceMatch]:
    """One match per (variant, target) of this run; a variant the saved set lacks is MISSING."""
    entries = load_manifest(saved)["entries"]
    out = []
    for v in verdicts:
        entry = entries.get(f"{v.variant} | {v.target}")
        if entry is None:
            out.append(SourceMatch(v.variant, v.target, "MISSING", f"not in {saved / MANIFEST}"))
            continue
        if not v.source_sha256:
            # No source here: fine only where the saved wheel reached the same verdict (e.g. not launchable,
            # which the stock wheel finds from the cubin and the kit's wheel refuses at compile time).
            same = entry["status"] == v.status
            out.append(SourceMatch(v.variant, v.target, SAME_VERDICT if same else "DIFFERENT",
                                   f"saved: {entry['status']}, now: {v.status}"))
            continue
        if "file" not in entry:
            out.append(SourceMatch(v.variant, v.target, "DIFFERENT", f"saved: {entry['status']} without a source"))
            continue
        if v.source_sha256 == entry["sha256"]:  # the worker hashed the source; equal hashes need no reading
            out.append(SourceMatch(v.variant, v.target, IDENTICAL))
            continue
        expected = (saved / entry["file"]).read_text()
        got = run_source(runs_dir, v.variant, v.target).read_text()
        if normalized_source(got) == normalized_source(expected):
            out.append(SourceMatch(v.variant, v.target, UP_TO_WORKSPACES))
        else:
            out.append(SourceMatch(v.variant, v.target, "DIFFERENT", first_difference(expected, got)))
    return out


def matches_table(saved_label: str, matches: list[SourceMatch]) -> str:
    rows = [("variant", "target", "source", ""), *((m.variant, m.target, m.outcome, m.detail) for m in matches)]
    lines = [f"generated CUDA source against the saved sources of {saved_label}", *align(rows, rule=False)]
    counts: dict[str, int] = {}
    for m in matches:
        counts[m.outcome] = counts.get(m.outcome, 0) + 1
    lines.append("summary: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    return "\n".join(lines)


def gpu_sources_match(results: list[dict], saved: Path, target: str = "sm_120") -> dict[str, str]:
    """For a `verify-gpu --sm120-source` report's results: variant -> IDENTICAL when the source it ran is the
    one verify-sm120 saved for `target` (by the manifest's sha256), UP_TO_WORKSPACES when only workspace names
    differ, "DIFFERENT" or "MISSING" otherwise. The default is sm_120: TileLang generates the same source for
    sm_120 and sm_120a, but a saved sm_120a entry can differ from its sm_120 twin only in which of two workspaces
    each of two reductions uses (in today's set: sparse_attn with block 16 and 1 stage), a run-to-run variation
    that renumbering by first use does not cover, since both are declared first."""
    entries = load_manifest(saved)["entries"]
    out = {}
    for r in results:
        entry = entries.get(f"{r['variant']} | {target}")
        if entry is None or "file" not in entry or r.get("source_sha256") is None:
            out[r["variant"]] = "MISSING"
        elif r["source_sha256"] == entry["sha256"]:
            out[r["variant"]] = IDENTICAL
        else:
            expected = normalized_source((saved / entry["file"]).read_text())
            same = hashlib.sha256(expected.encode()).hexdigest() == r.get("normalized_source_sha256")
            out[r["variant"]] = UP_TO_WORKSPACES if same else "DIFFERENT"
    return out
