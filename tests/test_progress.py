"""The build ETA's cost model on real ninja builds of a small CMake project (cmake and ninja from PyPI, as
the kit's build venv has them): the previous build's .ninja_log, per-folder weights, the step count.

The check that needs no timing: replaying a build whose steps take what the model says (the clock moved by
each finished step's cost, one job), the ETA after every step equals the time actually left."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from conftest import KIT

from tlkit.base.errors import RecipeError
from tlkit.wheel.buildenv import ensure_buildenv
from tlkit.wheel.progress import (
    STEP_COUNT,
    CostModel,
    Progress,
    folder_weights_model,
    load_cost_model,
    step_output,
    step_unit,
)
from tlkit.wheel.recipe import load_recipe

TOOLS = [r for r in load_recipe(KIT / "recipes" / "tilelang-0.1.14.toml").build_requires
         if r.startswith(("cmake==", "ninja=="))]
# A light folder, a nested folder and a heavy file: costs that a step count gets wrong.
SOURCES = {
    "fast/a.c": "int a(void) { return 1; }\n",
    "fast/b.c": "int b(void) { return 2; }\n",
    "fast/inner/c.c": "int c(void) { return 3; }\n",
    "slow/heavy.c": "".join(f"double h{i}(double x) {{ return x * {i} + {i} / (x + 1.5); }}\n" for i in range(300)),
}
WEIGHTS = """measured = "by hand, for the test"
[folders]
"fast" = { steps = 2, seconds = 1.0 }
"fast/inner" = { steps = 1, seconds = 4 }
"slow" = { steps = 1, seconds = 9.5 }
"libdemo.a" = { steps = 1, seconds = 0.5 }
"""


@pytest.fixture(scope="module")
def tools(tmp_path_factory) -> Path:
    return ensure_buildenv(TOOLS, tmp_path_factory.mktemp("cache"), log=lambda *_: None) / "bin"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    src = tmp_path / "demo"
    for rel, text in SOURCES.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    (src / "CMakeLists.txt").write_text("cmake_minimum_required(VERSION 3.18)\nproject(demo C)\n"
                                        f"add_library(demo STATIC {' '.join(SOURCES)})\n")
    return src


def ninja_build(tools: Path, src: Path, build: Path) -> list[str]:
    """Configure (if needed) and build with one job; ninja's output lines, one per finished step."""
    if not (build / "build.ninja").exists():
        subprocess.run([str(tools / "cmake"), "-G", "Ninja", f"-DCMAKE_MAKE_PROGRAM={tools / 'ninja'}",
                        "-S", str(src), "-B", str(build)], check=True, capture_output=True)
    res = subprocess.run([str(tools / "ninja"), "-j1", "-C", str(build)], check=True, capture_output=True, text=True)
    return [line for line in res.stdout.splitlines() if line.startswith("[")]


def replay(model: CostModel, lines: list[str]) -> list[tuple[float, float | None, str]]:
    """Feed the build's lines to a Progress whose clock moves by each step's cost in `model`; per step:
    (seconds actually left, the ETA, the progress line)."""
    now = [0.0]
    costs = [model.steps[u][1] if (u := model.unit(step_output(line))) else model.mean for line in lines]
    progress = Progress(out=io.StringIO(), clock=lambda: now[0], model=model)
    seen = []
    for i, (line, cost) in enumerate(zip(lines, costs, strict=True)):
        now[0] += cost
        progress.feed(line)
        seen.append((sum(costs[i + 1:]), progress.eta(), progress.line()))
    return seen


def test_the_last_builds_ninja_log_gives_the_time_left(tools, project, tmp_path):
    build = tmp_path / "build"
    first = ninja_build(tools, project, build)
    model = load_cost_model(build / ".ninja_log", None)
    assert model.source == "the last build's ninja log"
    assert set(model.steps) == {"fast/a.c.o", "fast/b.c.o", "fast/inner/c.c.o", "slow/heavy.c.o", "libdemo.a"}
    subprocess.run([str(tools / "ninja"), "-C", str(build), "-t", "clean"], check=True, capture_output=True)
    again = ninja_build(tools, project, build)
    assert len(again) == len(first) == 5
    seen = replay(model, again)
    assert seen[0][1] is None  # one step says nothing about the rate yet
    for left, eta, line in seen[1:]:
        assert eta == pytest.approx(left, abs=1e-6), line
        assert line.endswith(" (from the last build's ninja log)"), line


def test_folder_weights_when_the_build_folder_has_no_log(tools, project, tmp_path):
    weights = tmp_path / "weights.toml"
    weights.write_text(WEIGHTS)
    model = load_cost_model(tmp_path / "build" / ".ninja_log", weights)  # no log yet: a cold build
    assert model.source == "per-folder weights"
    assert model.unit("CMakeFiles/demo.dir/fast/inner/c.c.o") == "fast/inner"  # the longest folder wins
    assert model.unit("CMakeFiles/demo.dir/fast/a.c.o") == "fast"
    assert model.unit("CMakeFiles/demo.dir/fastest/x.c.o") is None  # a prefix of the name, not of the folder
    assert step_unit("tvm/CMakeFiles/tvm_objs.dir/src/arith/x.cc.o") == "tvm/src/arith/x.cc.o"
    # two targets' unity units have the same file names: they stay apart (issue 29's ninja log)
    assert step_unit("tvm/CMakeFiles/tvm_objs.dir/Unity/unity_0_cxx.cxx.o") == "tvm/Unity/tvm_objs/unity_0_cxx.cxx.o"
    assert step_unit("tvm/CMakeFiles/tvm_runtime_objs.dir/Unity/unity_0_cxx.cxx.o") == \
        "tvm/Unity/tvm_runtime_objs/unity_0_cxx.cxx.o"
    assert step_output("/usr/bin/cc -O2 -o CMakeFiles/demo.dir/fast/a.c.o -c /src/fast/a.c") == (
        "CMakeFiles/demo.dir/fast/a.c.o")  # ninja -v prints the command instead of the description
    seen = replay(model, ninja_build(tools, project, tmp_path / "build"))
    for left, eta, line in seen[1:]:
        assert eta == pytest.approx(left, abs=1e-6), line
        assert line.endswith(" (from per-folder weights)"), line


def test_without_log_or_weights_the_eta_is_linear_in_steps(tools, project, tmp_path):
    model = load_cost_model(tmp_path / "build" / ".ninja_log", tmp_path / "no-weights.toml")
    assert model is STEP_COUNT
    lines = ninja_build(tools, project, tmp_path / "build")
    now = [0.0]
    progress = Progress(out=io.StringIO(), clock=lambda: now[0], model=model)
    for line in lines[:3]:
        now[0] += 2.0
        progress.feed(line)
    assert progress.eta() == pytest.approx(2.0 * (len(lines) - 3))
    assert progress.line().endswith(" (from the step count)")


@pytest.mark.parametrize(("text", "message"), [
    ('[folders]\n"src" = { steps = 2, seconds = "9" }\n', "[folders.src.seconds] must be int or float"),
    ('[folders]\n"src" = { steps = 0, seconds = 1 }\n', "[folders.src.steps] steps must be at least 1"),
    ('[folders]\n"src" = { steps = 1, secs = 1 }\n', "[folders.src.seconds] missing"),
    ('[folder]\n"src" = { steps = 1, seconds = 1 }\n', "[folders] missing"),
])
def test_a_bad_weights_table_names_file_and_key(tmp_path, text, message):
    path = tmp_path / "weights.toml"
    path.write_text(text)
    with pytest.raises(RecipeError) as err:
        folder_weights_model(path)
    assert str(err.value).startswith(f"{path}: {message}")
