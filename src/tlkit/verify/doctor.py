"""`tlkit doctor`: examine a Python environment and this machine's GPU for what a TileLang kernel needs,
and say plainly what does not match (driver too old for the toolkit, no GPU, no auto target ...)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from tlkit.base import procs
from tlkit.base.errors import KitError
from tlkit.base.tomltable import Table, load_toml
from tlkit.verify import probe
from tlkit.verify.smem import base_arch, load_limits
from tlkit.wheel.cross.arch import ALIASES, load_arches


@dataclass(frozen=True)
class Finding:
    level: str  # ok | note | PROBLEM
    text: str


def default_python() -> str:
    """The python3 a user would run outside this nox session (the session's own venv skipped)."""
    own = os.environ.get("VIRTUAL_ENV")
    parts = [p for p in os.environ.get("PATH", "").split(os.pathsep)
             if not (own and Path(p).resolve() == (Path(own) / "bin").resolve())]
    found = shutil.which("python3", path=os.pathsep.join(parts))
    if not found:
        raise KitError("no python3 on PATH outside the nox session: pass --python PATH")
    return found


def run_probe(python: str, env: dict[str, str] | None = None, timeout: float = 300) -> dict:
    """The probe's JSON from `python`, run tied (it and the nvcc and nvidia-smi it starts end with the kit)."""
    # Said here, in the words the OS would use: under the supervisor a bad interpreter is only an exit status.
    exe = shutil.which(python) if os.sep not in python else python
    if exe is None:
        raise KitError(f"--python {python}: {os.strerror(errno.ENOENT)}")
    try:
        os.stat(exe)
    except OSError as exc:
        raise KitError(f"--python {python}: {exc.strerror}") from None
    if not os.path.isfile(exe) or not os.access(exe, os.X_OK):
        raise KitError(f"--python {python}: {os.strerror(errno.EACCES)}")
    try:
        res = procs.run([exe, probe.__file__], capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise KitError(f"the environment probe in {python} did not finish within {timeout:g} s") from None
    if res.returncode != 0 or not res.stdout.strip():
        raise KitError(f"the environment probe failed in {python}:\n{res.stderr.strip()[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def _ver(v: str | None) -> tuple[int, int] | None:
    if not v:
        return None
    major, _, minor = v.partition(".")
    return int(major), int(minor.split(".")[0] or 0)


def toolkit_finding(driver_cuda: str | None, toolkit: str | None, what: str) -> Finding:
    """A CUDA toolkit's code against the driver: a newer major cannot load at all; a newer minor loads as
    cubin (minor version compatibility) but its PTX cannot be JIT-compiled by the older driver."""
    d, t = _ver(driver_cuda), _ver(toolkit)
    if d is None or t is None:
        return Finding("note", f"{what}: CUDA {toolkit or '?'}; the driver supports CUDA {driver_cuda or '?'}: "
                               "not compared")
    if t[0] > d[0]:
        return Finding("PROBLEM", f"{what}: CUDA {toolkit}, but the driver supports only CUDA {driver_cuda}: kernels "
                                  f"it builds will not load (install an NVIDIA driver for CUDA {t[0]}.x, r580 or "
                                  f"newer for 13.x, or use a CUDA {d[0]}.x toolkit)")
    if t > d:
        return Finding("note", f"{what}: CUDA {toolkit}, the driver supports CUDA {driver_cuda}: cubins load "
                               f"(minor version compatibility), PTX from this toolkit would not JIT")
    return Finding("ok", f"{what}: CUDA {toolkit}; the driver supports CUDA {driver_cuda}")


@dataclass(frozen=True)
class DriverTable:
    """verify/cuda-drivers.toml: the 13.x minor version compatibility floor and each toolkit's own driver."""

    floor: tuple[int, ...]
    toolkits: dict[str, tuple[int, ...] | None]  # None: NVIDIA names no driver for it (unbundled from 13.4)
    floor_text: str = ""  # as NVIDIA writes it (580.65.06)


def driver_version(text: str | None) -> tuple[int, ...] | None:
    """'595.71.05' as (595, 71, 5); None for anything that is not dotted numbers."""
    parts = (text or "").strip().split(".")
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else None


def load_driver_table(path: Path) -> DriverTable:
    top = Table(path, load_toml(path), "")
    floor_text = top.str("minor_compat_floor")
    floor = driver_version(floor_text)
    if floor is None:
        raise top.fail("minor_compat_floor", "must be a driver version like 580.65.06")
    rows = top.table("toolkit_driver")
    toolkits: dict[str, tuple[int, ...] | None] = {}
    for cuda in list(rows.data):
        text = rows._get(cuda, str, True, None)
        toolkits[cuda] = driver_version(text) if text else None
        if text and toolkits[cuda] is None:
            raise rows.fail(cuda, f"must be a driver version like 595.45.04 or \"\", got {text!r}")
    rows.finish()
    top.finish()
    return DriverTable(floor, toolkits, floor_text.strip())


def wheels_for_driver(driver: str | None, table: DriverTable) -> dict[str, str]:
    """Per CUDA 13.x minor, what a driver does with its cu13X wheel and the kernels its nvcc builds: "full" (the
    toolkit's own driver or newer), "minor compat" (cubins load, PTX of that toolkit would not JIT), "no" (below the
    13.x floor), or "unknown" (the driver version could not be read)."""
    have = driver_version(driver)
    out = {}
    for cuda, needs in table.toolkits.items():
        if have is None:
            out[cuda] = "unknown"
        elif have < table.floor:
            out[cuda] = "no"
        elif needs is not None and have >= needs:
            out[cuda] = "full"
        else:
            out[cuda] = "minor compat"
    return out


def wheels_finding(driver: str | None, table: DriverTable) -> Finding:
    """One line: which cu13X wheels this driver runs, and how."""
    verdicts = wheels_for_driver(driver, table)

    def labels(kind: str) -> str:
        return ", ".join("cu" + c.replace(".", "") for c, v in verdicts.items() if v == kind)

    if not verdicts or all(v == "unknown" for v in verdicts.values()):
        return Finding("note", f"driver version {driver or '?'} not readable: which cu13X wheels it runs is unknown")
    floor = table.floor_text or ".".join(map(str, table.floor))
    if all(v == "no" for v in verdicts.values()):
        return Finding("PROBLEM",
                       f"driver {driver} runs no cu13X wheel: CUDA 13.x needs driver {floor} or newer (r580)")
    parts = []
    if labels("full"):
        parts.append(f"{labels('full')} with their toolkit's own driver support")
    if labels("minor compat"):
        unknown = [c for c, v in verdicts.items() if v == "minor compat" and table.toolkits[c] is None]
        parts.append(f"{labels('minor compat')} through CUDA minor version compatibility (cubins load; their "
                     f"toolkit's PTX would not JIT; features that need a newer driver fail)"
                     + (f"; NVIDIA names no driver for CUDA {', '.join(unknown)}" if unknown else ""))
    return Finding("ok", f"driver {driver} runs " + "; ".join(parts))


def wheel_arch_finding(machine: str | None, arches: Collection[str]) -> Finding:
    """Which of the kit's wheels this machine installs: the platform tag says the arch (GB10 / DGX Spark hosts are
    aarch64), and where it is built."""
    name = ALIASES.get(machine or "?", machine or "?")
    if name not in arches:
        return Finding("PROBLEM", f"{name} host: the kit builds wheels for {', '.join(sorted(arches))} only")
    return Finding("ok", f"{name} host: the kit's wheel for it is tilelang-<version>+<label>-cp39-abi3-"
                         f"manylinux_2_<N>_{name}.whl (`nox -s build-wheel` on this machine, or "
                         f"`nox -s build-wheel -- --arch {name}` on another)")


def assess(report: dict, limits: dict[str, int], drivers: DriverTable | None = None,
           arches: Collection[str] = ()) -> list[Finding]:
    """`arches`: the machines the kit builds wheels for (recipes/arches.toml); empty: no wheel line."""
    out: list[Finding] = []
    devices = report.get("devices") or []
    if not devices:
        out.append(Finding("note", f"no NVIDIA GPU: {report.get('error') or 'the driver reports 0 devices'}; "
                                   "kernels can still be compiled for a named target (verify-sm120)"))
    for dev in devices:
        arch = dev["arch"]
        table = limits.get(base_arch(arch))
        text = (f"GPU {dev['index']}: {dev['name']}, compute capability {dev['cc_major']}.{dev['cc_minor']} ({arch}), "
                f"{dev['sm_count']} SMs, shared memory per block {dev['smem_per_block_optin']:,} B with opt-in "
                f"({dev['smem_per_block']:,} B without)")
        if table is not None and table != dev["smem_per_block_optin"]:
            out.append(Finding("note", f"{text}; the kit's table says {table:,} B for {base_arch(arch)}"))
        else:
            out.append(Finding("ok", text))
    if arches:
        out.append(wheel_arch_finding(report.get("machine"), arches))
    if report.get("driver_cuda"):
        out.append(Finding("ok", f"driver {report.get('driver_version') or '?'}, supports CUDA up to "
                                 f"{report['driver_cuda']}"))
    if drivers is not None and report.get("driver_version"):
        out.append(wheels_finding(report["driver_version"], drivers))
    prov = report.get("provenance")
    if prov and prov.get("toolchain"):
        out.append(toolkit_finding(report.get("driver_cuda"), prov["toolchain"]["cuda"],
                                   f"toolkit the TileLang wheel was built with ({prov.get('label')})"))
    nvcc = report.get("nvcc") or {}
    if nvcc.get("path"):
        out.append(toolkit_finding(report.get("driver_cuda"), nvcc.get("version"),
                                   f"nvcc that TileLang will compile kernels with ({nvcc['path']})"))
    else:
        out.append(Finding("PROBLEM", "no nvcc: set CUDA_HOME or put nvcc on PATH (pip install nvidia-cuda-nvcc "
                                      "nvidia-cuda-cccl of the wheel's CUDA version)"))
    pk = report.get("packages") or {}
    missing = [n for n in ("tilelang", "apache-tvm-ffi", "torch") if not pk.get(n)]
    out.append(Finding("PROBLEM" if missing else "ok",
                       ", ".join(f"{n} {v or 'NOT INSTALLED'}" for n, v in pk.items()) + f" in {report['python']}"))
    auto = report.get("auto_target")
    if auto is not None:
        if auto.get("error"):
            out.append(Finding("PROBLEM" if devices else "note", f"TileLang's auto target: {auto['error']}"))
        else:
            out.append(Finding("ok", f"TileLang's auto target: {auto['target']}"))
    return out


def format_findings(findings: list[Finding]) -> str:
    return "\n".join(f"[{f.level:>7}] {f.text}" for f in findings)


def cmd_doctor(args) -> int:
    from tlkit.base.paths import KitLayout

    python = args.python or default_python()
    report = run_probe(python)
    layout = KitLayout.find()
    findings = assess(report, load_limits(layout.smem_limits), load_driver_table(layout.cuda_drivers),
                      load_arches(layout.arches))
    if args.json:
        print(json.dumps({"report": report, "findings": [f.__dict__ for f in findings]}, indent=1))
    else:
        print(f"tlkit doctor: {python} (Python {report['python_version']})")
        print(format_findings(findings))
    return 1 if any(f.level == "PROBLEM" for f in findings) else 0


def add_doctor_parser(sub) -> None:
    p = sub.add_parser("doctor", help="GPU, driver, toolkit and package versions of a Python environment")
    p.add_argument("--python", help="interpreter to examine (default: python3 on PATH, outside the nox venv)")
    p.add_argument("--json", action="store_true", help="print the raw probe and the findings as JSON")
    p.set_defaults(func=cmd_doctor)
