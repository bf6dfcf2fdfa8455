# The installable, relocatable CMake package: find_package(ReContrast) in a downstream project
# gives the imported targets ReContrast::Engine (and the executables' locations).
include(CMakePackageConfigHelpers)

install(EXPORT ReContrastTargets
  NAMESPACE ReContrast::
  DESTINATION ${RECONTRAST_INSTALL_CMAKE_DIR})

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/CMake/ReContrastConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/ReContrastConfig.cmake"
  INSTALL_DESTINATION ${RECONTRAST_INSTALL_CMAKE_DIR})
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/ReContrastConfigVersion.cmake"
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/ReContrastConfig.cmake"
  "${PROJECT_BINARY_DIR}/ReContrastConfigVersion.cmake"
  DESTINATION ${RECONTRAST_INSTALL_CMAKE_DIR})
