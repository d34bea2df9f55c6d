"""What this machine's NVIDIA driver and the Python environment under test offer: GPUs (through libcuda,
no framework needed), driver and toolkit versions, installed package versions, TileLang's auto target.

Standalone on purpose (stdlib only at import): `tlkit doctor` runs it as a script inside the interpreter
being examined and reads one JSON object from its stdout; verify-gpu imports `cuda_devices` to learn
whether there is a GPU at all."""

from __future__ import annotations

import ctypes
import importlib.metadata as md
import json
import os
import platform
import re
import shutil
import subprocess
import sys

# cuDeviceGetAttribute numbers (CUDA driver API, CUdevice_attribute)
_ATTR = {"cc_major": 75, "cc_minor": 76, "smem_per_block": 8, "smem_per_block_optin": 97, "sm_count": 16}


def _libcuda():
    for name in ("libcuda.so.1", "libcuda.so"):
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


def cuda_devices() -> dict:
    """{"driver_cuda": "13.0" | None, "devices": [...], "error": str | None} from the driver API."""
    lib = _libcuda()
    if lib is None:
        return {"driver_cuda": None, "devices": [], "error": "libcuda.so.1 not found (no NVIDIA driver)"}
    version = ctypes.c_int(0)
    lib.cuDriverGetVersion(ctypes.byref(version))
    driver_cuda = f"{version.value // 1000}.{version.value % 1000 // 10}" if version.value else None
    rc = lib.cuInit(0)
    if rc != 0:
        return {"driver_cuda": driver_cuda, "devices": [], "error": f"cuInit failed with CUDA error {rc}"}
    count = ctypes.c_int(0)
    lib.cuDeviceGetCount(ctypes.byref(count))
    devices = []
    for i in range(count.value):
        dev = ctypes.c_int(0)
        lib.cuDeviceGet(ctypes.byref(dev), i)
        name = ctypes.create_string_buffer(256)
        lib.cuDeviceGetName(name, 256, dev)
        info = {"index": i, "name": name.value.decode(errors="replace")}
        for key, attr in _ATTR.items():
            value = ctypes.c_int(0)
            lib.cuDeviceGetAttribute(ctypes.byref(value), attr, dev)
            info[key] = value.value
        info["arch"] = f"sm_{info['cc_major']}{info['cc_minor']}"
        devices.append(info)
    return {"driver_cuda": driver_cuda, "devices": devices, "error": None}


def driver_version() -> str | None:
    smi = shutil.which("nvidia-smi")
    if not smi:
        return None
    res = subprocess.run([smi, "--query-gpu=driver_version", "--format=csv,noheader"], capture_output=True, text=True)
    return res.stdout.strip().splitlines()[0] if res.returncode == 0 and res.stdout.strip() else None


def nvcc_version() -> dict:
    """The nvcc TileLang would run: $CUDA_HOME/bin/nvcc, else the one on PATH."""
    home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH")
    nvcc = os.path.join(home, "bin", "nvcc") if home and os.path.isfile(os.path.join(home, "bin", "nvcc")) \
        else shutil.which("nvcc")
    if not nvcc:
        return {"path": None, "version": None}
    res = subprocess.run([nvcc, "--version"], capture_output=True, text=True)
    m = re.search(r"release (\d+\.\d+)", res.stdout)
    return {"path": nvcc, "version": m.group(1) if m else None}


def package_versions(names=("tilelang", "apache-tvm-ffi", "torch", "z3-solver")) -> dict:
    out = {}
    for name in names:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = None
    return out


def wheel_provenance() -> dict | None:
    """The tlkit provenance record inside the installed TileLang wheel, if it is a kit wheel."""
    try:
        dist = md.distribution("tilelang")
    except md.PackageNotFoundError:
        return None
    text = dist.read_text("tlkit_provenance.json")
    return json.loads(text) if text else None


def tilelang_auto_target() -> dict:
    """What TileLang itself picks with target="auto" (imports tilelang; errors are part of the answer)."""
    try:
        import tilelang  # noqa: F401
    except Exception as exc:  # an import failure is a finding, not a crash of the probe
        return {"target": None, "error": f"import tilelang: {type(exc).__name__}: {str(exc).strip()[:600]}"}
    try:
        try:
            from tilelang.backend.target import determine_target
        except ImportError:
            from tilelang.utils.target import determine_target
        return {"target": str(determine_target("auto")), "error": None}
    except Exception as exc:
        return {"target": None, "error": f"{type(exc).__name__}: {str(exc).strip()[:600]}"}


def main() -> None:
    report = {"python": sys.executable, "python_version": sys.version.split()[0], "machine": platform.machine(),
              **cuda_devices(),
              "driver_version": driver_version(), "nvcc": nvcc_version(), "packages": package_versions(),
              "provenance": wheel_provenance()}
    if "--no-import" not in sys.argv:
        report["auto_target"] = tilelang_auto_target()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
