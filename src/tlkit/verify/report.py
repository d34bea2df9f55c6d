"""Report writers: a terminal summary, JSON, JUnit XML and a Markdown table."""

from __future__ import annotations

import json
import math
import statistics
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tlkit.base.redact import redact, redact_data
from tlkit.base.texttable import align
from tlkit.verify.assess import Verdict
from tlkit.verify.variants import bound_text


@dataclass(frozen=True)
class RunInfo:
    label: str  # what was verified
    targets: tuple[str, ...]
    bound: float
    jobs: int
    wall: float  # seconds for the whole matrix
    setup: float  # seconds to create the venv
    machine: str
    cuda: str = ""  # the toolkit whose nvcc compiled ("" where not recorded)
    own_bounds: dict[str, float] = field(default_factory=dict)  # variant name -> its own bound (the table's)

    def worst_case(self, variants: int) -> float:
        """Jobs take variants as they free up: each has started all its variants by (ceil(n / jobs) - 1)
        times the longest a variant may take."""
        longest = max([self.bound, *self.own_bounds.values()])
        return math.ceil(variants / max(1, self.jobs)) * len(self.targets) * longest


def _kb(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def _smem(v: Verdict) -> str:
    if v.smem_counted is None:
        return "-"
    return f"{v.smem_counted:,}/{v.smem_limit:,}"


def counts(verdicts: list[Verdict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in verdicts:
        out[v.status] = out.get(v.status, 0) + 1
    return out


def summary_line(info: RunInfo, verdicts: list[Verdict]) -> str:
    n_variants = len({v.variant for v in verdicts})
    parts = ", ".join(f"{n} {s}" for s, n in sorted(counts(verdicts).items(), key=lambda kv: kv[0] != "ok"))
    return (f"{info.label}: {len(verdicts)} compiles ({n_variants} variants x {len(info.targets)} targets): {parts}. "
            f"Matrix wall time {info.wall:.0f} s with {info.jobs} jobs (venv set-up {info.setup:.0f} s) against a "
            f"bound of {bound_text(info.bound, info.own_bounds)}, so at most {info.worst_case(n_variants):,.0f} s "
            "in all."
            + (f" nvcc of CUDA {info.cuda}." if info.cuda else ""))


def terminal_table(info: RunInfo, verdicts: list[Verdict]) -> str:
    rows = [("variant", "ws", "target", "status", "s", "regs", "stack", "smem B (used/limit)", "warn")]
    for v in verdicts:
        rows.append((v.variant, ",".join(map(str, v.world_sizes)), v.target, v.status, f"{v.seconds:.1f}",
                     _kb(v.regs), _kb(v.stack), _smem(v), str(len(v.warnings))))
    lines = align(rows)
    failures = [v for v in verdicts if not v.ok]
    if failures:
        lines.append("")
        lines.append("Failures:")
        lines += [f"  {v.variant} {v.target}: {v.status}: {v.message}" for v in failures]
    warned: dict[str, list[str]] = {}
    for v in verdicts:
        for w in v.warnings:
            warned.setdefault(w[:300], []).append(f"{v.variant} {v.target}")
    if warned:
        lines.append("")
        lines.append("Compiler warnings (each distinct warning, and the compiles that printed it):")
        for w, where in warned.items():
            lines.append(f"  {w}")
            lines.append(f"    in {len(where)}: {'; '.join(where[:6])}{' ...' if len(where) > 6 else ''}")
    lines.append("")
    lines.append(summary_line(info, verdicts))
    return "\n".join(lines)


def write_json(path: Path, info: RunInfo, verdicts: list[Verdict]) -> None:
    doc = {"run": asdict(info), "summary": counts(verdicts), "ok": all(v.ok for v in verdicts),
           "results": [asdict(v) for v in verdicts]}
    path.write_text(json.dumps(redact_data(doc), indent=1) + "\n")


def write_junit(path: Path, info: RunInfo, verdicts: list[Verdict]) -> None:
    failures = sum(1 for v in verdicts if v.status not in ("ok", "timeout", "crash"))
    errors = sum(1 for v in verdicts if v.status in ("timeout", "crash"))
    suite = ET.Element("testsuite", name=f"verify-sm120 {info.label}", tests=str(len(verdicts)),
                       failures=str(failures), errors=str(errors), time=f"{info.wall:.2f}")
    for v in verdicts:
        case = ET.SubElement(suite, "testcase", classname=v.kernel, name=f"{v.variant} {v.target}",
                             time=f"{v.seconds:.2f}")
        if v.status in ("timeout", "crash"):
            ET.SubElement(case, "error", message=v.message, type=v.status).text = v.message
        elif not v.ok:
            ET.SubElement(case, "failure", message=v.message, type=v.status).text = v.message
        if v.warnings:
            ET.SubElement(case, "system-err").text = "\n".join(v.warnings)
    for element in suite.iter():
        element.text = redact(element.text) if element.text else element.text
        element.attrib.update({k: redact(v) for k, v in element.attrib.items()})
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def markdown_table(info: RunInfo, verdicts: list[Verdict]) -> str:
    lines = [f"## verify-sm120: {info.label}", "",
             f"Machine: {info.machine}. Targets: {', '.join(info.targets)}.", "",
             "| variant | world sizes | target | status | seconds | regs | stack B | shared B (used / limit) "
             "| warnings | note |",
             "|---|---|---|---|---:|---:|---:|---:|---|---|"]
    for v in verdicts:
        warns = "<br>".join(w[:160].replace("|", "\\|") for w in v.warnings) or "-"
        note = v.message.replace("|", "\\|") or "-"
        lines.append(f"| `{v.variant}` | {','.join(map(str, v.world_sizes))} | {v.target} | {v.status} | "
                     f"{v.seconds:.1f} | {_kb(v.regs)} | {_kb(v.stack)} | {_smem(v)} | {warns} | {note} |")
    lines += ["", summary_line(info, verdicts), ""]
    return "\n".join(lines)


def write_reports(folder: Path, info: RunInfo, verdicts: list[Verdict]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "verify.json", folder / "verify.xml", folder / "verify.md"]
    write_json(paths[0], info, verdicts)
    write_junit(paths[1], info, verdicts)
    paths[2].write_text(redact(markdown_table(info, verdicts)))
    return paths


def same_source(kit: Verdict, stock: Verdict) -> str:
    """yes: byte-identical; "yes, up to workspace names": equal once TileLang's nondeterministically
    numbered workspace buffers are renumbered; NO: different code; -: no source on one side."""
    if not (kit.source_sha256 and stock.source_sha256):
        return "-"
    if kit.source_sha256 == stock.source_sha256:
        return "yes"
    if kit.normalized_source_sha256 and kit.normalized_source_sha256 == stock.normalized_source_sha256:
        return "yes, up to workspace names"
    return "NO"


def compare_table(kit_label: str, stock_label: str, kit: list[Verdict], stock: list[Verdict]) -> str:
    """Side by side (this: the subject; other: --compare's wheel): outcome, seconds and their ratio, registers,
    local memory (spills) and counted shared memory (one value where both agree), and whether the generated
    CUDA source is identical."""
    theirs = {(v.variant, v.target): v for v in stock}
    rows = [("variant", "target", "this", "other", "this s", "other s", "ratio", "regs", "local B", "shared B",
             "same source")]
    for v in kit:
        s = theirs.get((v.variant, v.target))
        if s is None:
            continue
        ratio = f"{v.seconds / s.seconds:.2f}" if s.seconds > 0 else "-"
        rows.append((v.variant, v.target, v.status, s.status, f"{v.seconds:.1f}", f"{s.seconds:.1f}", ratio,
                     _pair(v.regs, s.regs), _pair(v.local, s.local), _pair(v.smem_counted, s.smem_counted, "{:,}"),
                     same_source(v, s)))
    return "\n".join([f"this: {kit_label}   other: {stock_label}", *align(rows)])


def _pair(this: int | None, other: int | None, form: str = "{}") -> str:
    """One value where both agree, else this/other; '-' for a value not known."""
    a, b = ("-" if x is None else form.format(x) for x in (this, other))
    return a if a == b else f"{a}/{b}"


def toolkit_table(results: list[tuple[str, list[Verdict]]]) -> str:
    """verify-sm120 --cuda with several toolkits: per toolkit and target, the outcomes, the median compile
    seconds, whether each CUDA source equals the first toolkit's (TileLang generates it before nvcc runs, so it
    should), and the first failure in the compiler's own words."""
    first = {(v.variant, v.target): v.source_sha256 for v in results[0][1]}
    rows = [("CUDA", "target", "ok", "not launchable", "failed", "median s", f"source = CUDA {results[0][0]}'s",
             "first failure")]
    for cuda, verdicts in results:
        for target in dict.fromkeys(v.target for v in verdicts):
            mine = [v for v in verdicts if v.target == target]
            n = counts(mine)
            compiled = [v.seconds for v in mine if v.status in ("ok", "not launchable")]
            sources = [v for v in mine if v.source_sha256 and first.get((v.variant, v.target))]
            same = sum(1 for v in sources if v.source_sha256 == first[(v.variant, v.target)])
            failure = next((v for v in mine if v.status not in ("ok", "not launchable")), None)
            rows.append((cuda, target, str(n.get("ok", 0)), str(n.get("not launchable", 0)),
                         str(len(mine) - n.get("ok", 0) - n.get("not launchable", 0)),
                         f"{statistics.median(compiled):.1f}" if compiled else "-",
                         f"{same}/{len(sources)}" if sources else "-",
                         f"{failure.variant}: {(failure.message.strip().splitlines() or [failure.status])[0][:120]}"
                         if failure else "-"))
    return "\n".join(align(rows))
