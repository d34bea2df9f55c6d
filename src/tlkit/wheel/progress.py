"""A live progress line for ninja builds: step n of N, elapsed time and an ETA from a cost model.

Steps differ in cost by two orders of magnitude (TVM's rewrite_simplify.cc: 97 s; a small runtime file: 1 s),
so an ETA linear in step count is wrong most of the time. The model gives each step an expected cost: from
the previous build's `.ninja_log` (per output) when the build folder has one, else from per-folder weights
measured on a cold build (recipes/build-times/<recipe>.toml), else 1 per step (the step count). The ETA is
the expected cost of the steps left, converted to seconds with the rate this build has shown so far (wall
seconds per unit of cost), which absorbs job count, machine speed, load and cache hits.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from tlkit.base.tomltable import Table, load_toml

_STEP = re.compile(r"^\[(\d+)/(\d+)\] (.*)$")
_OBJECT_DIR = re.compile(r"CMakeFiles/([^/]+)\.dir/(Unity/)?")


def fmt_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s" if m else f"{s}s"


def step_unit(output: str) -> str:
    """A step's output as a source-like path: CMake's `<dir>/CMakeFiles/<target>.dir/src/x.cc.o` becomes
    `<dir>/src/x.cc.o`, so that folder weights can name source folders. A unity unit keeps its target
    (`<dir>/Unity/<target>/unity_0_cxx.cxx.o`): every target numbers its units from 0."""
    return _OBJECT_DIR.sub(lambda m: f"Unity/{m[1]}/" if m[2] else "", output.strip())


def step_output(text: str) -> str:
    """The output of a step ninja reports as finished (it prints a step when it ends if its output is not
    a terminal): the last word of CMake's description, or the word after `-o` of a verbose command line."""
    words = text.split()
    if "-o" in words[:-1]:
        return words[words.index("-o") + 1]
    return words[-1] if words else ""


@dataclass(frozen=True)
class CostModel:
    """Expected seconds per step. `steps[unit] = (count, seconds each)`; with `by_folder`, a unit is a folder
    and a step belongs to the longest one that is a prefix of its path; `source` says where it came from."""

    source: str
    steps: dict[str, tuple[int, float]]
    by_folder: bool = False

    @property
    def mean(self) -> float:
        count = sum(c for c, _ in self.steps.values())
        return sum(c * s for c, s in self.steps.values()) / count if count else 1.0

    def unit(self, output: str) -> str | None:
        path = step_unit(output)
        if not self.by_folder:
            return path if path in self.steps else None
        folders = [f for f in self.steps if path == f or path.startswith(f.rstrip("/") + "/")]
        return max(folders, key=len) if folders else None


STEP_COUNT = CostModel("the step count", {})


def ninja_log_model(path: Path) -> CostModel | None:
    """Per-output durations from a `.ninja_log` (start, end, mtime, output, hash; the latest line wins)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    steps: dict[str, tuple[int, float]] = {}
    for line in text.splitlines():
        fields = line.split("\t")
        if line.startswith("#") or len(fields) < 4 or not fields[0].isdigit() or not fields[1].isdigit():
            continue
        steps[step_unit(fields[3])] = (1, max(0, int(fields[1]) - int(fields[0])) / 1000)
    return CostModel("the last build's ninja log", steps) if steps else None


def folder_weights_model(path: Path) -> CostModel | None:
    """Per-folder weights: `[folders]` maps a folder (as in step_unit) to `{ steps = N, seconds = S }`, the
    number of steps under it in a cold build and the seconds each took on average."""
    if not path.is_file():
        return None
    table = Table(path, load_toml(path), "")
    folders = table.table("folders")
    steps = {}
    for name in list(folders.data):
        row = folders.table(name)
        count, seconds = row.int("steps"), row.number("seconds")
        if count < 1 or seconds < 0:
            raise row.fail("steps", "steps must be at least 1 and seconds at least 0")
        row.finish()
        steps[name] = (count, float(seconds))
    table.str("measured", required=False)
    folders.finish()
    table.finish()
    return CostModel("per-folder weights", steps, by_folder=True)


def load_cost_model(ninja_log: Path, weights: Path | None) -> CostModel:
    """The best model at hand: the build folder's ninja log, else the recipe's folder weights, else step count."""
    return ninja_log_model(ninja_log) or (folder_weights_model(weights) if weights else None) or STEP_COUNT


@dataclass
class Estimate:
    """The cost accounting of one build against a model."""

    model: CostModel
    done: dict[str, int] = field(default_factory=dict)  # finished steps per unit of the model
    cost_since_first: float = 0.0  # expected cost of the steps finished after the first one

    def cost(self, unit: str | None) -> float:
        if not self.model.steps:
            return 1.0
        return self.model.steps[unit][1] if unit is not None else self.model.mean

    def finish(self, output: str, first: bool) -> None:
        unit = self.model.unit(output)
        if unit is not None:
            self.done[unit] = self.done.get(unit, 0) + 1
        if not first:
            self.cost_since_first += self.cost(unit)

    def cost_left(self, steps_left: int) -> float:
        """Expected cost of the steps left: each costs the mean of what the model has not seen finish yet (for a
        build like the modelled one, exactly the sum of what is left)."""
        if not self.model.steps:
            return float(steps_left)
        left = [(count - self.done.get(unit, 0), sec) for unit, (count, sec) in self.model.steps.items()]
        count = sum(c for c, _ in left if c > 0)
        mean = sum(c * s for c, s in left if c > 0) / count if count else self.model.mean
        return steps_left * mean


class Progress:
    """Feed it build output lines; it redraws one status line (or, without a terminal, prints one
    every `interval` seconds so that CI logs stay short)."""

    def __init__(self, out: TextIO = sys.stderr, interval: float = 30.0, clock=time.monotonic,
                 model: CostModel = STEP_COUNT) -> None:
        self.out, self.interval, self.clock = out, interval, clock
        self.start = clock()
        self.first_step_at: float | None = None
        self.step = self.total = 0
        self.estimate = Estimate(model)
        self.last_print = -1e9
        self.tty = hasattr(out, "isatty") and out.isatty()

    def feed(self, line: str) -> None:
        m = _STEP.match(line.rstrip("\n"))
        if not m:
            return
        self.step, self.total = int(m.group(1)), int(m.group(2))
        self.estimate.finish(step_output(m.group(3)), first=self.first_step_at is None)
        now = self.clock()
        if self.first_step_at is None:
            self.first_step_at = now
        if self.tty or now - self.last_print >= self.interval or self.step == self.total:
            self.last_print = now
            self.draw()

    def eta(self) -> float | None:
        """Seconds left: expected cost left times this build's seconds per unit of cost so far."""
        if self.first_step_at is None or self.estimate.cost_since_first <= 0 or not self.total:
            return None
        rate = (self.clock() - self.first_step_at) / self.estimate.cost_since_first
        return rate * self.estimate.cost_left(self.total - self.step)

    def line(self) -> str:
        elapsed = fmt_seconds(self.clock() - self.start)
        eta = self.eta()
        eta_text = f", ETA {fmt_seconds(eta)} (from {self.estimate.model.source})" if eta is not None else ""
        return f"build: step {self.step}/{self.total}, elapsed {elapsed}{eta_text}"

    def draw(self) -> None:
        if self.tty:
            self.out.write("\r\033[K" + self.line())
        else:
            self.out.write(self.line() + "\n")
        self.out.flush()

    def close(self) -> None:
        if self.tty and self.step:
            self.out.write("\n")
            self.out.flush()
