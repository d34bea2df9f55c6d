"""Where a tiny kernel's launch time goes above TileLang's adapter: `kernel(x, out)` (JITKernel.__call__, in the
kit wheel through the launch watchdog) against `kernel.torch_function(x, out)` (the adapter it calls), 10,000
back-to-back launches of a 1,024-element kernel then one synchronisation, taken in turn over 9 rounds (order
alternating); prints the machine and medians. Run once per setting: with TILELANG_LAUNCH_WATCHDOG_SECONDS=0 in
the environment (the watchdog's monitor thread never starts), with the default, and on the stock wheel.

    PYTHONPATH=SITE:src:verify python benchmarks/launch_path.py LABEL
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

KIT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(KIT / "src"))

import torch  # noqa: E402
from launch_watchdog import small_kernel, timed  # noqa: E402  (benchmarks/launch_watchdog.py, beside this file)

from tlkit.base.machine import describe  # noqa: E402

LAUNCHES, ROUNDS = 10000, 9


def main() -> int:
    call, adapter = small_kernel()
    ways = (("call", call), ("adapter", adapter))
    times: dict[str, list[float]] = {name: [] for name, _ in ways}
    for r in range(ROUNDS):
        for name, fn in ways[:: 1 if r % 2 else -1]:
            times[name].append(timed(fn, LAUNCHES) / LAUNCHES * 1e6)
    import tilelang

    print(sys.argv[1] if len(sys.argv) > 1 else "-", describe(), torch.cuda.get_device_name(),
          f"tilelang {tilelang.__version__}",
          {n: round(statistics.median(v), 2) for n, v in times.items()},
          {n: [round(t, 1) for t in v] for n, v in times.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
