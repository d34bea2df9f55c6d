"""What a compiled TileLang kernel is made of: its shared buffers, dynamic shared memory, the cubins in its
library (architectures and resource usage, read with cuobjdump) and its CUDA source up to workspace names.
Used by both tiers' workers and by the kit (normalized_source)."""

import hashlib
import os
import re
import subprocess

EM_CUDA = 190  # ELF e_machine of NVIDIA device code
WORKSPACE = re.compile(r"\bworkspace(?:_\d+)?\b")  # TileLang's reduction workspace buffers
WORKSPACE_DECLARATION = re.compile(r"^\s*void\* (workspace(?:_\d+)?) = (.*)\n", re.MULTILINE)
KERNEL = re.compile(r"__global__ void (?:__launch_bounds__\([^)]*\) )?(\w+)\(")
ALLREDUCE_USE = re.compile(r"AllReduce<tl::\w+, (.+?)>::run\([^;]*?\(\((\w+)\*\)(workspace(?:_\d+)?)\)")


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
    """The source up to which reduction workspace serves which reduction. 0.1.14 assigns a kernel's workspaces
    (slots of shared memory, declared `void* workspace_N = buf_dyn_shmem + OFFSET`) to its reductions in an
    order that varies between runs of the same wheel (measured: sparse_attn swaps them in about 1 compile of 4).
    Names are renumbered in order of first use after the declarations; two workspaces may trade slots only when
    every use of each is an AllReduce of the same kind (template arguments but the Op, element type) in a source
    with one kernel. Every other workspace stays bound to its slot, so a trade of unlike slots still differs."""
    slot_of = dict(WORKSPACE_DECLARATION.findall(source))
    body = WORKSPACE_DECLARATION.sub("", source)
    order = {}
    for name in [*WORKSPACE.findall(body), *slot_of]:
        order.setdefault(name, f"workspace#{len(order)}")
    kinds = {}
    for args, dtype, name in ALLREDUCE_USE.findall(body):
        kinds.setdefault(name, []).append(f"AllReduce<{args}> {dtype}")
    one_kernel = len(set(KERNEL.findall(source))) == 1  # a declaration and its definition name one kernel
    uses = {name: len(re.findall(rf"\b{name}\b", body)) for name in order}
    kind_of = {name: " | ".join(sorted(set(kinds[name])))
               if one_kernel and name in kinds and len(kinds[name]) == uses[name] else f"only {order[name]}"
               for name in order}
    header = [f"{order[name]}: {kind_of[name]}" for name in order]
    for kind in sorted(set(kind_of.values())):
        header.append(f"slots of {kind}: {sorted(slot_of.get(n, '-') for n in order if kind_of[n] == kind)}")
    return "".join(f"{line}\n" for line in header) + WORKSPACE.sub(lambda m: order[m.group(0)], body)


# Most telling first: a fatal compiler line (nvcc's "Unsupported gpu architecture"), then a diagnostic
# (`file(12): error: ...`), then TVM's checks, then any line that mentions an error (a wrapper's banner
# "Compilation error:" heads a log whose real cause may be 200 lines down).
ERROR_LINES = (
    re.compile(r"\bfatal\b\s*:|Unsupported gpu architecture"),
    re.compile(r"\berror\b\s*:(?!\s*$)"),
    re.compile(r"Check failed|not supported|exceed"),
    re.compile(r"error|Error|fatal"),
)


def first_error_line(exc):
    """The line of an error that says best what went wrong (not a traceback frame or banner)."""
    text = f"{type(exc).__name__}: {exc}"
    lines = [line.strip() for line in text.splitlines()]
    for pattern in ERROR_LINES:
        for line in lines:
            if pattern.search(line) and len(line) > 8 and not line.startswith("#"):
                return line[:1000]
    return lines[0][:1000] if lines else type(exc).__name__


# What nvcc and ptxas say when code asks for something the target GPU does not have: an intrinsic declared only
# for newer architectures (sm_100_rt.h's __fadd2_rn below sm_100), a helper with no overload for it, or a PTX
# instruction its ptxas refuses. Each pattern's first group is the primitive's name.
MISSING_PRIMITIVE = (
    re.compile(r'identifier "([\w:]+)" is undefined'),
    re.compile(r'namespace "[\w:]+" has no member "(\w+)"'),
    re.compile(r'no instance of (?:overloaded )?function "([\w:]+)" matches'),
    re.compile(r"Instruction '([\w.]+)' not supported on \.target"),
    re.compile(r"Feature '([^']+)' requires \.target"),
)


def missing_primitives(text):
    """The primitives a compiler's error text says the target lacks, in order of first mention, each once."""
    found = []
    for line in text.splitlines():
        for pattern in MISSING_PRIMITIVE:
            for name in pattern.findall(line):
                if name not in found:
                    found.append(name)
    return found


def compile_factory(prim_func, factory, target):
    """`tilelang.compile` of a kernel factory's TIR with the factory's own out_idx, pass configs and flags."""
    import tilelang

    return tilelang.compile(prim_func, out_idx=getattr(factory, "out_idx", None), target=target,
                            pass_configs=getattr(factory, "pass_configs", None),
                            compile_flags=getattr(factory, "compile_flags", None))


def elaborate(factory, kwargs):
    """The factory's TIR for `kwargs` (a @tilelang.jit factory's get_tir, or a plain function returning it)."""
    get_tir = getattr(factory, "get_tir", None)
    return get_tir(**kwargs) if get_tir else factory(**kwargs)


def source_hashes(source):
    return {"source_sha256": hashlib.sha256(source.encode()).hexdigest(),
            "normalized_source_sha256": hashlib.sha256(normalized_source(source).encode()).hexdigest()}
