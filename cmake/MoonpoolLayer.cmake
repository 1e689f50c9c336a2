# moonpool_add_layer(): one library per layer folder (runtime/<layer>/, capnp/, explorer/,
# instrument/coverage/), all built the same way.
#
#   moonpool_add_layer(<name> [STATIC] SOURCES <file>...
#                      [PUBLIC <dep>...] [PRIVATE <dep>...])
#
# Creates moonpool_<name> (alias and exported name moonpool::<name>) from <folder>/src, with
# <folder>/include as its public include directory, installs that directory's headers and
# records the target and the include directory in two global properties:
#   MOONPOOL_LAYER_TARGETS   what cmake/MoonpoolInstall.cmake installs and exports
#   MOONPOOL_INCLUDE_DIRS    every layer's include directory, in dependency order, for tools
#                            that parse moonpool headers outside a target (moonpool-annotate in
#                            tests, moonpool-clang++ in the build tree)
# The allowed dependencies between layers are written down in test/lint/layers.txt and
# enforced on #include lines by test/lint; the PUBLIC/PRIVATE lists here must agree with it.
include_guard(GLOBAL)

function(moonpool_add_layer name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "STATIC" "" "SOURCES;PUBLIC;PRIVATE")
  if(ARG_UNPARSED_ARGUMENTS OR NOT ARG_SOURCES)
    message(FATAL_ERROR "moonpool_add_layer(${name}): expected [STATIC] SOURCES <file>... "
                        "[PUBLIC <dep>...] [PRIVATE <dep>...], got '${ARGN}'")
  endif()
  set(target moonpool_${name})
  if(ARG_STATIC)
    add_library(${target} STATIC ${ARG_SOURCES})
  else()
    add_library(${target} ${ARG_SOURCES})
  endif()
  add_library(moonpool::${name} ALIAS ${target})
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_link_libraries(${target} PUBLIC ${ARG_PUBLIC} PRIVATE ${ARG_PRIVATE})
  moonpool_target_defaults(${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name})
  install(DIRECTORY include/moonpool DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  set_property(GLOBAL APPEND PROPERTY MOONPOOL_LAYER_TARGETS ${target})
  set_property(GLOBAL APPEND PROPERTY MOONPOOL_INCLUDE_DIRS ${CMAKE_CURRENT_SOURCE_DIR}/include)
endfunction()
