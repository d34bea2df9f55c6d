"""The machine: one line describing it for a measurement, and its memory (/proc/meminfo, read in one place)."""

from __future__ import annotations

import os
import platform


def meminfo_bytes(key: str) -> int | None:
    """`MemTotal`, `MemAvailable`, ... from /proc/meminfo in bytes; None where it cannot be read."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith(f"{key}:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def describe() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    except OSError:
        pass
    total = meminfo_bytes("MemTotal")
    mem = f", {total / 2**30:.0f} GiB RAM" if total else ""
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}){mem}, "
            f"Python {platform.python_version()}")
