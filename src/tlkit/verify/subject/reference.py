"""Plain PyTorch references for the six kernel patterns (the math of shared/dsv4-kernels.md, nothing
TileLang-specific): what `verify-gpu` compares every kernel's output with. Each function takes the same
tensors the kernel takes (outputs excepted) and returns the outputs in float32 or the exact encoded dtype;
they run on the CPU or the GPU. tests/test_reference.py checks them against independent loop versions."""

from __future__ import annotations

import math

import torch

FP8_MAX = 448.0
FP4_MAX = 6.0
# The eight magnitudes of FP4 e2m1 (sign in bit 3): 0, 0.5, 1, 1.5, 2, 3, 4, 6.
E2M1_VALUES = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)


def e8m0_to_float(s: torch.Tensor) -> torch.Tensor:
    """Power-of-two scales stored as a biased exponent byte: 2^(byte - 127)."""
    if s.dtype == torch.float8_e8m0fnu:
        s = s.view(torch.uint8)
    if s.dtype == torch.uint8:
        return torch.exp2(s.to(torch.float32) - 127.0)
    return s.to(torch.float32)


def fp4_unpack(packed: torch.Tensor) -> torch.Tensor:
    """float4_e2m1fn_x2 / uint8 [R, C/2] -> float32 [R, C]; the low nibble holds the even element."""
    b = packed.view(torch.uint8).to(torch.int64)
    nibbles = torch.stack((b & 0xF, b >> 4), dim=-1).flatten(-2)
    table = torch.tensor(E2M1_VALUES, dtype=torch.float32, device=packed.device)
    mag = table[nibbles & 0x7]
    return torch.where((nibbles & 0x8) != 0, -mag, mag)


def fp4_round(x: torch.Tensor) -> torch.Tensor:
    """Round float32 to the nearest FP4 e2m1 value, ties to the even code, saturating at +-6."""
    table = torch.tensor(E2M1_VALUES, dtype=torch.float32, device=x.device)
    a = x.abs().clamp(max=FP4_MAX)
    dist = (a.unsqueeze(-1) - table).abs()
    best = dist.min(dim=-1, keepdim=True).values
    # among the nearest codes pick the even one (codes 0..7; an exact tie has two neighbours)
    codes = torch.arange(8, device=x.device)
    candidates = torch.where(dist == best, codes, 99)
    even = torch.where(candidates % 2 == 0, candidates, 99).min(dim=-1).values
    code = torch.where(even < 99, even, candidates.min(dim=-1).values)
    return torch.copysign(table[code], x)


def pow2_ceil(x: torch.Tensor) -> torch.Tensor:
    """Smallest power of two >= x, for positive float32 (exact: from the binary exponent, not a log)."""
    mant, exp = torch.frexp(x)
    return torch.ldexp(torch.ones_like(x), torch.where(mant == 0.5, exp - 1, exp))


def _group_scales(x: torch.Tensor, block: int, q_max: float, floor: float, pow2: bool) -> torch.Tensor:
    m, n = x.shape
    groups = math.ceil(n / block)
    padded = torch.zeros(m, groups * block, dtype=torch.float32, device=x.device)
    padded[:, :n] = x.float()
    amax = padded.view(m, groups, block).abs().amax(dim=-1)
    scale = amax.clamp(min=floor) / q_max
    return pow2_ceil(scale) if pow2 else scale


def _expand(scale: torch.Tensor, block: int, n: int) -> torch.Tensor:
    return scale.repeat_interleave(block, dim=-1)[..., :n]


def act_quant(x: torch.Tensor, block_size: int = 128, round_scale: bool = False, inplace: bool = False,
              **_: object) -> tuple[torch.Tensor, torch.Tensor]:
    """(y, s): y = clamp(x / s, +-448) as FP8 values (float32 holding them), or the bf16 round trip with
    inplace; s per row and group of block_size columns (amax floor 1e-4)."""
    s = _group_scales(x, block_size, FP8_MAX, 1e-4, round_scale)
    q = (x.float() / _expand(s, block_size, x.shape[1])).clamp(-FP8_MAX, FP8_MAX).to(torch.float8_e4m3fn)
    if inplace:
        return (q.float() * _expand(s, block_size, x.shape[1])).to(torch.bfloat16).float(), s
    return q.float(), s


def fp4_quant(x: torch.Tensor, block_size: int = 32, inplace: bool = False, **_: object):
    """(y, s) like act_quant with FP4 e2m1 (max 6, amax floor 6 * 2^-126), always power-of-two scales."""
    s = _group_scales(x, block_size, FP4_MAX, FP4_MAX * 2.0**-126, True)
    q = fp4_round(x.float() / _expand(s, block_size, x.shape[1]))
    if inplace:
        return (q * _expand(s, block_size, x.shape[1])).to(torch.bfloat16).float(), s
    return q, s


def fp8_gemm(a: torch.Tensor, b: torch.Tensor, scales_a: torch.Tensor, scales_b: torch.Tensor) -> torch.Tensor:
    """C = (A * sa) @ (B * sb)^T in float32; sa per row and 128 columns of K, sb per 128 x 128 block of B."""
    n, k = b.shape
    a_f = a.float() * _expand(e8m0_to_float(scales_a), 128, k)
    sb = e8m0_to_float(scales_b).repeat_interleave(128, dim=0)[:n]
    b_f = b.float() * _expand(sb, 128, k)
    return a_f @ b_f.T


def fp4_gemm(a: torch.Tensor, b_packed: torch.Tensor, scales_a: torch.Tensor, scales_b: torch.Tensor) -> torch.Tensor:
    """C = (A * sa) @ (B * sb)^T in float32; B packed FP4 [N, K/2], sb per row and 32 columns of K."""
    k = a.shape[1]
    a_f = a.float() * _expand(e8m0_to_float(scales_a), 128, k)
    b_f = fp4_unpack(b_packed) * _expand(e8m0_to_float(scales_b), 32, k)
    return a_f @ b_f.T


def sparse_attn(q: torch.Tensor, kv: torch.Tensor, attn_sink: torch.Tensor, topk_idxs: torch.Tensor,
                scale: float) -> torch.Tensor:
    """o[b, m, h] = softmax over the selected KV rows (index -1 = unused) of q.k * scale, with exp(sink[h])
    added to the denominator; keys and values are the same rows."""
    bsz, m, h, d = q.shape
    valid = topk_idxs >= 0
    rows = torch.gather(kv.float().unsqueeze(1).expand(bsz, m, -1, d), 2,
                        topk_idxs.clamp(min=0).long().unsqueeze(-1).expand(-1, -1, -1, d))  # b m t d
    scores = torch.einsum("bmhd,bmtd->bmht", q.float(), rows) * scale
    scores = scores.masked_fill(~valid.unsqueeze(2), float("-inf"))
    top = scores.amax(dim=-1, keepdim=True).clamp(min=torch.finfo(torch.float32).min)
    p = torch.exp(scores - top)
    denom = p.sum(dim=-1, keepdim=True) + torch.exp(attn_sink.float().view(1, 1, h, 1) - top)
    return torch.einsum("bmht,bmtd->bmhd", p / denom, rows)


def hc_split_sinkhorn(mixes: torch.Tensor, hc_scale: torch.Tensor, hc_base: torch.Tensor, hc: int,
                      sinkhorn_iters: int, eps: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(pre, post, comb): sigmoid gates and a Sinkhorn-normalised hc x hc matrix per row."""
    n = mixes.shape[0]
    z = mixes.float()
    pre = torch.sigmoid(z[:, :hc] * hc_scale[0] + hc_base[:hc]) + eps
    post = 2 * torch.sigmoid(z[:, hc:2 * hc] * hc_scale[1] + hc_base[hc:2 * hc])
    mat = (z[:, 2 * hc:] * hc_scale[2] + hc_base[2 * hc:]).view(n, hc, hc)
    mat = torch.softmax(mat, dim=-1) + eps
    mat = mat / (mat.sum(dim=1, keepdim=True) + eps)
    for _ in range(sinkhorn_iters - 1):
        mat = mat / (mat.sum(dim=2, keepdim=True) + eps)
        mat = mat / (mat.sum(dim=1, keepdim=True) + eps)
    return pre, post, mat
