#if defined(_MSC_VER) && !defined(__clang__) && _MSC_VER < 1940
#define _tl_orig_alignas alignas
#define alignas(N) _tl_orig_alignas((N) <= 64 ? (N) : 64)
#include <cuda.h>
#undef alignas
#define alignas _tl_orig_alignas
#endif
#include <math_constants.h>
#include <tl_templates/cuda/reduce.h>
#include <tl_templates/cuda/scan.h>
#include <tl_templates/cuda/ldsm.h>
#include <tl_templates/cuda/threadblock_swizzle.h>
#include <tl_templates/cuda/debug.h>
#ifdef ENABLE_BF16
#include <tl_templates/cuda/cuda_bf16_fallbacks.cuh>
#endif

extern "C" __global__ void hc_split_sinkhorn_kernel(float* __restrict__ comb, const float* __restrict__ hc_base, const float* __restrict__ hc_scale, const float* __restrict__ mixes, float* __restrict__ post, float* __restrict__ pre, int n);
extern "C" __global__ void __launch_bounds__(64, 1) hc_split_sinkhorn_kernel(float* __restrict__ comb, const float* __restrict__ hc_base, const float* __restrict__ hc_scale, const float* __restrict__ mixes, float* __restrict__ post, float* __restrict__ pre, int n) {
  extern __shared__ __align__(1024) float mix[];
  float mat[1];
  float row_red[1];
  float col_red[1];
  if (((int)threadIdx.x) < 24) {
    mix[((int)threadIdx.x)] = mixes[((((int64_t)((int)blockIdx.x)) * (int64_t)24) + ((int64_t)((int)threadIdx.x)))];
  }
  if (((int)threadIdx.x) < 4) {
    pre[((((int64_t)((int)blockIdx.x)) * (int64_t)4) + ((int64_t)((int)threadIdx.x)))] = ((0x1p+0f/*1.000000e+00*/ / (0x1p+0f/*1.000000e+00*/ + expf((((mix[((int)threadIdx.x)] * hc_scale[0]) + hc_base[((int)threadIdx.x)]) * -0x1p+0f/*-1.000000e+00*/)))) + 0x1.0c6f7a0b5ed8dp-20f/*1.000000e-06*/);
  }
  __syncthreads();
  if (((int)threadIdx.x) < 4) {
    post[((((int64_t)((int)blockIdx.x)) * (int64_t)4) + ((int64_t)((int)threadIdx.x)))] = (0x1p+1f/*2.000000e+00*/ / (0x1p+0f/*1.000000e+00*/ + expf((((mix[(((int)threadIdx.x) + 4)] * hc_scale[1]) + hc_base[(((int)threadIdx.x) + 4)]) * -0x1p+0f/*-1.000000e+00*/))));
  }
  mat[0] = ((mix[((((int)threadIdx.x) & 15) + 8)] * hc_scale[2]) + hc_base[((((int)threadIdx.x) & 15) + 8)]);
  row_red[0] = -CUDART_INF_F;
  row_red[0] = max(row_red[0], mat[0]);
  row_red[0] = tl::AllReduce<tl::MaxOp, 4, 1, 0, tl::NamedBarrier<64>>::run(row_red[0]);
  mat[0] = expf((mat[0] - row_red[0]));
  row_red[0] = 0x0p+0f/*0.000000e+00*/;
  row_red[0] = (row_red[0] + mat[0]);
  row_red[0] = tl::AllReduce<tl::SumOp, 4, 1, 0, tl::NamedBarrier<64>>::run(row_red[0]);
  mat[0] = ((mat[0] / row_red[0]) + 0x1.0c6f7a0b5ed8dp-20f/*1.000000e-06*/);
  col_red[0] = 0x0p+0f/*0.000000e+00*/;
  col_red[0] = (col_red[0] + mat[0]);
  col_red[0] = tl::AllReduce<tl::SumOp, 16, 4, 0, tl::NamedBarrier<64>>::run(col_red[0]);
  mat[0] = (mat[0] / (col_red[0] + 0x1.0c6f7a0b5ed8dp-20f/*1.000000e-06*/));
  for (int __1 = 0; __1 < 19; ++__1) {
    row_red[0] = 0x0p+0f/*0.000000e+00*/;
    row_red[0] = (row_red[0] + mat[0]);
    row_red[0] = tl::AllReduce<tl::SumOp, 4, 1, 0, tl::NamedBarrier<64>>::run(row_red[0]);
    mat[0] = (mat[0] / (row_red[0] + 0x1.0c6f7a0b5ed8dp-20f/*1.000000e-06*/));
    col_red[0] = 0x0p+0f/*0.000000e+00*/;
    col_red[0] = (col_red[0] + mat[0]);
    col_red[0] = tl::AllReduce<tl::SumOp, 16, 4, 0, tl::NamedBarrier<64>>::run(col_red[0]);
    mat[0] = (mat[0] / (col_red[0] + 0x1.0c6f7a0b5ed8dp-20f/*1.000000e-06*/));
  }
  if ((((int)threadIdx.x) >> 4) == 0) {
    comb[((((int64_t)((int)blockIdx.x)) * (int64_t)16) + (((int64_t)((int)threadIdx.x)) & (int64_t)15))] = mat[0];
  }
}

