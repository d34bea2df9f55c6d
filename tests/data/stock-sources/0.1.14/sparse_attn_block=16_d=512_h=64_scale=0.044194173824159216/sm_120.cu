#if defined(_MSC_VER) && !defined(__clang__) && _MSC_VER < 1940
#define _tl_orig_alignas alignas
#define alignas(N) _tl_orig_alignas((N) <= 64 ? (N) : 64)
#include <cuda.h>
#undef alignas
#define alignas _tl_orig_alignas
#endif
#include <tl_templates/cuda/instruction/mma.h>
#include <math_constants.h>
#include <tl_templates/cuda/reduce.h>
#include <tl_templates/cuda/scan.h>
#include <tl_templates/cuda/ldsm.h>
#include <tl_templates/cuda/threadblock_swizzle.h>
#include <tl_templates/cuda/debug.h>
#ifdef ENABLE_BF16
#include <tl_templates/cuda/cuda_bf16_fallbacks.cuh>
#endif

extern "C" __global__ void sparse_attn_kernel(const float* __restrict__ attn_sink, const bfloat16_t* __restrict__ kv, bfloat16_t* __restrict__ o, const bfloat16_t* __restrict__ q, const int* __restrict__ topk_idxs, int b, int m, int n, int topk);
extern "C" __global__ void __launch_bounds__(256, 1) sparse_attn_kernel(const float* __restrict__ attn_sink, const bfloat16_t* __restrict__ kv, bfloat16_t* __restrict__ o, const bfloat16_t* __restrict__ q, const int* __restrict__ topk_idxs, int b, int m, int n, int topk) {
  extern __shared__ __align__(1024) uchar buf_dyn_shmem[];
  void* o_tile = ((void*)((char*)buf_dyn_shmem + 0));
  void* q_tile = ((void*)((char*)buf_dyn_shmem + 0));
  void* kv_tile = ((void*)((char*)buf_dyn_shmem + 65536));
  void* probs = ((void*)((char*)buf_dyn_shmem + 81920));
  void* workspace = ((void*)((char*)buf_dyn_shmem + 83968));
  void* workspace_1 = ((void*)((char*)buf_dyn_shmem + 84992));
  float acc[128];
  float denom[2];
  float run_max[2];
  int rows[2];
  float scores[4];
  float old_max[2];
  float2 run_max_clear_pack[2];
  float run_max_clear[2];
  float rescale[2];
  float2 step_sum_pack[2];
  float step_sum[2];
  #pragma unroll
  for (int i = 0; i < 16; ++i) {
    *(uint4*)(((bfloat16_t*)q_tile) + ((((((((((int)threadIdx.x) & 63) >> 3) * 4096) + (i * 256)) + ((((int)threadIdx.x) >> 6) * 64)) + (((((((int)threadIdx.x) & 7) >> 2) + (i & 1)) & 1) * 32)) + ((((((int)threadIdx.x) >> 7) + ((((int)threadIdx.x) & 3) >> 1)) & 1) * 16)) + (((((((int)threadIdx.x) & 127) >> 6) + (((int)threadIdx.x) & 1)) & 1) * 8))) = *(uint4*)(q + ((((((int64_t)((int)blockIdx.x)) * (int64_t)32768) + ((((int64_t)((int)blockIdx.y)) * ((int64_t)m)) * (int64_t)32768)) + (((int64_t)i) * (int64_t)2048)) + (((int64_t)((int)threadIdx.x)) * (int64_t)8)));
  }
  #pragma unroll
  for (int i_1 = 0; i_1 < 32; ++i_1) {
    float broadcast_var = 0x0p+0f/*0.000000e+00*/;
    *(float4*)(acc + (i_1 * 4)) = make_float4(broadcast_var, broadcast_var, broadcast_var, broadcast_var);
  }
  float broadcast_var_1 = 0x0p+0f/*0.000000e+00*/;
  *(float2*)(denom + 0) = make_float2(broadcast_var_1, broadcast_var_1);
  float broadcast_var_2 = -CUDART_INF_F;
  *(float2*)(run_max + 0) = make_float2(broadcast_var_2, broadcast_var_2);
  for (int t = 0; t < ((topk + 15) >> 4); ++t) {
    #pragma unroll
    for (int i_2 = 0; i_2 < 2; ++i_2) {
      int condval;
      if ((((((t * 16) + ((((int)threadIdx.x) >> 7) * 8)) + ((((int)threadIdx.x) & 3) * 2)) + i_2) < topk)) {
        condval = topk_idxs[((((((((int64_t)t) * (int64_t)16) + ((((int64_t)((int)threadIdx.x)) >> (int64_t)7) * (int64_t)8)) + ((((int64_t)((int)threadIdx.x)) & (int64_t)3) * (int64_t)2)) + ((((int64_t)((int)blockIdx.y)) * ((int64_t)topk)) * ((int64_t)m))) + (((int64_t)((int)blockIdx.x)) * ((int64_t)topk))) + ((int64_t)i_2))];
      } else {
        condval = -1;
      }
      rows[i_2] = condval;
    }
    __syncthreads();
    if (((((((int)threadIdx.x) & 31) >> 2) * 4) + ((((int)threadIdx.x) & 127) >> 5)) == 0) {
      #pragma unroll
      for (int i_3 = 0; i_3 < 128; ++i_3) {
        bfloat16_t broadcast_var_3 = bfloat16_t(0x0p+0f/*0.000000e+00*/);
        uint4 condval_1;
        if ((((0 <= rows[(i_3 >> 6)]) && (0 <= rows[(i_3 >> 6)])) && (rows[(i_3 >> 6)] < n))) {
          condval_1 = *(uint4*)(kv + (((((int64_t)rows[(((int64_t)i_3) >> (int64_t)6)]) * (int64_t)512) + ((((int64_t)((int)blockIdx.y)) * ((int64_t)n)) * (int64_t)512)) + ((((int64_t)i_3) & (int64_t)63) * (int64_t)8)));
        } else {
          condval_1 = make_uint4(__pack_nv_bfloat162(broadcast_var_3, broadcast_var_3), __pack_nv_bfloat162(broadcast_var_3, broadcast_var_3), __pack_nv_bfloat162(broadcast_var_3, broadcast_var_3), __pack_nv_bfloat162(broadcast_var_3, broadcast_var_3));
        }
        *(uint4*)(((bfloat16_t*)kv_tile) + (((((((((i_3 & 63) >> 3) * 1024) + ((((int)threadIdx.x) >> 7) * 512)) + ((((int)threadIdx.x) & 3) * 128)) + ((i_3 >> 6) * 64)) + (((((i_3 & 7) >> 2) + ((((int)threadIdx.x) & 3) >> 1)) & 1) * 32)) + (((((i_3 & 3) >> 1) + (((int)threadIdx.x) & 1)) & 1) * 16)) + ((((i_3 >> 6) + (i_3 & 1)) & 1) * 8))) = condval_1;
      }
    }
    #pragma unroll
    for (int i_4 = 0; i_4 < 4; ++i_4) {
      float condval_2;
      if ((0 <= rows[(i_4 & 1)])) {
        condval_2 = 0x0p+0f/*0.000000e+00*/;
      } else {
        condval_2 = -CUDART_INF_F;
      }
      scores[i_4] = condval_2;
    }
    {
      bfloat16_t A_local[8];
      bfloat16_t B_local[4];
      __syncthreads();
      for (int ki = 0; ki < 32; ++ki) {
        tl::ptx_ldmatrix_x4((&(((bfloat16_t*)q_tile)[(((((((ki >> 2) * 4096) + (((((int)threadIdx.x) & 127) >> 5) * 1024)) + ((((int)threadIdx.x) & 15) * 64)) + (((((((int)threadIdx.x) & 7) >> 2) + ((ki & 3) >> 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 3) >> 1) + (ki & 1)) & 1) * 16)) + (((((((int)threadIdx.x) & 31) >> 4) + (((int)threadIdx.x) & 1)) & 1) * 8))])), (&(A_local[0])));
        tl::ptx_ldmatrix_x2((&(((bfloat16_t*)kv_tile)[(((((((ki >> 2) * 1024) + ((((((int)threadIdx.x) >> 7) + ((((int)threadIdx.x) & 31) >> 4)) & 1) * 512)) + ((((int)threadIdx.x) & 7) * 64)) + (((((((int)threadIdx.x) & 7) >> 2) + ((ki & 3) >> 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 3) >> 1) + (ki & 1)) & 1) * 16)) + (((((((int)threadIdx.x) & 15) >> 3) + (((int)threadIdx.x) & 1)) & 1) * 8))])), (&(B_local[0])));
        tl::mma_sync<tl::DataType::kBFloat16, tl::DataType::kBFloat16, tl::DataType::kFloat32, 16, 8, 16, false, true>(reinterpret_cast<float*>(scores + 0), reinterpret_cast<const unsigned*>(A_local + 0), reinterpret_cast<const unsigned*>(B_local + 0));
      }
    }
    float broadcast_var_4 = 0x1.0527dbd87e24dp-4f/*6.375872e-02*/;
    float4 __1;
      float4 v_ = *(float4*)(scores + 0);
      float4 v__1 = make_float4(broadcast_var_4, broadcast_var_4, broadcast_var_4, broadcast_var_4);
      *(float2*)(&(__1.x)) = tl::mul2(*(float2*)(&(v_.x)), *(float2*)(&(v__1.x)));
      *(float2*)(&(__1.z)) = tl::mul2(*(float2*)(&(v_.z)), *(float2*)(&(v__1.z)));
    *(float4*)(scores + 0) = __1;
    *(float2*)(old_max + 0) = *(float2*)(run_max + 0);
    #pragma unroll
    for (int i_5 = 0; i_5 < 2; ++i_5) {
      float broadcast_var_5 = -CUDART_INF_F;
      run_max_clear_pack[i_5] = make_float2(broadcast_var_5, broadcast_var_5);
      run_max_clear_pack[i_5] = tl::max2(run_max_clear_pack[i_5], *(float2*)(scores + (i_5 * 2)));
      run_max_clear[i_5] = max((run_max_clear_pack[i_5]).x, (run_max_clear_pack[i_5]).y);
      __syncthreads();
      run_max_clear[i_5] = tl::AllReduce<tl::MaxOp, 256, 128, 0, tl::NamedBarrier<256>>::run(run_max_clear[i_5], (&(((float*)workspace_1)[0])));
      run_max_clear[i_5] = tl::AllReduce<tl::MaxOp, 4, 1, 0, tl::NamedBarrier<256>>::run(run_max_clear[i_5]);
      run_max[i_5] = max(run_max[i_5], run_max_clear[i_5]);
    }
    #pragma unroll
    for (int i_6 = 0; i_6 < 2; ++i_6) {
      float condval_3;
      if ((old_max[i_6] == -CUDART_INF_F)) {
        condval_3 = 0x0p+0f/*0.000000e+00*/;
      } else {
        condval_3 = exp2f((old_max[i_6] - run_max[i_6]));
      }
      rescale[i_6] = condval_3;
    }
    #pragma unroll
    for (int i_7 = 0; i_7 < 2; ++i_7) {
      float2 __2;
      float2 __3;
        float2 v__2 = *(float2*)(scores + (i_7 * 2));
        float2 v__3 = make_float2(run_max[i_7], run_max[i_7]);
        *(float2*)(&(__3.x)) = tl::sub2(*(float2*)(&(v__2.x)), *(float2*)(&(v__3.x)));
      __2.x = exp2f(__3.x);
      __2.y = exp2f(__3.y);
      *(float2*)(scores + (i_7 * 2)) = __2;
    }
    #pragma unroll
    for (int i_8 = 0; i_8 < 2; ++i_8) {
      float broadcast_var_6 = 0x0p+0f/*0.000000e+00*/;
      step_sum_pack[i_8] = make_float2(broadcast_var_6, broadcast_var_6);
      step_sum_pack[i_8] = tl::add2(step_sum_pack[i_8], *(float2*)(scores + (i_8 * 2)));
      step_sum[i_8] = ((step_sum_pack[i_8]).x + (step_sum_pack[i_8]).y);
      __syncthreads();
      step_sum[i_8] = tl::AllReduce<tl::SumOp, 256, 128, 0, tl::NamedBarrier<256>>::run(step_sum[i_8], (&(((float*)workspace)[0])));
      step_sum[i_8] = tl::AllReduce<tl::SumOp, 4, 1, 0, tl::NamedBarrier<256>>::run(step_sum[i_8]);
    }
    float2 __4;
      float2 v__4 = *(float2*)(denom + 0);
      float2 v__5 = *(float2*)(rescale + 0);
      float2 v__6 = *(float2*)(step_sum + 0);
      *(float2*)(&(__4.x)) = tl::fma2(*(float2*)(&(v__4.x)), *(float2*)(&(v__5.x)), *(float2*)(&(v__6.x)));
    *(float2*)(denom + 0) = __4;
    #pragma unroll
    for (int i_9 = 0; i_9 < 64; ++i_9) {
      float2 __5;
        float2 v__7 = *(float2*)(acc + (i_9 * 2));
        float2 v__8 = make_float2(rescale[(i_9 & 1)], rescale[(i_9 & 1)]);
        *(float2*)(&(__5.x)) = tl::mul2(*(float2*)(&(v__7.x)), *(float2*)(&(v__8.x)));
      *(float2*)(acc + (i_9 * 2)) = __5;
    }
    tl::ptx_stmatrix_m8n8_x2((&(((bfloat16_t*)probs)[(((((((int)threadIdx.x) & 127) >> 5) * 256) + ((((int)threadIdx.x) & 15) * 16)) + ((((((int)threadIdx.x) >> 7) + ((((int)threadIdx.x) & 7) >> 2)) & 1) * 8))])), __pack_half2(((bfloat16_t)scores[0]), ((bfloat16_t)scores[1])), __pack_half2(((bfloat16_t)scores[2]), ((bfloat16_t)scores[3])));
    {
      bfloat16_t A_local_1[8];
      bfloat16_t B_local_1[128];
      __syncthreads();
      tl::ptx_ldmatrix_x4((&(((bfloat16_t*)probs)[(((((((int)threadIdx.x) & 127) >> 5) * 256) + ((((int)threadIdx.x) & 15) * 16)) + (((((((int)threadIdx.x) & 31) >> 4) + ((((int)threadIdx.x) & 7) >> 2)) & 1) * 8))])), (&(A_local_1[0])));
      #pragma unroll
      for (int i_10 = 0; i_10 < 16; ++i_10) {
        tl::ptx_ldmatrix_x4_trans((&(((bfloat16_t*)kv_tile)[(((((((((int)threadIdx.x) >> 7) * 4096) + ((i_10 >> 2) * 1024)) + ((((int)threadIdx.x) & 15) * 64)) + (((((((int)threadIdx.x) & 7) >> 2) + ((i_10 & 3) >> 1)) & 1) * 32)) + (((((((int)threadIdx.x) & 3) >> 1) + (i_10 & 1)) & 1) * 16)) + (((((((int)threadIdx.x) & 31) >> 4) + (((int)threadIdx.x) & 1)) & 1) * 8))])), (&(B_local_1[(i_10 * 8)])));
      }
      for (int j = 0; j < 16; ++j) {
        tl::mma_sync<tl::DataType::kBFloat16, tl::DataType::kBFloat16, tl::DataType::kFloat32, 16, 8, 16, false, true>(reinterpret_cast<float*>(acc + (j * 8)), reinterpret_cast<const unsigned*>(A_local_1 + 0), reinterpret_cast<const unsigned*>(B_local_1 + (j * 8)));
        tl::mma_sync<tl::DataType::kBFloat16, tl::DataType::kBFloat16, tl::DataType::kFloat32, 16, 8, 16, false, true>(reinterpret_cast<float*>(acc + ((j * 8) + 4)), reinterpret_cast<const unsigned*>(A_local_1 + 0), reinterpret_cast<const unsigned*>(B_local_1 + ((j * 8) + 4)));
      }
    }
  }
  #pragma unroll
  for (int i_11 = 0; i_11 < 2; ++i_11) {
    denom[i_11] = (denom[i_11] + exp2f(((attn_sink[(((((((int)threadIdx.x) & 127) >> 5) * 16) + (i_11 * 8)) + ((((int)threadIdx.x) & 31) >> 2))] * 0x1.71547652b82fep+0f/*1.442695e+00*/) - run_max[i_11])));
  }
  #pragma unroll
  for (int i_12 = 0; i_12 < 64; ++i_12) {
    float2 __6;
      float2 v__9 = *(float2*)(acc + (i_12 * 2));
      float2 v__10 = make_float2(denom[(i_12 & 1)], denom[(i_12 & 1)]);
      __6.x = (v__9.x/v__10.x);
      __6.y = (v__9.y/v__10.y);
    *(float2*)(acc + (i_12 * 2)) = __6;
  }
  __syncthreads();
  #pragma unroll
  for (int i_13 = 0; i_13 < 16; ++i_13) {
    tl::ptx_stmatrix_m8n8_x4((&(((bfloat16_t*)o_tile)[(((((((((int)threadIdx.x) & 127) >> 5) * 8192) + ((((int)threadIdx.x) & 15) * 512)) + ((((int)threadIdx.x) >> 7) * 256)) + (i_13 * 16)) + (((((int)threadIdx.x) & 31) >> 4) * 8))])), __pack_half2(((bfloat16_t)acc[(i_13 * 8)]), ((bfloat16_t)acc[((i_13 * 8) + 1)])), __pack_half2(((bfloat16_t)acc[((i_13 * 8) + 2)]), ((bfloat16_t)acc[((i_13 * 8) + 3)])), __pack_half2(((bfloat16_t)acc[((i_13 * 8) + 4)]), ((bfloat16_t)acc[((i_13 * 8) + 5)])), __pack_half2(((bfloat16_t)acc[((i_13 * 8) + 6)]), ((bfloat16_t)acc[((i_13 * 8) + 7)])));
  }
  __syncthreads();
  #pragma unroll
  for (int i_14 = 0; i_14 < 16; ++i_14) {
    *(uint4*)(o + ((((((int64_t)((int)blockIdx.x)) * (int64_t)32768) + ((((int64_t)((int)blockIdx.y)) * ((int64_t)m)) * (int64_t)32768)) + (((int64_t)i_14) * (int64_t)2048)) + (((int64_t)((int)threadIdx.x)) * (int64_t)8))) = *(uint4*)(((bfloat16_t*)o_tile) + ((i_14 * 2048) + (((int)threadIdx.x) * 8)));
  }
}

