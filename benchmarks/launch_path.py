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
import time
from pathlib import Path

KIT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(KIT / "src"))

import torch  # noqa: E402

from tlkit.machine import describe  # noqa: E402
from tlkit.verify.subject.protocol import load_module  # noqa: E402

LAUNCHES, ROUNDS = 10000, 9


def per_launch_us(fn) -> float:
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(LAUNCHES):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / LAUNCHES * 1e6


def main() -> int:
    spin = load_module(KIT / "tests" / "fixtures" / "gpu" / "spin_kernels.py", "spin_kernels")
    kernel = spin.scale_kernel(1024)
    x = torch.randn(1024, device="cuda")
    out = torch.empty_like(x)
    adapter = kernel.torch_function
    ways = (("call", lambda: kernel(x, out)), ("adapter", lambda: adapter(x, out)))
    times: dict[str, list[float]] = {name: [] for name, _ in ways}
    for r in range(ROUNDS):
        for name, fn in ways[:: 1 if r % 2 else -1]:
            times[name].append(per_launch_us(fn))
    import tilelang

    print(sys.argv[1] if len(sys.argv) > 1 else "-", describe(), torch.cuda.get_device_name(),
          f"tilelang {tilelang.__version__}",
          {n: round(statistics.median(v), 2) for n, v in times.items()},
          {n: [round(t, 1) for t in v] for n, v in times.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
