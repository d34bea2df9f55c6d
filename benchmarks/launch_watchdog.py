"""What the launch watchdog (patch 0011) costs at launch, on the GPU present; prints the machine and medians.

Three settings, switched with tilelang.launch_watchdog.configure in one process and taken in turn within each
round (so drift hits all three alike): "off" (seconds=0), "default" (120 s bound, at most one event pair per
stream per 2 ms) and "every launch" (an event pair around every launch, sample_ms=0). "off" runs beside the
monitor thread the other settings started, so its small-kernel row is not the cost of a process with the
watchdog off from the start: benchmarks/launch_path.py measures that.

1. Small kernel: --launches back-to-back launches of a 1,024-element scale kernel, then one synchronisation;
   wall time per launch (the host's launch cost, which is what the watchdog adds to).
2. Model-like sequence: every variant of verify/variants.toml, inputs of verify/gpu.toml's sizes, launched
   back to back --sequences times, then one synchronisation; wall time per sequence.

With the stock wheel (no tilelang.launch_watchdog) the one setting is "stock wheel", for a comparison across
wheels on the same machine.

A last row, "adapter only", launches the small kernel through the kernel's `torch_function` directly (what
JITKernel.__call__ calls: in the stock wheel itself, in the kit wheel through the watchdog's `launch`), so a
difference between wheels can be placed above or below JITKernel.__call__.

Run with the kit wheel's interpreter on a GPU machine, from the kit's root:
    PYTHONPATH=src:verify python benchmarks/launch_watchdog.py [--launches 10000] [--rounds 7] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

KIT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(KIT / "src"))
sys.path.insert(0, str(KIT / "verify"))

import tilelang  # noqa: E402
import torch  # noqa: E402

try:
    from tilelang import launch_watchdog  # noqa: E402
except ImportError:  # the stock wheel: no watchdog, one setting, for the comparison across wheels
    launch_watchdog = None

from tlkit.base.machine import describe  # noqa: E402
from tlkit.base.texttable import align  # noqa: E402
from tlkit.base.tomltable import load_toml  # noqa: E402
from tlkit.verify.subject import gpu_cases as cases  # noqa: E402
from tlkit.verify.subject.protocol import load_module as load  # noqa: E402
from tlkit.verify.variants import load_variants  # noqa: E402

MODES = ({"off": {"seconds": 0}, "default": {"seconds": 120, "sample_ms": 2},
          "every launch": {"seconds": 120, "sample_ms": 0}} if launch_watchdog else {"stock wheel": {}})


def configure(mode: str) -> None:
    if launch_watchdog:
        launch_watchdog.configure(**MODES[mode])


def small_kernel():
    spin = load(KIT / "tests" / "fixtures" / "gpu" / "spin_kernels.py", "spin_kernels")
    kernel = spin.scale_kernel(1024)
    x = torch.randn(1024, device="cuda")
    out = torch.empty_like(x)
    adapter = kernel.torch_function
    return (lambda: kernel(x, out)), (lambda: adapter(x, out))


def sequence():
    kernels = load(KIT / "verify" / "kernels.py", "tlkit_kernels")
    dims = load_toml(KIT / "verify" / "gpu.toml")["dims"]
    variants = load_variants(KIT / "verify" / "variants.toml")
    with ThreadPoolExecutor(8) as pool:  # nvcc runs overlap; the compiles are not what is measured
        compiled = list(pool.map(lambda v: getattr(kernels, v.kernel)(**v.kwargs), variants))
    return [(kernel, cases.make_case(v.kernel, v.kwargs, dims, "cuda").args)
            for kernel, v in zip(compiled, variants, strict=True)]


def timed(fn, repeat: int) -> float:
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launches", type=int, default=10000)
    parser.add_argument("--sequences", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    small, direct = small_kernel()
    calls = sequence()

    def run_sequence() -> None:
        for kernel, kargs in calls:
            kernel(*kargs)

    small_us: dict[str, list[float]] = {m: [] for m in MODES}
    direct_us: list[float] = []
    seq_ms: dict[str, list[float]] = {m: [] for m in MODES}
    names = list(MODES)
    for mode in names:  # warm-up: every kernel loaded, every stream seen, in each mode
        configure(mode)
        timed(small, 200)
        timed(direct, 200)
        timed(run_sequence, 5)
    for r in range(args.rounds):
        for mode in names[r % len(names):] + names[:r % len(names)]:
            configure(mode)
            small_us[mode].append(timed(small, args.launches) / args.launches * 1e6)
            seq_ms[mode].append(timed(run_sequence, args.sequences) / args.sequences * 1e3)
        direct_us.append(timed(direct, args.launches) / args.launches * 1e6)
    if launch_watchdog:
        launch_watchdog.configure(**MODES["default"])

    props = torch.cuda.get_device_properties(0)
    print(f"machine: {describe()}; GPU {props.name}; tilelang {tilelang.__version__}; torch {torch.__version__}")
    print(f"{args.rounds} rounds; small kernel: {args.launches} launches a round; sequence: {len(calls)} variants, "
          f"{args.sequences} sequences a round; medians (min-max)")
    base_small, base_seq = statistics.median(small_us[names[0]]), statistics.median(seq_ms[names[0]])
    rows = [("setting", "small kernel us/launch", f"vs {names[0]}", "sequence ms", f"vs {names[0]}")]
    for mode in names:
        s, q = statistics.median(small_us[mode]), statistics.median(seq_ms[mode])
        rows.append((mode, f"{s:.2f} ({min(small_us[mode]):.2f}-{max(small_us[mode]):.2f})", f"{s / base_small:.3f}",
                     f"{q:.3f} ({min(seq_ms[mode]):.3f}-{max(seq_ms[mode]):.3f})", f"{q / base_seq:.3f}"))
    d = statistics.median(direct_us)
    rows.append(("adapter only", f"{d:.2f} ({min(direct_us):.2f}-{max(direct_us):.2f})", f"{d / base_small:.3f}",
                 "-", "-"))
    print("\n".join(align(rows, rule=False)))
    if args.json:
        args.json.write_text(json.dumps({"machine": describe(), "gpu": props.name, "tilelang": tilelang.__version__,
                                         "small_us": small_us, "sequence_ms": seq_ms, "variants": len(calls),
                                         "adapter_only_us": direct_us,
                                         "launches": args.launches, "sequences": args.sequences}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
