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

configure_package_config_file(cmake/moonpoolConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/moonpoolConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/moonpool)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/moonpoolConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/moonpoolConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/moonpoolConfigVersion.cmake
              cmake/MoonpoolCoverage.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/moonpool)
