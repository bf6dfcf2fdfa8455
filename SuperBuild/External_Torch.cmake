# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# LibTorch: the official prebuilt archive (CPU, or one CUDA version), unpacked, nothing to build.
# Archives are listed at https://pytorch.org/get-started/locally/ ("LibTorch", "cxx11 ABI").
set(proj Torch)
recontrast_superbuild_use_system(Torch TORCH)
if(NOT USE_SYSTEM_TORCH)
  set(RECONTRAST_LIBTORCH_VERSION "2.5.1" CACHE STRING "LibTorch version to download")
  set(RECONTRAST_LIBTORCH_COMPUTE "cpu" CACHE STRING "LibTorch variant: cpu, cu118, cu121 or cu124")
  set_property(CACHE RECONTRAST_LIBTORCH_COMPUTE PROPERTY STRINGS cpu cu118 cu121 cu124)
  if(WIN32)
    set(_archive "libtorch-win-shared-with-deps-${RECONTRAST_LIBTORCH_VERSION}%2B${RECONTRAST_LIBTORCH_COMPUTE}.zip")
  elseif(APPLE)
    set(_archive "libtorch-macos-arm64-${RECONTRAST_LIBTORCH_VERSION}.zip")
  elseif(RECONTRAST_LIBTORCH_VERSION VERSION_GREATER_EQUAL 2.7)
    # From 2.7 every Linux archive uses the C++11 ABI and the name no longer says so.
    set(_archive "libtorch-shared-with-deps-${RECONTRAST_LIBTORCH_VERSION}%2B${RECONTRAST_LIBTORCH_COMPUTE}.zip")
  else()
    set(_archive "libtorch-cxx11-abi-shared-with-deps-${RECONTRAST_LIBTORCH_VERSION}%2B${RECONTRAST_LIBTORCH_COMPUTE}.zip")
  endif()
  ExternalProject_Add(${proj}
    URL "https://download.pytorch.org/libtorch/${RECONTRAST_LIBTORCH_COMPUTE}/${_archive}"
    SOURCE_DIR "${CMAKE_BINARY_DIR}/libtorch"
    CONFIGURE_COMMAND ""
    BUILD_COMMAND ""
    INSTALL_COMMAND "")
  list(APPEND RECONTRAST_INNER_DEPENDS ${proj})
  list(APPEND RECONTRAST_INNER_CMAKE_ARGS "-DTorch_DIR:PATH=${CMAKE_BINARY_DIR}/libtorch/share/cmake/Torch")
endif()
