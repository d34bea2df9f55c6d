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
    tl::cp_async_gs_conditional<16>((&(((fp8_e4_t*)a_tile)[(((((i_2 * 2048) + ((((int)threadIdx.x) >> 3) * 128)) + (((((((int)threadIdx.x) & 63) >> 5) + ((((int)threadIdx.x) & 7) >> 2)) & 1) * 64)) + (((((((int)threadIdx.x) & 31) >> 4) + ((((int)threadIdx.x) & 3) >> 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16))])), (&(A[((((((int64_t)((int)blockIdx.y)) * (int64_t)16384) + (((int64_t)i_2) * (int64_t)8192)) + ((((int64_t)((int)threadIdx.x)) >> (int64_t)3) * (int64_t)512)) + ((((int64_t)((int)threadIdx.x)) & (int64_t)7) * (int64_t)16))])), (((((((int)blockIdx.y) * 32) + (i_2 * 16)) + (((int)threadIdx.x) >> 3)) < M) && ((((((int)blockIdx.y) * 32) + (i_2 * 16)) + (((int)threadIdx.x) >> 3)) < M)));
  }
  #pragma unroll
  for (int i_3 = 0; i_3 < 8; ++i_3) {
    tl::cp_async_gs<16>((&(((fp8_e4_t*)b_tile)[(((((i_3 * 2048) + ((((int)threadIdx.x) >> 3) * 128)) + (((((((int)threadIdx.x) & 63) >> 5) + ((((int)threadIdx.x) & 7) >> 2)) & 1) * 64)) + (((((((int)threadIdx.x) & 31) >> 4) + ((((int)threadIdx.x) & 3) >> 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16))])), (&(B[((((((int)blockIdx.x) * 65536) + (i_3 * 8192)) + ((((int)threadIdx.x) >> 3) * 512)) + ((((int)threadIdx.x) & 7) * 16))])));
  }
  tl::cp_async_commit();
  #pragma unroll
  for (int i_4 = 0; i_4 < 2; ++i_4) {
    tl::cp_async_gs_conditional<16>((&(((fp8_e4_t*)a_tile)[((((((i_4 * 2048) + ((((int)threadIdx.x) >> 3) * 128)) + (((((((int)threadIdx.x) & 63) >> 5) + ((((int)threadIdx.x) & 7) >> 2)) & 1) * 64)) + (((((((int)threadIdx.x) & 31) >> 4) + ((((int)threadIdx.x) & 3) >> 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16)) + 4096)])), (&(A[(((((((int64_t)((int)blockIdx.y)) * (int64_t)16384) + (((int64_t)i_4) * (int64_t)8192)) + ((((int64_t)((int)threadIdx.x)) >> (int64_t)3) * (int64_t)512)) + ((((int64_t)((int)threadIdx.x)) & (int64_t)7) * (int64_t)16)) + (int64_t)128)])), (((((((int)blockIdx.y) * 32) + (i_4 * 16)) + (((int)threadIdx.x) >> 3)) < M) && ((((((int)blockIdx.y) * 32) + (i_4 * 16)) + (((int)threadIdx.x) >> 3)) < M)));
  }
  #pragma unroll
  for (int i_5 = 0; i_5 < 8; ++i_5) {
    tl::cp_async_gs<16>((&(((fp8_e4_t*)b_tile)[((((((i_5 * 2048) + ((((int)threadIdx.x) >> 3) * 128)) + (((((((int)threadIdx.x) & 63) >> 5) + ((((int)threadIdx.x) & 7) >> 2)) & 1) * 64)) + (((((((int)threadIdx.x) & 31) >> 4) + ((((int)threadIdx.x) & 3) >> 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16)) + 16384)])), (&(B[(((((((int)blockIdx.x) * 65536) + (i_5 * 8192)) + ((((int)threadIdx.x) >> 3) * 512)) + ((((int)threadIdx.x) & 7) * 16)) + 128)])));
  }
  tl::cp_async_commit();
  #pragma unroll
  for (int i_6 = 0; i_6 < 2; ++i_6) {
    tl::cp_async_gs_conditional<16>((&(((fp8_e4_t*)a_tile)[((((((i_6 * 2048) + ((((int)threadIdx.x) >> 3) * 128)) + (((((((int)threadIdx.x) & 63) >> 5) + ((((int)threadIdx.x) & 7) >> 2)) & 1) * 64)) + (((((((int)threadIdx.x) & 31) >> 4) + ((((int)threadIdx.x) & 3) >> 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16)) + 8192)])), (&(A[(((((((int64_t)((int)blockIdx.y)) * (int64_t)16384) + (((int64_t)i_6) * (int64_t)8192)) + ((((int64_t)((int)threadIdx.x)) >> (int64_t)3) * (int64_t)512)) + ((((int64_t)((int)threadIdx.x)) & (int64_t)7) * (int64_t)16)) + (int64_t)256)])), (((((((int)blockIdx.y) * 32) + (i_6 * 16)) + (((int)threadIdx.x) >> 3)) < M) && ((((((int)blockIdx.y) * 32) + (i_6 * 16)) + (((int)threadIdx.x) >> 3)) < M)));
  }
  #pragma unroll
  for (int i_7 = 0; i_7 < 8; ++i_7) {
    tl::cp_async_gs<16>((&(((fp8_e4_t*)b_tile)[((((((i_7 * 2048) + ((((int)threadIdx.x) >> 3) * 128)) + (((((((int)threadIdx.x) & 63) >> 5) + ((((int)threadIdx.x) & 7) >> 2)) & 1) * 64)) + (((((((int)threadIdx.x) & 31) >> 4) + ((((int)threadIdx.x) & 3) >> 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16)) + 32768)])), (&(B[(((((((int)blockIdx.x) * 65536) + (i_7 * 8192)) + ((((int)threadIdx.x) >> 3) * 512)) + ((((int)threadIdx.x) & 7) * 16)) + 256)])));
  }
  tl::cp_async_commit();
  #pragma unroll
  for (int i_8 = 0; i_8 < 2; ++i_8) {
    tl::cp_async_gs_conditional<16>((&(((fp8_e4_t*)a_tile)[((((((i_8 * 2048) + ((((int)threadIdx.x) >> 3) * 128)) + (((((((int)threadIdx.x) & 63) >> 5) + ((((int)threadIdx.x) & 7) >> 2)) & 1) * 64)) + (((((((int)threadIdx.x) & 31) >> 4) + ((((int)threadIdx.x) & 3) >> 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16)) + 12288)])), (&(A[(((((((int64_t)((int)blockIdx.y)) * (int64_t)16384) + (((int64_t)i_8) * (int64_t)8192)) + ((((int64_t)((int)threadIdx.x)) >> (int64_t)3) * (int64_t)512)) + ((((int64_t)((int)threadIdx.x)) & (int64_t)7) * (int64_t)16)) + (int64_t)384)])), (((((((int)blockIdx.y) * 32) + (i_8 * 16)) + (((int)threadIdx.x) >> 3)) < M) && ((((((int)blockIdx.y) * 32) + (i_8 * 16)) + (((int)threadIdx.x) >> 3)) < M)));
  }
  #pragma unroll
  for (int i_9 = 0; i_9 < 8; ++i_9) {
    tl::cp_async_gs<16>((&(((fp8_e4_t*)b_tile)[((((((i_9 * 2048) + ((((int)threadIdx.x) >> 3) * 128)) + (((((((int)threadIdx.x) & 63) >> 5) + ((((int)threadIdx.x) & 7) >> 2)) & 1) * 64)) + (((((((int)threadIdx.x) & 31) >> 4) + ((((int)threadIdx.x) & 3) >> 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16)) + 49152)])), (&(B[(((((((int)blockIdx.x) * 65536) + (i_9 * 8192)) + ((((int)threadIdx.x) >> 3) * 512)) + ((((int)threadIdx.x) & 7) * 16)) + 384)])));
  }
  tl::cp_async_commit();
  __syncthreads();
  if (((int)threadIdx.x) < 32) {
    fp8_e8_t condval;
    if ((((((int)blockIdx.y) * 32) + ((int)threadIdx.x)) < M)) {
      condval = scales_a[((((int64_t)((int)blockIdx.y)) * (int64_t)128) + (((int64_t)((int)threadIdx.x)) * (int64_t)4))];
    } else {
      condval = fp8_e8_t(0x0p+0f/*0.000000e+00*/);
    }
    ((float*)row_scale)[((int)threadIdx.x)] = (((float)condval) * ((float)scales_b[(((int)blockIdx.x) * 4)]));
  }
  tl::cp_async_wait<3>();
  __syncthreads();
  {
    fp8_e4_t A_local[16];
    fp8_e4_t B_local[64];
    for (int ki = 0; ki < 4; ++ki) {
      tl::ptx_ldmatrix_x4((&(((fp8_e4_t*)a_tile)[(((((((((int)threadIdx.x) & 63) >> 5) * 2048) + ((((int)threadIdx.x) & 15) * 128)) + (((((((int)threadIdx.x) & 7) >> 2) + (ki >> 1)) & 1) * 64)) + (((((((int)threadIdx.x) & 3) >> 1) + (ki & 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 31) >> 4) + (((int)threadIdx.x) & 1)) & 1) * 16))])), (&(A_local[0])));
      #pragma unroll
      for (int i_10 = 0; i_10 < 4; ++i_10) {
        tl::ptx_ldmatrix_x4((&(((fp8_e4_t*)b_tile)[((((((((((int)threadIdx.x) >> 6) * 8192) + (i_10 * 2048)) + (((((int)threadIdx.x) & 31) >> 4) * 1024)) + ((((int)threadIdx.x) & 7) * 128)) + (((((((int)threadIdx.x) & 7) >> 2) + (ki >> 1)) & 1) * 64)) + (((((((int)threadIdx.x) & 3) >> 1) + (ki & 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16))])), (&(B_local[(i_10 * 16)])));
      }
      for (int j = 0; j < 4; ++j) {
        tl::mma_sync<tl::DataType::kFloat8_e4m3, tl::DataType::kFloat8_e4m3, tl::DataType::kFloat32, 16, 8, 32, false, true>(reinterpret_cast<float*>(partial + (j * 8)), reinterpret_cast<const unsigned*>(A_local + 0), reinterpret_cast<const unsigned*>(B_local + (j * 16)));
        tl::mma_sync<tl::DataType::kFloat8_e4m3, tl::DataType::kFloat8_e4m3, tl::DataType::kFloat32, 16, 8, 32, false, true>(reinterpret_cast<float*>(partial + ((j * 8) + 4)), reinterpret_cast<const unsigned*>(A_local + 0), reinterpret_cast<const unsigned*>(B_local + ((j * 16) + 8)));
      }
    }
  }
  #pragma unroll
  for (int i_11 = 0; i_11 < 16; ++i_11) {
    float2 __1;
      float2 v_ = *(float2*)(partial + (i_11 * 2));
      float2 v__1 = make_float2(((float*)row_scale)[(((((((int)threadIdx.x) & 63) >> 5) * 16) + ((i_11 & 1) * 8)) + ((((int)threadIdx.x) & 31) >> 2))], ((float*)row_scale)[(((((((int)threadIdx.x) & 63) >> 5) * 16) + ((i_11 & 1) * 8)) + ((((int)threadIdx.x) & 31) >> 2))]);
      float2 v__2 = *(float2*)(total + (i_11 * 2));
      *(float2*)(&(__1.x)) = tl::fma2(*(float2*)(&(v_.x)), *(float2*)(&(v__1.x)), *(float2*)(&(v__2.x)));
    *(float2*)(total + (i_11 * 2)) = __1;
  }
  #pragma unroll
  for (int i_12 = 0; i_12 < 8; ++i_12) {
    float broadcast_var_2 = 0x0p+0f/*0.000000e+00*/;
    *(float4*)(partial + (i_12 * 4)) = make_float4(broadcast_var_2, broadcast_var_2, broadcast_var_2, broadcast_var_2);
  }
  __syncthreads();
  if (((int)threadIdx.x) < 32) {
    fp8_e8_t condval_1;
    if ((((((int)blockIdx.y) * 32) + ((int)threadIdx.x)) < M)) {
      condval_1 = scales_a[(((((int64_t)((int)blockIdx.y)) * (int64_t)128) + (((int64_t)((int)threadIdx.x)) * (int64_t)4)) + (int64_t)1)];
    } else {
      condval_1 = fp8_e8_t(0x0p+0f/*0.000000e+00*/);
    }
    ((float*)row_scale)[((int)threadIdx.x)] = (((float)condval_1) * ((float)scales_b[((((int)blockIdx.x) * 4) + 1)]));
  }
  tl::cp_async_wait<2>();
  __syncthreads();
  {
    fp8_e4_t A_local_1[16];
    fp8_e4_t B_local_1[64];
    for (int ki_1 = 0; ki_1 < 4; ++ki_1) {
      tl::ptx_ldmatrix_x4((&(((fp8_e4_t*)a_tile)[((((((((((int)threadIdx.x) & 63) >> 5) * 2048) + ((((int)threadIdx.x) & 15) * 128)) + (((((((int)threadIdx.x) & 7) >> 2) + (ki_1 >> 1)) & 1) * 64)) + (((((((int)threadIdx.x) & 3) >> 1) + (ki_1 & 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 31) >> 4) + (((int)threadIdx.x) & 1)) & 1) * 16)) + 4096)])), (&(A_local_1[0])));
      #pragma unroll
      for (int i_13 = 0; i_13 < 4; ++i_13) {
        tl::ptx_ldmatrix_x4((&(((fp8_e4_t*)b_tile)[(((((((((((int)threadIdx.x) >> 6) * 8192) + (i_13 * 2048)) + (((((int)threadIdx.x) & 31) >> 4) * 1024)) + ((((int)threadIdx.x) & 7) * 128)) + (((((((int)threadIdx.x) & 7) >> 2) + (ki_1 >> 1)) & 1) * 64)) + (((((((int)threadIdx.x) & 3) >> 1) + (ki_1 & 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16)) + 16384)])), (&(B_local_1[(i_13 * 16)])));
      }
      for (int j_1 = 0; j_1 < 4; ++j_1) {
        tl::mma_sync<tl::DataType::kFloat8_e4m3, tl::DataType::kFloat8_e4m3, tl::DataType::kFloat32, 16, 8, 32, false, true>(reinterpret_cast<float*>(partial + (j_1 * 8)), reinterpret_cast<const unsigned*>(A_local_1 + 0), reinterpret_cast<const unsigned*>(B_local_1 + (j_1 * 16)));
        tl::mma_sync<tl::DataType::kFloat8_e4m3, tl::DataType::kFloat8_e4m3, tl::DataType::kFloat32, 16, 8, 32, false, true>(reinterpret_cast<float*>(partial + ((j_1 * 8) + 4)), reinterpret_cast<const unsigned*>(A_local_1 + 0), reinterpret_cast<const unsigned*>(B_local_1 + ((j_1 * 16) + 8)));
      }
    }
  }
  #pragma unroll
  for (int i_14 = 0; i_14 < 16; ++i_14) {
    float2 __2;
      float2 v__3 = *(float2*)(partial + (i_14 * 2));
      float2 v__4 = make_float2(((float*)row_scale)[(((((((int)threadIdx.x) & 63) >> 5) * 16) + ((i_14 & 1) * 8)) + ((((int)threadIdx.x) & 31) >> 2))], ((float*)row_scale)[(((((((int)threadIdx.x) & 63) >> 5) * 16) + ((i_14 & 1) * 8)) + ((((int)threadIdx.x) & 31) >> 2))]);
      float2 v__5 = *(float2*)(total + (i_14 * 2));
      *(float2*)(&(__2.x)) = tl::fma2(*(float2*)(&(v__3.x)), *(float2*)(&(v__4.x)), *(float2*)(&(v__5.x)));
    *(float2*)(total + (i_14 * 2)) = __2;
  }
  #pragma unroll
  for (int i_15 = 0; i_15 < 8; ++i_15) {
    float broadcast_var_3 = 0x0p+0f/*0.000000e+00*/;
    *(float4*)(partial + (i_15 * 4)) = make_float4(broadcast_var_3, broadcast_var_3, broadcast_var_3, broadcast_var_3);
  }
  __syncthreads();
  if (((int)threadIdx.x) < 32) {
    fp8_e8_t condval_2;
    if ((((((int)blockIdx.y) * 32) + ((int)threadIdx.x)) < M)) {
      condval_2 = scales_a[(((((int64_t)((int)blockIdx.y)) * (int64_t)128) + (((int64_t)((int)threadIdx.x)) * (int64_t)4)) + (int64_t)2)];
    } else {
      condval_2 = fp8_e8_t(0x0p+0f/*0.000000e+00*/);
    }
    ((float*)row_scale)[((int)threadIdx.x)] = (((float)condval_2) * ((float)scales_b[((((int)blockIdx.x) * 4) + 2)]));
  }
  tl::cp_async_wait<1>();
  __syncthreads();
  {
    fp8_e4_t A_local_2[16];
    fp8_e4_t B_local_2[64];
    for (int ki_2 = 0; ki_2 < 4; ++ki_2) {
      tl::ptx_ldmatrix_x4((&(((fp8_e4_t*)a_tile)[((((((((((int)threadIdx.x) & 63) >> 5) * 2048) + ((((int)threadIdx.x) & 15) * 128)) + (((((((int)threadIdx.x) & 7) >> 2) + (ki_2 >> 1)) & 1) * 64)) + (((((((int)threadIdx.x) & 3) >> 1) + (ki_2 & 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 31) >> 4) + (((int)threadIdx.x) & 1)) & 1) * 16)) + 8192)])), (&(A_local_2[0])));
      #pragma unroll
      for (int i_16 = 0; i_16 < 4; ++i_16) {
        tl::ptx_ldmatrix_x4((&(((fp8_e4_t*)b_tile)[(((((((((((int)threadIdx.x) >> 6) * 8192) + (i_16 * 2048)) + (((((int)threadIdx.x) & 31) >> 4) * 1024)) + ((((int)threadIdx.x) & 7) * 128)) + (((((((int)threadIdx.x) & 7) >> 2) + (ki_2 >> 1)) & 1) * 64)) + (((((((int)threadIdx.x) & 3) >> 1) + (ki_2 & 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16)) + 32768)])), (&(B_local_2[(i_16 * 16)])));
      }
      for (int j_2 = 0; j_2 < 4; ++j_2) {
        tl::mma_sync<tl::DataType::kFloat8_e4m3, tl::DataType::kFloat8_e4m3, tl::DataType::kFloat32, 16, 8, 32, false, true>(reinterpret_cast<float*>(partial + (j_2 * 8)), reinterpret_cast<const unsigned*>(A_local_2 + 0), reinterpret_cast<const unsigned*>(B_local_2 + (j_2 * 16)));
        tl::mma_sync<tl::DataType::kFloat8_e4m3, tl::DataType::kFloat8_e4m3, tl::DataType::kFloat32, 16, 8, 32, false, true>(reinterpret_cast<float*>(partial + ((j_2 * 8) + 4)), reinterpret_cast<const unsigned*>(A_local_2 + 0), reinterpret_cast<const unsigned*>(B_local_2 + ((j_2 * 16) + 8)));
      }
    }
  }
  #pragma unroll
  for (int i_17 = 0; i_17 < 16; ++i_17) {
    float2 __3;
      float2 v__6 = *(float2*)(partial + (i_17 * 2));
      float2 v__7 = make_float2(((float*)row_scale)[(((((((int)threadIdx.x) & 63) >> 5) * 16) + ((i_17 & 1) * 8)) + ((((int)threadIdx.x) & 31) >> 2))], ((float*)row_scale)[(((((((int)threadIdx.x) & 63) >> 5) * 16) + ((i_17 & 1) * 8)) + ((((int)threadIdx.x) & 31) >> 2))]);
      float2 v__8 = *(float2*)(total + (i_17 * 2));
      *(float2*)(&(__3.x)) = tl::fma2(*(float2*)(&(v__6.x)), *(float2*)(&(v__7.x)), *(float2*)(&(v__8.x)));
    *(float2*)(total + (i_17 * 2)) = __3;
  }
  #pragma unroll
  for (int i_18 = 0; i_18 < 8; ++i_18) {
    float broadcast_var_4 = 0x0p+0f/*0.000000e+00*/;
    *(float4*)(partial + (i_18 * 4)) = make_float4(broadcast_var_4, broadcast_var_4, broadcast_var_4, broadcast_var_4);
  }
  __syncthreads();
  if (((int)threadIdx.x) < 32) {
    fp8_e8_t condval_3;
    if ((((((int)blockIdx.y) * 32) + ((int)threadIdx.x)) < M)) {
      condval_3 = scales_a[(((((int64_t)((int)blockIdx.y)) * (int64_t)128) + (((int64_t)((int)threadIdx.x)) * (int64_t)4)) + (int64_t)3)];
    } else {
      condval_3 = fp8_e8_t(0x0p+0f/*0.000000e+00*/);
    }
    ((float*)row_scale)[((int)threadIdx.x)] = (((float)condval_3) * ((float)scales_b[((((int)blockIdx.x) * 4) + 3)]));
  }
  tl::cp_async_wait<0>();
  __syncthreads();
  {
    fp8_e4_t A_local_3[16];
    fp8_e4_t B_local_3[64];
    for (int ki_3 = 0; ki_3 < 4; ++ki_3) {
      tl::ptx_ldmatrix_x4((&(((fp8_e4_t*)a_tile)[((((((((((int)threadIdx.x) & 63) >> 5) * 2048) + ((((int)threadIdx.x) & 15) * 128)) + (((((((int)threadIdx.x) & 7) >> 2) + (ki_3 >> 1)) & 1) * 64)) + (((((((int)threadIdx.x) & 3) >> 1) + (ki_3 & 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 31) >> 4) + (((int)threadIdx.x) & 1)) & 1) * 16)) + 12288)])), (&(A_local_3[0])));
      #pragma unroll
      for (int i_19 = 0; i_19 < 4; ++i_19) {
        tl::ptx_ldmatrix_x4((&(((fp8_e4_t*)b_tile)[(((((((((((int)threadIdx.x) >> 6) * 8192) + (i_19 * 2048)) + (((((int)threadIdx.x) & 31) >> 4) * 1024)) + ((((int)threadIdx.x) & 7) * 128)) + (((((((int)threadIdx.x) & 7) >> 2) + (ki_3 >> 1)) & 1) * 64)) + (((((((int)threadIdx.x) & 3) >> 1) + (ki_3 & 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 16)) + 49152)])), (&(B_local_3[(i_19 * 16)])));
      }
      for (int j_3 = 0; j_3 < 4; ++j_3) {
        tl::mma_sync<tl::DataType::kFloat8_e4m3, tl::DataType::kFloat8_e4m3, tl::DataType::kFloat32, 16, 8, 32, false, true>(reinterpret_cast<float*>(partial + (j_3 * 8)), reinterpret_cast<const unsigned*>(A_local_3 + 0), reinterpret_cast<const unsigned*>(B_local_3 + (j_3 * 16)));
        tl::mma_sync<tl::DataType::kFloat8_e4m3, tl::DataType::kFloat8_e4m3, tl::DataType::kFloat32, 16, 8, 32, false, true>(reinterpret_cast<float*>(partial + ((j_3 * 8) + 4)), reinterpret_cast<const unsigned*>(A_local_3 + 0), reinterpret_cast<const unsigned*>(B_local_3 + ((j_3 * 16) + 8)));
      }
    }
  }
  #pragma unroll
  for (int i_20 = 0; i_20 < 16; ++i_20) {
    float2 __4;
      float2 v__9 = *(float2*)(partial + (i_20 * 2));
      float2 v__10 = make_float2(((float*)row_scale)[(((((((int)threadIdx.x) & 63) >> 5) * 16) + ((i_20 & 1) * 8)) + ((((int)threadIdx.x) & 31) >> 2))], ((float*)row_scale)[(((((((int)threadIdx.x) & 63) >> 5) * 16) + ((i_20 & 1) * 8)) + ((((int)threadIdx.x) & 31) >> 2))]);
      float2 v__11 = *(float2*)(total + (i_20 * 2));
      *(float2*)(&(__4.x)) = tl::fma2(*(float2*)(&(v__9.x)), *(float2*)(&(v__10.x)), *(float2*)(&(v__11.x)));
    *(float2*)(total + (i_20 * 2)) = __4;
  }
  #pragma unroll
  for (int i_21 = 0; i_21 < 8; ++i_21) {
    float broadcast_var_5 = 0x0p+0f/*0.000000e+00*/;
    *(float4*)(partial + (i_21 * 4)) = make_float4(broadcast_var_5, broadcast_var_5, broadcast_var_5, broadcast_var_5);
  }
  __syncthreads();
  #pragma unroll
  for (int i_22 = 0; i_22 < 4; ++i_22) {
    tl::ptx_stmatrix_m8n8_x4((&(((bfloat16_t*)c_tile)[(((((((((int)threadIdx.x) & 63) >> 5) * 2048) + ((((int)threadIdx.x) & 15) * 128)) + ((((int)threadIdx.x) >> 6) * 64)) + (i_22 * 16)) + (((((int)threadIdx.x) & 31) >> 4) * 8))])), __pack_half2(((bfloat16_t)total[(i_22 * 8)]), ((bfloat16_t)total[((i_22 * 8) + 1)])), __pack_half2(((bfloat16_t)total[((i_22 * 8) + 2)]), ((bfloat16_t)total[((i_22 * 8) + 3)])), __pack_half2(((bfloat16_t)total[((i_22 * 8) + 4)]), ((bfloat16_t)total[((i_22 * 8) + 5)])), __pack_half2(((bfloat16_t)total[((i_22 * 8) + 6)]), ((bfloat16_t)total[((i_22 * 8) + 7)])));
  }
  __syncthreads();
  #pragma unroll
  for (int i_23 = 0; i_23 < 4; ++i_23) {
    if ((((((int)blockIdx.y) * 32) + (i_23 * 8)) + (((int)threadIdx.x) >> 4)) < M) {
      *(uint4*)(C + (((((((int64_t)((int)blockIdx.y)) * (int64_t)131072) + (((int64_t)i_23) * (int64_t)32768)) + ((((int64_t)((int)threadIdx.x)) >> (int64_t)4) * (int64_t)4096)) + (((int64_t)((int)blockIdx.x)) * (int64_t)128)) + ((((int64_t)((int)threadIdx.x)) & (int64_t)15) * (int64_t)8))) = *(uint4*)(((bfloat16_t*)c_tile) + ((i_23 * 1024) + (((int)threadIdx.x) * 8)));
    }
  }
}

