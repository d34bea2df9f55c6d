"""The target machine of a build (`--arch`): its names in GNU, Debian and wheel tags, from recipes/arches.toml."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from pathlib import Path

from tlkit.base.errors import KitError
from tlkit.base.tomltable import Table, load_toml

ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}  # what platform.machine() says on some systems


@dataclass(frozen=True)
class DebianSource:
    """Where the target's Debian packages come from (the [debian] table)."""

    suites: tuple[str, ...]
    security_suites: tuple[str, ...]
    mirror: str
    security_mirror: str
    keyring: str
    packages: tuple[str, ...]


def load_debian(table_path: Path) -> DebianSource:
    top = Table(table_path, load_toml(table_path), "")
    top.table("arch")
    deb = top.table("debian")
    source = DebianSource(tuple(deb.str_list("suites")), tuple(deb.str_list("security_suites")), deb.str("mirror"),
                          deb.str("security_mirror"), deb.str("keyring"), tuple(deb.str_list("packages")))
    deb.finish()
    top.finish()
    return source


@dataclass(frozen=True)
class Arch:
    name: str  # x86_64 or aarch64: the wheel tag's and uname's spelling
    triplet: str
    debian: str
    glibc: tuple[int, int]
    cross_compiler: str
    qemu: str
    emulated_cpu: str  # "implementer:part" for the emulation sysroot's /proc/cpuinfo; "" for none

    @property
    def wheel_platform(self) -> str:
        """The tag of the unrepaired wheel (auditwheel then gives manylinux_2_N_<arch>)."""
        return f"linux_{self.name}"

    def pip_platforms(self) -> list[str]:
        """`--platform` values under which pip picks this machine's wheels, newest glibc first."""
        major, minor = self.glibc
        return [*(f"manylinux_{major}_{m}_{self.name}" for m in range(minor, 16, -1)), f"manylinux2014_{self.name}"]


def load_arches(table_path: Path) -> dict[str, Arch]:
    top = Table(table_path, load_toml(table_path), "")
    rows = top.table("arch")
    arches = {}
    for name in rows.data:
        row = rows.table(name)
        glibc = row.str("glibc")
        parts = glibc.split(".")
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise row.fail("glibc", f"must be MAJOR.MINOR, got {glibc!r}")
        arches[name] = Arch(name, row.str("triplet"), row.str("debian"), (int(parts[0]), int(parts[1])),
                            row.str("cross_compiler"), row.str("qemu"),
                            row.str("emulated_cpu", required=False) or "")
        row.finish()
    rows.finish()
    top.table("debian")  # read by sysroot.py
    top.finish()
    return arches


def host_machine() -> str:
    machine = platform.machine()
    return ALIASES.get(machine, machine)


def resolve_arch(value: str | None, table_path: Path, option: str = "--arch") -> Arch:
    """`value` (None: this machine's own) as a row of the table; anything else is one line naming the option
    and the choices."""
    arches = load_arches(table_path)
    name = value if value is not None else host_machine()
    if name not in arches:
        where = f"{option} {name}" if value is not None else f"this machine ({name}); give {option}"
        raise KitError(f"{where}: not a target the kit builds for; choose one of {', '.join(sorted(arches))}")
    return arches[name]
