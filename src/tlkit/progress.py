"""A live progress line for ninja builds: compile step n of N, elapsed time and an ETA."""

from __future__ import annotations

import re
import sys
import time
from typing import TextIO

_STEP = re.compile(r"^\[(\d+)/(\d+)\] ")


def fmt_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s" if m else f"{s}s"


class Progress:
    """Feed it build output lines; it redraws one status line (or, without a terminal, prints one
    every `interval` seconds so that CI logs stay short)."""

    def __init__(self, out: TextIO = sys.stderr, interval: float = 30.0, clock=time.monotonic) -> None:
        self.out, self.interval, self.clock = out, interval, clock
        self.start = clock()
        self.first_step_at: float | None = None
        self.first_step = 0
        self.step = self.total = 0
        self.last_print = -1e9
        self.tty = hasattr(out, "isatty") and out.isatty()

    def feed(self, line: str) -> None:
        m = _STEP.match(line)
        if not m:
            return
        self.step, self.total = int(m.group(1)), int(m.group(2))
        if self.first_step_at is None:
            self.first_step_at, self.first_step = self.clock(), self.step
        now = self.clock()
        if self.tty or now - self.last_print >= self.interval or self.step == self.total:
            self.last_print = now
            self.draw()

    def eta(self) -> float | None:
        if self.first_step_at is None or self.step <= self.first_step or not self.total:
            return None
        rate = (self.clock() - self.first_step_at) / (self.step - self.first_step)
        return rate * (self.total - self.step)

    def line(self) -> str:
        elapsed = fmt_seconds(self.clock() - self.start)
        eta = self.eta()
        eta_text = f", ETA {fmt_seconds(eta)}" if eta is not None else ""
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
