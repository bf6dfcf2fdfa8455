# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# DCMTK with the modules for Parametric Map and Segmentation objects (dcmiod, dcmfg, dcmpmap, dcmseg).
set(proj DCMTK)
recontrast_superbuild_use_system(DCMTK DCMTK NO_MODULE)
if(NOT USE_SYSTEM_DCMTK)
  set(RECONTRAST_DCMTK_GIT_TAG "DCMTK-3.6.8" CACHE STRING "DCMTK release to build")
  ExternalProject_Add(${proj}
    GIT_REPOSITORY "https://github.com/DCMTK/dcmtk.git"
    GIT_TAG "${RECONTRAST_DCMTK_GIT_TAG}"
    GIT_SHALLOW ON
    BINARY_DIR "${CMAKE_BINARY_DIR}/${proj}-build"
    CMAKE_CACHE_ARGS
      ${RECONTRAST_EP_COMMON_ARGS}
      -DBUILD_SHARED_LIBS:BOOL=ON
      -DDCMTK_WITH_DOXYGEN:BOOL=OFF
      -DDCMTK_WITH_OPENSSL:BOOL=OFF
      -DDCMTK_WITH_ICU:BOOL=OFF
      -DBUILD_APPS:BOOL=OFF
    INSTALL_COMMAND "")
  list(APPEND RECONTRAST_INNER_DEPENDS ${proj})
  list(APPEND RECONTRAST_INNER_CMAKE_ARGS "-DDCMTK_DIR:PATH=${CMAKE_BINARY_DIR}/${proj}-build")
endif()
