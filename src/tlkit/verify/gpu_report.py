"""Reports of the GPU tier: terminal table, JSON, Markdown, and the kit/stock time comparison."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from tlkit.base.redact import redact, redact_data
from tlkit.base.texttable import align
from tlkit.verify.variants import bound_text
from tlkit.verify.workers import Run

PASSING = ("ok", "not launchable")  # a kernel the device cannot launch is reported, not run: not a failure


@dataclass(frozen=True)
class GpuRunInfo:
    label: str  # what was verified
    device: str
    machine: str
    wall: float
    compile_bound: float
    launch_bound: float
    timing: str  # how the medians were taken
    own_bounds: dict[str, float] = field(default_factory=dict)  # variant name -> its own compile bound


def worst_error(run: Run) -> str:
    """The largest error relative to the reference's magnitude, over the outputs."""
    errors = run.data.get("errors") or {}
    worst = max((e["max_abs_err"] / e["ref_max_abs"] if e["ref_max_abs"] else e["max_abs_err"]
                 for e in errors.values()), default=None)
    return "-" if worst is None else f"{worst:.1e}"


def _us(run: Run) -> str:
    ms = run.data.get("median_ms")
    return "-" if ms is None else f"{ms * 1000:.1f}"


def _dims(xs) -> str:
    return "x".join(str(x) for x in xs) if xs else "-"


def _fallbacks(d: dict) -> str:
    used = d.get("scalar_fallbacks")
    if used is None:
        return "-"
    return ", ".join(f"{k.removeprefix('tl::')} x{n}" for k, n in sorted(used.items())) or "none"


def _edges(edges: dict[str, str]) -> str:
    wrong = [k for k, v in edges.items() if v != "ok"]
    return f"{len(edges) - len(wrong)}/{len(edges)} ok" + (f" (wrong: {', '.join(wrong)})" if wrong else "")


# Columns shown only when some run has them: (header, key in Run.data, formatter)
OPTIONAL = (
    ("source (sha256)", "normalized_source_sha256", lambda d: d["normalized_source_sha256"][:12]),
    ("scalar fallbacks", "scalar_fallbacks", _fallbacks),
    ("edge shapes", "edges", lambda d: _edges(d["edges"])),
    ("as the model calls it", "model_call", lambda d: d["model_call"]),
    ("racecheck", "racecheck", lambda d: d["racecheck"]),
    ("synccheck", "synccheck", lambda d: d["synccheck"]),
)


def rows(runs: list[Run]) -> list[tuple[str, ...]]:
    extra = [c for c in OPTIONAL if any(c[1] in r.data for r in runs)]
    out = [("variant", "ws", "status", "compile s", "median us", "grid", "block", "smem B", "max rel err", "warn",
            *(c[0] for c in extra))]
    for r in runs:
        d = r.data
        smem = f"{d['dynamic_smem']:,}/{d['smem_limit']:,}" if "dynamic_smem" in d and d.get("smem_limit") else "-"
        out.append((r.variant.name, ",".join(map(str, r.variant.world_sizes)), r.status,
                    f"{d['compile_s']:.1f}" if d.get("compile_s") is not None else "-", _us(r),
                    _dims(d.get("grid")), _dims(d.get("block")), smem, worst_error(r), str(len(r.warnings)),
                    *(fmt(d) if key in d else "-" for _h, key, fmt in extra)))
    return out


def problems(runs: list[Run]) -> list[str]:
    out = []
    for r in runs:
        if r.status == "ok":
            continue
        text = f"{r.variant.name}: {r.status}: {r.error}"
        if r.status == "wrong":
            bad = {k: v for k, v in (r.data.get("errors") or {}).items() if v["bad"]}
            text += "; ".join(f"{k}: {v['bad']}/{v['elements']} elements outside '{v['tolerance']}', first at "
                              f"{v['first_bad']['index']}: got {v['first_bad']['got']:g}, "
                              f"want {v['first_bad']['want']:g}" for k, v in bad.items())
        if r.gpu_after:
            text += f"; GPU usable afterwards: {r.gpu_after}"
        out.append(text)
    return out


def summary(info: GpuRunInfo, runs: list[Run]) -> str:
    counts: dict[str, int] = {}
    for r in runs:
        counts[r.status] = counts.get(r.status, 0) + 1
    parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: kv[0] != "ok"))
    return (f"{info.label} on {info.device}: {len(runs)} variants: {parts}. Wall time {info.wall:.0f} s; bounds "
            f"{bound_text(info.compile_bound, info.own_bounds)}, {info.launch_bound:g} s per launch. "
            f"Times: {info.timing}.")


def terminal_table(info: GpuRunInfo, runs: list[Run]) -> str:
    lines = align(rows(runs))
    found = problems(runs)
    if found:
        lines += ["", "Not ok:"] + [f"  {p}" for p in found]
    lines += ["", summary(info, runs)]
    return "\n".join(lines)


def markdown_table(info: GpuRunInfo, runs: list[Run]) -> str:
    table = rows(runs)
    md = [f"# verify-gpu: {info.label}", "", f"Device: {info.device}; machine: {info.machine}", "",
          "| " + " | ".join(table[0]) + " |", "|" + "---|" * len(table[0])]
    md += ["| `" + r[0] + "` | " + " | ".join(r[1:]) + " |" for r in table[1:]]
    found = problems(runs)
    if found:
        md += ["", "Not ok:", ""] + [f"- {p}" for p in found]
    md += ["", summary(info, runs), ""]
    return "\n".join(md)


def write_gpu_reports(folder: Path, info: GpuRunInfo, runs: list[Run]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    doc = {"run": info.__dict__, "ok": all(r.status in PASSING for r in runs),
           "results": [{"variant": r.variant.name, "kernel": r.variant.kernel, "kwargs": r.variant.kwargs,
                        "world_sizes": list(r.variant.world_sizes), "status": r.status, "error": r.error,
                        "stage": r.stage, "gpu_after": r.gpu_after, "warnings": r.warnings, "log": r.log, **r.data}
                       for r in runs]}
    paths = [folder / "verify-gpu.json", folder / "verify-gpu.md"]
    paths[0].write_text(json.dumps(redact_data(doc), indent=1) + "\n")
    paths[1].write_text(redact(markdown_table(info, runs)))
    return paths


def compare_table(kit_label: str, stock_label: str, kit: list[Run], stock: list[Run]) -> str:
    """Per variant: both outcomes, both median times and the ratio kit/stock."""
    theirs = {r.variant: r for r in stock}
    table = [("variant", "kit", "stock", "kit us", "stock us", "kit/stock")]
    for r in kit:
        s = theirs.get(r.variant)
        if s is None:
            continue
        a, b = r.data.get("median_ms"), s.data.get("median_ms")
        table.append((r.variant.name, r.status, s.status, _us(r), _us(s), f"{a / b:.3f}" if a and b else "-"))
    return "\n".join([f"kit: {kit_label}   stock: {stock_label}", *align(table)])
