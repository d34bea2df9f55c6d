"""Inputs of the real shapes for each kernel factory, and the reference outputs they must produce.

`make_case(kernel, kwargs, dims, device, gen)` returns a Case: the kernel's arguments in order (outputs
pre-filled with NaN or garbage so an unwritten element shows), which arguments are outputs, how to
decode each output to float32, the tolerance class of each, and the reference outputs (reference.py).
`dims` holds the small sizes chosen for the symbolic dimensions (verify/gpu.toml [dims]). Torch only:
the GPU worker imports this file, tests/test_reference.py runs it on the CPU."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from tlkit.verify.subject import reference as ref


@dataclass
class Case:
    args: list[torch.Tensor]
    outputs: dict[int, str]  # argument index -> output name
    expected: dict[int, torch.Tensor]  # argument index -> float32 reference
    tolerance: dict[int, str]  # argument index -> tolerance class in verify/gpu.toml [tolerance]
    decode: dict[int, object] = field(default_factory=dict)  # argument index -> tensor -> float32
    dims: dict[str, int] = field(default_factory=dict)


def _fp8(shape, device, gen, spread: float = 1.0) -> torch.Tensor:
    return (torch.randn(shape, generator=gen, device=device) * spread).to(torch.float8_e4m3fn)


def _e8m0(shape, device, gen, low: int = -3, high: int = 3) -> torch.Tensor:
    exps = torch.randint(127 + low, 127 + high + 1, shape, generator=gen, device=device, dtype=torch.uint8)
    return exps.view(torch.float8_e8m0fnu)


def _fp4(rows: int, cols: int, device, gen) -> torch.Tensor:
    raw = torch.randint(0, 256, (rows, cols // 2), generator=gen, device=device, dtype=torch.uint8)
    return raw.view(torch.float4_e2m1fn_x2)


def _as_float(t: torch.Tensor) -> torch.Tensor:
    return ref.e8m0_to_float(t) if t.dtype == torch.float8_e8m0fnu else t.float()


def _quant_case(kernel, kwargs, dims, device, gen) -> Case:
    n, block = kwargs["N"], kwargs["block_size"]
    m = dims["M"]
    x = (torch.randn(m, n, generator=gen, device=device) * 3).to(torch.bfloat16)
    x[0, :block] = 0  # an all-zero group exercises the amax floor
    inplace = kwargs.get("inplace", False)
    groups = math.ceil(n / block)
    if kernel == "act_quant_kernel":
        y_dtype = torch.bfloat16 if inplace else torch.float8_e4m3fn
        scale_dtype = _torch_dtype(kwargs.get("scale_dtype", "float32"))
        y_ref, s_ref = ref.act_quant(x, block_size=block, round_scale=kwargs.get("round_scale", False),
                                     inplace=inplace)
        y_tol = "bf16_roundtrip_fp8" if inplace else "fp8_values"
    else:
        if not inplace:
            raise NotImplementedError("fp4_quant without inplace (packed FP4 output) is not a model variant")
        y_dtype = torch.bfloat16
        scale_dtype = _torch_dtype(kwargs.get("scale_dtype", "float8_e8m0fnu"))
        y_ref, s_ref = ref.fp4_quant(x, block_size=block, inplace=inplace)
        y_tol = "bf16_roundtrip_fp4"
    y = torch.full((m, n), float("nan"), device=device).to(y_dtype)
    s = torch.zeros(m, groups, device=device).to(scale_dtype)
    return Case([x, y, s], {1: "Y", 2: "S"}, {1: y_ref, 2: s_ref}, {1: y_tol, 2: "exact"},
                {1: _as_float, 2: _as_float}, {"M": m})


def _gemm_case(kernel, kwargs, dims, device, gen) -> Case:
    n, k, m = kwargs["N"], kwargs["K"], dims["M"]
    scale_dtype = kwargs.get("scale_dtype", "float32")
    a = _fp8((m, k), device, gen)
    sa = _e8m0((m, math.ceil(k / 128)), device, gen) if scale_dtype == "float8_e8m0fnu" else \
        torch.rand(m, math.ceil(k / 128), generator=gen, device=device) + 0.5
    if kernel == "fp8_gemm_kernel":
        b = _fp8((n, k), device, gen)
        sb = _e8m0((math.ceil(n / 128), math.ceil(k / 128)), device, gen) if scale_dtype == "float8_e8m0fnu" else \
            torch.rand(math.ceil(n / 128), math.ceil(k / 128), generator=gen, device=device) + 0.5
        expected = ref.fp8_gemm(a, b, sa, sb)
    else:
        b = _fp4(n, k, device, gen)
        sb = _e8m0((n, math.ceil(k / 32)), device, gen)
        expected = ref.fp4_gemm(a, b, sa, sb)
    c = torch.full((m, n), float("nan"), device=device).to(_torch_dtype(kwargs.get("out_dtype", "bfloat16")))
    return Case([a, b, c, sa, sb], {2: "C"}, {2: expected}, {2: "gemm_bf16"}, {2: _as_float}, {"M": m})


def _sparse_attn_case(kernel, kwargs, dims, device, gen) -> Case:
    h, d = kwargs["h"], kwargs["d"]
    b, m, n, topk = dims["b"], dims["m"], dims["n"], dims["topk"]
    scale = kwargs.get("scale") or d**-0.5
    q = torch.randn(b, m, h, d, generator=gen, device=device).to(torch.bfloat16)
    kv = torch.randn(b, n, d, generator=gen, device=device).to(torch.bfloat16)
    sink = torch.randn(h, generator=gen, device=device)
    idx = torch.stack([torch.randperm(n, generator=gen, device=device)[:topk] for _ in range(b * m)]).view(b, m, topk)
    unused = torch.rand(b, m, topk, generator=gen, device=device) < 0.25
    unused[..., 0] = False  # every query keeps at least one row
    if "valid_keys" in dims:  # only the first `valid_keys` selected rows of each query are valid
        unused[..., :] = True
        unused[..., : dims["valid_keys"]] = False
    idx = idx.masked_fill(unused, -1).to(torch.int32)
    o = torch.full((b, m, h, d), float("nan"), device=device).to(torch.bfloat16)
    expected = ref.sparse_attn(q, kv, sink, idx, scale)
    return Case([q, kv, o, sink, idx], {2: "o"}, {2: expected}, {2: "attn_bf16"}, {2: _as_float},
                {"b": b, "m": m, "n": n, "topk": topk})


def _sinkhorn_case(kernel, kwargs, dims, device, gen) -> Case:
    hc, iters, eps = kwargs["hc"], kwargs["sinkhorn_iters"], kwargs["eps"]
    n = dims["n"]
    width = (2 + hc) * hc
    mixes = torch.randn(n, width, generator=gen, device=device)
    hc_scale = torch.rand(3, generator=gen, device=device) + 0.5
    hc_base = torch.randn(width, generator=gen, device=device) * 0.1
    outs = [torch.full(shape, float("nan"), device=device) for shape in ((n, hc), (n, hc), (n, hc, hc))]
    pre, post, comb = ref.hc_split_sinkhorn(mixes, hc_scale, hc_base, hc, iters, eps)
    return Case([mixes, hc_scale, hc_base, *outs], {3: "pre", 4: "post", 5: "comb"}, {3: pre, 4: post, 5: comb},
                {3: "fp32", 4: "fp32", 5: "fp32"}, {i: _as_float for i in (3, 4, 5)}, {"n": n})


_TORCH = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float8_e4m3": torch.float8_e4m3fn,
          "float8_e8m0fnu": torch.float8_e8m0fnu}


def _torch_dtype(name: str) -> torch.dtype:
    return _TORCH[name]


BUILDERS = {
    "act_quant_kernel": _quant_case,
    "fp4_quant_kernel": _quant_case,
    "fp8_gemm_kernel": _gemm_case,
    "fp4_gemm_kernel": _gemm_case,
    "sparse_attn_kernel": _sparse_attn_case,
    "hc_split_sinkhorn_kernel": _sinkhorn_case,
}


def make_case(kernel: str, kwargs: dict, dims: dict[str, int], device: str, seed: int = 0) -> Case:
    if kernel not in BUILDERS:
        raise LookupError(f"no GPU case for kernel factory {kernel!r} in {__file__}")
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    return BUILDERS[kernel](kernel, kwargs, dims, device, gen)
