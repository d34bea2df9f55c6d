#if defined(_MSC_VER) && !defined(__clang__) && _MSC_VER < 1940
#define _tl_orig_alignas alignas
#define alignas(N) _tl_orig_alignas((N) <= 64 ? (N) : 64)
#include <cuda.h>
#undef alignas
#define alignas _tl_orig_alignas
#endif
#include <tl_templates/cuda/copy.h>
#include <tl_templates/cuda/cuda_fp8.h>
#include <tl_templates/cuda/cuda_fp4.h>
#include <tl_templates/cuda/reduce.h>
#include <tl_templates/cuda/scan.h>
#include <tl_templates/cuda/ldsm.h>
#include <tl_templates/cuda/threadblock_swizzle.h>
#include <tl_templates/cuda/debug.h>
#ifdef ENABLE_BF16
#include <tl_templates/cuda/cuda_bf16_fallbacks.cuh>
#endif

extern "C" __global__ void block_quant_kernel(fp8_e8_t* __restrict__ S, const bfloat16_t* __restrict__ X, bfloat16_t* __restrict__ Y, int M);
extern "C" __global__ void __launch_bounds__(128, 1) block_quant_kernel(fp8_e8_t* __restrict__ S, const bfloat16_t* __restrict__ X, bfloat16_t* __restrict__ Y, int M) {
  extern __shared__ __align__(1024) uchar buf_dyn_shmem[];
  void* out_tile = ((void*)((char*)buf_dyn_shmem + 0));
  void* tile = ((void*)((char*)buf_dyn_shmem + 0));
  bfloat16_t vals[8];
  float2 amax_pack[1];
  float amax[1];
  float scale[1];
  bfloat16_t out[8];
  tl::cp_async_gs_conditional<16>((&(((bfloat16_t*)tile)[(((int)threadIdx.x) * 8)])), (&(X[((((((int64_t)((int)blockIdx.x)) * (int64_t)4096) + ((((int64_t)((int)threadIdx.x)) >> (int64_t)2) * (int64_t)128)) + (((int64_t)((int)blockIdx.y)) * (int64_t)32)) + ((((int64_t)((int)threadIdx.x)) & (int64_t)3) * (int64_t)8))])), ((((((int)blockIdx.x) * 32) + (((int)threadIdx.x) >> 2)) < M) && (((((int)blockIdx.x) * 32) + (((int)threadIdx.x) >> 2)) < M)));
  tl::cp_async_commit();
  tl::cp_async_wait<0>();
  __syncthreads();
  *(uint4*)(vals + 0) = *(uint4*)(((bfloat16_t*)tile) + (((int)threadIdx.x) * 8));
  float broadcast_var = 0x0p+0f/*0.000000e+00*/;
  amax_pack[0] = make_float2(broadcast_var, broadcast_var);
  #pragma unroll
  for (int rv = 0; rv < 4; ++rv) {
    float2 __1;
    uint1 v_ = *(uint1*)(vals + (rv * 2));
    ((float2*)(&__1))[0] = __bfloat1622float2((reinterpret_cast<__nv_bfloat162*>(&v_))[0]);
    amax_pack[0] = tl::max2(amax_pack[0], tl::abs2(__1));
  }
  amax[0] = max((amax_pack[0]).x, max((amax_pack[0]).y, (0x0p+0f/*0.000000e+00*/ - (amax_pack[0]).y)));
  amax[0] = tl::AllReduce<tl::MaxOp, 4, 1, 0, tl::NamedBarrier<128>>::run(amax[0]);
  float raw = (max(amax[0], 0x1.8p-124f/*7.052966e-38*/) / 0x1.8p+2f/*6.000000e+00*/);
  float _reinterpret_tmp = raw;
  uint condval;
  if ((((*(uint *)(&(_reinterpret_tmp))) & (uint)8388607) != (uint)0)) {
    float _reinterpret_tmp_1 = raw;
    condval = ((((*(uint *)(&(_reinterpret_tmp_1))) >> (uint)23) & (uint)255) + (uint)1);
  } else {
    float _reinterpret_tmp_2 = raw;
    condval = (((*(uint *)(&(_reinterpret_tmp_2))) >> (uint)23) & (uint)255);
  }
  uint v__1 = condval << (uint)23;
  scale[0] = (*(float *)(&(v__1)));
  #pragma unroll
  for (int i = 0; i < 2; ++i) {
    float broadcast_var_1 = -0x1.8p+2f/*-6.000000e+00*/;
    float broadcast_var_2 = 0x1.8p+2f/*6.000000e+00*/;
    float4 __2;
      float4 __3;
        float4 __4;
          float4 __5;
          uint2 v__2 = *(uint2*)(vals + (i * 4));
          ((float2*)(&__5))[0] = __bfloat1622float2((reinterpret_cast<__nv_bfloat162*>(&v__2))[0]);
          ((float2*)(&__5))[1] = __bfloat1622float2((reinterpret_cast<__nv_bfloat162*>(&v__2))[1]);
          float4 v__3 = make_float4(scale[0], scale[0], scale[0], scale[0]);
          __4.x = (__5.x/v__3.x);
          __4.y = (__5.y/v__3.y);
          __4.z = (__5.z/v__3.z);
          __4.w = (__5.w/v__3.w);
        float4 v__4 = make_float4(broadcast_var_1, broadcast_var_1, broadcast_var_1, broadcast_var_1);
        *(float2*)(&(__3.x)) = tl::max2(*(float2*)(&(__4.x)), *(float2*)(&(v__4.x)));
        *(float2*)(&(__3.z)) = tl::max2(*(float2*)(&(__4.z)), *(float2*)(&(v__4.z)));
      float4 v__5 = make_float4(broadcast_var_2, broadcast_var_2, broadcast_var_2, broadcast_var_2);
      *(float2*)(&(__2.x)) = tl::min2(*(float2*)(&(__3.x)), *(float2*)(&(v__5.x)));
      *(float2*)(&(__2.z)) = tl::min2(*(float2*)(&(__3.z)), *(float2*)(&(v__5.z)));
    float4 q = __2;
    uint2 __6;
    float4 __7;
      float4 __8;
      fp4_e2_4_t __9;
      (reinterpret_cast<uint8_t*>(&__9))[0] = __tl_cvt_float2_to_fp4x2(((float2*)(&q))[0]);
      (reinterpret_cast<uint8_t*>(&__9))[1] = __tl_cvt_float2_to_fp4x2(((float2*)(&q))[1]);
      ((float2*)(&__8))[0] = __tl_cvt_fp4x2_to_float2((reinterpret_cast<uint8_t*>(&__9))[0]);
      ((float2*)(&__8))[1] = __tl_cvt_fp4x2_to_float2((reinterpret_cast<uint8_t*>(&__9))[1]);
      float4 v__6 = make_float4(scale[0], scale[0], scale[0], scale[0]);
      *(float2*)(&(__7.x)) = tl::mul2(*(float2*)(&(__8.x)), *(float2*)(&(v__6.x)));
      *(float2*)(&(__7.z)) = tl::mul2(*(float2*)(&(__8.z)), *(float2*)(&(v__6.z)));
    (reinterpret_cast<__nv_bfloat162*>(&__6))[0] = __float22bfloat162_rn(((float2*)(&__7))[0]);
    (reinterpret_cast<__nv_bfloat162*>(&__6))[1] = __float22bfloat162_rn(((float2*)(&__7))[1]);
    *(uint2*)(out + (i * 4)) = __6;
  }
  if ((((int)threadIdx.x) % 4) == 0) {
    if (((((int)blockIdx.x) * 32) + (((int)threadIdx.x) >> 2)) < M) {
      S[(((((int64_t)((int)blockIdx.x)) * (int64_t)128) + ((((int64_t)((int)threadIdx.x)) >> (int64_t)2) * (int64_t)4)) + ((int64_t)((int)blockIdx.y)))] = ((fp8_e8_t)scale[0]);
    }
  }
  *(uint4*)(((bfloat16_t*)out_tile) + (((int)threadIdx.x) * 8)) = *(uint4*)(out + 0);
  if (((((int)blockIdx.x) * 32) + (((int)threadIdx.x) >> 2)) < M) {
    *(uint4*)(Y + ((((((int64_t)((int)blockIdx.x)) * (int64_t)4096) + ((((int64_t)((int)threadIdx.x)) >> (int64_t)2) * (int64_t)128)) + (((int64_t)((int)blockIdx.y)) * (int64_t)32)) + ((((int64_t)((int)threadIdx.x)) & (int64_t)3) * (int64_t)8))) = *(uint4*)(((bfloat16_t*)out_tile) + (((int)threadIdx.x) * 8));
  }
}

