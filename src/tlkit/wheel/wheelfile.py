"""Finishing a repaired wheel: local version label, pinned runtime requirements, provenance JSON, a fresh
RECORD, and a byte-reproducible zip that appears in dist/ only when complete."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import tempfile
import time
import zipfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tlkit.base.errors import BuildError, KitError
from tlkit.base.redact import redact_data

PROVENANCE = "tlkit_provenance.json"
_WHEEL_NAME = re.compile(r"^(?P<dist>[^-]+)-(?P<ver>[^-]+)(-(?P<build>\d[^-]*))?-(?P<tags>[^-]+-[^-]+-[^-]+)\.whl$")


def parse_wheel_name(name: str) -> tuple[str, str, str]:
    m = _WHEEL_NAME.match(name)
    if not m:
        raise BuildError(f"{name}: not a wheel file name")
    return m.group("dist"), m.group("ver"), m.group("tags")


def runs_on(name: str, machine: str) -> bool:
    """Whether the wheel file `name` is for `machine` (x86_64, aarch64): dist/ holds the wheels of every arch
    under one label, and only the platform tag tells them apart."""
    platforms = parse_wheel_name(name)[2].split("-")[2].split(".")
    return any(p == "any" or p.endswith(f"_{machine}") for p in platforms)


def pin_requirements(lines: list[str], pins: dict[str, str]) -> list[str]:
    """Replace the version specifier of each pinned package (markers kept, entries of extras untouched).

    A pin for a package the wheel does not require is an error: it is a typo, or upstream dropped it."""
    wanted = {canonicalize_name(k): (k, v) for k, v in pins.items()}
    used: set[str] = set()
    out = []
    for line in lines:
        if line.startswith("Requires-Dist: "):
            req = Requirement(line[len("Requires-Dist: "):])
            key = canonicalize_name(req.name)
            in_extra = req.marker is not None and "extra" in str(req.marker)
            if key in wanted and not in_extra:
                used.add(key)
                marker = f"; {req.marker}" if req.marker else ""
                line = f"Requires-Dist: {req.name}{wanted[key][1]}{marker}"
        out.append(line)
    unused = sorted(name for key, (name, _) in wanted.items() if key not in used)
    if unused:
        raise BuildError(f"runtime pins {unused} name packages the wheel does not require "
                         "(check [runtime] pins in the recipe)")
    return out


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _zip_time(epoch: int) -> tuple[int, int, int, int, int, int]:
    return time.gmtime(max(epoch, 315532800))[:6]


def finalize_wheel(wheel: Path, dest_dir: Path, *, expect_version: str, label: str, pins: dict[str, str],
                   provenance: dict, epoch: int) -> Path:
    """Write the finished wheel to dest_dir atomically and return its path."""
    dist, built_version, tags = parse_wheel_name(wheel.name)
    if built_version != expect_version:
        raise BuildError(f"{wheel.name}: the build says version {built_version!r}, the recipe pins "
                         f"{expect_version!r} (is the tree's own version label switched off?)")
    version = f"{expect_version}+{label}"
    old_prefix, new_prefix = f"{dist}-{built_version}.", f"{dist}-{version}."
    files: dict[str, tuple[bytes, int]] = {}
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            name = info.filename
            if name.startswith(old_prefix) and name.split("/", 1)[0].endswith((".dist-info", ".data")):
                name = new_prefix + name[len(old_prefix):]
            mode = 0o755 if (info.external_attr >> 16) & 0o111 else 0o644
            files[name] = (zf.read(info), mode)
    info_dir = f"{dist}-{version}.dist-info"
    meta_name = f"{info_dir}/METADATA"
    if meta_name not in files:
        raise BuildError(f"{wheel.name}: no {meta_name}")
    head, sep, body = files[meta_name][0].decode("utf-8").partition("\n\n")
    lines = [f"Version: {version}" if ln.startswith("Version: ") else ln for ln in head.split("\n")]
    files[meta_name] = (("\n".join(pin_requirements(lines, pins)) + sep + body).encode("utf-8"), 0o644)
    record = json.dumps(redact_data(provenance), indent=2, sort_keys=True)  # a git source URL may hold credentials
    files[f"{info_dir}/{PROVENANCE}"] = (record.encode() + b"\n", 0o644)
    record_name = f"{info_dir}/RECORD"
    files.pop(record_name, None)
    # dist-info last, RECORD at the very end, everything else in sorted order
    order = sorted(files, key=lambda n: (n.startswith(info_dir + "/"), n))
    record = "".join(f"{n},{_record_hash(files[n][0])},{len(files[n][0])}\n" for n in order)
    record += f"{record_name},,\n"
    files[record_name] = (record.encode(), 0o644)
    order.append(record_name)

    final = dest_dir / f"{dist}-{version}-{tags}.whl"
    dest_dir.mkdir(parents=True, exist_ok=True)
    stamp = _zip_time(epoch)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".partial", dir=dest_dir)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            for name in order:
                data, mode = files[name]
                info = zipfile.ZipInfo(name, date_time=stamp)
                info.external_attr = (0o100000 | mode) << 16
                info.create_system = 3
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, data, compresslevel=6)
        os.chmod(tmp_name, 0o644)  # mkstemp makes 0600; a wheel is for everyone to install
        os.replace(tmp_name, final)
    except BaseException as exc:
        Path(tmp_name).unlink(missing_ok=True)
        if isinstance(exc, OSError):  # a full disk: the write has no file name of its own
            raise KitError(f"cannot write {final}: {exc.strerror or exc}") from exc
        raise
    return final
