"""End to end through the real build path: pip fetch, patch series, PyPI CUDA toolchain, build venv,
scikit-build-core + CMake + ninja, auditwheel repair, label, pins, provenance, reproducibility."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import KIT, TINY, TINY_CUDA, cmdline, linked_toolchain, make_sdist, outliving, process_tree, write_recipe

from tlkit.base.errors import FetchError
from tlkit.base.procs import descendants
from tlkit.wheel.pipeline import BuildInput, build_wheel
from tlkit.wheel.series import load_series


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory) -> Path:
    """Toolchain and build venv are reused by the builds of this module (the toolchain linked to the user's)."""
    cache = tmp_path_factory.mktemp("cache")
    linked_toolchain(TINY_CUDA, cache)
    return cache


def build(kit: Path, cache: Path, name: str, **kw) -> Path:
    given = BuildInput(recipe=name, kit=kit, cache=cache, dist=kit / "dist", work=kit / "build", jobs=2, **kw)
    return build_wheel(given, log=lambda *_: None)


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


def _tiny_build_cmd(kit: Path, find_links: Path) -> list[str]:
    _, sha = make_sdist(TINY, find_links)
    write_recipe(kit, "tiny", sha, sorted(p.name for p in (kit / "patches" / "tinyext").glob("*.patch")))
    return [sys.executable, "-m", "tlkit", "build-wheel", "--recipe", "tiny", "--jobs", "1",
            "--dist", str(kit / "dist"), "--work-dir", str(kit / "build")]


@contextlib.contextmanager
def held_build(cmd: list[str], env: dict[str, str], fifo: Path):
    """The build started and held in its compile step (the fixture's FIFO hook); afterwards the hook is
    released if anything still reads it, and every process left is killed."""
    os.mkfifo(fifo)
    os.mkfifo(f"{fifo}.started")
    with process_tree(cmd, env={**env, "TINY_WAIT_FIFO": str(fifo)}, stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE) as proc:
        started = os.open(f"{fifo}.started", os.O_RDONLY | os.O_NONBLOCK)
        try:
            ready, _, _ = select.select([started], [], [], 600)  # a bound, not a delay: returns when the hook writes
            assert ready, "the build never reached the test hook"
        finally:
            os.close(started)
        try:
            yield proc
        finally:
            _release(fifo)


def test_ctrl_c_then_rerun_resumes(kit, find_links, shared_cache, tmp_path):
    """SIGINT in the middle of the compile step: exit 130, no wheel, build folder kept; the same command
    again finishes the build in that folder."""
    cmd = _tiny_build_cmd(kit, find_links)
    env = {**os.environ, "TLKIT_ROOT": str(kit), "TLKIT_CACHE_DIR": str(shared_cache)}
    fifo = tmp_path / "hold"
    with held_build(cmd, env, fifo) as proc:
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        outlived = _release(fifo)
    assert not outlived, "a build process (the blocked hook) outlived the interrupted build"
    assert proc.returncode == 130, err
    assert "interrupted: the build folder is kept" in err
    assert not (kit / "dist").exists() or list((kit / "dist").iterdir()) == []
    assert (kit / "build" / "tiny-cu13.2" / "src" / "build" / "CMakeCache.txt").is_file()
    assert "# interrupted" in (kit / "build" / "tiny-cu13.2" / "logs" / "build.log").read_text()

    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200)
    assert res.returncode == 0, res.stderr
    assert "tree: reused" in res.stdout
    assert len(list((kit / "dist").glob("tlkit_fixture_ext-1.0.0+*.whl"))) == 1


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_or_sighup_to_the_kit_stops_the_build_as_ctrl_c_does(kit, find_links, shared_cache, tmp_path, sig):
    """Issue 14 item 12: the build runs in a session of its own, so a signal to the kit process alone (a
    closed terminal, a CI cancel) must stop it too: exit 128 + signal, nothing of the build left running."""
    cmd = _tiny_build_cmd(kit, find_links)
    env = {**os.environ, "TLKIT_ROOT": str(kit), "TLKIT_CACHE_DIR": str(shared_cache)}
    fifo = tmp_path / "hold"
    with held_build(cmd, env, fifo) as proc:
        os.kill(proc.pid, sig)
        _, err = proc.communicate(timeout=120)
        outlived = _release(fifo)
    assert not outlived, "the blocked build step outlived the stopped build"
    assert proc.returncode == 128 + sig, err
    assert f"stopped by {signal.Signals(sig).name}: the build folder is kept" in err


BOUND = 120.0  # a bound on a wait for processes to end, so that a broken run fails instead of hanging


def test_sigkill_of_the_kit_leaves_no_build_process(kit, find_links, shared_cache, tmp_path):
    """However the kit dies: its build supervisor (a child subreaper with a parent-death signal) ends every
    process of the build, and exits only when none is left; the watcher removes wheel-raw/ and
    wheel-repaired/ (issue 25 item 3)."""
    cmd = _tiny_build_cmd(kit, find_links)
    env = {**os.environ, "TLKIT_ROOT": str(kit), "TLKIT_CACHE_DIR": str(shared_cache)}
    fifo = tmp_path / "hold"
    work = kit / "build" / "tiny-cu13.2"
    with held_build(cmd, env, fifo) as proc:
        tree = descendants(proc.pid)
        assert len([pid for pid in tree if b"tlkit.base.procs" in cmdline(pid)]) == 1, tree
        assert len([pid for pid in tree if b"tlkit.wheel.leftovers" in cmdline(pid)]) == 1, tree
        assert (work / "wheel-raw").is_dir()
        left = outliving(tree, lambda: (os.kill(proc.pid, signal.SIGKILL), proc.wait(timeout=BOUND)), BOUND)
        outlived = _release(fifo)
    assert not left, f"processes of the build outlived the killed kit: {left}"
    assert not outlived, "the blocked build step outlived the killed kit"
    assert not (work / "wheel-raw").exists() and not (work / "wheel-repaired").exists()


def _nox_build_cmd(cmd: list[str], tmp_path: Path) -> list[str]:
    """`nox -s build-wheel -- ARGS` with the kit's noxfile, in this interpreter (the test environment has the
    kit installed: no venv, no install)."""
    return [sys.executable, "-m", "nox", "--noxfile", str(KIT / "noxfile.py"), "--envdir", str(tmp_path / "nox"),
            "--no-venv", "--no-install", "-s", "build-wheel", "--", *cmd[cmd.index("build-wheel") + 1:]]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_signal_to_nox_ends_the_kit_and_its_whole_build(kit, find_links, shared_cache, tmp_path, sig):
    """Issue 25 item 1: a CI runner that times out signals the top process, nox; the kit (nox's child) and
    every process of its build must end with it, however nox ends."""
    cmd = _nox_build_cmd(_tiny_build_cmd(kit, find_links), tmp_path)
    env = {**os.environ, "TLKIT_ROOT": str(kit), "TLKIT_CACHE_DIR": str(shared_cache),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    fifo = tmp_path / "hold"
    with held_build(cmd, env, fifo) as proc:
        tree = descendants(proc.pid)
        assert any(b"tlkit\0build-wheel" in cmdline(pid) for pid in tree), "nox did not start the kit"
        left = outliving(tree, lambda: (os.kill(proc.pid, sig), proc.wait(timeout=BOUND)), BOUND)
        outlived = _release(fifo)
    assert not left, f"processes outlived nox: {[cmdline(p)[:80] for p in left]}"
    assert not outlived, "the blocked build step outlived nox"


def test_sigterm_to_the_kit_during_the_sdist_fetch_ends_pip(kit, find_links, tmp_path):
    """Issue 25 item 2: SIGTERM while `pip download` waits on the index (a real server on loopback that
    accepts and never answers): pip ends with the kit, and no partial cache entry is left."""
    cmd = _tiny_build_cmd(kit, find_links)
    cache = tmp_path / "cache"
    with socket.create_server(("127.0.0.1", 0)) as server:
        env = {**{k: v for k, v in os.environ.items() if k != "PIP_FIND_LINKS"}, "TLKIT_ROOT": str(kit),
               "TLKIT_CACHE_DIR": str(cache), "PIP_INDEX_URL": f"http://127.0.0.1:{server.getsockname()[1]}/simple/",
               "PIP_RETRIES": "0", "PIP_TIMEOUT": "600"}
        with process_tree(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
            ready, _, _ = select.select([server], [], [], 600)  # a bound, not a delay: pip's request arrives
            assert ready, "pip never asked the index"
            conn, _ = server.accept()
            with conn:
                tree = descendants(proc.pid)
                assert any(b"pip\0download" in cmdline(pid) for pid in tree), tree
                ended = []
                left = outliving(tree, lambda: (proc.send_signal(signal.SIGTERM),
                                                ended.append(proc.communicate(timeout=BOUND))), BOUND)
                err = ended[0][1]
    assert not left, f"processes outlived the stopped kit: {[cmdline(p)[:80] for p in left]}"
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert not (cache / "sources").exists() or not list((cache / "sources").rglob("*.tar.gz"))


def test_a_second_build_of_the_same_recipe_is_refused_naming_the_first(kit, find_links, shared_cache, tmp_path):
    """Issue 14 item 11: a second build of the recipe while one runs fails at once with the holder's PID,
    and the first one's venv, tree and wheel folders are untouched: it finishes with its wheel."""
    cmd = _tiny_build_cmd(kit, find_links)
    env = {**os.environ, "TLKIT_ROOT": str(kit), "TLKIT_CACHE_DIR": str(shared_cache)}
    fifo = tmp_path / "hold"
    with held_build(cmd, env, fifo) as proc:
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        _release(fifo)
        _, err = proc.communicate(timeout=600)
    assert second.returncode == 2, second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "is in use by another tlkit process" in lines[0], second.stderr
    assert f"pid {proc.pid}," in lines[0] and "the build folder " in lines[0] and "tiny-cu13.2" in lines[0]
    assert proc.returncode == 0, err
    assert len(list((kit / "dist").glob("tlkit_fixture_ext-1.0.0+*.whl"))) == 1


def test_builds_sharing_a_new_cache_make_its_venv_and_toolchain_once(kit, find_links, tmp_path):
    """Two builds of two recipes at once, on an empty cache: one makes the build venv and the toolchain,
    the other waits for it (no venv deleted under a running build, no rename race); both give wheels."""
    cmd = _tiny_build_cmd(kit, find_links)
    other = kit / "recipes" / "tiny2.toml"
    other.write_text((kit / "recipes" / "tiny.toml").read_text())
    cache = tmp_path / "fresh-cache"
    env = {**os.environ, "TLKIT_ROOT": str(kit), "TLKIT_CACHE_DIR": str(cache)}
    cmd2 = [*cmd[:cmd.index("--recipe") + 1], "tiny2", *cmd[cmd.index("--recipe") + 2:]]
    with process_tree(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as one, \
            process_tree(cmd2, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as two:
        out1, err1 = one.communicate(timeout=1800)
        out2, err2 = two.communicate(timeout=1800)
    assert one.returncode == 0 and two.returncode == 0, err1 + err2
    assert (out1 + out2).count("build env: creating") == 1, out1 + out2
    assert (out1 + out2).count("toolchain: installing") == 1, out1 + out2
    assert len(list((kit / "dist").glob("tlkit_fixture_ext-1.0.0+*.whl"))) == 1  # both wrote the same name


def test_missing_host_compiler_is_one_line_before_any_work(kit, find_links, tmp_path):
    cmd = _tiny_build_cmd(kit, find_links)
    cache = tmp_path / "cache"
    base = {**os.environ, "TLKIT_ROOT": str(kit), "TLKIT_CACHE_DIR": str(cache)}
    bad_cxx = subprocess.run(cmd, env={**base, "CXX": "/nonexistent/c++"}, capture_output=True, text=True)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    no_path = subprocess.run(cmd, env={**base, "PATH": str(empty)}, capture_output=True, text=True)
    assert bad_cxx.returncode == 2 and bad_cxx.stderr.strip().splitlines() == [
        "tlkit: error: the C++ compiler $CXX=/nonexistent/c++ is not there or not executable; fix $CXX or unset it"]
    assert no_path.returncode == 2 and len(no_path.stderr.strip().splitlines()) == 1, no_path.stderr
    assert "no C compiler found on PATH (looked for cc, gcc, clang)" in no_path.stderr
    assert not cache.exists() and not (kit / "build").exists()  # nothing fetched, nothing made


def test_full_dist_folder_is_one_line_and_leaves_nothing(kit, find_links, shared_cache, tmp_path):
    """A dist folder on a full file system (a 4 KiB tmpfs in a private mount namespace): one line naming
    the wheel's path and the reason, and no partial file left there."""
    cmd = _tiny_build_cmd(kit, find_links)
    dist = tmp_path / "full-dist"
    dist.mkdir()
    cmd[cmd.index("--dist") + 1] = str(dist)
    script = 'mount -t tmpfs -o size=4k tmpfs "$0" || exit 99; "$@"; rc=$?; echo "left: $(ls -A "$0")"; exit $rc'
    env = {**os.environ, "TLKIT_ROOT": str(kit), "TLKIT_CACHE_DIR": str(shared_cache)}
    res = subprocess.run(["unshare", "-rm", "sh", "-c", script, str(dist), *cmd], env=env, capture_output=True,
                         text=True)
    assert res.returncode == 2, res.stdout[-2000:] + res.stderr[-2000:]
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith(f"tlkit: error: cannot write {dist}/tlkit_fixture_ext-1.0.0+") and last.endswith(
        ".whl: No space left on device"), last
    assert res.stdout.strip().splitlines()[-1] == "left:", res.stdout[-500:]
