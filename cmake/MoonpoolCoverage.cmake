# moonpool_enable_coverage(): SanitizerCoverage edge counters for the explorer, per target.
#
#   moonpool_enable_coverage(<target>
#     [MODE trace-pc-guard|inline-8bit-counters]   default: ${MOONPOOL_COVERAGE_MODE}
#     [NO_IGNORELIST])                             for tests and measurements only
#
# <target>: a STATIC or OBJECT library or an executable of this project holding *user* code
# (a simulation's services, workloads). Its own sources get, on their compile steps only:
#   trace-pc-guard        -fsanitize-coverage=trace-pc-guard,pc-table
#                         a callback per edge; hits saturate at 255. 1.5-3.7x on hot loops.
#                         The pc table (one block address per guard, read-only data, no
#                         run-time cost) lets moonpool-cov place never-hit edges in the source.
#   inline-8bit-counters  -fsanitize-coverage=inline-8bit-counters,pc-table
#                         an inline add per edge, copied out at the end of each timeline;
#                         counts wrap at 256. 0.9-1.7x on hot loops (instrument/README.md).
#   -fsanitize-coverage-ignorelist=<instrument/coverage_ignorelist.txt>
#                         keeps header code of libstdc++, Abseil, KJ/capnp and the moonpool
#                         runtime out of the edge map; NO_IGNORELIST drops it.
# and links moonpool::coverage (the callbacks, registered as the explorer's EdgeSource).
#
# Why compile options only: with -fsanitize-coverage on a link line, clang-19 silently links
# the UBSan standalone runtime (toolchain.md P7). Link options, CMAKE_*_FLAGS and
# CMAKE_EXE_LINKER_FLAGS are never touched; PRIVATE compile options reach neither users of a
# library nor CMake's try_compile checks.
#
# Not instrumented: the target's dependencies (call the function on each user library), the
# moonpool runtime libraries (refused: the runtime must never count its own code, and the
# coverage runtime would call itself), imported targets, and shared/module libraries (each
# would carry its own copy of the static runtime and register a second EdgeSource).
#
# The ignorelist is read through a copy named after its MD5 in the build tree
# (<build>/moonpool_coverage/ignorelist-<md5>.txt); editing the list re-runs CMake, which
# changes every instrumented compile line. Neither Ninja (clang writes no depfile entry for
# it) nor ccache (it does not hash the file) would notice the edit otherwise.
#
# Cache variables:
#   MOONPOOL_COVERAGE_MODE        default MODE (trace-pc-guard)
#   MOONPOOL_COVERAGE_IGNORELIST  the ignorelist (default: this tree's
#                                 instrument/coverage_ignorelist.txt)
#
# Every misuse (unknown MODE or argument, missing or refused target, second call on a
# target, missing ignorelist) is a FATAL_ERROR naming the target and the fix.
include_guard(GLOBAL)

set(MOONPOOL_COVERAGE_MODE "trace-pc-guard" CACHE STRING
    "Default SanitizerCoverage mode of moonpool_enable_coverage()")
set_property(CACHE MOONPOOL_COVERAGE_MODE PROPERTY STRINGS trace-pc-guard inline-8bit-counters)
# The source tree's list, or the installed one (<prefix>/share/moonpool) when this file is
# read from an installed package (<prefix>/lib/cmake/moonpool).
if(EXISTS "${CMAKE_CURRENT_LIST_DIR}/../instrument/coverage_ignorelist.txt")
  set(_moonpool_coverage_default_list "${CMAKE_CURRENT_LIST_DIR}/../instrument/coverage_ignorelist.txt")
else()
  get_filename_component(_moonpool_coverage_default_list
    "${CMAKE_CURRENT_LIST_DIR}/../../../share/moonpool/coverage_ignorelist.txt" ABSOLUTE)
endif()
set(MOONPOOL_COVERAGE_IGNORELIST "${_moonpool_coverage_default_list}"
    CACHE FILEPATH "SanitizerCoverage ignorelist used by moonpool_enable_coverage()")

# Targets that must never be instrumented: the runtime layers every simulation links.
set(_moonpool_coverage_refused
    moonpool_coverage moonpool_explorer moonpool_core moonpool_sim moonpool_assertions
    moonpool_kj moonpool_real moonpool_runner moonpool_runner_gtest moonpool_rpc
    moonpool_moonpool)

# Sets out_flag to the -fsanitize-coverage= flag of `mode`; FATAL_ERROR on an unknown mode.
function(_moonpool_coverage_flag target mode out_flag)
  if(mode STREQUAL "trace-pc-guard")
    set(${out_flag} "-fsanitize-coverage=trace-pc-guard,pc-table" PARENT_SCOPE)
  elseif(mode STREQUAL "inline-8bit-counters")
    set(${out_flag} "-fsanitize-coverage=inline-8bit-counters,pc-table" PARENT_SCOPE)
  else()
    message(FATAL_ERROR
      "moonpool_enable_coverage(${target}): unknown MODE '${mode}'; use trace-pc-guard or "
      "inline-8bit-counters (or set MOONPOOL_COVERAGE_MODE to one of them)")
  endif()
endfunction()

# FATAL_ERROR unless `target` is a project STATIC/OBJECT library or executable that is not a
# runtime layer and has no coverage yet. Sets out_real to the target itself (ALIAS resolved).
function(_moonpool_coverage_check_target target out_real)
  if(NOT TARGET ${target})
    message(FATAL_ERROR "moonpool_enable_coverage(${target}): no such target; call it after "
                        "add_library/add_executable")
  endif()
  get_target_property(aliased ${target} ALIASED_TARGET)
  set(real "${target}")
  if(aliased)
    set(real "${aliased}")
  endif()
  get_target_property(imported ${real} IMPORTED)
  get_target_property(type ${real} TYPE)
  if(imported)
    message(FATAL_ERROR "moonpool_enable_coverage(${target}): an imported target cannot be "
                        "instrumented; build its sources in this project")
  endif()
  if(NOT type MATCHES "^(STATIC_LIBRARY|OBJECT_LIBRARY|EXECUTABLE)$")
    message(FATAL_ERROR
      "moonpool_enable_coverage(${target}): a ${type} cannot be instrumented; use a STATIC or "
      "OBJECT library or an executable (a shared library would carry its own copy of the "
      "coverage runtime)")
  endif()
  if(real IN_LIST _moonpool_coverage_refused)
    message(FATAL_ERROR
      "moonpool_enable_coverage(${target}): ${real} is part of the moonpool runtime, which is "
      "never instrumented; pass the targets holding your own code")
  endif()
  get_target_property(previous ${real} MOONPOOL_COVERAGE_MODE)
  if(previous)
    message(FATAL_ERROR "moonpool_enable_coverage(${target}): coverage is already enabled "
                        "(MODE ${previous}); call it once per target")
  endif()
  set(${out_real} "${real}" PARENT_SCOPE)
endfunction()

# The ignorelist's content-addressed copy (see the top of this file) in out_path.
function(_moonpool_coverage_ignorelist target out_path)
  if(NOT EXISTS "${MOONPOOL_COVERAGE_IGNORELIST}")
    message(FATAL_ERROR "moonpool_enable_coverage(${target}): ignorelist "
                        "'${MOONPOOL_COVERAGE_IGNORELIST}' not found; set "
                        "MOONPOOL_COVERAGE_IGNORELIST to an existing file")
  endif()
  file(MD5 "${MOONPOOL_COVERAGE_IGNORELIST}" md5)
  set(copy "${CMAKE_BINARY_DIR}/moonpool_coverage/ignorelist-${md5}.txt")
  if(NOT EXISTS "${copy}")
    file(MAKE_DIRECTORY "${CMAKE_BINARY_DIR}/moonpool_coverage")
    file(COPY_FILE "${MOONPOOL_COVERAGE_IGNORELIST}" "${copy}")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${MOONPOOL_COVERAGE_IGNORELIST}")
  set(${out_path} "${copy}" PARENT_SCOPE)
endfunction()

function(moonpool_enable_coverage target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "NO_IGNORELIST" "MODE" "")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "moonpool_enable_coverage(${target}): unknown arguments "
                        "'${ARG_UNPARSED_ARGUMENTS}'; expected [MODE <mode>] [NO_IGNORELIST]")
  endif()
  if("MODE" IN_LIST ARG_KEYWORDS_MISSING_VALUES)
    message(FATAL_ERROR "moonpool_enable_coverage(${target}): MODE needs a value: "
                        "trace-pc-guard or inline-8bit-counters")
  endif()
  set(mode "${MOONPOOL_COVERAGE_MODE}")
  if(DEFINED ARG_MODE)
    set(mode "${ARG_MODE}")
  endif()
  _moonpool_coverage_flag(${target} "${mode}" flag)
  _moonpool_coverage_check_target(${target} real)
  if(NOT TARGET moonpool::coverage)
    message(FATAL_ERROR "moonpool_enable_coverage(${target}): moonpool::coverage not found; "
                        "add_subdirectory(instrument) or find_package(moonpool) first")
  endif()
  set(options "${flag}")
  if(NOT ARG_NO_IGNORELIST)
    _moonpool_coverage_ignorelist(${target} ignorelist)
    list(APPEND options "-fsanitize-coverage-ignorelist=${ignorelist}")
  endif()
  target_compile_options(${real} PRIVATE ${options})
  target_link_libraries(${real} PRIVATE moonpool::coverage)
  set_property(TARGET ${real} PROPERTY MOONPOOL_COVERAGE_MODE "${mode}")
endfunction()
