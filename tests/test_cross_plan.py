"""--arch: resolved once, the plan for another machine (its CUDA row, runtime pins, platform tags, folder,
label), the target's wheels resolved on the real index, and a bad value stopped in one line."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from tlkit.base.errors import KitError
from tlkit.wheel.cross.arch import resolve_arch
from tlkit.wheel.cross.compiler import ensure_cross_compiler
from tlkit.wheel.pipeline import BuildInput, make_plan
from tlkit.wheel.toolchain import load_toolchain_spec

KIT = Path(__file__).resolve().parents[1]
ARCHES = KIT / "recipes" / "arches.toml"


def test_default_arch_is_this_machine_and_keeps_the_native_folder():
    plan = make_plan(BuildInput(jobs=1))
    assert plan.arch.name == platform.machine() and not plan.cross and plan.target is None
    assert plan.work.name == f"tilelang-0.1.14-cu{plan.recipe.cuda_default}"


def test_aarch64_plan_names_the_target_toolkit_pins_tag_and_label():
    native = make_plan(BuildInput(jobs=1))
    plan = make_plan(BuildInput(jobs=1, arch="aarch64"))
    assert plan.cross and plan.arch.triplet == "aarch64-linux-gnu" and plan.arch.debian == "arm64"
    assert plan.arch.wheel_platform == "linux_aarch64"
    assert plan.label == native.label  # the platform tag, not the label, tells the two wheels apart
    default = plan.recipe.cuda_default
    assert plan.work.name == f"tilelang-0.1.14-cu{default}-aarch64"
    # the default row's own pins, each resolved for aarch64 by pip (the same names and versions)
    row = load_toolchain_spec(KIT / "recipes" / "cuda-toolchains.toml", default).packages
    assert plan.target.toolkit == tuple(f"{name}=={version}" for name, version in sorted(row.items()))
    assert plan.target.runtime == ("apache-tvm-ffi==0.1.12", "z3-solver==4.15.4.0")
    platforms = plan.arch.pip_platforms()
    assert platforms[0] == "manylinux_2_36_aarch64" and platforms[-1] == "manylinux2014_aarch64"
    assert "manylinux_2_34_aarch64" in platforms  # z3-solver 4.15.4.0's only aarch64 wheel


def test_aarch64_packages_resolve_to_aarch64_wheels_on_the_index(tmp_path):
    """pip itself (dry run, metadata only) picks one aarch64 wheel per pinned package."""
    plan = make_plan(BuildInput(jobs=1, arch="aarch64"))
    reqs = [*plan.target.toolkit, *plan.target.runtime]
    report = tmp_path / "report.json"
    res = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--no-deps",
                          "--ignore-installed", "--report", str(report), "--target", str(tmp_path / "t"),
                          *plan.target.pip_args(), *reqs], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    picked = {i["metadata"]["name"].lower(): i["download_info"]["url"].rsplit("/", 1)[-1]
              for i in json.loads(report.read_text())["install"]}
    assert sorted(picked) == sorted(r.split("==")[0] for r in reqs)
    assert all(name.endswith("aarch64.whl") for name in picked.values()), picked
    assert "-cp311-" in picked["apache-tvm-ffi"], picked


def test_bad_arch_is_one_line_naming_the_option_before_any_download(kit, tmp_path):
    cache = tmp_path / "cache"
    env = {**os.environ, "TLKIT_ROOT": str(kit), "TLKIT_CACHE_DIR": str(cache)}
    res = subprocess.run([sys.executable, "-m", "tlkit", "build-wheel", "--arch", "riscv64", "--recipe", "nope"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert res.stderr.splitlines() == [
        "tlkit: error: --arch riscv64: not a target the kit builds for; choose one of aarch64, x86_64"]
    assert not cache.exists() and not (kit / "build").exists()


def test_arch_table_rows_are_read_strictly(tmp_path):
    table = tmp_path / "arches.toml"
    table.write_text(ARCHES.read_text().replace('glibc = "2.36"', 'glibc = "2.x"', 1))
    with pytest.raises(KitError, match=r"arches.toml: \[arch.x86_64.glibc\] must be MAJOR.MINOR, got '2.x'"):
        resolve_arch("aarch64", table)


def test_missing_cross_compiler_that_cannot_be_installed_is_one_line(tmp_path):
    """No aarch64-linux-gnu-g++ on PATH and no apt-get to install it: one line naming both, before any work."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    cache = tmp_path / "cache"
    env = {**os.environ, "TLKIT_ROOT": str(KIT), "TLKIT_CACHE_DIR": str(cache), "PATH": str(empty)}
    res = subprocess.run([sys.executable, "-m", "tlkit", "build-wheel", "--arch", "aarch64",
                          "--work-dir", str(tmp_path / "w"), "--dist", str(tmp_path / "dist")],
                         env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert res.stderr.splitlines() == [
        "tlkit: error: the aarch64 cross compiler: aarch64-linux-gnu-gcc is not on PATH and the kit cannot install "
        "it (no apt-get here); install Debian's g++-aarch64-linux-gnu (sudo apt-get install g++-aarch64-linux-gnu) "
        "or put aarch64-linux-gnu-gcc on PATH"]
    assert not cache.exists() and not (tmp_path / "w").exists() and not (tmp_path / "dist").exists()


def test_cross_compiler_is_debian_gcc_with_libstdcxx():
    """The kit's own cross compiler (installed through apt-get where missing): GCC, whose C++ runtime is the
    libstdc++ the aarch64 apache-tvm-ffi and z3-solver wheels link (their NEEDED entries)."""
    cc = ensure_cross_compiler(resolve_arch("aarch64", ARCHES), dict(os.environ), log=lambda *_: None)
    assert cc.cxx.endswith("aarch64-linux-gnu-g++") and cc.version.split(".")[0].isdigit()
    probe = subprocess.run([cc.cxx, "-print-file-name=libstdc++.so"], capture_output=True, text=True, check=True)
    assert "/aarch64-linux-gnu/" in probe.stdout and probe.stdout.strip().endswith("libstdc++.so")
    assert cc.provenance()["triplet"] == "aarch64-linux-gnu"


def test_commands_that_install_here_take_this_machines_wheel_not_a_newer_aarch64_one(tmp_path):
    """dist/ holds both arches' wheels under one label; verify-sm120/verify-gpu pick the one that runs here."""
    from tlkit.verify.options import newest_wheel
    from tlkit.wheel.wheelfile import runs_on

    label = make_plan(BuildInput(jobs=1)).label
    here = tmp_path / f"tilelang-0.1.14+{label}-cp39-abi3-manylinux_2_35_{platform.machine()}.whl"
    other_arch = "aarch64" if platform.machine() == "x86_64" else "x86_64"
    other = tmp_path / f"tilelang-0.1.14+{label}-cp39-abi3-manylinux_2_34_{other_arch}.whl"
    here.write_bytes(b"")
    other.write_bytes(b"")
    os.utime(here, (1_000_000_000, 1_000_000_000))  # the other arch's is the newer file
    assert newest_wheel(tmp_path) == here
    assert runs_on(other.name, other_arch) and not runs_on(other.name, platform.machine())
    assert runs_on("x-1.0-py3-none-any.whl", platform.machine())
    here.unlink()
    with pytest.raises(KitError, match=f"no tilelang wheel for {platform.machine()} in {tmp_path}"):
        newest_wheel(tmp_path)


def test_a_cross_build_with_a_fixed_platform_tag_is_one_line_before_any_download(tmp_path):
    """auditwheel here takes only this machine's tags for --plat: a recipe naming one cannot repair an aarch64
    wheel, which would be found after the whole build."""
    import shutil

    kit = tmp_path / "kit"
    for folder in ("recipes", "patches"):
        shutil.copytree(KIT / folder, kit / folder)
    recipe = kit / "recipes" / "tilelang-0.1.14.toml"
    recipe.write_text(recipe.read_text().replace('platform = "auto"', 'platform = "manylinux_2_35_x86_64"'))
    with pytest.raises(KitError) as err:
        make_plan(BuildInput(jobs=1, arch="aarch64", kit=kit))
    assert str(err.value) == (f"{recipe}: [build] platform = 'manylinux_2_35_x86_64': a build for aarch64 on this "
                              f"{platform.machine()} machine needs \"auto\"")
    assert make_plan(BuildInput(jobs=1, kit=kit)).recipe.platform == "manylinux_2_35_x86_64"  # natively it is fine
