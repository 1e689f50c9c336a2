# The explorer's benchmarks (included from test/bench/CMakeLists.txt; run by
# scripts/bench_explorer.sh on a release build):
#   fork_bench         fork + _exit + waitpid against resident memory, 4 KB pages vs a
#                      transparent-huge-page arena, with and without the child writing 1 MB
#                      (Google Benchmark);
#   exploration_bench  timelines per second, and wall time and timelines to the maze and
#                      dungeon bugs, sequential and parallel, edge coverage on and off
#                      (whole explorations in this process; a plain main printing a table).
add_executable(fork_bench ${CMAKE_CURRENT_LIST_DIR}/fork_bench.cpp)
target_link_libraries(fork_bench PRIVATE benchmark::benchmark)
moonpool_target_defaults(fork_bench)

add_executable(exploration_bench ${CMAKE_CURRENT_LIST_DIR}/exploration_bench.cpp)
target_link_libraries(exploration_bench PRIVATE maze_lib dungeon_lib moonpool::runner
                      moonpool::real)
moonpool_target_defaults(exploration_bench)
