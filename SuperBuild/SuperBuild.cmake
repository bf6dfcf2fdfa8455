# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# The outer build of the superbuild (configure with -DRECONTRAST_SUPERBUILD=ON), in the style of
# Slicer's SuperBuild extensions: each dependency comes from the system when found
# (USE_SYSTEM_<NAME>, default ON where found; <Name>_DIR points at a particular build) and is
# otherwise built by its External_<Name>.cmake; then this same source tree is configured again as
# the inner build, with RECONTRAST_SUPERBUILD=OFF and every <Name>_DIR passed down.
include(ExternalProject)

set(RECONTRAST_INNER_DEPENDS "")
set(RECONTRAST_INNER_CMAKE_ARGS "")
set(RECONTRAST_SUPERBUILD_PREFIX "${CMAKE_BINARY_DIR}" CACHE INTERNAL "")

# recontrast_superbuild_use_system(<Name> <UPPER> [find_package arguments...])
# Defines USE_SYSTEM_<UPPER> (default: whether find_package finds it) and, when ON, finds the
# package for real and passes <Name>_DIR to the inner build.
macro(recontrast_superbuild_use_system name upper)
  if(NOT DEFINED USE_SYSTEM_${upper})
    find_package(${name} ${ARGN} QUIET)
    set(_recontrast_found_default OFF)
    if(${name}_FOUND)
      set(_recontrast_found_default ON)
    endif()
    option(USE_SYSTEM_${upper} "Use ${name} from the system instead of building it" ${_recontrast_found_default})
  endif()
  if(USE_SYSTEM_${upper})
    find_package(${name} ${ARGN} REQUIRED)
    message(STATUS "ReContrast SuperBuild: ${name} from the system (${${name}_DIR})")
    list(APPEND RECONTRAST_INNER_CMAKE_ARGS "-D${name}_DIR:PATH=${${name}_DIR}")
  else()
    message(STATUS "ReContrast SuperBuild: ${name} will be built from upstream sources")
  endif()
endmacro()

# Settings every external build shares.
set(RECONTRAST_EP_COMMON_ARGS
  -DCMAKE_BUILD_TYPE:STRING=${CMAKE_BUILD_TYPE}
  -DCMAKE_C_COMPILER:FILEPATH=${CMAKE_C_COMPILER}
  -DCMAKE_CXX_COMPILER:FILEPATH=${CMAKE_CXX_COMPILER}
  -DCMAKE_CXX_STANDARD:STRING=17
  -DCMAKE_POSITION_INDEPENDENT_CODE:BOOL=ON
  -DBUILD_TESTING:BOOL=OFF)

# recontrast_superbuild_install_project(<Name> <git-repository> <git-tag> <config-subdir> [cmake args...])
# Builds a small CMake project from its release tag and installs it into the superbuild's prefix;
# the inner build finds it through <Name>_DIR = <prefix>/<config-subdir>.
function(recontrast_superbuild_install_project name repository tag config_subdir)
  set(_prefix "${CMAKE_BINARY_DIR}/${name}-install")
  ExternalProject_Add(${name}
    GIT_REPOSITORY "${repository}"
    GIT_TAG "${tag}"
    GIT_SHALLOW ON
    BINARY_DIR "${CMAKE_BINARY_DIR}/${name}-build"
    CMAKE_CACHE_ARGS ${RECONTRAST_EP_COMMON_ARGS} -DCMAKE_INSTALL_PREFIX:PATH=${_prefix} ${ARGN})
  set(RECONTRAST_INNER_DEPENDS ${RECONTRAST_INNER_DEPENDS} ${name} PARENT_SCOPE)
  set(RECONTRAST_INNER_CMAKE_ARGS ${RECONTRAST_INNER_CMAKE_ARGS} "-D${name}_DIR:PATH=${_prefix}/${config_subdir}" PARENT_SCOPE)
endfunction()

# Order matters: ITK before the libraries that may share its third parties.
foreach(dep Torch ITK VTK DCMTK CLI11 nlohmann_json spdlog GTest)
  include("${CMAKE_CURRENT_LIST_DIR}/External_${dep}.cmake")
endforeach()

message(STATUS "ReContrast SuperBuild: inner build in ${CMAKE_BINARY_DIR}/inner-build (depends on: ${RECONTRAST_INNER_DEPENDS})")
# As a Slicer extension, the inner build is told where the outer one is (Slicer's extension
# configuration and packaging look for inner-build/ there).
set(RECONTRAST_EXTENSION_ARGS "")
if(Slicer_DIR)
  list(APPEND RECONTRAST_EXTENSION_ARGS "-DEXTENSION_SUPERBUILD_BINARY_DIR:PATH=${CMAKE_BINARY_DIR}")
endif()
ExternalProject_Add(inner
  SOURCE_DIR "${PROJECT_SOURCE_DIR}"
  BINARY_DIR "${CMAKE_BINARY_DIR}/inner-build"
  DOWNLOAD_COMMAND ""
  UPDATE_COMMAND ""
  INSTALL_COMMAND ""
  CMAKE_CACHE_ARGS
    ${RECONTRAST_EP_COMMON_ARGS}
    -DRECONTRAST_SUPERBUILD:BOOL=OFF
    -DRECONTRAST_BUILD_TESTING:BOOL=${RECONTRAST_BUILD_TESTING}
    -DRECONTRAST_ENABLE_SANITIZERS:BOOL=${RECONTRAST_ENABLE_SANITIZERS}
    -DRECONTRAST_WARNINGS_AS_ERRORS:BOOL=${RECONTRAST_WARNINGS_AS_ERRORS}
    -DRECONTRAST_BUILD_SLICER_MODULE:BOOL=${RECONTRAST_BUILD_SLICER_MODULE}
    -DSlicer_DIR:PATH=${Slicer_DIR}
    ${RECONTRAST_EXTENSION_ARGS}
    -DCMAKE_INSTALL_PREFIX:PATH=${CMAKE_INSTALL_PREFIX}
    ${RECONTRAST_INNER_CMAKE_ARGS}
  DEPENDS ${RECONTRAST_INNER_DEPENDS}
  BUILD_ALWAYS ON)
