"""Compile one kernel variant for each target, inside the verify venv. Run as a script by runner.py.

Standalone on purpose (stdlib + the TileLang under test only): the venv holds the wheel being verified,
not tlkit. It reports through JSON lines on the file descriptor `events_fd`: the stage it is in, then one
result per target. The parent enforces the wall-clock bound and kills this process group when it passes;
SIGUSR1 makes it dump every thread's Python stack to `stack_file` first."""

import faulthandler
import hashlib
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
import traceback

EM_CUDA = 190  # ELF e_machine of NVIDIA device code
WORKSPACE = re.compile(r"\bworkspace(?:_\d+)?\b")  # TileLang's reduction workspace buffers


def emit(stream, **event):
    stream.write(json.dumps(event) + "\n")
    stream.flush()


def load_module(path, name):
    """The Python file at `path` as module `name`, executed once per process."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def load_factory(module_path, name):
    module = load_module(module_path, "tlkit_verify_kernels")
    if not hasattr(module, name):
        raise LookupError(f"{module_path} has no kernel factory {name!r}")
    return getattr(module, name)


def shared_buffers(prim_func):
    """(name, bytes) of every buffer the kernel declares in shared memory, before lowering."""
    import tvm

    tir = getattr(tvm, "tir", None) or tvm.tirx
    found = []

    def visit(node):
        for buf in getattr(node, "alloc_buffers", None) or ():
            scope = buf.scope() if callable(getattr(buf, "scope", None)) else str(getattr(buf, "scope", ""))
            if not scope.startswith("shared"):
                continue
            count = 1
            for dim in buf.shape:
                count *= int(dim)
            bits = tvm.DataType(str(buf.dtype)).bits * tvm.DataType(str(buf.dtype)).lanes
            found.append((str(buf.name), count * bits // 8))

    tir.stmt_functor.post_order_visit(prim_func.body, visit)
    return found


def dynamic_smem(kernel):
    """Dynamic shared memory per block of each device function, as lowering recorded it."""
    out = {}
    artifact = getattr(kernel, "artifact", None)
    device_mod = getattr(artifact, "device_mod", None)
    if device_mod is None:
        return out
    for gv, func in device_mod.functions.items():
        attrs = func.attrs or {}
        size = attrs.get("dyn_shared_memory_buf") if hasattr(attrs, "get") else None
        out[str(getattr(gv, "name_hint", gv))] = int(size) if size is not None else 0
    return out


def embedded_cubins(path):
    """Device ELF images embedded in a host shared library (TileLang stores its cubin as a blob)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] == b"\x7fELF" and int.from_bytes(data[18:20], "little") == EM_CUDA:
        return [data]
    images = []
    for m in re.finditer(rb"\x7fELF\x02\x01", data):
        start = m.start()
        if start == 0 or int.from_bytes(data[start + 18:start + 20], "little") != EM_CUDA:
            continue
        def field(offset, size, start=start):
            return int.from_bytes(data[start + offset:start + offset + size], "little")

        shoff, phoff = field(40, 8), field(32, 8)
        end = start + max(shoff + field(58, 2) * field(60, 2), phoff + field(54, 2) * field(56, 2))
        if shoff and end <= len(data):
            images.append(data[start:end])
    return images


def library_path(kernel):
    """The compiled kernel library: the adapter's own path, else the kernel cache entry."""
    for obj in (getattr(kernel, "adapter", None), kernel):
        for attr in ("libpath", "lib_path", "kernel_lib_path"):
            value = getattr(obj, attr, None)
            if isinstance(value, str) and os.path.isfile(value):
                return value
    entry = getattr(kernel, "_tilelang_cache_path", None)
    if isinstance(entry, str) and os.path.isdir(entry):
        for name in sorted(os.listdir(entry)):
            if name.endswith(".so") or name.endswith(".cubin"):
                return os.path.join(entry, name)
    return None


def inspect_cubin(kernel, cuobjdump, workdir, tag):
    """Architectures and per-function resource usage (registers, stack, local, static shared) from the
    cubin TileLang produced, read with cuobjdump."""
    lib = library_path(kernel)
    if lib is None:
        return {"cubin": "not found (no kernel library path)"}
    images = embedded_cubins(lib)
    if not images:
        return {"cubin": f"no device code embedded in {os.path.basename(lib)}"}
    info = {"archs": [], "functions": {}}
    for i, image in enumerate(images):
        path = os.path.join(workdir, f"{tag}-{i}.cubin")
        with open(path, "wb") as f:
            f.write(image)
        listing = subprocess.run([cuobjdump, "--list-elf", path], capture_output=True, text=True)
        info["archs"] += re.findall(r"\.(sm_\d+[a-z]?)\.cubin", listing.stdout)
        usage = subprocess.run([cuobjdump, "-res-usage", path], capture_output=True, text=True)
        current = None
        for line in usage.stdout.splitlines():
            m = re.search(r"Function (\S+):", line)
            if m:
                current = m.group(1)
                continue
            if current and "REG:" in line:
                fields = dict(re.findall(r"(REG|STACK|SHARED|LOCAL):(\d+)", line))
                info["functions"][current] = {k.lower(): int(v) for k, v in fields.items()}
        if not info["archs"]:
            m = re.search(r"arch = (sm_\d+[a-z]?)", listing.stdout + usage.stdout)
            if m:
                info["archs"].append(m.group(1))
    return info


def normalized_source(source):
    """The source with TileLang's workspace buffers renumbered in order of first use. 0.1.14 names the
    reduction workspaces of one kernel in an order that varies between runs of the same wheel (measured:
    sparse_attn swaps workspace and workspace_1 in about 1 compile of 4), so equality up to this renaming is
    what a comparison between wheels can ask for."""
    order = {}
    for name in WORKSPACE.findall(source):
        order.setdefault(name, f"workspace#{len(order)}")
    return WORKSPACE.sub(lambda m: order[m.group(0)], source)


def first_error_line(exc):
    """The first line of an error that says what went wrong (not a traceback frame or banner)."""
    text = f"{type(exc).__name__}: {exc}"
    for line in text.splitlines():
        line = line.strip()
        if re.search(r"(error|Error|fatal|Check failed|not supported|exceed)", line) and len(line) > 8:
            return line[:1000]
    return text.splitlines()[0][:1000] if text else type(exc).__name__


def compile_factory(prim_func, factory, target):
    """`tilelang.compile` of a kernel factory's TIR with the factory's own out_idx, pass configs and flags."""
    import tilelang

    return tilelang.compile(prim_func, out_idx=getattr(factory, "out_idx", None), target=target,
                            pass_configs=getattr(factory, "pass_configs", None),
                            compile_flags=getattr(factory, "compile_flags", None))


def compile_target(factory, kwargs, arch, cuobjdump, workdir, events):
    from tvm.target import Target

    emit(events, event="stage", target=arch, stage="elaborate (build the TIR from the factory)")
    get_tir = getattr(factory, "get_tir", None)
    prim_func = get_tir(**kwargs) if get_tir else factory(**kwargs)
    buffers = shared_buffers(prim_func)
    emit(events, event="stage", target=arch, stage="compile (lower, codegen, nvcc, load)")
    start = time.perf_counter()
    kernel = compile_factory(prim_func, factory, Target({"kind": "cuda", "arch": arch}))
    seconds = time.perf_counter() - start
    emit(events, event="stage", target=arch, stage="inspect (cubin, shared memory)")
    source = kernel.get_kernel_source()
    with open(os.path.join(workdir, f"{arch}.cu"), "w") as f:
        f.write(source)
    return {
        "seconds": seconds,
        "source_sha256": hashlib.sha256(source.encode()).hexdigest(),
        "normalized_source_sha256": hashlib.sha256(normalized_source(source).encode()).hexdigest(),
        "dynamic_smem": dynamic_smem(kernel),
        "buffers": buffers,
        **inspect_cubin(kernel, cuobjdump, workdir, arch),
    }


def main():
    spec = json.loads(sys.argv[1])
    events = os.fdopen(spec["events_fd"], "w")
    stack_file = open(spec["stack_file"], "w")  # noqa: SIM115 - must stay open for faulthandler
    faulthandler.register(signal.SIGUSR1, file=stack_file, all_threads=True)
    emit(events, event="stage", stage="import tilelang")
    import tilelang

    emit(events, event="stage", stage="import the kernel module", tilelang=getattr(tilelang, "__version__", "?"))
    factory = load_factory(spec["module"], spec["factory"])
    for arch in spec["targets"]:
        print(f"=== tlkit: target {arch} ===", file=sys.stderr, flush=True)
        print(f"=== tlkit: target {arch} ===", flush=True)
        emit(events, event="begin", target=arch)
        try:
            result = compile_target(factory, spec["kwargs"], arch, spec["cuobjdump"], spec["workdir"], events)
            emit(events, event="result", target=arch, status="ok", **result)
        except Exception as exc:  # a compile error is a result, not a crash of the worker
            traceback.print_exc()
            emit(events, event="result", target=arch, status="compile error", error=first_error_line(exc))
    emit(events, event="done")


if __name__ == "__main__":
    main()
