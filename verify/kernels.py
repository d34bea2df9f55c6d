"""tlkit's own TileLang implementations of the six kernel patterns DeepSeek-V4-Flash uses.

Written from the description in shared/dsv4-kernels.md (signatures, dtypes, tiles, structure), not from
the model's code. The factory names and arguments match the model's, so `verify-sm120 --kernels` can take
the model's own inference/kernel.py in place of this file. Every factory returns a T.prim_func with a
symbolic leading dimension; all use the pass configs the model uses."""

import tilelang
import tilelang.language as T

PASS_CONFIGS = {
    tilelang.PassConfigKey.TL_DISABLE_WARP_SPECIALIZED: True,
    tilelang.PassConfigKey.TL_DISABLE_TMA_LOWER: True,
}

FP8 = "float8_e4m3"
FP4 = "float4_e2m1fn"
E8M0 = "float8_e8m0fnu"
BF16 = "bfloat16"
F32 = "float32"
I32 = "int32"
FP8_MAX = 448.0
FP4_MAX = 6.0
LOG2E = 1.4426950408889634


def _pow2_ceil(x):
    """Smallest power of two >= x (x > 0, float32), from the IEEE-754 bits: exponent up by one when
    any mantissa bit is set, mantissa cleared."""
    bits = T.reinterpret("uint32", x)
    exponent = (bits >> T.uint32(23)) & T.uint32(0xFF)
    exponent = T.if_then_else((bits & T.uint32(0x7FFFFF)) != T.uint32(0), exponent + T.uint32(1), exponent)
    return T.reinterpret(F32, exponent << T.uint32(23))


def _block_quant(N, block_size, in_dtype, q_dtype, q_max, amax_floor, scale_dtype, pow2_scale, inplace, stages):
    """Quantise X[M, N] in groups of block_size columns, one 32-row tile per block: absmax per row,
    scale = max(amax, floor) / q_max (rounded up to a power of two if asked), Y = clamp(x / s) in q_dtype,
    or with inplace the quantise-dequantise round trip in in_dtype; S holds the scales."""
    M = T.symbolic("M")
    rows = 32
    groups = T.ceildiv(N, block_size)
    y_dtype = in_dtype if inplace else q_dtype

    @T.prim_func
    def block_quant(X: T.Tensor[(M, N), in_dtype], Y: T.Tensor[(M, N), y_dtype],
                    S: T.Tensor[(M, groups), scale_dtype]):
        with T.Kernel(T.ceildiv(M, rows), groups, threads=128) as (bm, bg):
            tile = T.alloc_shared((rows, block_size), in_dtype)
            vals = T.alloc_fragment((rows, block_size), in_dtype)
            amax = T.alloc_fragment((rows,), F32)
            scale = T.alloc_fragment((rows,), F32)
            out = T.alloc_fragment((rows, block_size), y_dtype)
            out_tile = T.alloc_shared((rows, block_size), y_dtype)
            for _ in T.Pipelined(1, num_stages=stages):
                T.copy(X[bm * rows, bg * block_size], tile)
                T.copy(tile, vals)
                T.reduce_absmax(vals, amax, dim=1)
                for r in T.Parallel(rows):
                    raw = T.max(amax[r], amax_floor) / q_max
                    scale[r] = _pow2_ceil(raw) if pow2_scale else raw
                for r, c in T.Parallel(rows, block_size):
                    q = T.clamp(T.Cast(F32, vals[r, c]) / scale[r], -q_max, q_max)
                    if inplace:
                        out[r, c] = T.Cast(y_dtype, T.Cast(F32, T.Cast(q_dtype, q)) * scale[r])
                    else:
                        out[r, c] = T.Cast(y_dtype, q)
                for r in T.Parallel(rows):
                    S[bm * rows + r, bg] = T.Cast(scale_dtype, scale[r])
                T.copy(out, out_tile)
                T.copy(out_tile, Y[bm * rows, bg * block_size])

    return block_quant


@tilelang.jit(pass_configs=PASS_CONFIGS)
def act_quant_kernel(N, in_dtype=BF16, out_dtype=FP8, scale_dtype=F32, round_scale=False, block_size=128,
                     inplace=False):
    """Block-wise FP8 quantisation (amax floor 1e-4, max 448); power-of-two scales with round_scale."""
    stages = 0 if (round_scale or inplace) else 2
    return _block_quant(N, block_size, in_dtype, out_dtype, FP8_MAX, 1e-4, scale_dtype, round_scale, inplace, stages)


@tilelang.jit(pass_configs=PASS_CONFIGS)
def fp4_quant_kernel(N, block_size=32, in_dtype=BF16, scale_dtype=E8M0, inplace=False):
    """Block-wise FP4 (e2m1) quantisation in groups of 32 (amax floor 6 * 2^-126, max 6), power-of-two scales."""
    return _block_quant(N, block_size, in_dtype, FP4, FP4_MAX, FP4_MAX * 2.0**-126, scale_dtype, True, inplace, 2)


@tilelang.jit(pass_configs=PASS_CONFIGS)
def fp8_gemm_kernel(N, K, out_dtype=BF16, accum_dtype=F32, scale_dtype=F32):
    """C = A @ B^T with FP8 operands and per-128 block scales on both sides."""
    M = T.symbolic("M")
    group = 128
    bm, bn, bk = 32, 128, 128

    @T.prim_func
    def fp8_gemm(A: T.Tensor[(M, K), FP8], B: T.Tensor[(N, K), FP8], C: T.Tensor[(M, N), out_dtype],
                 scales_a: T.Tensor[(M, T.ceildiv(K, group)), scale_dtype],
                 scales_b: T.Tensor[(T.ceildiv(N, group), T.ceildiv(K, group)), scale_dtype]):
        with T.Kernel(T.ceildiv(N, bn), T.ceildiv(M, bm), threads=128) as (tn, tm):
            a_tile = T.alloc_shared((bm, bk), FP8)
            b_tile = T.alloc_shared((bn, bk), FP8)
            c_tile = T.alloc_shared((bm, bn), out_dtype)
            row_scale = T.alloc_shared((bm,), F32)
            partial = T.alloc_fragment((bm, bn), accum_dtype)
            total = T.alloc_fragment((bm, bn), accum_dtype)
            T.use_swizzle(panel_size=10)
            T.clear(partial)
            T.clear(total)
            for kk in T.Pipelined(T.ceildiv(K, bk), num_stages=4):
                T.copy(A[tm * bm, kk * bk], a_tile)
                T.copy(B[tn * bn, kk * bk], b_tile)
                for r in T.Parallel(bm):
                    row_scale[r] = T.Cast(F32, scales_a[tm * bm + r, kk]) * T.Cast(F32, scales_b[tn * bn // group, kk])
                T.gemm(a_tile, b_tile, partial, transpose_B=True)
                for r, c in T.Parallel(bm, bn):
                    total[r, c] += partial[r, c] * row_scale[r]
                T.clear(partial)
            T.copy(total, c_tile)
            T.copy(c_tile, C[tm * bm, tn * bn])

    return fp8_gemm


@tilelang.jit(pass_configs=PASS_CONFIGS)
def fp4_gemm_kernel(N, K, out_dtype=BF16, accum_dtype=F32, scale_dtype=F32):
    """C = A @ B^T, A in FP8 with per-128 activation scales, B in FP4 (e2m1) with per-32 e8m0 weight scales;
    B tiles are widened to FP8 in shared memory and multiplied on the FP8 path."""
    M = T.symbolic("M")
    act_group, w_group = 128, 32
    bm, bn, bk = 32, 128, 32

    @T.prim_func
    def fp4_gemm(A: T.Tensor[(M, K), FP8], B: T.Tensor[(N, K), FP4], C: T.Tensor[(M, N), out_dtype],
                 scales_a: T.Tensor[(M, T.ceildiv(K, act_group)), scale_dtype],
                 scales_b: T.Tensor[(N, T.ceildiv(K, w_group)), E8M0]):
        with T.Kernel(T.ceildiv(N, bn), T.ceildiv(M, bm), threads=128) as (tn, tm):
            a_tile = T.alloc_shared((bm, bk), FP8)
            b_packed = T.alloc_shared((bn, bk), FP4)
            b_wide = T.alloc_shared((bn, bk), FP8)
            c_tile = T.alloc_shared((bm, bn), out_dtype)
            w_scale = T.alloc_fragment((bn,), F32)
            a_scale = T.alloc_fragment((bm,), F32)
            partial = T.alloc_fragment((bm, bn), accum_dtype)
            total = T.alloc_fragment((bm, bn), accum_dtype)
            T.use_swizzle(panel_size=10)
            T.clear(partial)
            T.clear(total)
            for kk in T.Pipelined(T.ceildiv(K, bk), num_stages=2):
                T.copy(A[tm * bm, kk * bk], a_tile)
                T.copy(B[tn * bn, kk * bk], b_packed)
                for r, c in T.Parallel(bn, bk):
                    b_wide[r, c] = T.Cast(FP8, T.Cast(F32, b_packed[r, c]))
                for r in T.Parallel(bn):
                    w_scale[r] = T.Cast(F32, scales_b[tn * bn + r, kk])
                for r in T.Parallel(bm):
                    a_scale[r] = T.Cast(F32, scales_a[tm * bm + r, kk // (act_group // bk)])
                T.gemm(a_tile, b_wide, partial, transpose_B=True)
                for r, c in T.Parallel(bm, bn):
                    total[r, c] += partial[r, c] * a_scale[r] * w_scale[c]
                T.clear(partial)
            T.copy(total, c_tile)
            T.copy(c_tile, C[tm * bm, tn * bn])

    return fp4_gemm


@tilelang.jit(pass_configs=PASS_CONFIGS)
def sparse_attn_kernel(h, d, scale=None, block=64, num_stages=2):
    """Attention of each query over its own top-k gathered KV rows (keys and values share one tensor),
    with a per-head attention sink in the softmax denominator. `block` (KV rows per step) and `num_stages`
    set the shared memory: the model's 64 and 2 exceed sm_120's per-block limit at 32 and 64 heads
    (docs/sm120-fit.md)."""
    b = T.symbolic("b")
    m = T.symbolic("m")
    n = T.symbolic("n")
    topk = T.symbolic("topk")
    sm_scale = (d**-0.5 if scale is None else scale) * LOG2E  # softmax in base 2

    @T.prim_func
    def sparse_attn(q: T.Tensor[(b, m, h, d), BF16], kv: T.Tensor[(b, n, d), BF16], o: T.Tensor[(b, m, h, d), BF16],
                    attn_sink: T.Tensor[(h,), F32], topk_idxs: T.Tensor[(b, m, topk), I32]):
        with T.Kernel(m, b, threads=256) as (qi, bi):
            q_tile = T.alloc_shared((h, d), BF16)
            kv_tile = T.alloc_shared((block, d), BF16)
            o_tile = T.alloc_shared((h, d), BF16)
            probs = T.alloc_shared((h, block), BF16)
            rows = T.alloc_fragment((block,), I32)
            scores = T.alloc_fragment((h, block), F32)
            acc = T.alloc_fragment((h, d), F32)
            run_max = T.alloc_fragment((h,), F32)
            old_max = T.alloc_fragment((h,), F32)
            rescale = T.alloc_fragment((h,), F32)
            denom = T.alloc_fragment((h,), F32)
            step_sum = T.alloc_fragment((h,), F32)
            T.copy(q[bi, qi, 0, 0], q_tile)
            T.fill(acc, 0)
            T.fill(denom, 0)
            T.fill(run_max, -T.infinity(F32))
            for t in T.Pipelined(T.ceildiv(topk, block), num_stages=num_stages):
                for j in T.Parallel(block):
                    rows[j] = T.if_then_else(t * block + j < topk, topk_idxs[bi, qi, t * block + j], -1)
                for j, k in T.Parallel(block, d):
                    kv_tile[j, k] = T.if_then_else(rows[j] >= 0, kv[bi, rows[j], k], T.Cast(BF16, 0))
                for i, j in T.Parallel(h, block):
                    scores[i, j] = T.if_then_else(rows[j] >= 0, 0, -T.infinity(F32))
                T.gemm(q_tile, kv_tile, scores, transpose_B=True, policy=T.GemmWarpPolicy.FullRow)
                for i, j in T.Parallel(h, block):
                    scores[i, j] = scores[i, j] * sm_scale
                T.copy(run_max, old_max)
                T.reduce_max(scores, run_max, dim=1, clear=False)
                for i in T.Parallel(h):
                    rescale[i] = T.if_then_else(old_max[i] == -T.infinity(F32), 0, T.exp2(old_max[i] - run_max[i]))
                for i, j in T.Parallel(h, block):
                    scores[i, j] = T.exp2(scores[i, j] - run_max[i])
                T.reduce_sum(scores, step_sum, dim=1)
                for i in T.Parallel(h):
                    denom[i] = denom[i] * rescale[i] + step_sum[i]
                for i, k in T.Parallel(h, d):
                    acc[i, k] = acc[i, k] * rescale[i]
                T.copy(scores, probs)
                T.gemm(probs, kv_tile, acc, policy=T.GemmWarpPolicy.FullRow)
            for i in T.Parallel(h):
                denom[i] = denom[i] + T.exp2(attn_sink[i] * LOG2E - run_max[i])
            for i, k in T.Parallel(h, d):
                acc[i, k] = acc[i, k] / denom[i]
            T.copy(acc, o_tile)
            T.copy(o_tile, o[bi, qi, 0, 0])

    return sparse_attn


@tilelang.jit(pass_configs=PASS_CONFIGS)
def hc_split_sinkhorn_kernel(hc, sinkhorn_iters, eps):
    """Hyper-connection weights: sigmoid gates pre/post and a Sinkhorn-normalised hc x hc mixing matrix."""
    n = T.symbolic("n")
    width = (2 + hc) * hc

    @T.prim_func
    def hc_split_sinkhorn(mixes: T.Tensor[(n, width), F32], hc_scale: T.Tensor[(3,), F32],
                          hc_base: T.Tensor[(width,), F32], pre: T.Tensor[(n, hc), F32],
                          post: T.Tensor[(n, hc), F32], comb: T.Tensor[(n, hc, hc), F32]):
        with T.Kernel(n, threads=64) as row:
            mix = T.alloc_shared((width,), F32)
            mat = T.alloc_fragment((hc, hc), F32)
            row_red = T.alloc_fragment((hc,), F32)
            col_red = T.alloc_fragment((hc,), F32)
            T.copy(mixes[row, 0], mix)
            for j in T.Parallel(hc):
                pre[row, j] = 1.0 / (1.0 + T.exp(-(mix[j] * hc_scale[0] + hc_base[j]))) + eps
            for j in T.Parallel(hc):
                post[row, j] = 2.0 / (1.0 + T.exp(-(mix[hc + j] * hc_scale[1] + hc_base[hc + j])))
            for i, j in T.Parallel(hc, hc):
                mat[i, j] = mix[2 * hc + i * hc + j] * hc_scale[2] + hc_base[2 * hc + i * hc + j]
            T.reduce_max(mat, row_red, dim=1)
            for i, j in T.Parallel(hc, hc):
                mat[i, j] = T.exp(mat[i, j] - row_red[i])
            T.reduce_sum(mat, row_red, dim=1)
            for i, j in T.Parallel(hc, hc):
                mat[i, j] = mat[i, j] / row_red[i] + eps
            T.reduce_sum(mat, col_red, dim=0)
            for i, j in T.Parallel(hc, hc):
                mat[i, j] = mat[i, j] / (col_red[j] + eps)
            for _ in T.serial(sinkhorn_iters - 1):
                T.reduce_sum(mat, row_red, dim=1)
                for i, j in T.Parallel(hc, hc):
                    mat[i, j] = mat[i, j] / (row_red[i] + eps)
                T.reduce_sum(mat, col_red, dim=0)
                for i, j in T.Parallel(hc, hc):
                    mat[i, j] = mat[i, j] / (col_red[j] + eps)
            T.copy(mat, comb[row, 0, 0])

    return hc_split_sinkhorn
