# Installation and the CMake package config: after `cmake --install`, a user project can
#   find_package(moonpool CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE moonpool::runtime)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(moonpool_installed_targets moonpool_explorer moonpool_core moonpool_capnp moonpool_runtime
                               moonpool_rpc moonpool_warnings)
if(TARGET moonpool_assertions)
  list(APPEND moonpool_installed_targets moonpool_assertions)
endif()
if(TARGET moonpool_coverage)
  list(APPEND moonpool_installed_targets moonpool_coverage)
endif()
if(TARGET moonpool_runner)
  list(APPEND moonpool_installed_targets moonpool_runner)
endif()
install(TARGETS ${moonpool_installed_targets}
        EXPORT moonpoolTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY runtime/include/moonpool capnp/include/moonpool explorer/include/moonpool
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
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
