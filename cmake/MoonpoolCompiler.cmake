# Compiler settings shared by every moonpool target: warnings, ccache, sanitizers.

# ccache when present. BASEDIR/NOHASHDIR make different build directories of the same
# checkout share cache entries (-g records the working directory otherwise).
find_program(MOONPOOL_CCACHE ccache)
if(MOONPOOL_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_C_COMPILER_LAUNCHER
      ${CMAKE_COMMAND} -E env CCACHE_BASEDIR=${PROJECT_SOURCE_DIR} CCACHE_NOHASHDIR=1
      ${MOONPOOL_CCACHE})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CMAKE_C_COMPILER_LAUNCHER})
endif()

# Warnings on and clean. -Werror only where asked (CI and the presets), so users building
# with a newer clang are not broken by new warnings.
option(MOONPOOL_WERROR "Treat warnings as errors" OFF)
add_library(moonpool_warnings INTERFACE)
target_compile_options(moonpool_warnings INTERFACE
  -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wimplicit-fallthrough
  $<$<BOOL:${MOONPOOL_WERROR}>:-Werror>)

# Source paths in assertion reports, checks and errors are relative to the source root:
# __FILE__ and std::source_location give "examples/maze/maze.cpp", not the absolute path or
# the "../../" form the generator passes from the build directory. Macros only: debug info
# keeps real paths for debuggers. (Consumers of the package get the same for their own
# sources through moonpool::runner's interface, runtime/runner/CMakeLists.txt.)
file(RELATIVE_PATH moonpool_source_from_build "${CMAKE_BINARY_DIR}" "${PROJECT_SOURCE_DIR}/")
add_compile_options("-fmacro-prefix-map=${PROJECT_SOURCE_DIR}/="
                    "-fmacro-prefix-map=${moonpool_source_from_build}=")
# ccache leaves prefix maps out of its hash (measured: objects built without the maps were
# served again), so a definition marks objects built with them.
add_compile_definitions(MOONPOOL_RELATIVE_SOURCE_PATHS=1)

# Sanitizer configuration (the `asan` preset): address + undefined behaviour, on every
# target, compile and link.
option(MOONPOOL_SANITIZE "Build with -fsanitize=address,undefined" OFF)
set(MOONPOOL_SANITIZE_COMPILE_OPTIONS -fsanitize=address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)
set(MOONPOOL_SANITIZE_LINK_OPTIONS -fsanitize=address,undefined)
if(MOONPOOL_SANITIZE)
  add_compile_options(${MOONPOOL_SANITIZE_COMPILE_OPTIONS})
  add_link_options(${MOONPOOL_SANITIZE_LINK_OPTIONS})
endif()

# moonpool_host_tool(<target>): a build tool that runs on the build machine rather than being
# tested (moonpool-annotate, the attribute plugin, the compiler wrappers) is built without the
# sanitizers, even in the asan configuration: the plugin is loaded into the stock, unsanitized
# clang-19 (which cannot host ASan's runtime), and the tool's speed matters to every build.
# Call it right after creating the target; it removes only the sanitizer options above.
function(moonpool_host_tool target)
  foreach(property IN ITEMS COMPILE_OPTIONS LINK_OPTIONS)
    get_target_property(options ${target} ${property})
    if(options)
      list(REMOVE_ITEM options ${MOONPOOL_SANITIZE_COMPILE_OPTIONS}
                               ${MOONPOOL_SANITIZE_LINK_OPTIONS})
      set_property(TARGET ${target} PROPERTY ${property} "${options}")
    endif()
  endforeach()
endfunction()

# Every moonpool target gets the warnings; a helper keeps the lists short.
function(moonpool_target_defaults target)
  target_link_libraries(${target} PRIVATE moonpool_warnings)
endfunction()
