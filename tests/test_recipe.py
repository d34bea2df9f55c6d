"""Recipe validation: the shipped recipe loads; each kind of mistake names file, key and problem."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tlkit.base.errors import RecipeError
from tlkit.wheel.recipe import load_recipe, resolve_recipe
from tlkit.wheel.toolchain import load_toolchain_spec

KIT = Path(__file__).resolve().parents[1]
GOOD = (KIT / "recipes" / "tilelang-0.1.14.toml").read_text()


def _series(text: str, value: str) -> str:
    return re.sub(r"series = \[[^\]]*\]", lambda _: f"series = {value}", text)


def _upstreams(text: str, line: str) -> str:
    return re.sub(r"^upstreams = .*\n", lambda _: line, text, flags=re.M)


def test_shipped_recipe_loads():
    r = load_recipe(KIT / "recipes" / "tilelang-0.1.14.toml")
    assert (r.source.package, r.version, r.cuda_default) == ("tilelang", "0.1.14", "13.5")
    assert r.runtime_pins["apache-tvm-ffi"] == "==0.1.12"
    assert r.local_label("13.2", "ab" * 32) == "tlkit.cu132.pabababab"
    for cuda in r.cuda_supported:
        spec = load_toolchain_spec(KIT / "recipes" / "cuda-toolchains.toml", cuda)
        assert spec.packages["nvidia-cuda-nvcc"].startswith(cuda + ".")


@pytest.mark.parametrize(
    ("edit", "key", "problem"),
    [
        (lambda s: s.replace('sha256 = "7ae0', 'sha256 = "zz'), "source.sha256", "64 hex digits"),
        (lambda s: s.replace('kind = "sdist"', 'kind = "svn"'), "source.kind", "'sdist' or 'git'"),
        (lambda s: s.replace('version = "0.1.14"', 'version = "zero.one"'), "source.version", "PEP 440"),
        (lambda s: s.replace('package = "tilelang"\n', ""), "source.package", "missing"),
        (lambda s: s.replace('default = "13.5"', 'default = "12.8"'), "cuda.default", "not in supported"),
        (lambda s: s.replace('source_date_epoch = 1767225600', 'source_date_epoch = "now"'),
         "build.source_date_epoch", "must be int"),
        (lambda s: s.replace('source_date_epoch = 1767225600', 'source_date_epoch = 5'),
         "build.source_date_epoch", "before 1980"),
        (lambda s: s.replace('"cmake==4.4.5"', '"cmake>=4"'), "build.requires[3]", "pinned with =="),
        (lambda s: s.replace('scheme = "tlkit', 'scheme = "TL_KIT'), "label.scheme", "local label"),
        (lambda s: s.replace('scheme = "tlkit.cu{cuda}', 'scheme = "tlkit.{arch}'), "label.scheme", "only {cuda}"),
        (lambda s: _series(s, '["tilelang/fix-it.patch"]'), "patches.series[0]", "NNNN-"),
        (lambda s: _series(s, '["tilelang/0002-b.patch", "tvm/0001-a.patch"]'), "patches.series", "ascending"),
        (lambda s: _series(s, '["0001-a.patch"]'), "patches.series[0]", "folder of its upstream: tilelang/ or tvm/"),
        (lambda s: _series(s, '["vendor/0001-a.patch"]'), "patches.series[0]", "folder of its upstream"),
        (lambda s: _series(_upstreams(s, ""), '["tvm/0001-a.patch"]'), "patches.series[0]", "names no upstreams"),
        (lambda s: _upstreams(s, 'upstreams = { tilelang = ".", tvm = "../tvm" }\n'), "patches.upstreams.tvm",
         "'.' or a relative folder"),
        (lambda s: _upstreams(s, 'upstreams = { tilelang = ".", tvm = "." }\n'), "patches.upstreams",
         "two upstreams own the same part"),
        (lambda s: _upstreams(s, 'upstreams = { "TVM fork" = "3rdparty/tvm" }\n'), 'patches.upstreams.TVM fork',
         "plain folder name"),
        (lambda s: s.replace('"==0.1.12"', '"about 0.1"'), "runtime.pins.apache-tvm-ffi", "specifier"),
        (lambda s: s.replace("[label]", "[label]\nshceme2 = 1"), "label.shceme2", "unknown key"),
        (lambda s: s.replace("[source]", "[source]\nurl = 'x'"), "source.url", "unknown key"),
        (lambda s: s + "\n[cuda", "-", "not valid TOML"),
    ],
)
def test_recipe_errors_name_file_key_problem(tmp_path, edit, key, problem):
    bad = tmp_path / "bad.toml"
    bad.write_text(edit(GOOD))
    with pytest.raises(RecipeError) as info:
        load_recipe(bad)
    msg = str(info.value)
    assert msg.startswith(f"{bad}: [{key}] "), msg
    assert problem in msg


def test_git_source_needs_full_commits(tmp_path):
    text = GOOD.replace('kind = "sdist"\npackage = "tilelang"\n', 'kind = "git"\nurl = "file:///x"\n')
    text = re.sub(r'sha256 = "\w+"', 'commit = "abc123"\ntvm_commit = "' + "1" * 40 + '"', text)
    bad = tmp_path / "git.toml"
    bad.write_text(text)
    with pytest.raises(RecipeError, match=r"\[source.commit\] must be a full 40-hex commit id"):
        load_recipe(bad)
    bad.write_text(text.replace("abc123", "a" * 40))
    r = load_recipe(bad)
    assert r.source.digest == "git:" + "a" * 40 and r.source.tvm_path == "3rdparty/tvm"


def test_unknown_recipe_name_lists_known_ones():
    with pytest.raises(RecipeError, match="known: tilelang-0.1.14"):
        resolve_recipe("tilelang-9.9", KIT / "recipes")


def test_unknown_cuda_version(tmp_path):
    with pytest.raises(RecipeError, match=r"\[toolchain.12.4\] no toolchain for CUDA 12.4; known: 13.0"):
        load_toolchain_spec(KIT / "recipes" / "cuda-toolchains.toml", "12.4")


def test_the_slow_suite_without_its_wheel_fails_and_says_how_to_build_it(tmp_path):
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "slow", "-p", "no:cacheprovider",
                          "tests/test_tilelang_wheel.py::test_wheel_name_label_and_provenance"],
                         cwd=Path(__file__).parent.parent, capture_output=True, text=True,
                         env={**os.environ, "TLKIT_TEST_DIST": str(tmp_path)})
    assert run.returncode != 0, run.stdout
    assert "run `nox -s build-wheel` first" in run.stdout
    assert "skipped" not in run.stdout.splitlines()[-1]
