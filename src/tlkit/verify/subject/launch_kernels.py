"""Compile kernel variants for the GPU that is present, run them on inputs of the real shapes, compare with
the PyTorch references and time them: `python -m tlkit.verify.subject.launch_kernels SPEC`, started by
tlkit.verify.gpu inside the environment under test, one fresh process per compile (this process initialises
CUDA, so it is never forked) and one for the runs.

It reports through the worker engine's protocol (subject/protocol.py). Before every launch
it says so, with the grid and block, and the parent's worker engine kills this process group when a launch or
its synchronisation outlives the bound: a kernel that never finishes on the device becomes "device hang"."""

import collections
import importlib
import json
import os
import re
import sys
import time
import traceback

from tlkit.verify.subject.compiled import (
    compile_factory,
    dynamic_smem,
    elaborate,
    first_error_line,
    missing_primitives,
    normalized_source,
    source_hashes,
)
from tlkit.verify.subject.protocol import factory_in, load_module, start

# TileLang's packed FP32x2 helpers (tl_templates/cuda/common.h): Blackwell instructions from sm_100 on, a
# scalar version below. In a source made for sm_120a and run on an older GPU, these run as scalars.
PACKED_HELPERS = re.compile(r"\btl::(add2|sub2|mul2|fma2|max2|min2|abs2|max2_nan|min2_nan)\b")


def launch_shape(prim_func, args):
    """(grid, block) of the kernel with its symbolic sizes bound to the shapes of `args`."""
    import tvm

    tir = getattr(tvm, "tir", None) or tvm.tirx
    binding = {}
    for param, tensor in zip(prim_func.params, args, strict=False):
        buf = prim_func.buffer_map.get(param)
        if buf is None:
            continue
        for dim, size in zip(buf.shape, tensor.shape, strict=False):
            if isinstance(dim, tir.Var):
                binding[dim] = int(size)
    extents = {}

    def visit(node):
        # T.Kernel binds threads as `for ... in T.thread_binding(extent, thread=tag)`; older TileLang as an
        # AttrStmt "thread_extent"
        if isinstance(node, tir.For) and getattr(node, "thread_binding", None) is not None:
            tag, extent = node.thread_binding.thread_tag, node.extent
        elif isinstance(node, tir.AttrStmt) and node.attr_key == "thread_extent":
            tag, extent = node.node.thread_tag, node.value
        else:
            return
        value = tvm.arith.Analyzer().simplify(tir.stmt_functor.substitute(extent, binding))
        extents[tag] = int(value) if isinstance(value, tir.IntImm) else str(value)

    tir.stmt_functor.post_order_visit(prim_func.body, visit)
    grid = [extents.get(f"blockIdx.{a}", 1) for a in "xyz"]
    block = [extents.get(f"threadIdx.{a}", 1) for a in "xyz"]
    return grid, block


def launch(events, what, shape):
    """Said before every launch: the worker engine holds it and its synchronisation to the launch bound."""
    events.emit(event="launch", stage=f"launch: {what}", what=what, grid=shape[0], block=shape[1])


def compare(case, tolerances):
    """Per output: worst error against the reference and how many elements are outside the tolerance."""
    import torch

    report, ok = {}, True
    for idx, name in case.outputs.items():
        got = case.decode[idx](case.args[idx]).float()
        want = case.expected[idx].to(got.device).float()
        tol = tolerances[case.tolerance[idx]]
        scale = want.abs().max().item() if want.numel() else 0.0
        err = (got - want).abs()
        allowed = tol["rtol"] * want.abs() + tol["atol"] * scale
        bad = ~(err <= allowed)  # NaN (an element never written) counts as bad
        n_bad = int(bad.sum().item())
        worst = float(torch.nan_to_num(err, nan=float("inf")).max().item()) if err.numel() else 0.0
        entry = {"tolerance": case.tolerance[idx], "max_abs_err": worst, "ref_max_abs": scale,
                 "bad": n_bad, "elements": err.numel()}
        if n_bad:
            ok = False
            first = [int(i) for i in torch.nonzero(bad)[0].tolist()]
            entry["first_bad"] = {"index": first, "got": float(got[tuple(first)]), "want": float(want[tuple(first)])}
        report[name] = entry
    return ok, report


def time_kernel(kernel, args, timing, events, shape):
    """Median milliseconds per launch over `repeats` batches of `batch` back-to-back launches, each batch
    between two CUDA events. A sleep kernel queued first holds the GPU while the host queues the batch, so
    the events time the device's work, not the host's launch cost (these kernels run for microseconds)."""
    import torch

    launch(events, f"{timing['warmup']} warm-up launches", shape)
    for _ in range(timing["warmup"]):
        kernel(*args)
    torch.cuda.synchronize()
    launch(events, f"{timing['repeats']} timed batches", shape)
    samples = []
    for _ in range(timing["repeats"]):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda._sleep(timing["sleep_cycles"])
        start.record()
        for _ in range(timing["batch"]):
            kernel(*args)
        end.record()
        end.synchronize()
        samples.append(start.elapsed_time(end) / timing["batch"])
    samples.sort()
    return samples[len(samples) // 2], samples


PHASE = {"error": "compile error"}
SOURCE = {"text": None}  # the sm_120a source the CUDA post-processing callback hands to the compile


def _replace_source(code, target):
    return SOURCE["text"] if SOURCE["text"] is not None else code


def with_source(wanted, arch, compile_it):
    """`compile_it()` with the CUDA post-processing callback handing it `wanted` (the `arch` source; None: the
    compile's own), and the kernel checked to carry it."""
    SOURCE["text"] = wanted
    try:
        kernel = compile_it()
    finally:
        SOURCE["text"] = None
    if wanted is not None and normalized_source(kernel.get_kernel_source()) != normalized_source(wanted):
        raise RuntimeError(f"the kernel compiled for the GPU does not carry the {arch} source")
    return kernel


def source_for(prim_func, factory, arch, smem_limit, workdir):
    """Generate the CUDA source of `prim_func` for `arch` (no GPU of that kind needed) and describe it: its
    hash (normalised as verify-sm120 compares), dynamic shared memory, the packed helpers it uses (also saved
    as `workdir/<arch>.cu`). Returns (info, source, None), or (info, source or None, why) when the kernel
    cannot launch on `arch`."""
    try:
        kernel = compile_factory(prim_func, factory, {"kind": "cuda", "arch": arch})
    except Exception as exc:  # the kit wheel refuses a kernel over the target's limit at compile time
        line = first_error_line(exc)
        if "shared memory" in line:
            return {"source_arch": arch}, None, f"{arch}: {line}"
        raise
    source = kernel.get_kernel_source()
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, f"{arch}.cu"), "w") as f:
        f.write(source)
    smem = max(dynamic_smem(kernel).values(), default=0)
    used = dict(collections.Counter(f"tl::{name}" for name in PACKED_HELPERS.findall(source)))
    info = {"source_arch": arch, **source_hashes(source),
            "source_dynamic_smem": smem, "scalar_fallbacks": used}
    if smem_limit and smem > smem_limit:
        why = f"needs {smem:,} B of dynamic shared memory per block on {arch}, which allows {smem_limit:,} B"
        return info, source, why
    return info, source, None


def run_one(spec, item, events):
    import tilelang
    import torch

    PHASE["error"] = "compile error"
    factory = factory_in(load_module(spec["module"], "tlkit_verify_kernels"), spec["module"], item["factory"])
    events.emit(event="stage", stage="elaborate (build the TIR from the factory)",
         tilelang=getattr(tilelang, "__version__", "?"))
    prim_func = elaborate(factory, item["kwargs"])
    props = torch.cuda.get_device_properties(0)
    limit = int(getattr(props, "shared_memory_per_block_optin", 0) or 0)
    source_info, wanted, unfit = {}, None, None
    arch = spec.get("source_arch")
    if arch:
        events.emit(event="stage", stage=f"generate the {arch} source")
        source_info, wanted, unfit = source_for(prim_func, factory, arch, spec["source_smem_limit"],
                                                os.path.join(spec["workdir"], item["slug"]))
        if unfit:
            events.emit(event="result", status="not launchable", error=unfit, device=props.name, **source_info)
            return
    events.emit(event="stage", stage="compile (lower, codegen, nvcc, load)"
         + (f" with the {arch} source" if arch else ""))
    start = time.perf_counter()
    try:
        kernel = with_source(wanted, arch, lambda: compile_factory(prim_func, factory, spec["target"]))
    except Exception as exc:
        missing = missing_primitives(str(exc)) if wanted is not None else []
        if not missing:
            raise
        traceback.print_exc()
        events.emit(event="result", status="no fallback", missing_primitives=missing, device=props.name,
                    error=f"the {arch} source uses {', '.join(missing)}, which the compiler for {props.name} "
                          f"refuses (a Blackwell primitive with no fallback, or a broken source): "
                          f"{first_error_line(exc)}", **source_info)
        return
    compile_s = time.perf_counter() - start
    common = {"compile_s": compile_s, "target": str(getattr(kernel, "target", spec["target"])),
              "smem_limit": limit, "device": props.name, **source_info}
    if spec["compile_only"]:  # the kernel cache is filled; the run phase reads the compiled kernel from it
        events.emit(event="result", status="compiled", dynamic_smem=max(dynamic_smem(kernel).values(), default=0),
             **common)
        return
    PHASE["error"] = "run error"  # from here on an exception is not the compiler's
    smem = item.get("dynamic_smem", 0)
    events.emit(event="stage", stage="inputs and reference")
    case = make_case(spec, item, spec["dims"])
    shape = launch_shape(prim_func, case.args)
    common.update(grid=shape[0], block=shape[1], dims=case.dims)
    if limit and smem > limit:
        events.emit(event="result", status="not launchable",
             error=f"needs {smem:,} B of dynamic shared memory per block; {props.name} allows {limit:,} B", **common)
        return
    launch(events, "first launch and synchronisation", shape)
    try:
        kernel(*case.args)
        torch.cuda.synchronize()
    except Exception as exc:
        traceback.print_exc()
        events.emit(event="result", status="run error", error=first_error_line(exc), **common)
        return
    events.emit(event="stage", stage="compare with the reference")
    ok, errors = compare(case, spec["tolerances"])
    edges, wrong_edges = run_edges(kernel, prim_func, item, spec, case, events)
    model_call = run_as_the_model_does(factory, item, spec, wanted, prim_func, events)
    median_ms, samples = time_kernel(kernel, case.args, spec["timing"], events, shape)
    error = ""
    if ok and wrong_edges:
        error = f"wrong at the edge shape(s) {', '.join(wrong_edges)}"
    elif ok and model_call.startswith("wrong"):
        error = f"called as the model calls it: {model_call}"
    events.emit(event="result", status="ok" if ok and not error else "wrong", errors=errors,
         median_ms=median_ms, samples_ms=samples, edges=edges, model_call=model_call, error=error, **common)


def cases_module(spec):
    """--cases FILE, else the kit's own cases (gpu_cases.py beside this file)."""
    if spec.get("cases"):
        return load_module(spec["cases"], "tlkit_verify_gpu_cases")
    return importlib.import_module("tlkit.verify.subject.gpu_cases")


def make_case(spec, item, dims):
    """Inputs on the GPU and the reference outputs for `dims`; under a sanitizer (reference_on_cpu) the
    reference is computed on the CPU, so that the only kernels it instruments are TileLang's."""
    import torch

    cases = cases_module(spec)
    if not spec.get("reference_on_cpu"):
        return cases.make_case(item["factory"], item["kwargs"], dims, "cuda", seed=spec.get("seed", 0))
    case = cases.make_case(item["factory"], item["kwargs"], dims, "cpu", seed=spec.get("seed", 0))
    case.args[:] = [a.cuda() if isinstance(a, torch.Tensor) else a for a in case.args]
    return case


def check_once(kernel, prim_func, item, spec, dims, what, events):
    """The kernel launched once on a fresh case of `dims` (outputs NaN) and checked against the reference, not
    timed: "ok" or "wrong: <the first output outside its tolerance>"."""
    import torch

    case = make_case(spec, item, dims)
    launch(events, what, launch_shape(prim_func, case.args))
    kernel(*case.args)
    torch.cuda.synchronize()
    ok, errors = compare(case, spec["tolerances"])
    if ok:
        return "ok"
    return "wrong: " + next(f"{k}: {v['bad']}/{v['elements']} outside" for k, v in errors.items() if v["bad"])


def run_edges(kernel, prim_func, item, spec, case, events):
    """The kernel once at each edge shape of gpu.toml that changes a size it takes (checked, not timed).
    Returns ({edge: "ok" | "wrong: ..." }, [names of the wrong ones])."""
    edges = {}
    for name, sizes in spec.get("edges", {}).items():
        if not set(sizes) & (set(case.dims) | ({"valid_keys"} if "topk" in case.dims else set())):
            continue
        edges[name] = check_once(kernel, prim_func, item, spec, {**spec["dims"], **sizes}, f"edge shape {name}",
                                 events)
    return edges, [name for name, outcome in edges.items() if outcome != "ok"]


def run_as_the_model_does(factory, item, spec, wanted, prim_func, events):
    """The variant as the model's own code gets and calls it: the @tilelang.jit factory called with the variant's
    arguments (TileLang's JIT path, its argument parsing and caches, not get_tir + compile), then the kernel it
    returns called with torch tensors, on a fresh case checked against the reference. Returns "ok", "wrong: ..."
    (an error here included: the variant's other results stand) or "not run: ..."."""
    import dataclasses

    if not (dataclasses.is_dataclass(factory) and hasattr(factory, "get_tir")):
        return "not run: not a @tilelang.jit factory"
    jit = dataclasses.replace(factory, target=spec["target"])  # the same factory, for the GPU under test
    try:
        events.emit(event="stage", stage="compile through the jit factory, as the model does")
        kernel = with_source(wanted, spec.get("source_arch"), lambda: jit(**item["kwargs"]))
        return check_once(kernel, prim_func, item, spec, spec["dims"],
                          "the jit factory's kernel, called as the model calls it", events)
    except Exception as exc:
        traceback.print_exc()
        return f"wrong: {first_error_line(exc)}"


def main():
    spec = json.loads(sys.argv[1])
    events = start(spec)
    events.emit(event="stage", stage="import tilelang and torch")
    import tilelang  # noqa: F401
    import torch

    if not torch.cuda.is_available():
        events.begin(0)
        events.emit(event="result", status="no gpu", error="torch.cuda.is_available() is False")
        return
    if spec.get("source_arch"):
        from tilelang.engine.callback import register_cuda_postproc

        register_cuda_postproc(_replace_source)
    for i, item in enumerate(spec["variants"]):
        events.begin(i)
        try:
            run_one(spec, item, events)
        except Exception as exc:  # an error is a result, not a crash of the worker
            traceback.print_exc()
            events.emit(event="result", status=PHASE["error"], error=first_error_line(exc))
    events.emit(event="done")


if __name__ == "__main__":
    main()
