"""The GPU tier's PyTorch references (tlkit.verify.subject.reference) against independent element-by-element versions
written here, on the CPU; and the case builders for every variant of the model's table."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from tlkit.verify.subject import gpu_cases as cases
from tlkit.verify.subject import reference as ref

KIT = Path(__file__).resolve().parents[1]



def pow2_ceil_scalar(x: float) -> float:
    mant, exp = math.frexp(x)  # x = mant * 2^exp, mant in [0.5, 1)
    return 2.0 ** (exp - 1) if mant == 0.5 else 2.0**exp


def fp4_round_scalar(x: float) -> float:
    """Nearest e2m1 value by enumeration; ties go to the value whose code (index) is even."""
    a = min(abs(x), 6.0)
    best = min(range(8), key=lambda c: (abs(a - ref.E2M1_VALUES[c]), c % 2))
    return math.copysign(ref.E2M1_VALUES[best], x)


def test_pow2_ceil_is_exact_at_and_next_to_powers_of_two():
    xs = torch.tensor([1.0, 2.0, 0.75, 1.0000001, 3.0, 2.0**-20, 448.0, 1e-4 / 448], dtype=torch.float32)
    want = [pow2_ceil_scalar(float(x)) for x in xs]
    assert ref.pow2_ceil(xs).tolist() == want
    assert want[:4] == [1.0, 2.0, 1.0, 2.0]


def test_fp4_round_ties_to_even_and_saturates():
    xs = [0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0, 7.0, -0.3, -5.1, 0.0]
    got = ref.fp4_round(torch.tensor(xs)).tolist()
    assert got == [fp4_round_scalar(x) for x in xs]
    assert got[:8] == [0.0, 1.0, 1.0, 2.0, 2.0, 4.0, 4.0, 6.0]


def test_fp4_unpack_low_nibble_first_and_sign_bit():
    packed = torch.tensor([[0x21, 0x8F, 0x7A]], dtype=torch.uint8)
    assert ref.fp4_unpack(packed).tolist() == [[0.5, 1.0, -6.0, -0.0, -1.0, 6.0]]


def test_e8m0_decoding():
    s = torch.tensor([127, 128, 120], dtype=torch.uint8).view(torch.float8_e8m0fnu)
    assert ref.e8m0_to_float(s).tolist() == [1.0, 2.0, 2.0**-7]


@pytest.mark.parametrize("round_scale,inplace,block", [(True, False, 128), (False, False, 128), (True, True, 64)])
def test_act_quant_matches_element_by_element(round_scale, inplace, block):
    g = torch.Generator().manual_seed(1)
    x = (torch.randn(3, 2 * block, generator=g) * 5).to(torch.bfloat16)
    x[1, :block] = 0
    y, s = ref.act_quant(x, block_size=block, round_scale=round_scale, inplace=inplace)
    for r in range(3):
        for grp in range(2):
            vals = [float(v) for v in x[r, grp * block:(grp + 1) * block]]
            scale = max(max(abs(v) for v in vals), 1e-4) / 448.0
            scale = float(torch.tensor(scale, dtype=torch.float32))
            if round_scale:
                scale = pow2_ceil_scalar(scale)
            assert s[r, grp].item() == pytest.approx(scale, rel=1e-6)
            for c, v in enumerate(vals):
                q = float(torch.tensor(max(-448.0, min(448.0, v / s[r, grp].item()))).to(torch.float8_e4m3fn).float())
                want = float(torch.tensor(q * s[r, grp].item()).to(torch.bfloat16)) if inplace else q
                assert y[r, grp * block + c].item() == want


def test_fp4_quant_matches_element_by_element():
    g = torch.Generator().manual_seed(2)
    x = (torch.randn(2, 64, generator=g) * 3).to(torch.bfloat16)
    y, s = ref.fp4_quant(x, block_size=32, inplace=True)
    for r in range(2):
        for grp in range(2):
            vals = [float(v) for v in x[r, grp * 32:(grp + 1) * 32]]
            scale = pow2_ceil_scalar(float(torch.tensor(max(max(abs(v) for v in vals), 6 * 2.0**-126) / 6.0)))
            assert s[r, grp].item() == scale
            for c, v in enumerate(vals):
                want = float(torch.tensor(fp4_round_scalar(v / scale) * scale).to(torch.bfloat16))
                assert y[r, grp * 32 + c].item() == want


def test_fp8_and_fp4_gemm_match_triple_loops():
    g = torch.Generator().manual_seed(3)
    m, n, k = 3, 256, 256
    a = torch.randn(m, k, generator=g).to(torch.float8_e4m3fn)
    b = torch.randn(n, k, generator=g).to(torch.float8_e4m3fn)
    sa = torch.randint(124, 130, (m, 2), generator=g, dtype=torch.uint8).view(torch.float8_e8m0fnu)
    sb = torch.randint(124, 130, (2, 2), generator=g, dtype=torch.uint8).view(torch.float8_e8m0fnu)
    b4 = torch.randint(0, 256, (n, k // 2), generator=g, dtype=torch.uint8)
    sb4 = torch.randint(124, 130, (n, k // 32), generator=g, dtype=torch.uint8).view(torch.float8_e8m0fnu)
    af, bf, b4f = a.float().tolist(), b.float().tolist(), ref.fp4_unpack(b4).tolist()
    saf, sbf, sb4f = ref.e8m0_to_float(sa).tolist(), ref.e8m0_to_float(sb).tolist(), ref.e8m0_to_float(sb4).tolist()
    c8, c4 = ref.fp8_gemm(a, b, sa, sb), ref.fp4_gemm(a, b4, sa, sb4)
    for i in range(m):
        for j in range(0, n, 37):
            want8 = sum(af[i][t] * saf[i][t // 128] * bf[j][t] * sbf[j // 128][t // 128] for t in range(k))
            want4 = sum(af[i][t] * saf[i][t // 128] * b4f[j][t] * sb4f[j][t // 32] for t in range(k))
            assert c8[i, j].item() == pytest.approx(want8, rel=1e-4, abs=1e-3)
            assert c4[i, j].item() == pytest.approx(want4, rel=1e-4, abs=1e-3)


def test_sparse_attn_matches_per_query_softmax_with_sink():
    g = torch.Generator().manual_seed(4)
    b, m, h, d, n = 2, 2, 3, 8, 10
    q, kv = torch.randn(b, m, h, d, generator=g), torch.randn(b, n, d, generator=g)
    sink = torch.randn(h, generator=g)
    idx = torch.tensor([[[0, 3, -1, 9], [5, -1, -1, 2]], [[1, 1, 4, -1], [7, 8, 0, 6]]], dtype=torch.int32)
    out = ref.sparse_attn(q, kv, sink, idx, 0.3)
    for bi in range(b):
        for mi in range(m):
            rows = [int(t) for t in idx[bi, mi] if t >= 0]
            for hi in range(h):
                scores = [0.3 * float(q[bi, mi, hi] @ kv[bi, r]) for r in rows]
                top = max(scores)
                weights = [math.exp(s - top) for s in scores]
                denom = sum(weights) + math.exp(float(sink[hi]) - top)
                want = sum(w / denom * kv[bi, r] for w, r in zip(weights, rows, strict=True))
                assert torch.allclose(out[bi, mi, hi], want, rtol=1e-5, atol=1e-6)


def test_sinkhorn_matches_loop_and_is_doubly_stochastic():
    g = torch.Generator().manual_seed(5)
    hc, n = 4, 3
    mixes, scale, base = torch.randn(n, 24, generator=g), torch.rand(3, generator=g) + 0.5, torch.randn(24, generator=g)
    pre, post, comb = ref.hc_split_sinkhorn(mixes, scale, base, hc, 20, 1e-6)
    for r in range(n):
        z = [float(v) for v in mixes[r]]
        sig = [1 / (1 + math.exp(-(z[j] * float(scale[0]) + float(base[j])))) for j in range(hc)]
        assert pre[r].tolist() == pytest.approx([s + 1e-6 for s in sig], rel=1e-6)
        mat = [[z[2 * hc + i * hc + j] * float(scale[2]) + float(base[2 * hc + i * hc + j]) for j in range(hc)]
               for i in range(hc)]
        mat = [[math.exp(v - max(row)) / sum(math.exp(u - max(row)) for u in row) + 1e-6 for v in row] for row in mat]
        for it in range(20):
            if it:
                mat = [[v / (sum(row) + 1e-6) for v in row] for row in mat]
            cols = [sum(mat[i][j] for i in range(hc)) for j in range(hc)]
            mat = [[mat[i][j] / (cols[j] + 1e-6) for j in range(hc)] for i in range(hc)]
        assert comb[r].tolist() == [pytest.approx(row, rel=1e-5) for row in mat]
    assert torch.allclose(comb.sum(dim=1), torch.ones(n, hc), atol=1e-4)
    assert post.min() > 0 and post.max() < 2


def test_every_model_variant_has_a_case_whose_outputs_match_its_arguments():
    from tlkit.verify.config import load_gpu_config
    from tlkit.verify.variants import load_variants

    dims = {**load_gpu_config(KIT / "verify" / "gpu.toml").dims, "n": 70, "topk": 64}
    variants = [v for v in load_variants(KIT / "verify" / "variants.toml") if "h=64" not in v.name]
    for v in variants:
        case = cases.make_case(v.kernel, {**v.kwargs, **({"d": 64} if "d" in v.kwargs else {})}, dims, "cpu")
        for idx in case.outputs:
            got = case.decode[idx](case.args[idx])
            assert got.shape == case.expected[idx].shape, (v.name, idx)
            assert torch.isfinite(case.expected[idx]).all(), (v.name, idx)
    assert {v.kernel for v in variants} == set(cases.BUILDERS)


def test_worker_comparison_counts_elements_outside_the_tolerance():
    from tlkit.verify.config import load_gpu_config
    from tlkit.verify.subject.launch_kernels import compare

    tolerances = load_gpu_config(KIT / "verify" / "gpu.toml").tolerances
    case = cases.make_case("hc_split_sinkhorn_kernel", {"hc": 4, "sinkhorn_iters": 20, "eps": 1e-6},
                           {"M": 1, "b": 1, "m": 1, "n": 5, "topk": 1}, "cpu")
    ok, report = compare(case, tolerances)  # outputs still NaN: nothing written
    assert not ok and report["comb"]["bad"] == 80
    for idx in case.outputs:
        case.args[idx].copy_(case.expected[idx])
    case.args[4][2, 1] += 0.01
    ok, report = compare(case, tolerances)
    assert not ok and report["post"]["bad"] == 1 and report["post"]["first_bad"]["index"] == [2, 1]
    assert report["pre"]["bad"] == 0 and report["pre"]["max_abs_err"] == 0.0


def test_edge_shapes_of_gpu_toml_build_cases_of_those_sizes_on_cpu():
    """Issue 17: every [edges] entry gives, for each kernel that takes its sizes, a case of exactly those sizes
    whose expected outputs have the outputs' shapes; the sizes the model's tiles do not divide are among them."""
    from tlkit.verify.config import load_gpu_config
    from tlkit.verify.variants import load_variants

    config = load_gpu_config(KIT / "verify" / "gpu.toml")
    assert {1, 7, 65, 200} <= {e["M"] for e in config.edges.values() if "M" in e}
    assert any(e.get("topk", 0) % 64 for e in config.edges.values())  # not a multiple of the KV block
    assert any(e.get("valid_keys") == 1 for e in config.edges.values())
    variants = [v for v in load_variants(KIT / "verify" / "variants.toml") if "h=64" not in v.name]
    for name, sizes in config.edges.items():
        dims = {**config.dims, **sizes}
        for v in variants:
            case = cases.make_case(v.kernel, {**v.kwargs, **({"d": 64} if "d" in v.kwargs else {})}, dims, "cpu")
            for key in set(sizes) & set(case.dims):
                assert case.dims[key] == sizes[key], (name, v.name, case.dims)
            for idx, want in case.expected.items():
                assert tuple(case.decode[idx](case.args[idx]).shape) == tuple(want.shape), (name, v.name)


def test_one_valid_key_gives_that_rows_value_weighted_against_the_sink():
    """With a single valid selected row, the softmax with sink is one weight: e^s / (e^s + e^sink)."""
    kwargs = {"h": 16, "d": 64}
    dims = {"b": 2, "m": 3, "n": 256, "topk": 100, "valid_keys": 1}
    case = cases.make_case("sparse_attn_kernel", kwargs, dims, "cpu")
    q, kv, _o, sink, idx = case.args
    assert ((idx >= 0).sum(dim=-1) == 1).all() and (idx[..., 0] >= 0).all()
    row = kv.float()[torch.arange(2).view(2, 1), idx[..., 0].long()]  # b m d
    s = torch.einsum("bmhd,bmd->bmh", q.float(), row) * 64**-0.5
    weight = torch.exp(s) / (torch.exp(s) + torch.exp(sink.float().view(1, 1, -1)))
    torch.testing.assert_close(case.expected[2].float(), weight.unsqueeze(-1) * row.unsqueeze(2), rtol=1e-5,
                               atol=1e-6)
