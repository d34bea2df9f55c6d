"""build-wheel --arch aarch64 for real, on the fixture extension: the kit's pipeline (sdist, series, build venv,
scikit-build-core with the kit's toolchain file, auditwheel repair, label, provenance) makes an aarch64 wheel on
this x86_64 machine, whose module the target's own python3 imports under qemu-user."""

from __future__ import annotations

import json
import os
import zipfile

from conftest import TINY, make_sdist, write_recipe

from tlkit.base.paths import cache_root
from tlkit.wheel.cross.arch import load_debian
from tlkit.wheel.cross.emulate import ensure_qemu, run_emulated
from tlkit.wheel.cross.sysroot import ensure_sysroot
from tlkit.wheel.cross.target import elf_machine
from tlkit.wheel.pipeline import BuildInput, build_wheel, make_plan
from tlkit.wheel.series import load_series
from tlkit.wheel.wheelfile import runs_on

BOUND_S = 600  # a bound so that a stuck emulator fails the test; not a timing


def test_aarch64_wheel_of_the_fixture_is_built_here_repaired_and_imports_under_qemu(kit, find_links, tmp_path):
    _, sha = make_sdist(TINY, find_links)
    names = sorted(p.name for p in (kit / "patches" / "tinyext").glob("*.patch"))
    write_recipe(kit, "tiny", sha, names)
    series_hash = load_series(kit / "patches", "tinyext", names).digest
    # The target's sysroot, CUDA and wheels are the user's cache, as tests/test_cross_build.py's: made once.
    given = BuildInput(recipe="tiny", kit=kit, cache=cache_root(), dist=kit / "dist", work=kit / "build", jobs=2,
                       arch="aarch64")
    wheel = build_wheel(given, log=lambda *_: None)

    label = f"tlkit.cu132.p{series_hash[:8]}"
    # auditwheel's tag for the target: its symbols need GLIBC_2.17 at most (the oldest aarch64 glibc)
    assert wheel.name == (f"tlkit_fixture_ext-1.0.0+{label}-cp311-cp311-manylinux2014_aarch64.manylinux_2_17_aarch64"
                          ".whl"), wheel.name
    assert runs_on(wheel.name, "aarch64") and not runs_on(wheel.name, "x86_64")
    assert sorted(p.name for p in wheel.parent.iterdir()) == [wheel.name]
    assert make_plan(given).work == kit / "build" / "tiny-cu13.2-aarch64"  # not the native build's folder
    assert not (kit / "build" / "tiny-cu13.2-aarch64" / "wheel-raw").exists()

    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
        prov = json.loads(zf.read(f"tlkit_fixture_ext-1.0.0+{label}.dist-info/tlkit_provenance.json"))
    module = next((site / "tinyext").glob("_tiny*.so"))
    assert elf_machine(module) == "aarch64"
    cross = prov["cross"]
    assert cross["arch"] == "aarch64" and cross["python"] == "3.11"
    assert cross["cross_compiler"]["triplet"] == "aarch64-linux-gnu" and cross["cross_compiler"]["gcc"]
    assert "g++-aarch64-linux-gnu" in cross["cross_compiler"]["debian_packages"]
    assert "nvidia-cuda-nvcc==13.2.86" in cross["toolkit_wheels"]
    assert any(p.startswith("python3.11_") and p.endswith("_arm64.deb") for p in cross["sysroot_packages"])
    assert prov["build"]["machine"] == "x86_64"  # where it was built

    # The target's python3.11 (Debian arm64, in the sysroot) imports it under qemu-user and runs its C code.
    plan = make_plan(given)
    qemu = ensure_qemu(plan.arch, dict(os.environ), log=lambda *_: None)
    sysroot = ensure_sysroot(plan.arch, load_debian(kit / "recipes" / "arches.toml"), cache_root(), dict(os.environ))
    code = "import platform, tinyext; print(platform.machine(), tinyext.answer(), tinyext.root(16.0), " \
           "tinyext._tiny.pid() > 0)"
    res = run_emulated(qemu, sysroot, [str(sysroot / "usr" / "bin" / "python3.11"), "-c", code],
                       {**os.environ, "PYTHONPATH": str(site)}, BOUND_S)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["aarch64", "42", "4.0", "True"]

    # Reproducible: the same bytes again from a fresh build folder.
    first = wheel.read_bytes()
    again = build_wheel(BuildInput(**{**given.__dict__, "clean": True}), log=lambda *_: None)
    assert again == wheel and again.read_bytes() == first
