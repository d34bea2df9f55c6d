#if defined(_MSC_VER) && !defined(__clang__) && _MSC_VER < 1940
#define _tl_orig_alignas alignas
#define alignas(N) _tl_orig_alignas((N) <= 64 ? (N) : 64)
#include <cuda.h>
#undef alignas
#define alignas _tl_orig_alignas
#endif
#include <tl_templates/cuda/instruction/mma.h>
#include <tl_templates/cuda/copy.h>
#include <tl_templates/cuda/cuda_fp8.h>
#include <tl_templates/cuda/reduce.h>
#include <tl_templates/cuda/scan.h>
#include <tl_templates/cuda/ldsm.h>
#include <tl_templates/cuda/threadblock_swizzle.h>
#include <tl_templates/cuda/debug.h>
#ifdef ENABLE_BF16
#include <tl_templates/cuda/cuda_bf16_fallbacks.cuh>
#endif

extern "C" __global__ void fp8_gemm_kernel(const fp8_e4_t* __restrict__ A, const fp8_e4_t* __restrict__ B, bfloat16_t* __restrict__ C, const fp8_e8_t* __restrict__ scales_a, const fp8_e8_t* __restrict__ scales_b, int M);
extern "C" __global__ void __launch_bounds__(128, 1) fp8_gemm_kernel(const fp8_e4_t* __restrict__ A, const fp8_e4_t* __restrict__ B, bfloat16_t* __restrict__ C, const fp8_e8_t* __restrict__ scales_a, const fp8_e8_t* __restrict__ scales_b, int M) {
  extern __shared__ __align__(1024) uchar buf_dyn_shmem[];
  void* a_tile = ((void*)((char*)buf_dyn_shmem + 0));
  void* c_tile = ((void*)((char*)buf_dyn_shmem + 0));
  void* b_tile = ((void*)((char*)buf_dyn_shmem + 16384));
  void* row_scale = ((void*)((char*)buf_dyn_shmem + 81920));
  float partial[32];
  float total[32];
  const dim3 blockIdx = tl::rasterization2DRow<10>();
  #pragma unroll
  for (int i = 0; i < 8; ++i) {
    float broadcast_var = 0x0p+0f/*0.000000e+00*/;
    *(float4*)(partial + (i * 4)) = make_float4(broadcast_var, broadcast_var, broadcast_var, broadcast_var);
  }
  #pragma unroll
  for (int i_1 = 0; i_1 < 8; ++i_1) {
    float broadcast_var_1 = 0x0p+0f/*0.000000e+00*/;
    *(float4*)(total + (i_1 * 4)) = make_float4(broadcast_var_1, broadcast_var_1, broadcast_var_1, broadcast_var_1);
  }
  #pragma unroll
  for (int i_2 = 0; i_2 < 2; ++i_2) {
    tl::cp_async_gs_conditional<16>((&(((fp8_e4_t*)a_tile)[(((((i_2 * 2048) + ((((int)threadIdx.x) >> 3) * 128)) + (((((((int)threadIdx.x) & 63) >> 5) + ((((int)threadIdx.x) & 7) >> 2)) & 1) * 64)) + (((((((int)threadIdx.x) & 31) >> 4) + ((((int)threadIdx.x) & 3) >> 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16))])), (&(A[((((((int64_t)((int)blockIdx.y)) * (int64_t)131072) + (((int64_t)i_2) * (int64_t)65536)) + ((((int64_t)((int)threadIdx.x)) >> (int64_t)3) * (int64_t)4096)) + ((((int64_t)((int)threadIdx.x)) & (int64_t)7) * (int64_t)16))])), (((((((int)blockIdx.y) * 32) + (i_2 * 16)) + (((int)threadIdx.x) >> 3)) < M) && ((((((int)blockIdx.y) * 32) + (i_2 * 16)) + (((int)threadIdx.x) >> 3)) < M)));
  }
  #pragma unroll
  for (int i_3 = 0; i_3 < 8; ++i_3) {
    tl::cp_async_gs<16>((&(((fp8_e4_t*)b_tile)[(((((i_3 * 2048) + ((((int)threadIdx.x) >> 3) * 128)) + (((((((int)threadIdx.x) & 63) >> 5) + ((((int)threadIdx.x) & 7) >> 2)) & 1) * 64)) + (((((((int)threadIdx.x) & 31) >> 4) + ((((int)threadIdx.x) & 3) >> 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16))])), (&(B[((((((int)blockIdx.x) * 524288) + (i_3 * 65536)) + ((((int)threadIdx.x) >> 3) * 4096)) + ((((int)threadIdx.x) & 7) * 16))])));
  }
  tl::cp_async_commit();
  #pragma unroll
  for (int i_4 = 0; i_4 < 2; ++i_4) {
    tl::cp_async_gs_conditional<16>((&(((fp8_e4_t*)a_tile)[((((((i_4 * 2048) + ((((int)threadIdx.x) >> 3) * 128)) + (((((((int)threadIdx.x) & 63) >> 5) + ((((int)threadIdx.x) & 7) >> 2)) & 1) * 64)) + (((((((int)threadIdx.x) & 31) >> 4) + ((((int)threadIdx.x) & 3) >> 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16)) + 4096)])), (&(A[(((((((int64_t)((int)blockIdx.y)) * (int64_t)131072) + (((int64_t)i_4) * (int64_t)65536)) + ((((int64_t)((int)threadIdx.x)) >> (int64_t)3) * (int64_t)4096)) + ((((int64_t)((int)threadIdx.x)) & (int64_t)7) * (int64_t)16)) + (int64_t)128)])), (((((((int)blockIdx.y) * 32) + (i_4 * 16)) + (((int)threadIdx.x) >> 3)) < M) && ((((((int)blockIdx.y) * 32) + (i_4 * 16)) + (((int)threadIdx.x) >> 3)) < M)));
  }
  #pragma unroll
  for (int i_5 = 0; i_5 < 8; ++i_5) {
    tl::cp_async_gs<16>((&(((fp8_e4_t*)b_tile)[((((((i_5 * 2048) + ((((int)threadIdx.x) >> 3) * 128)) + (((((((int)threadIdx.x) & 63) >> 5) + ((((int)threadIdx.x) & 7) >> 2)) & 1) * 64)) + (((((((int)threadIdx.x) & 31) >> 4) + ((((int)threadIdx.x) & 3) >> 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16)) + 16384)])), (&(B[(((((((int)blockIdx.x) * 524288) + (i_5 * 65536)) + ((((int)threadIdx.x) >> 3) * 4096)) + ((((int)threadIdx.x) & 7) * 16)) + 128)])));
  }
  tl::cp_async_commit();
  #pragma unroll
  for (int i_6 = 0; i_6 < 2; ++i_6) {
    tl::cp_async_gs_conditional<16>((&(((fp8_e4_t*)a_tile)[((((((i_6 * 2048) + ((((int)threadIdx.x) >> 3) * 128)) + (((((((int)threadIdx.x) & 63) >> 5) + ((((int)threadIdx.x) & 7) >> 2)) & 1) * 64)) + (((((((int)threadIdx.x) & 31) >> 4) + ((((int)threadIdx.x) & 3) >> 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16)) + 8192)])), (&(A[(((((((int64_t)((int)blockIdx.y)) * (int64_t)131072) + (((int64_t)i_6) * (int64_t)65536)) + ((((int64_t)((int)threadIdx.x)) >> (int64_t)3) * (int64_t)4096)) + ((((int64_t)((int)threadIdx.x)) & (int64_t)7) * (int64_t)16)) + (int64_t)256)])), (((((((int)blockIdx.y) * 32) + (i_6 * 16)) + (((int)threadIdx.x) >> 3)) < M) && ((((((int)blockIdx.y) * 32) + (i_6 * 16)) + (((int)threadIdx.x) >> 3)) < M)));
  }
  #pragma unroll
  for (int i_7 = 0; i_7 < 8; ++i_7) {
    tl::cp_async_gs<16>((&(((fp8_e4_t*)b_tile)[((((((i_7 * 2048) + ((((int)threadIdx.x) >> 3) * 128)) + (((((((int)threadIdx.x) & 63) >> 5) + ((((int)threadIdx.x) & 7) >> 2)) & 1) * 64)) + (((((((int)threadIdx.x) & 31) >> 4) + ((((int)threadIdx.x) & 3) >> 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16)) + 32768)])), (&(B[(((((((int)blockIdx.x) * 524288) + (i_7 * 65536)) + ((((int)threadIdx.x) >> 3) * 4096)) + ((((int)threadIdx.x) & 7) * 16)) + 256)])));
  }
  tl::cp_async_commit();
  #pragma unroll
  for (int i_8 = 0; i_8 < 2; ++i_8) {
    tl::cp_async_gs_conditional<16>((&(((fp8_e4_t*)a_tile)[((((((i_8 * 2048) + ((((int)threadIdx.x) >> 3) * 128)) + (((((((int)threadIdx.x) & 63) >> 5) + ((((int)threadIdx.x) & 7) >> 2)) & 1) * 64)) + (((((((int)threadIdx.x) & 31) >> 4) + ((((int)threadIdx.x) & 3) >> 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16)) + 12288)])), (&(A[(((((((int64_t)((int)blockIdx.y)) * (int64_t)131072) + (((int64_t)i_8) * (int64_t)65536)) + ((((int64_t)((int)threadIdx.x)) >> (int64_t)3) * (int64_t)4096)) + ((((int64_t)((int)threadIdx.x)) & (int64_t)7) * (int64_t)16)) + (int64_t)384)])), (((((((int)blockIdx.y) * 32) + (i_8 * 16)) + (((int)threadIdx.x) >> 3)) < M) && ((((((int)blockIdx.y) * 32) + (i_8 * 16)) + (((int)threadIdx.x) >> 3)) < M)));
  }
  #pragma unroll
  for (int i_9 = 0; i_9 < 8; ++i_9) {
    tl::cp_async_gs<16>((&(((fp8_e4_t*)b_tile)[((((((i_9 * 2048) + ((((int)threadIdx.x) >> 3) * 128)) + (((((((int)threadIdx.x) & 63) >> 5) + ((((int)threadIdx.x) & 7) >> 2)) & 1) * 64)) + (((((((int)threadIdx.x) & 31) >> 4) + ((((int)threadIdx.x) & 3) >> 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16)) + 49152)])), (&(B[(((((((int)blockIdx.x) * 524288) + (i_9 * 65536)) + ((((int)threadIdx.x) >> 3) * 4096)) + ((((int)threadIdx.x) & 7) * 16)) + 384)])));
  }
  tl::cp_async_commit();
  for (int kk = 0; kk < 28; ++kk) {
    __syncthreads();
    if (((int)threadIdx.x) < 32) {
      fp8_e8_t condval;
      if ((((((int)blockIdx.y) * 32) + ((int)threadIdx.x)) < M)) {
        condval = scales_a[(((((int64_t)((int)blockIdx.y)) * (int64_t)1024) + (((int64_t)((int)threadIdx.x)) * (int64_t)32)) + ((int64_t)kk))];
      } else {
        condval = fp8_e8_t(0x0p+0f/*0.000000e+00*/);
      }
      ((float*)row_scale)[((int)threadIdx.x)] = (((float)condval) * ((float)scales_b[((((int)blockIdx.x) * 32) + kk)]));
    }
    tl::cp_async_wait<3>();
    __syncthreads();
    {
      fp8_e4_t A_local[16];
      fp8_e4_t B_local[64];
      for (int ki = 0; ki < 4; ++ki) {
        tl::ptx_ldmatrix_x4((&(((fp8_e4_t*)a_tile)[(((((((kk & 3) * 4096) + (((((int)threadIdx.x) & 63) >> 5) * 2048)) + ((((int)threadIdx.x) & 15) * 128)) + (((((((int)threadIdx.x) & 7) >> 2) + (ki >> 1)) & 1) * 64)) + (((((((int)threadIdx.x) & 3) >> 1) + (ki & 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 31) >> 4) + (((int)threadIdx.x) & 1)) & 1) * 16))])), (&(A_local[0])));
        #pragma unroll
        for (int i_10 = 0; i_10 < 4; ++i_10) {
          tl::ptx_ldmatrix_x4((&(((fp8_e4_t*)b_tile)[(((((((((kk & 3) * 16384) + ((((int)threadIdx.x) >> 6) * 8192)) + (i_10 * 2048)) + (((((int)threadIdx.x) & 31) >> 4) * 1024)) + ((((int)threadIdx.x) & 7) * 128)) + (((((((int)threadIdx.x) & 7) >> 2) + (ki >> 1)) & 1) * 64)) + (((((((int)threadIdx.x) & 3) >> 1) + (ki & 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16))])), (&(B_local[(i_10 * 16)])));
        }
        for (int j = 0; j < 4; ++j) {
          tl::mma_sync<tl::DataType::kFloat8_e4m3, tl::DataType::kFloat8_e4m3, tl::DataType::kFloat32, 16, 8, 32, false, true>(reinterpret_cast<float*>(partial + (j * 8)), reinterpret_cast<const unsigned*>(A_local + 0), reinterpret_cast<const unsigned*>(B_local + (j * 16)));
          tl::mma_sync<tl::DataType::kFloat8_e4m3, tl::DataType::kFloat8_e4m3, tl::DataType::kFloat32, 16, 8, 32, false, true>(reinterpret_cast<float*>(partial + ((j * 8) + 4)), reinterpret_cast<const unsigned*>(A_local + 0), reinterpret_cast<const unsigned*>(B_local + ((j * 16) + 8)));
        }
      }
    }
    __syncthreads();
    #pragma unroll
    for (int i_11 = 0; i_11 < 2; ++i_11) {
      tl::cp_async_gs_conditional<16>((&(((fp8_e4_t*)a_tile)[(((((((kk & 3) * 4096) + (i_11 * 2048)) + ((((int)threadIdx.x) >> 3) * 128)) + (((((((int)threadIdx.x) & 63) >> 5) + ((((int)threadIdx.x) & 7) >> 2)) & 1) * 64)) + (((((((int)threadIdx.x) & 31) >> 4) + ((((int)threadIdx.x) & 3) >> 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16))])), (&(A[((((((((int64_t)((int)blockIdx.y)) * (int64_t)131072) + (((int64_t)i_11) * (int64_t)65536)) + ((((int64_t)((int)threadIdx.x)) >> (int64_t)3) * (int64_t)4096)) + (((int64_t)kk) * (int64_t)128)) + ((((int64_t)((int)threadIdx.x)) & (int64_t)7) * (int64_t)16)) + (int64_t)512)])), (((((((int)blockIdx.y) * 32) + (i_11 * 16)) + (((int)threadIdx.x) >> 3)) < M) && ((((((int)blockIdx.y) * 32) + (i_11 * 16)) + (((int)threadIdx.x) >> 3)) < M)));
    }
    #pragma unroll
    for (int i_12 = 0; i_12 < 8; ++i_12) {
      tl::cp_async_gs<16>((&(((fp8_e4_t*)b_tile)[(((((((kk & 3) * 16384) + (i_12 * 2048)) + ((((int)threadIdx.x) >> 3) * 128)) + (((((((int)threadIdx.x) & 63) >> 5) + ((((int)threadIdx.x) & 7) >> 2)) & 1) * 64)) + (((((((int)threadIdx.x) & 31) >> 4) + ((((int)threadIdx.x) & 3) >> 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16))])), (&(B[((((((((int)blockIdx.x) * 524288) + (i_12 * 65536)) + ((((int)threadIdx.x) >> 3) * 4096)) + (kk * 128)) + ((((int)threadIdx.x) & 7) * 16)) + 512)])));
    }
    tl::cp_async_commit();
    __syncthreads();
    #pragma unroll
    for (int i_13 = 0; i_13 < 16; ++i_13) {
      float2 __1;
        float2 v_ = *(float2*)(partial + (i_13 * 2));
        float2 v__1 = make_float2(((float*)row_scale)[(((((((int)threadIdx.x) & 63) >> 5) * 16) + ((i_13 & 1) * 8)) + ((((int)threadIdx.x) & 31) >> 2))], ((float*)row_scale)[(((((((int)threadIdx.x) & 63) >> 5) * 16) + ((i_13 & 1) * 8)) + ((((int)threadIdx.x) & 31) >> 2))]);
        float2 v__2 = *(float2*)(total + (i_13 * 2));
        *(float2*)(&(__1.x)) = tl::fma2(*(float2*)(&(v_.x)), *(float2*)(&(v__1.x)), *(float2*)(&(v__2.x)));
      *(float2*)(total + (i_13 * 2)) = __1;
    }
    #pragma unroll
    for (int i_14 = 0; i_14 < 8; ++i_14) {
      float broadcast_var_2 = 0x0p+0f/*0.000000e+00*/;
      *(float4*)(partial + (i_14 * 4)) = make_float4(broadcast_var_2, broadcast_var_2, broadcast_var_2, broadcast_var_2);
    }
  }
  __syncthreads();
  if (((int)threadIdx.x) < 32) {
    fp8_e8_t condval_1;
    if ((((((int)blockIdx.y) * 32) + ((int)threadIdx.x)) < M)) {
      condval_1 = scales_a[(((((int64_t)((int)blockIdx.y)) * (int64_t)1024) + (((int64_t)((int)threadIdx.x)) * (int64_t)32)) + (int64_t)28)];
    } else {
      condval_1 = fp8_e8_t(0x0p+0f/*0.000000e+00*/);
    }
    ((float*)row_scale)[((int)threadIdx.x)] = (((float)condval_1) * ((float)scales_b[((((int)blockIdx.x) * 32) + 28)]));
  }
  tl::cp_async_wait<3>();
  __syncthreads();
  {
    fp8_e4_t A_local_1[16];
    fp8_e4_t B_local_1[64];
    for (int ki_1 = 0; ki_1 < 4; ++ki_1) {
      tl::ptx_ldmatrix_x4((&(((fp8_e4_t*)a_tile)[(((((((((int)threadIdx.x) & 63) >> 5) * 2048) + ((((int)threadIdx.x) & 15) * 128)) + (((((((int)threadIdx.x) & 7) >> 2) + (ki_1 >> 1)) & 1) * 64)) + (((((((int)threadIdx.x) & 3) >> 1) + (ki_1 & 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 31) >> 4) + (((int)threadIdx.x) & 1)) & 1) * 16))])), (&(A_local_1[0])));
      #pragma unroll
      for (int i_15 = 0; i_15 < 4; ++i_15) {
        tl::ptx_ldmatrix_x4((&(((fp8_e4_t*)b_tile)[((((((((((int)threadIdx.x) >> 6) * 8192) + (i_15 * 2048)) + (((((int)threadIdx.x) & 31) >> 4) * 1024)) + ((((int)threadIdx.x) & 7) * 128)) + (((((((int)threadIdx.x) & 7) >> 2) + (ki_1 >> 1)) & 1) * 64)) + (((((((int)threadIdx.x) & 3) >> 1) + (ki_1 & 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16))])), (&(B_local_1[(i_15 * 16)])));
      }
      for (int j_1 = 0; j_1 < 4; ++j_1) {
        tl::mma_sync<tl::DataType::kFloat8_e4m3, tl::DataType::kFloat8_e4m3, tl::DataType::kFloat32, 16, 8, 32, false, true>(reinterpret_cast<float*>(partial + (j_1 * 8)), reinterpret_cast<const unsigned*>(A_local_1 + 0), reinterpret_cast<const unsigned*>(B_local_1 + (j_1 * 16)));
        tl::mma_sync<tl::DataType::kFloat8_e4m3, tl::DataType::kFloat8_e4m3, tl::DataType::kFloat32, 16, 8, 32, false, true>(reinterpret_cast<float*>(partial + ((j_1 * 8) + 4)), reinterpret_cast<const unsigned*>(A_local_1 + 0), reinterpret_cast<const unsigned*>(B_local_1 + ((j_1 * 16) + 8)));
      }
    }
  }
  #pragma unroll
  for (int i_16 = 0; i_16 < 16; ++i_16) {
    float2 __2;
      float2 v__3 = *(float2*)(partial + (i_16 * 2));
      float2 v__4 = make_float2(((float*)row_scale)[(((((((int)threadIdx.x) & 63) >> 5) * 16) + ((i_16 & 1) * 8)) + ((((int)threadIdx.x) & 31) >> 2))], ((float*)row_scale)[(((((((int)threadIdx.x) & 63) >> 5) * 16) + ((i_16 & 1) * 8)) + ((((int)threadIdx.x) & 31) >> 2))]);
      float2 v__5 = *(float2*)(total + (i_16 * 2));
      *(float2*)(&(__2.x)) = tl::fma2(*(float2*)(&(v__3.x)), *(float2*)(&(v__4.x)), *(float2*)(&(v__5.x)));
    *(float2*)(total + (i_16 * 2)) = __2;
  }
  #pragma unroll
  for (int i_17 = 0; i_17 < 8; ++i_17) {
    float broadcast_var_3 = 0x0p+0f/*0.000000e+00*/;
    *(float4*)(partial + (i_17 * 4)) = make_float4(broadcast_var_3, broadcast_var_3, broadcast_var_3, broadcast_var_3);
  }
  __syncthreads();
  if (((int)threadIdx.x) < 32) {
    fp8_e8_t condval_2;
    if ((((((int)blockIdx.y) * 32) + ((int)threadIdx.x)) < M)) {
      condval_2 = scales_a[(((((int64_t)((int)blockIdx.y)) * (int64_t)1024) + (((int64_t)((int)threadIdx.x)) * (int64_t)32)) + (int64_t)29)];
    } else {
      condval_2 = fp8_e8_t(0x0p+0f/*0.000000e+00*/);
    }
    ((float*)row_scale)[((int)threadIdx.x)] = (((float)condval_2) * ((float)scales_b[((((int)blockIdx.x) * 32) + 29)]));
  }
  tl::cp_async_wait<2>();
  __syncthreads();
  {
    fp8_e4_t A_local_2[16];
    fp8_e4_t B_local_2[64];
    for (int ki_2 = 0; ki_2 < 4; ++ki_2) {
      tl::ptx_ldmatrix_x4((&(((fp8_e4_t*)a_tile)[((((((((((int)threadIdx.x) & 63) >> 5) * 2048) + ((((int)threadIdx.x) & 15) * 128)) + (((((((int)threadIdx.x) & 7) >> 2) + (ki_2 >> 1)) & 1) * 64)) + (((((((int)threadIdx.x) & 3) >> 1) + (ki_2 & 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 31) >> 4) + (((int)threadIdx.x) & 1)) & 1) * 16)) + 4096)])), (&(A_local_2[0])));
      #pragma unroll
      for (int i_18 = 0; i_18 < 4; ++i_18) {
        tl::ptx_ldmatrix_x4((&(((fp8_e4_t*)b_tile)[(((((((((((int)threadIdx.x) >> 6) * 8192) + (i_18 * 2048)) + (((((int)threadIdx.x) & 31) >> 4) * 1024)) + ((((int)threadIdx.x) & 7) * 128)) + (((((((int)threadIdx.x) & 7) >> 2) + (ki_2 >> 1)) & 1) * 64)) + (((((((int)threadIdx.x) & 3) >> 1) + (ki_2 & 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16)) + 16384)])), (&(B_local_2[(i_18 * 16)])));
      }
      for (int j_2 = 0; j_2 < 4; ++j_2) {
        tl::mma_sync<tl::DataType::kFloat8_e4m3, tl::DataType::kFloat8_e4m3, tl::DataType::kFloat32, 16, 8, 32, false, true>(reinterpret_cast<float*>(partial + (j_2 * 8)), reinterpret_cast<const unsigned*>(A_local_2 + 0), reinterpret_cast<const unsigned*>(B_local_2 + (j_2 * 16)));
        tl::mma_sync<tl::DataType::kFloat8_e4m3, tl::DataType::kFloat8_e4m3, tl::DataType::kFloat32, 16, 8, 32, false, true>(reinterpret_cast<float*>(partial + ((j_2 * 8) + 4)), reinterpret_cast<const unsigned*>(A_local_2 + 0), reinterpret_cast<const unsigned*>(B_local_2 + ((j_2 * 16) + 8)));
      }
    }
  }
  #pragma unroll
  for (int i_19 = 0; i_19 < 16; ++i_19) {
    float2 __3;
      float2 v__6 = *(float2*)(partial + (i_19 * 2));
      float2 v__7 = make_float2(((float*)row_scale)[(((((((int)threadIdx.x) & 63) >> 5) * 16) + ((i_19 & 1) * 8)) + ((((int)threadIdx.x) & 31) >> 2))], ((float*)row_scale)[(((((((int)threadIdx.x) & 63) >> 5) * 16) + ((i_19 & 1) * 8)) + ((((int)threadIdx.x) & 31) >> 2))]);
      float2 v__8 = *(float2*)(total + (i_19 * 2));
      *(float2*)(&(__3.x)) = tl::fma2(*(float2*)(&(v__6.x)), *(float2*)(&(v__7.x)), *(float2*)(&(v__8.x)));
    *(float2*)(total + (i_19 * 2)) = __3;
  }
  #pragma unroll
  for (int i_20 = 0; i_20 < 8; ++i_20) {
    float broadcast_var_4 = 0x0p+0f/*0.000000e+00*/;
    *(float4*)(partial + (i_20 * 4)) = make_float4(broadcast_var_4, broadcast_var_4, broadcast_var_4, broadcast_var_4);
  }
  __syncthreads();
  if (((int)threadIdx.x) < 32) {
    fp8_e8_t condval_3;
    if ((((((int)blockIdx.y) * 32) + ((int)threadIdx.x)) < M)) {
      condval_3 = scales_a[(((((int64_t)((int)blockIdx.y)) * (int64_t)1024) + (((int64_t)((int)threadIdx.x)) * (int64_t)32)) + (int64_t)30)];
    } else {
      condval_3 = fp8_e8_t(0x0p+0f/*0.000000e+00*/);
    }
    ((float*)row_scale)[((int)threadIdx.x)] = (((float)condval_3) * ((float)scales_b[((((int)blockIdx.x) * 32) + 30)]));
  }
  tl::cp_async_wait<1>();
  __syncthreads();
  {
    fp8_e4_t A_local_3[16];
    fp8_e4_t B_local_3[64];
    for (int ki_3 = 0; ki_3 < 4; ++ki_3) {
      tl::ptx_ldmatrix_x4((&(((fp8_e4_t*)a_tile)[((((((((((int)threadIdx.x) & 63) >> 5) * 2048) + ((((int)threadIdx.x) & 15) * 128)) + (((((((int)threadIdx.x) & 7) >> 2) + (ki_3 >> 1)) & 1) * 64)) + (((((((int)threadIdx.x) & 3) >> 1) + (ki_3 & 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 31) >> 4) + (((int)threadIdx.x) & 1)) & 1) * 16)) + 8192)])), (&(A_local_3[0])));
      #pragma unroll
      for (int i_21 = 0; i_21 < 4; ++i_21) {
        tl::ptx_ldmatrix_x4((&(((fp8_e4_t*)b_tile)[(((((((((((int)threadIdx.x) >> 6) * 8192) + (i_21 * 2048)) + (((((int)threadIdx.x) & 31) >> 4) * 1024)) + ((((int)threadIdx.x) & 7) * 128)) + (((((((int)threadIdx.x) & 7) >> 2) + (ki_3 >> 1)) & 1) * 64)) + (((((((int)threadIdx.x) & 3) >> 1) + (ki_3 & 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16)) + 32768)])), (&(B_local_3[(i_21 * 16)])));
      }
      for (int j_3 = 0; j_3 < 4; ++j_3) {
        tl::mma_sync<tl::DataType::kFloat8_e4m3, tl::DataType::kFloat8_e4m3, tl::DataType::kFloat32, 16, 8, 32, false, true>(reinterpret_cast<float*>(partial + (j_3 * 8)), reinterpret_cast<const unsigned*>(A_local_3 + 0), reinterpret_cast<const unsigned*>(B_local_3 + (j_3 * 16)));
        tl::mma_sync<tl::DataType::kFloat8_e4m3, tl::DataType::kFloat8_e4m3, tl::DataType::kFloat32, 16, 8, 32, false, true>(reinterpret_cast<float*>(partial + ((j_3 * 8) + 4)), reinterpret_cast<const unsigned*>(A_local_3 + 0), reinterpret_cast<const unsigned*>(B_local_3 + ((j_3 * 16) + 8)));
      }
    }
  }
  #pragma unroll
  for (int i_22 = 0; i_22 < 16; ++i_22) {
    float2 __4;
      float2 v__9 = *(float2*)(partial + (i_22 * 2));
      float2 v__10 = make_float2(((float*)row_scale)[(((((((int)threadIdx.x) & 63) >> 5) * 16) + ((i_22 & 1) * 8)) + ((((int)threadIdx.x) & 31) >> 2))], ((float*)row_scale)[(((((((int)threadIdx.x) & 63) >> 5) * 16) + ((i_22 & 1) * 8)) + ((((int)threadIdx.x) & 31) >> 2))]);
      float2 v__11 = *(float2*)(total + (i_22 * 2));
      *(float2*)(&(__4.x)) = tl::fma2(*(float2*)(&(v__9.x)), *(float2*)(&(v__10.x)), *(float2*)(&(v__11.x)));
    *(float2*)(total + (i_22 * 2)) = __4;
  }
  #pragma unroll
  for (int i_23 = 0; i_23 < 8; ++i_23) {
    float broadcast_var_5 = 0x0p+0f/*0.000000e+00*/;
    *(float4*)(partial + (i_23 * 4)) = make_float4(broadcast_var_5, broadcast_var_5, broadcast_var_5, broadcast_var_5);
  }
  __syncthreads();
  if (((int)threadIdx.x) < 32) {
    fp8_e8_t condval_4;
    if ((((((int)blockIdx.y) * 32) + ((int)threadIdx.x)) < M)) {
      condval_4 = scales_a[(((((int64_t)((int)blockIdx.y)) * (int64_t)1024) + (((int64_t)((int)threadIdx.x)) * (int64_t)32)) + (int64_t)31)];
    } else {
      condval_4 = fp8_e8_t(0x0p+0f/*0.000000e+00*/);
    }
    ((float*)row_scale)[((int)threadIdx.x)] = (((float)condval_4) * ((float)scales_b[((((int)blockIdx.x) * 32) + 31)]));
  }
  tl::cp_async_wait<0>();
  __syncthreads();
  {
    fp8_e4_t A_local_4[16];
    fp8_e4_t B_local_4[64];
    for (int ki_4 = 0; ki_4 < 4; ++ki_4) {
      tl::ptx_ldmatrix_x4((&(((fp8_e4_t*)a_tile)[((((((((((int)threadIdx.x) & 63) >> 5) * 2048) + ((((int)threadIdx.x) & 15) * 128)) + (((((((int)threadIdx.x) & 7) >> 2) + (ki_4 >> 1)) & 1) * 64)) + (((((((int)threadIdx.x) & 3) >> 1) + (ki_4 & 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 31) >> 4) + (((int)threadIdx.x) & 1)) & 1) * 16)) + 12288)])), (&(A_local_4[0])));
      #pragma unroll
      for (int i_24 = 0; i_24 < 4; ++i_24) {
        tl::ptx_ldmatrix_x4((&(((fp8_e4_t*)b_tile)[(((((((((((int)threadIdx.x) >> 6) * 8192) + (i_24 * 2048)) + (((((int)threadIdx.x) & 31) >> 4) * 1024)) + ((((int)threadIdx.x) & 7) * 128)) + (((((((int)threadIdx.x) & 7) >> 2) + (ki_4 >> 1)) & 1) * 64)) + (((((((int)threadIdx.x) & 3) >> 1) + (ki_4 & 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16)) + 49152)])), (&(B_local_4[(i_24 * 16)])));
      }
      for (int j_4 = 0; j_4 < 4; ++j_4) {
        tl::mma_sync<tl::DataType::kFloat8_e4m3, tl::DataType::kFloat8_e4m3, tl::DataType::kFloat32, 16, 8, 32, false, true>(reinterpret_cast<float*>(partial + (j_4 * 8)), reinterpret_cast<const unsigned*>(A_local_4 + 0), reinterpret_cast<const unsigned*>(B_local_4 + (j_4 * 16)));
        tl::mma_sync<tl::DataType::kFloat8_e4m3, tl::DataType::kFloat8_e4m3, tl::DataType::kFloat32, 16, 8, 32, false, true>(reinterpret_cast<float*>(partial + ((j_4 * 8) + 4)), reinterpret_cast<const unsigned*>(A_local_4 + 0), reinterpret_cast<const unsigned*>(B_local_4 + ((j_4 * 16) + 8)));
      }
    }
  }
  #pragma unroll
  for (int i_25 = 0; i_25 < 16; ++i_25) {
    float2 __5;
      float2 v__12 = *(float2*)(partial + (i_25 * 2));
      float2 v__13 = make_float2(((float*)row_scale)[(((((((int)threadIdx.x) & 63) >> 5) * 16) + ((i_25 & 1) * 8)) + ((((int)threadIdx.x) & 31) >> 2))], ((float*)row_scale)[(((((((int)threadIdx.x) & 63) >> 5) * 16) + ((i_25 & 1) * 8)) + ((((int)threadIdx.x) & 31) >> 2))]);
      float2 v__14 = *(float2*)(total + (i_25 * 2));
      *(float2*)(&(__5.x)) = tl::fma2(*(float2*)(&(v__12.x)), *(float2*)(&(v__13.x)), *(float2*)(&(v__14.x)));
    *(float2*)(total + (i_25 * 2)) = __5;
  }
  #pragma unroll
  for (int i_26 = 0; i_26 < 8; ++i_26) {
    float broadcast_var_6 = 0x0p+0f/*0.000000e+00*/;
    *(float4*)(partial + (i_26 * 4)) = make_float4(broadcast_var_6, broadcast_var_6, broadcast_var_6, broadcast_var_6);
  }
  __syncthreads();
  #pragma unroll
  for (int i_27 = 0; i_27 < 4; ++i_27) {
    tl::ptx_stmatrix_m8n8_x4((&(((bfloat16_t*)c_tile)[(((((((((int)threadIdx.x) & 63) >> 5) * 2048) + ((((int)threadIdx.x) & 15) * 128)) + ((((int)threadIdx.x) >> 6) * 64)) + (i_27 * 16)) + (((((int)threadIdx.x) & 31) >> 4) * 8))])), __pack_half2(((bfloat16_t)total[(i_27 * 8)]), ((bfloat16_t)total[((i_27 * 8) + 1)])), __pack_half2(((bfloat16_t)total[((i_27 * 8) + 2)]), ((bfloat16_t)total[((i_27 * 8) + 3)])), __pack_half2(((bfloat16_t)total[((i_27 * 8) + 4)]), ((bfloat16_t)total[((i_27 * 8) + 5)])), __pack_half2(((bfloat16_t)total[((i_27 * 8) + 6)]), ((bfloat16_t)total[((i_27 * 8) + 7)])));
  }
  __syncthreads();
  #pragma unroll
  for (int i_28 = 0; i_28 < 4; ++i_28) {
    if ((((((int)blockIdx.y) * 32) + (i_28 * 8)) + (((int)threadIdx.x) >> 4)) < M) {
      *(uint4*)(C + (((((((int64_t)((int)blockIdx.y)) * (int64_t)16384) + (((int64_t)i_28) * (int64_t)4096)) + ((((int64_t)((int)threadIdx.x)) >> (int64_t)4) * (int64_t)512)) + (((int64_t)((int)blockIdx.x)) * (int64_t)128)) + ((((int64_t)((int)threadIdx.x)) & (int64_t)15) * (int64_t)8))) = *(uint4*)(((bfloat16_t*)c_tile) + ((i_28 * 1024) + (((int)threadIdx.x) * 8)));
    }
  }
}

