# SanitizerCoverage benchmarks (included from test/bench/CMakeLists.txt; built and run on the
# release preset by scripts/bench_coverage.sh):
#   coverage_bench  hot loops (coverage_hot_loops.cpp) compiled three ways, uninstrumented,
#                   trace-pc-guard and inline-8bit-counters,pc-table, side by side (Google
#                   Benchmark);
#   kv_bench_cov_guard, kv_bench_cov_counters
#                   kv_bench.cpp on kv_lib_cov_<copy>: kv_lib's own sources (read from the
#                   kv_lib target, so the list never drifts) built again with trace-pc-guard
#                   or inline-8bit-counters, to compare seeds/s with kv_bench.
#   kv_cov_record_bench
#                   KV seeds on kv_lib_cov_guard, plain and recorded (--coverage_dir's cost).
# Both build in every configuration (also under MOONPOOL_SANITIZE: the sanitizer and coverage
# flags combine; the numbers only mean something on the release preset).
set(covbench_dir ${CMAKE_CURRENT_LIST_DIR})

foreach(copy IN ITEMS base guard counters)
  add_library(coverage_loops_${copy} STATIC ${covbench_dir}/coverage_hot_loops.cpp)
  target_compile_definitions(coverage_loops_${copy} PRIVATE COVBENCH_NS=${copy})
  moonpool_target_defaults(coverage_loops_${copy})
endforeach()
moonpool_enable_coverage(coverage_loops_guard MODE trace-pc-guard)
moonpool_enable_coverage(coverage_loops_counters MODE inline-8bit-counters)

add_executable(coverage_bench ${covbench_dir}/coverage_bench.cpp)
target_link_libraries(coverage_bench PRIVATE coverage_loops_base coverage_loops_guard
                      coverage_loops_counters moonpool::coverage benchmark::benchmark)
moonpool_target_defaults(coverage_bench)

# The KV example instrumented, once per mode: the same sources, include directories and
# libraries as kv_lib (kv_lib_cov_guard, kv_lib_cov_counters).
if(TARGET kv_lib)
  get_target_property(kv_sources kv_lib SOURCES)
  get_target_property(kv_dir kv_lib SOURCE_DIR)
  list(TRANSFORM kv_sources PREPEND "${kv_dir}/" REGEX "^[^/]")
  get_target_property(kv_includes kv_lib INTERFACE_INCLUDE_DIRECTORIES)
  get_target_property(kv_libraries kv_lib INTERFACE_LINK_LIBRARIES)
  foreach(copy IN ITEMS guard counters)
    set(mode trace-pc-guard)
    if(copy STREQUAL "counters")
      set(mode inline-8bit-counters)
    endif()
    add_library(kv_lib_cov_${copy} STATIC ${kv_sources})
    target_include_directories(kv_lib_cov_${copy} PUBLIC ${kv_includes})
    target_link_libraries(kv_lib_cov_${copy} PUBLIC ${kv_libraries})
    moonpool_target_defaults(kv_lib_cov_${copy})
    moonpool_enable_coverage(kv_lib_cov_${copy} MODE ${mode})

    add_executable(kv_bench_cov_${copy} ${covbench_dir}/kv_bench.cpp)
    target_link_libraries(kv_bench_cov_${copy} PRIVATE kv_lib_cov_${copy} benchmark::benchmark)
    moonpool_target_defaults(kv_bench_cov_${copy})
  endforeach()

  # --coverage_dir's recording on KV seeds, plain vs recorded in one binary
  # (cov_record_bench.cpp, scripts/bench_cov.sh).
  add_executable(kv_cov_record_bench ${covbench_dir}/cov_record_bench.cpp)
  target_link_libraries(kv_cov_record_bench PRIVATE kv_lib_cov_guard moonpool::explorer
                        benchmark::benchmark)
  moonpool_target_defaults(kv_cov_record_bench)
endif()
