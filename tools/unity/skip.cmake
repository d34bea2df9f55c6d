# Sources that cannot share a unity translation unit with their neighbours, compiled alone
# (SKIP_UNITY_BUILD_INCLUSION): found by tools/unity/run.sh at batch 8, 32 and 16 (docs/build-cache.md).
# Included by CMake right after each project() call (CMAKE_PROJECT_<name>_INCLUDE), paths relative to it.
if(PROJECT_NAME STREQUAL "tvm")
  file(GLOB _topi "${CMAKE_CURRENT_SOURCE_DIR}/src/topi/*.cc")
  set_source_files_properties(${_topi}
    src/relax/analysis/layout_transformation.cc
    src/s_tir/transform/hoist_expression.cc
    src/s_tir/transform/inject_virtual_thread.cc
    src/s_tir/schedule/primitive/for_kind.cc
    src/s_tir/schedule/primitive/loop_transformation.cc
    src/s_tir/transform/lower_thread_allreduce.cc
    src/s_tir/transform/lower_vtcm_alloc.cc
    src/s_tir/schedule/primitive/read_write_at.cc
    src/s_tir/schedule/primitive/reduction.cc
    PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
else()
  set_source_files_properties(
    src/cuda/codegen/codegen_cutedsl.cc
    src/cuda/codegen/rt_mod_cutedsl.cc
    src/cuda/op/gemm_sp.cc
    src/cuda/transform/inject_tcgen05_fence.cc
    src/metal/op/builtin.cc
    src/op/gemm.cc
    src/op/gemm_sp.cc
    src/span_utils.cc
    src/op/parallel.cc
    src/transform/canonicalize_legacy_reducer.cc
    src/transform/annotate_read_only_params.cc
    src/op/operator.cc
    src/transform/lower_access_ptr.cc
    src/cuda/codegen/rt_mod_cuda.cc
    src/cuda/op/reduce.cc
    src/rocm/op/reduce.cc
    src/cpu/op/reduce.cc
    src/op/reducer.cc
    src/transform/reducer_plan_materialize.cc
    src/op/copy.cc
    src/op/fill.cc
    src/transform/vectorize_loop.cc
    src/transform/merge_shared_memory_allocations.cc
    src/cuda/op/copy.cc
    PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
endif()
