# Installation and the CMake package config: after `cmake --install`, a user project can
#   find_package(moonpool CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE moonpool::moonpool)   # or single layers
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Every layer library (moonpool_add_layer records them), the coverage runtime, the umbrella
# and the warning flags they carry. Each layer installs its own headers.
get_property(moonpool_installed_targets GLOBAL PROPERTY MOONPOOL_LAYER_TARGETS)
list(APPEND moonpool_installed_targets moonpool_warnings)
install(TARGETS ${moonpool_installed_targets}
        EXPORT moonpoolTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT moonpoolTargets NAMESPACE moonpool::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/moonpool)

# The GoogleTest helper (runner/gtest.h) is its own export set: the package loads it only
# when the user's project finds GTest, so the core package never requires GTest.
if(TARGET moonpool_runner_gtest)
  install(TARGETS moonpool_runner_gtest EXPORT moonpoolGtestTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(EXPORT moonpoolGtestTargets NAMESPACE moonpool::
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/moonpool)
endif()

# Where the generator (annotate/) and the plugin (instrument/) are installed; the config
# imports them as moonpool::annotate and moonpool::attrs when present.
set(MOONPOOL_INSTALL_BINDIR "${CMAKE_INSTALL_BINDIR}")
set(MOONPOOL_INSTALL_PLUGINDIR "${CMAKE_INSTALL_LIBDIR}/moonpool")
set(MOONPOOL_INSTALL_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
configure_package_config_file(cmake/moonpoolConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/moonpoolConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/moonpool
  PATH_VARS MOONPOOL_INSTALL_BINDIR MOONPOOL_INSTALL_PLUGINDIR MOONPOOL_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/moonpoolConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/moonpoolConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/moonpoolConfigVersion.cmake
              cmake/MoonpoolCoverage.cmake
              cmake/MoonpoolService.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/moonpool)

# Cap'n Proto's config behind a load-once guard (see moonpoolConfig.cmake.in).
foreach(file IN ITEMS CapnProtoConfig CapnProtoConfigVersion)
  configure_file(cmake/capnproto/${file}.cmake.in
                 ${CMAKE_CURRENT_BINARY_DIR}/capnproto/${file}.cmake @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/capnproto/${file}.cmake
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/moonpool/capnproto)
endforeach()
