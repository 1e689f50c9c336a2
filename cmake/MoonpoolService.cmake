# moonpool_add_service(): generated Cap'n Proto code for [[moonpool::...]]-annotated headers.
#
#   moonpool_add_service(<target>
#     HEADERS <header>...                 annotated headers (relative to the current source dir)
#     [INCLUDE_DIRS <dir>...]             extra -I for the generator (the target's own include
#                                         directories and definitions are passed already)
#     [EXTRA_OUTPUT_SUFFIXES <suffix>...] the files moonpool-annotate writes per header besides
#                                         the schema, as <stem><suffix>; default: .moonpool.h
#                                         .moonpool.cpp (the C++ glue: XServer, XClient, XRemote);
#                                         those ending in .cpp/.cc/.cxx/.c++ are compiled into
#                                         <target>; the keyword alone: the schema only
#     [OUTPUT_DIR <dir>]                  default: <current binary dir>/generated/<target>
#     [LOCK auto|check|off])              the ordinal lock files (default: the cache variable
#                                         MOONPOOL_ANNOTATE_LOCK, itself "auto")
#
# <target> is created as a STATIC library if it does not exist (its property
# MOONPOOL_SERVICE_OUTPUT_DIR names OUTPUT_DIR); otherwise the generated sources
# are added to it. It links moonpool::rpc (when present: the runtime headers, the KJ C++20 shim,
# and rpc::Peer, which the generated XRemote clients call through) and
# CapnProto::capnp PUBLIC, and puts OUTPUT_DIR and the headers' directories on its PUBLIC
# include path, so users write #include "<stem>.capnp.h" and "<stem>.moonpool.h". Built with
# plain clang 19 (in this project, or a user's against the installed package), it also gives
# its users -fplugin=libmoonpool_attrs.so, so code including an annotated header compiles
# without "unknown attribute" warnings (moonpool-clang++ loads the plugin itself; other
# compilers: "Plain compilers" in annotate/README.md).
#
# At build time, for the headers of one call:
#   1. moonpool-annotate --output-dir OUTPUT_DIR <headers> -- -I... -D...   -> <stem>.capnp (+extras)
#   2. capnp compile -oc++ <stem>.capnp                                     -> <stem>.capnp.{h,c++}
# Evolution guard (annotate/README.md "Evolution"): each header's lock file
# <header dir>/<stem>.moonpool.lock lives in the SOURCE tree and is committed with the header.
# LOCK auto (the default) writes it on the first build and records compatible additions; a
# wire-breaking edit fails step 1 with the tool's file:line:col errors. LOCK check (for CI)
# fails unless the lock file exists and is up to date, and never writes it. LOCK off ignores it.
# To accept a breaking change deliberately: `cmake --build <dir> --target <target>_update_lock`
# (moonpool-annotate --lock=update: breaks become warnings, removed members are retired), then
# review and commit the lock file's diff.
# Dependencies: step 1 reruns when a listed header, its lock file (a depfile entry: editing the
# lock, e.g. to retire a member, regenerates), the tool, or the generator arguments (include
# dirs, definitions) change; nothing else reruns it. The tool rewrites a file only when its bytes
# change, and step 1's outputs are byproducts (Ninja restat), so a header edit that leaves the
# schema unchanged stops there: no capnp compile, no recompilation. Headers included by an
# annotated header are not tracked (the tool writes no depfile).
#
# Outside this project, find_package(moonpool) loads this file, the installed generator
# (moonpool::annotate) and plugin (moonpool::attrs), and Cap'n Proto; MOONPOOL_ANNOTATE_EXECUTABLE
# overrides the generator.
#
# This file is also the build-time driver of step 1: `cmake -DMOONPOOL_SERVICE_STEP=<file> -P
# MoonpoolService.cmake` (see the end of the file).
include_guard(GLOBAL)
set(_moonpool_service_script "${CMAKE_CURRENT_LIST_FILE}")
set(MOONPOOL_ANNOTATE_LOCK "auto" CACHE STRING
    "Default LOCK mode of moonpool_add_service: auto, check (CI) or off")
set_property(CACHE MOONPOOL_ANNOTATE_LOCK PROPERTY STRINGS auto check off)

# Brackets quote any path inside the generated step file; the level makes a clash unlikely.
set(_moonpool_open "[==[")
set(_moonpool_close "]==]")

# The generator tool: the in-tree target, an explicit MOONPOOL_ANNOTATE_EXECUTABLE, the
# installed one (moonpool::annotate, from the package config), or one on PATH.
function(_moonpool_annotate_tool out_command out_depends)
  if(TARGET moonpool-annotate)
    set(${out_command} "$<TARGET_FILE:moonpool-annotate>" PARENT_SCOPE)
    set(${out_depends} moonpool-annotate PARENT_SCOPE)
    return()
  endif()
  if(NOT MOONPOOL_ANNOTATE_EXECUTABLE AND TARGET moonpool::annotate)
    get_target_property(installed moonpool::annotate IMPORTED_LOCATION)
    set(${out_command} "${installed}" PARENT_SCOPE)
    set(${out_depends} "${installed}" PARENT_SCOPE)
    return()
  endif()
  if(NOT MOONPOOL_ANNOTATE_EXECUTABLE)
    find_program(MOONPOOL_ANNOTATE_EXECUTABLE moonpool-annotate)
  endif()
  if(NOT MOONPOOL_ANNOTATE_EXECUTABLE)
    message(FATAL_ERROR
      "moonpool_add_service: moonpool-annotate not found. Inside moonpool configure with "
      "MOONPOOL_WITH_ANNOTATE=ON; elsewhere install moonpool with it (the package then "
      "provides it), set MOONPOOL_ANNOTATE_EXECUTABLE or add it to PATH.")
  endif()
  set(${out_command} "${MOONPOOL_ANNOTATE_EXECUTABLE}" PARENT_SCOPE)
  set(${out_depends} "${MOONPOOL_ANNOTATE_EXECUTABLE}" PARENT_SCOPE)
endfunction()

function(_moonpool_capnp_tools)
  if(NOT CAPNP_EXECUTABLE OR NOT CAPNPC_CXX_EXECUTABLE OR NOT TARGET CapnProto::capnp)
    message(FATAL_ERROR "moonpool_add_service: Cap'n Proto not found; call "
                        "find_package(moonpool) (which loads it) or "
                        "find_package(CapnProto 0.9 CONFIG REQUIRED) before it.")
  endif()
endfunction()

# Absolute header paths and their stems; rejects missing headers and duplicate stems (two
# headers a.h and x/a.h would write the same a.capnp).
function(_moonpool_service_headers target out_headers out_stems)
  set(headers "")
  set(stems "")
  foreach(header IN LISTS ARGN)
    get_filename_component(path "${header}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    if(NOT EXISTS "${path}")
      message(FATAL_ERROR "moonpool_add_service(${target}): header '${header}' not found "
                          "(looked for ${path})")
    endif()
    get_filename_component(stem "${path}" NAME_WLE)
    if(stem IN_LIST stems)
      message(FATAL_ERROR "moonpool_add_service(${target}): two headers named '${stem}.*'; "
                          "each header gives <stem>.capnp, so rename one or split the call")
    endif()
    list(APPEND headers "${path}")
    list(APPEND stems "${stem}")
  endforeach()
  set(${out_headers} "${headers}" PARENT_SCOPE)
  set(${out_stems} "${stems}" PARENT_SCOPE)
endfunction()

# A quoted, repeated-flag list of a target property, as step-file text (empty if unset).
function(_moonpool_flag_list out target property flag)
  set(value "$<TARGET_PROPERTY:${target},${property}>")
  set(sep "${_moonpool_close} ${_moonpool_open}${flag}")
  set(${out} "$<$<BOOL:${value}>:${_moonpool_open}${flag}$<JOIN:${value},${sep}>${_moonpool_close}>"
      PARENT_SCOPE)
endfunction()

function(_moonpool_quote out)
  set(text "")
  foreach(item IN LISTS ARGN)
    string(APPEND text " ${_moonpool_open}${item}${_moonpool_close}")
  endforeach()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# Code including an annotated header needs the attributes known (else -Wunknown-attributes).
# moonpool-clang++ loads the plugin itself; with plain clang 19 the target passes -fplugin to
# its users: the in-tree plugin (moonpool_attrs), or the installed one (moonpool::attrs, from
# the package config). Other compilers: use the wrapper, or the flags in annotate/README.md.
function(_moonpool_service_plugin target)
  get_filename_component(compiler "${CMAKE_CXX_COMPILER}" NAME)
  if(compiler MATCHES "^moonpool-clang" OR NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR
     NOT CMAKE_CXX_COMPILER_VERSION MATCHES "^19\\.")
    return()
  endif()
  if(TARGET moonpool_attrs)
    target_compile_options(${target} PUBLIC
      "$<BUILD_INTERFACE:-fplugin=$<TARGET_FILE:moonpool_attrs>>")
    add_dependencies(${target} moonpool_attrs)
  elseif(TARGET moonpool::attrs)
    get_target_property(plugin moonpool::attrs IMPORTED_LOCATION)
    target_compile_options(${target} PUBLIC "-fplugin=${plugin}")
  endif()
endfunction()

function(moonpool_add_service target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "OUTPUT_DIR;LOCK"
                        "HEADERS;INCLUDE_DIRS;EXTRA_OUTPUT_SUFFIXES")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "moonpool_add_service(${target}): unknown arguments "
                        "'${ARG_UNPARSED_ARGUMENTS}'; expected HEADERS, INCLUDE_DIRS, "
                        "EXTRA_OUTPUT_SUFFIXES, OUTPUT_DIR, LOCK")
  endif()
  set(lock_mode "${ARG_LOCK}")
  if(lock_mode STREQUAL "")  # not if(NOT ...): CMake reads "off" as false
    set(lock_mode "${MOONPOOL_ANNOTATE_LOCK}")
  endif()
  if(NOT lock_mode MATCHES "^(auto|check|off)$")
    message(FATAL_ERROR "moonpool_add_service(${target}): LOCK '${lock_mode}' is not one of "
                        "auto, check, off (deliberate updates: the ${target}_update_lock target)")
  endif()
  if(NOT ARG_HEADERS)
    message(FATAL_ERROR "moonpool_add_service(${target}): HEADERS <header>... is required")
  endif()
  foreach(suffix IN LISTS ARG_EXTRA_OUTPUT_SUFFIXES)
    if(NOT suffix MATCHES "^\\.[A-Za-z0-9_.+-]+$" OR suffix STREQUAL ".capnp")
      message(FATAL_ERROR "moonpool_add_service(${target}): EXTRA_OUTPUT_SUFFIXES entry "
                          "'${suffix}' must look like '.moonpool.h' (and is not '.capnp')")
    endif()
  endforeach()
  if(NOT "EXTRA_OUTPUT_SUFFIXES" IN_LIST ARG_KEYWORDS_MISSING_VALUES AND
     NOT DEFINED ARG_EXTRA_OUTPUT_SUFFIXES)
    set(ARG_EXTRA_OUTPUT_SUFFIXES .moonpool.h .moonpool.cpp)
  endif()
  _moonpool_annotate_tool(tool_command tool_depends)
  # In-tree, the step also waits for the plugin file: Ninja starts compiling a target's
  # objects without waiting for its dependencies to link, so code built with
  # -fplugin=<plugin> (this target's and its users') could otherwise race the plugin's link.
  # Compiles of generated code and of its users wait for this step's outputs.
  if(TARGET moonpool_attrs)
    list(APPEND tool_depends moonpool_attrs)
  endif()
  _moonpool_capnp_tools()
  _moonpool_service_headers(${target} headers stems ${ARG_HEADERS})
  set(dir "${ARG_OUTPUT_DIR}")
  if(NOT dir)
    set(dir "${CMAKE_CURRENT_BINARY_DIR}/generated/${target}")
  endif()
  file(MAKE_DIRECTORY "${dir}")

  if(NOT TARGET ${target})
    add_library(${target} STATIC)
  endif()
  target_include_directories(${target} PUBLIC "$<BUILD_INTERFACE:${dir}>")
  # Where the schemas are, for other tools (a plain Cap'n Proto client compiling <stem>.capnp).
  set_property(TARGET ${target} PROPERTY MOONPOOL_SERVICE_OUTPUT_DIR "${dir}")
  if(TARGET moonpool::rpc)
    target_link_libraries(${target} PUBLIC moonpool::rpc)
  endif()
  target_link_libraries(${target} PUBLIC CapnProto::capnp)
  _moonpool_service_plugin(${target})

  # Outputs of step 1 (byproducts) and step 2, per header.
  set(schemas "")
  set(extras "")
  set(generated_sources "")
  set(capnp_sources "")
  foreach(stem IN LISTS stems)
    set(schema "${dir}/${stem}.capnp")
    list(APPEND schemas "${schema}")
    foreach(suffix IN LISTS ARG_EXTRA_OUTPUT_SUFFIXES)
      list(APPEND extras "${dir}/${stem}${suffix}")
      if(suffix MATCHES "\\.(cpp|cc|cxx|c\\+\\+)$")
        list(APPEND generated_sources "${dir}/${stem}${suffix}")
      endif()
    endforeach()
    add_custom_command(
      OUTPUT "${schema}.c++" "${schema}.h"
      COMMAND "${CAPNP_EXECUTABLE}" compile "-o${CAPNPC_CXX_EXECUTABLE}:${dir}"
              "--src-prefix=${dir}" "-I${CAPNP_INCLUDE_DIRECTORY}" "${schema}"
      DEPENDS "${schema}" "${CAPNP_EXECUTABLE}" "${CAPNPC_CXX_EXECUTABLE}"
      COMMENT "capnp compile ${stem}.capnp (${target})"
      VERBATIM)
    list(APPEND capnp_sources "${schema}.c++")
  endforeach()

  # The lock files, next to the headers (the tool's default place); the headers' directories
  # go on the include path, since the generated glue includes each header by its file name.
  set(locks "")
  foreach(header IN LISTS headers)
    get_filename_component(header_dir "${header}" DIRECTORY)
    target_include_directories(${target} PUBLIC "$<BUILD_INTERFACE:${header_dir}>")
    get_filename_component(stem "${header}" NAME_WLE)
    list(APPEND locks "${header_dir}/${stem}.moonpool.lock")
  endforeach()

  # Step 1's inputs, written at generate time: rewritten (and step 1 rerun) only when they
  # change. Generator expressions give the target's full (transitive) include dirs.
  set(step_file "${dir}/${target}.annotate.cmake")
  set(stamp "${dir}/${target}.annotate.stamp")
  _moonpool_quote(q_headers ${headers})
  _moonpool_quote(q_includes ${ARG_INCLUDE_DIRS})
  string(REPLACE "${_moonpool_open}" "${_moonpool_open}-I" q_includes "${q_includes}")
  _moonpool_flag_list(q_target_includes ${target} INCLUDE_DIRECTORIES "-I")
  _moonpool_flag_list(q_target_defines ${target} COMPILE_DEFINITIONS "-D")
  _moonpool_quote(q_outputs ${schemas} ${extras})
  _moonpool_quote(q_misc "${tool_command}" "${stamp}" "${dir}" "${lock_mode}")
  _moonpool_quote(q_locks ${locks})
  file(GENERATE OUTPUT "${step_file}" CONTENT
"# Generated by moonpool_add_service(${target}). DO NOT EDIT.
set(MOONPOOL_ANNOTATE_TARGET ${target})
set(MOONPOOL_ANNOTATE_MISC${q_misc})
set(MOONPOOL_ANNOTATE_HEADERS${q_headers})
set(MOONPOOL_ANNOTATE_FLAGS${q_includes} ${q_target_includes} ${q_target_defines})
set(MOONPOOL_ANNOTATE_OUTPUTS${q_outputs})
set(MOONPOOL_ANNOTATE_LOCKS${q_locks})
")
  # Ninja and Makefiles read the depfile the step writes (the lock files); other generators
  # only miss the rerun after a hand edit of a lock file.
  set(depfile_args "")
  if(CMAKE_GENERATOR MATCHES "Ninja|Makefiles")
    set(depfile_args DEPFILE "${stamp}.d")
  endif()
  add_custom_command(
    OUTPUT "${stamp}"
    BYPRODUCTS ${schemas} ${extras}
    COMMAND "${CMAKE_COMMAND}" "-DMOONPOOL_SERVICE_STEP=${step_file}" -P "${_moonpool_service_script}"
    DEPENDS ${headers} ${tool_depends} "${step_file}" "${_moonpool_service_script}"
    ${depfile_args}
    COMMENT "moonpool-annotate ${target}: ${stems}"
    VERBATIM)
  # Deliberate breaking changes: rewrite the lock files with --lock=update (see the top).
  add_custom_target(${target}_update_lock
    COMMAND "${CMAKE_COMMAND}" "-DMOONPOOL_SERVICE_STEP=${step_file}"
            -DMOONPOOL_ANNOTATE_LOCK_OVERRIDE=update -P "${_moonpool_service_script}"
    DEPENDS ${tool_depends} "${step_file}"
    COMMENT "moonpool-annotate --lock=update ${target}: ${stems}"
    VERBATIM)
  target_sources(${target} PRIVATE "${stamp}" ${capnp_sources} ${generated_sources})
  # capnpc-c++ output follows Cap'n Proto's style, not ours: no project warnings on it.
  # (Extra outputs are moonpool's own generated code and keep the target's warnings.)
  set_source_files_properties(${capnp_sources} TARGET_DIRECTORY ${target}
                              PROPERTIES COMPILE_OPTIONS "-w")
endfunction()

# Build-time driver of step 1 (script mode): run the tool, check it wrote every declared
# output, touch the stamp. The tool prints its own file:line:col diagnostics.
if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE AND DEFINED MOONPOOL_SERVICE_STEP)
  include("${MOONPOOL_SERVICE_STEP}")
  list(GET MOONPOOL_ANNOTATE_MISC 0 tool)
  list(GET MOONPOOL_ANNOTATE_MISC 1 stamp)
  list(GET MOONPOOL_ANNOTATE_MISC 2 dir)
  list(GET MOONPOOL_ANNOTATE_MISC 3 lock_mode)
  if(DEFINED MOONPOOL_ANNOTATE_LOCK_OVERRIDE)
    set(lock_mode "${MOONPOOL_ANNOTATE_LOCK_OVERRIDE}")
  endif()
  execute_process(
    COMMAND "${tool}" --output-dir "${dir}" "--lock=${lock_mode}" ${MOONPOOL_ANNOTATE_HEADERS}
            -- ${MOONPOOL_ANNOTATE_FLAGS}
    RESULT_VARIABLE result OUTPUT_VARIABLE tool_output ERROR_VARIABLE tool_output)
  # The tool's own file:line:col diagnostics, as it printed them (stdout and stderr merged).
  if(NOT tool_output STREQUAL "")
    message(NOTICE "${tool_output}")
  endif()
  if(NOT result EQUAL 0)
    # The lock-file way out only when the lock file refused a wire-breaking change (the
    # evolution stage's errors say "breaks the wire format"); a plain error needs a fix.
    set(hint "fix the header")
    if(tool_output MATCHES "breaks the wire format")
      string(CONCAT hint "a wire-breaking change you mean to make: build the target "
                         "${MOONPOOL_ANNOTATE_TARGET}_update_lock, then commit the lock file")
    endif()
    message(FATAL_ERROR "moonpool_add_service(${MOONPOOL_ANNOTATE_TARGET}): moonpool-annotate "
                        "failed (${result}) on ${MOONPOOL_ANNOTATE_HEADERS}; see its errors above "
                        "(${hint})")
  endif()
  foreach(output IN LISTS MOONPOOL_ANNOTATE_OUTPUTS)
    if(NOT EXISTS "${output}")
      message(FATAL_ERROR "moonpool_add_service(${MOONPOOL_ANNOTATE_TARGET}): moonpool-annotate "
                          "did not write ${output}; if this tool version does not generate that "
                          "file, drop its suffix from EXTRA_OUTPUT_SUFFIXES")
    endif()
  endforeach()
  # The depfile: the lock files are inputs of this step (a missing one, e.g. deleted, makes
  # Ninja rerun the step, which writes it again).
  set(depfile "${stamp}: ")
  if(NOT lock_mode STREQUAL "off")
    foreach(lock IN LISTS MOONPOOL_ANNOTATE_LOCKS)
      string(REPLACE " " "\\ " lock "${lock}")
      string(APPEND depfile " \\\n  ${lock}")
    endforeach()
  endif()
  file(WRITE "${stamp}.d" "${depfile}\n")
  file(TOUCH "${stamp}")
endif()
