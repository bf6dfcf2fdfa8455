# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# The installable, relocatable CMake package: find_package(ReContrast) in a downstream project
# gives the imported targets ReContrast::Engine (and the executables' locations).
include(CMakePackageConfigHelpers)

install(EXPORT ReContrastTargets
  NAMESPACE ReContrast::
  DESTINATION ${RECONTRAST_INSTALL_CMAKE_DIR})

# The files for the install tree are made in a folder of their own: a Slicer extension build writes
# its own ReContrastConfig.cmake at the top of the build tree.
set(_recontrast_package_dir "${PROJECT_BINARY_DIR}/CMakeFiles/ReContrastPackage")
configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/CMake/ReContrastConfig.cmake.in"
  "${_recontrast_package_dir}/ReContrastConfig.cmake"
  INSTALL_DESTINATION ${RECONTRAST_INSTALL_CMAKE_DIR})
write_basic_package_version_file(
  "${_recontrast_package_dir}/ReContrastConfigVersion.cmake"
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES
  "${_recontrast_package_dir}/ReContrastConfig.cmake"
  "${_recontrast_package_dir}/ReContrastConfigVersion.cmake"
  DESTINATION ${RECONTRAST_INSTALL_CMAKE_DIR})

# The build tree's targets as an export set too: Slicer's extension configuration exports the
# module's libraries (export(TARGETS ...)), and they link the project's libraries.
export(EXPORT ReContrastTargets
  NAMESPACE ReContrast::
  FILE "${_recontrast_package_dir}/ReContrastTargetsBuildTree.cmake")
