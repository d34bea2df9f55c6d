"""Run by the target's python3 under qemu-user (by path, not imported by the kit): import TileLang, then compile
the kernel variants of a spec for the target GPU, one after the other in this process (no fork under the
emulator); prints one JSON line per step, so that the kit reads each time even if a later step dies.

argv: SPEC (a JSON file: arch, module, variants [{name, kernel, kwargs}]) or "-" for import only. Each variant's
CUDA source is reported by its hashes, which the kit compares with the saved x86_64 ones."""

import json
import sys
import time
import traceback

start = time.perf_counter()
import tilelang  # noqa: E402

print(json.dumps({"step": "import", "seconds": round(time.perf_counter() - start, 1),
                  "version": tilelang.__version__}), flush=True)
if sys.argv[1] != "-":
    from tvm.target import Target  # noqa: E402

    from tlkit.verify.subject.compiled import compile_factory, elaborate, first_error_line, source_hashes  # noqa: E402
    from tlkit.verify.subject.protocol import factory_in, load_module  # noqa: E402

    with open(sys.argv[1]) as f:
        spec = json.load(f)
    module = load_module(spec["module"], "tlkit_aarch64_kernels")
    target = Target({"kind": "cuda", "arch": spec["arch"]})
    for variant in spec["variants"]:
        step = {"step": "compile", "variant": variant["name"], "arch": spec["arch"]}
        begun = time.perf_counter()
        try:
            factory = factory_in(module, spec["module"], variant["kernel"])
            kernel = compile_factory(elaborate(factory, variant["kwargs"]), factory, target)
            step.update(status="ok", **source_hashes(kernel.get_kernel_source()))
        except Exception as exc:  # a compile error is a result: the next variant still runs
            traceback.print_exc()
            # Patch 0001's refusal of a kernel over the target's shared memory: what verify-sm120 calls not
            # launchable (the stock wheel compiles it; it would fail at launch).
            refused = type(exc).__name__ == "SharedMemoryLimitError"
            step.update(status="not launchable" if refused else "compile error", error=first_error_line(exc))
        step["seconds"] = round(time.perf_counter() - begun, 1)
        print(json.dumps(step), flush=True)
