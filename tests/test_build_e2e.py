"""End to end through the real build path: pip fetch, patch series, PyPI CUDA toolchain, build venv,
scikit-build-core + CMake + ninja, auditwheel repair, label, pins, provenance, reproducibility."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import TINY, make_sdist, write_recipe

from tlkit.errors import FetchError
from tlkit.pipeline import BuildOptions, build_wheel
from tlkit.series import load_series


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory) -> Path:
    """Toolchain and build venv are reused by the builds of this module."""
    return tmp_path_factory.mktemp("cache")


def build(kit: Path, cache: Path, name: str, **kw) -> Path:
    opts = BuildOptions(recipe=name, kit=kit, cache=cache, dist=kit / "dist", work=kit / "build", jobs=2, **kw)
    return build_wheel(opts, log=lambda *_: None)


def run_in_venv(venv: Path, code: str) -> str:
    return subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_fixture_wheel_end_to_end(kit, find_links, shared_cache, tmp_path):
    _, sha = make_sdist(TINY, find_links)
    names = sorted(p.name for p in (kit / "patches" / "tinyext").glob("*.patch"))
    write_recipe(kit, "tiny", sha, names)
    series_hash = load_series(kit / "patches", "tinyext", names).digest

    wheel = build(kit, shared_cache, "tiny")
    label = f"tlkit.cu132.p{series_hash[:8]}"
    py = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    # platform "auto": the most compatible tag its symbols allow (only libm's GLIBC_2.2.5): manylinux_2_5
    assert wheel.name == f"tlkit_fixture_ext-1.0.0+{label}-{py}-{py}-manylinux1_x86_64.manylinux_2_5_x86_64.whl"
    assert sorted(p.name for p in wheel.parent.iterdir()) == [wheel.name]  # nothing half-written beside it

    with zipfile.ZipFile(wheel) as zf:
        info = f"tlkit_fixture_ext-1.0.0+{label}.dist-info"
        meta = zf.read(f"{info}/METADATA").decode()
        prov = json.loads(zf.read(f"{info}/tlkit_provenance.json"))
        assert f"Version: 1.0.0+{label}" in meta
        assert "Requires-Dist: packaging==24.2\n" in meta
        assert zf.testzip() is None
    assert prov["source"] == {"kind": "sdist", "package": "tlkit-fixture-ext", "version": "1.0.0", "sha256": sha}
    assert [p["name"] for p in prov["patches"]] == names
    assert prov["toolchain"]["cuda"] == "13.2" and "V13.2.86" in prov["toolchain"]["nvcc"]
    assert prov["series_sha256"] == series_hash

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps", str(wheel)], check=True)
    out = run_in_venv(venv, "import tinyext, importlib.metadata as m; "
                            "print(tinyext.answer(), tinyext.greeting(), tinyext.nvcc(), tinyext.root(9.0), "
                            "m.version('tlkit-fixture-ext'), sep='|')")
    assert out.split("|") == ["42", "hello from the tlkit series", "release 13.2, V13.2.86", "3.0", f"1.0.0+{label}"]

    # Reproducible: a second build from scratch gives the same bytes.
    first = wheel.read_bytes()
    again = build(kit, shared_cache, "tiny", clean=True)
    assert again == wheel and again.read_bytes() == first


def test_bad_source_leaves_no_wheel_tree_or_cache(kit, find_links, shared_cache):
    make_sdist(TINY, find_links)
    write_recipe(kit, "wrong", "9" * 64, sorted(p.name for p in (kit / "patches" / "tinyext").glob("*.patch")))
    with pytest.raises(FetchError, match="nothing was kept"):
        build(kit, shared_cache, "wrong")
    assert not (kit / "dist").exists() and not (kit / "build").exists()
    assert not (shared_cache / "sources" / "sha256" / ("9" * 64)).exists()


def _release(fifo: Path) -> bool:
    """Unblock a hook still reading the FIFO (so no test process lingers); True if there was one."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:  # ENXIO: nobody has it open for reading
        return False
    return True


def test_ctrl_c_then_rerun_resumes(kit, find_links, shared_cache, tmp_path):
    """SIGINT in the middle of the compile step: exit 130, no wheel, build folder kept; the same command
    again finishes the build in that folder."""
    _, sha = make_sdist(TINY, find_links)
    write_recipe(kit, "tiny", sha, sorted(p.name for p in (kit / "patches" / "tinyext").glob("*.patch")))
    fifo = tmp_path / "hold"
    os.mkfifo(fifo)
    os.mkfifo(f"{fifo}.started")
    cmd = [sys.executable, "-m", "tlkit", "build-wheel", "--recipe", "tiny", "--jobs", "1",
           "--dist", str(kit / "dist"), "--work-dir", str(kit / "build")]
    env = {**os.environ, "TLKIT_ROOT": str(kit), "TLKIT_CACHE_DIR": str(shared_cache), "TINY_WAIT_FIFO": str(fifo)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    started = os.open(f"{fifo}.started", os.O_RDONLY | os.O_NONBLOCK)
    try:
        ready, _, _ = select.select([started], [], [], 600)  # a bound, not a delay: returns when the hook writes
        assert ready, "the build never reached the test hook"
    finally:
        os.close(started)
    os.killpg(proc.pid, signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        outlived = _release(fifo)
    assert not outlived, "a build process (the blocked hook) outlived the interrupted build"
    assert proc.returncode == 130, err
    assert "interrupted: the build folder is kept" in err
    assert not (kit / "dist").exists() or list((kit / "dist").iterdir()) == []
    assert (kit / "build" / "tiny-cu13.2" / "src" / "build" / "CMakeCache.txt").is_file()
    assert "# interrupted" in (kit / "build" / "tiny-cu13.2" / "logs" / "build.log").read_text()

    del env["TINY_WAIT_FIFO"]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "tree: reused" in res.stdout
    assert len(list((kit / "dist").glob("tlkit_fixture_ext-1.0.0+*.whl"))) == 1
