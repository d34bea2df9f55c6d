"""doctor's driver table (verify/cuda-drivers.toml): from a driver version string, which cu13X wheels the machine
runs with their toolkit's driver, which only through CUDA minor version compatibility, and which not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from tlkit.base.errors import RecipeError
from tlkit.verify.doctor import assess, driver_version, load_driver_table, wheels_finding, wheels_for_driver
from tlkit.wheel.toolchain import load_toolchains

KIT = Path(__file__).resolve().parents[1]
TABLE = load_driver_table(KIT / "verify" / "cuda-drivers.toml")


def test_the_table_has_a_row_for_every_toolkit_the_kit_knows():
    assert list(TABLE.toolkits) == list(load_toolchains(KIT / "recipes" / "cuda-toolchains.toml"))
    assert TABLE.floor == (580, 65, 6)
    assert TABLE.toolkits["13.0"] == (580, 65, 6) and TABLE.toolkits["13.3"] == (610, 43, 2)


@pytest.mark.parametrize(("driver", "expected"), [
    ("575.57.08", ["no"] * 6),  # a CUDA 12.9 driver
    ("580.65.05", ["no"] * 6),  # one below 13.0 GA's driver
    ("580.65.06", ["full"] + ["minor compat"] * 5),
    ("590.44.01", ["full", "full"] + ["minor compat"] * 4),
    ("595.71.05", ["full"] * 3 + ["minor compat"] * 3),
    ("610.43.02", ["full"] * 4 + ["minor compat"] * 2),
    ("616.56", ["full"] * 4 + ["minor compat"] * 2),  # 13.4 and 13.5 name no driver: never "full"
    ("", ["unknown"] * 6),
    ("n/a", ["unknown"] * 6),
])
def test_which_cu13x_wheels_a_driver_runs(driver, expected):
    assert list(wheels_for_driver(driver, TABLE).values()) == expected


def test_driver_versions_compare_as_numbers_not_text():
    assert driver_version("595.45.04") > driver_version("595.9.99")
    assert driver_version("1000.1") > driver_version("999.99.99")
    assert driver_version("595.45.04 ") == (595, 45, 4) and driver_version("595.x") is None


def test_the_findings_say_it_in_one_line():
    assert wheels_finding("595.71.05", TABLE).text == (
        "driver 595.71.05 runs cu130, cu131, cu132 with their toolkit's own driver support; cu133, cu134, cu135 "
        "through CUDA minor version compatibility (cubins load; their toolkit's PTX would not JIT; features that "
        "need a newer driver fail); NVIDIA names no driver for CUDA 13.4, 13.5")
    old = wheels_finding("570.124.06", TABLE)
    assert old.level == "PROBLEM" and old.text == (
        "driver 570.124.06 runs no cu13X wheel: CUDA 13.x needs driver 580.65.06 or newer (r580)")
    assert wheels_finding(None, TABLE).level == "note"


def test_doctor_puts_the_wheel_line_after_the_driver_line():
    report = {"devices": [], "driver_version": "610.43.02", "driver_cuda": "13.3", "python": "/usr/bin/python3",
              "packages": {"tilelang": "0.1.14", "apache-tvm-ffi": "0.1.12", "torch": "2.13.0"},
              "nvcc": {"path": "/x/nvcc", "version": "13.2"}}
    texts = [f.text for f in assess(report, {}, TABLE)]
    at = next(i for i, t in enumerate(texts) if t.startswith("driver 610.43.02, supports CUDA up to 13.3"))
    assert texts[at + 1].startswith("driver 610.43.02 runs cu130, cu131, cu132, cu133 with their toolkit's own")


def test_a_bad_driver_row_names_file_and_key(tmp_path):
    bad = tmp_path / "d.toml"
    bad.write_text((KIT / "verify" / "cuda-drivers.toml").read_text().replace('"13.1" = "590.44.01"',
                                                                               '"13.1" = "r590"'))
    with pytest.raises(RecipeError, match=r"\[toolkit_driver\.13\.1\] must be a driver version like 595.45.04"):
        load_driver_table(bad)


@pytest.mark.parametrize(("machine", "level", "says"), [
    ("aarch64", "ok", "aarch64 host: the kit's wheel for it is tilelang-<version>+<label>-cp39-abi3-"
                      "manylinux_2_<N>_aarch64.whl (`nox -s build-wheel` on this machine, or "
                      "`nox -s build-wheel -- --arch aarch64` on another)"),
    ("arm64", "ok", "aarch64 host: the kit's wheel for it is"),  # macOS / some Linux spell it so
    ("x86_64", "ok", "x86_64 host: the kit's wheel for it is tilelang-<version>+<label>-cp39-abi3-manylinux_2_<N>_"
                     "x86_64.whl"),
    ("riscv64", "PROBLEM", "riscv64 host: the kit builds wheels for aarch64, x86_64 only"),
])
def test_doctor_says_which_wheel_fits_the_host(machine, level, says):
    from tlkit.wheel.cross.arch import load_arches

    report = {"devices": [], "python": "/usr/bin/python3", "machine": machine, "packages": {},
              "nvcc": {"path": "/x/nvcc", "version": "13.2"}}
    findings = assess(report, {}, TABLE, load_arches(KIT / "recipes" / "arches.toml"))
    assert findings[0].text.startswith("no NVIDIA GPU")  # the GPU lines first, then the host's wheel
    line = findings[1]
    assert line.level == level and line.text.startswith(says), line


def test_the_probe_reports_the_machine_of_the_interpreter_it_runs_in():
    import json
    import platform
    import subprocess
    import sys

    probe = KIT / "src" / "tlkit" / "verify" / "probe.py"
    out = subprocess.run([sys.executable, str(probe), "--no-import"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["machine"] == platform.machine()
