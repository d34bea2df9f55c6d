"""`tlkit outdated` against a package index served by a real HTTP server on loopback: PEP 503 HTML pages, and
PEP 691 JSON where the client asks for it; the kit's real pins, newer releases published beside them."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from packaging.version import Version

from tlkit.base.paths import KitLayout
from tlkit.upstream.index import releases_from
from tlkit.upstream.outdated import pins

KIT = Path(__file__).resolve().parents[1]
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


def bump(version: str, step: int = 1) -> str:
    v = Version(version)
    return ".".join(map(str, (*v.release[:-1], v.release[-1] + step)))


def wheel(name: str, version: str) -> str:
    return f"{name.replace('-', '_')}-{version}-py3-none-manylinux_2_17_x86_64.whl"


def sdist(name: str, version: str) -> str:
    return f"{name.replace('-', '_')}-{version}.tar.gz"


def index_files() -> dict[str, list[tuple[str, bool]]]:
    """Per package, (file name, yanked): each pin's own release, and what is newer as the test needs it."""
    files: dict[str, list[tuple[str, bool]]] = {}
    for pin in pins(KitLayout(KIT)):
        files.setdefault(pin.package, [(wheel(pin.package, pin.pinned), False)])
    pinned = {p.package: p.pinned for p in pins(KitLayout(KIT))}
    tl = pinned["tilelang"]
    files["tilelang"] += [(sdist("tilelang", tl), False), (wheel("tilelang", bump(tl)), False),
                          (sdist("tilelang", bump(tl, 2) + "rc1"), False),  # a pre-release: not offered
                          (wheel("tilelang", bump(tl, 3)), True)]  # yanked (HTML's data-yanked): not offered
    ffi = pinned["apache-tvm-ffi"]
    files["apache-tvm-ffi"] += [(sdist("apache-tvm-ffi", bump(ffi)), False),
                                (wheel("apache-tvm-ffi", bump(ffi)), False),
                                (wheel("apache-tvm-ffi", bump(ffi, 2)), True)]  # yanked: not offered
    nvcc = Version(pinned["nvidia-cuda-nvcc"])
    files["nvidia-cuda-nvcc"] += [(wheel("nvidia-cuda-nvcc", f"{nvcc.major}.{nvcc.minor + 1}.12"), False)]
    files["torch"] += [(wheel("torch", bump(pinned["torch"])), False)]
    del files["nvidia-nvvm"]  # a package the index lacks
    return files


def html_page(entries: list[tuple[str, bool]]) -> bytes:
    yanked = ' data-yanked=""'
    links = "".join(f'<a href="../../files/{n}"{yanked if y else ""}>{n}</a><br>\n' for n, y in entries)
    return f"<!DOCTYPE html><html><body>\n{links}</body></html>\n".encode()


def json_page(name: str, entries: list[tuple[str, bool]]) -> bytes:
    return json.dumps({"meta": {"api-version": "1.1"}, "name": name,
                       "files": [{"filename": n, "url": f"../../files/{n}", "hashes": {}, "yanked": y}
                                 for n, y in entries]}).encode()


@pytest.fixture
def index(tmp_path: Path) -> Iterator[str]:
    """A simple index folder (index.html per project; index.json too for apache-tvm-ffi and the nvcc) served on
    127.0.0.1: JSON to a client that asks for it and where the folder has it, else HTML, else 404."""
    root = tmp_path / "simple"
    for name, entries in index_files().items():
        (root / name).mkdir(parents=True)
        (root / name / "index.html").write_bytes(html_page(entries))
        if name in ("apache-tvm-ffi", "nvidia-cuda-nvcc"):
            (root / name / "index.json").write_bytes(json_page(name, entries))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the http.server API)
            parts = [p for p in self.path.split("/") if p]
            folder = root / parts[1] if len(parts) == 2 and parts[0] == "simple" else None
            wants_json = JSON_TYPE in self.headers.get("Accept", "")
            for page, kind in (("index.json", JSON_TYPE), ("index.html", "text/html")):
                if folder and (folder / page).is_file() and (wants_json or kind == "text/html"):
                    body = (folder / page).read_bytes()
                    self.send_response(200)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
            self.send_error(404)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=30)


def outdated(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tlkit", "outdated", *args], cwd=KIT, capture_output=True,
                          text=True, timeout=300)


def test_outdated_json_names_newer_releases_their_sdists_and_a_verdict_per_row(index):
    run = outdated("--index", index, "--json")
    assert run.returncode == 0, run.stderr
    rows = {(r["owner"], r["package"]): r for r in json.loads(run.stdout)["rows"]}
    pinned = {p.package: p.pinned for p in pins(KitLayout(KIT))}
    recipe = next(owner for owner, package in rows if package == "tilelang")

    tl = rows[(recipe, "tilelang")]
    assert (tl["newer"], tl["newest_sdist"]) == ([bump(pinned["tilelang"])], False)
    assert tl["verdict"].startswith(f"{bump(pinned['tilelang'])} is wheel-only on the index: a source build needs "
                                    "the recipe's git kind")
    ffi = rows[(recipe, "apache-tvm-ffi")]  # from the JSON page; the yanked release left out
    assert (ffi["role"], ffi["newer"], ffi["newest_sdist"]) == ("runtime pin", [bump(pinned["apache-tvm-ffi"])], True)
    z3 = rows[(recipe, "z3-solver")]
    assert (z3["role"], z3["newer"], z3["verdict"]) == ("build requirement", [], "up to date")

    nvcc = rows[("cuda-toolchains", "nvidia-cuda-nvcc")]
    v = Version(pinned["nvidia-cuda-nvcc"])
    assert nvcc["newer"] == [f"{v.major}.{v.minor + 1}.12"]
    assert nvcc["verdict"].startswith(f"CUDA {v.major}.{v.minor + 1} not in recipes/cuda-toolchains.toml: add a row")
    assert rows[("cuda-toolchains", "nvidia-nvvm")]["verdict"] == (
        "not on this index: nvidia-nvvm cannot be checked here")
    assert rows[("cuda-toolchains", "nvidia-cuda-crt")]["verdict"] == "up to date"
    assert rows[("verify", "torch")]["newer"] == [bump(pinned["torch"])]
    assert all(r["verdict"] for r in rows.values())


def test_outdated_prints_a_table_and_exits_0(index):
    run = outdated("--index", index)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == f"tlkit outdated: {index}"
    assert lines[1].split() == ["recipe", "package", "role", "pinned", "newer", "on", "the", "index", "sdist",
                                "verdict"]
    tl = next(line for line in lines if " tilelang " in line)
    assert "no (wheel only)" in tl and "git kind" in tl
    assert lines[-1] == f"4 of {len(pins(KitLayout(KIT)))} pins have newer releases on the index"


def test_an_index_that_cannot_be_reached_is_one_line_naming_it():
    with contextlib.closing(socket.socket()) as s:  # a port nothing listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/simple/"
    run = outdated("--index", url)
    assert run.returncode == 2 and len(run.stderr.splitlines()) == 1, run.stderr
    assert run.stderr.startswith(f"tlkit: error: the package index {url} cannot be reached (")


def test_release_files_of_other_projects_and_odd_names_are_left_out():
    found = releases_from(["tilelang-0.1.14.tar.gz", "tilelang-0.1.14-cp39-abi3-manylinux_2_28_x86_64.whl",
                           "tilelang_extra-9.0.tar.gz", "README.txt", "tilelang-0.1.15-py3-none-any.whl"], "TileLang")
    assert {str(v): (r.sdist, r.wheels) for v, r in found.items()} == {"0.1.14": (True, 1), "0.1.15": (False, 1)}
