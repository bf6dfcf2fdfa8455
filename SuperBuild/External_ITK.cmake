# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# ITK, with the IO and filtering modules the ITK layer uses (NIfTI, NRRD, MetaImage, PNG, JPEG, GDCM).
set(proj ITK)
recontrast_superbuild_use_system(ITK ITK 5.2)
if(NOT USE_SYSTEM_ITK)
  set(RECONTRAST_ITK_GIT_TAG "v5.4.0" CACHE STRING "ITK release to build")
  ExternalProject_Add(${proj}
    GIT_REPOSITORY "https://github.com/InsightSoftwareConsortium/ITK.git"
    GIT_TAG "${RECONTRAST_ITK_GIT_TAG}"
    GIT_SHALLOW ON
    BINARY_DIR "${CMAKE_BINARY_DIR}/${proj}-build"
    CMAKE_CACHE_ARGS
      ${RECONTRAST_EP_COMMON_ARGS}
      -DBUILD_SHARED_LIBS:BOOL=ON
      -DBUILD_EXAMPLES:BOOL=OFF
      -DITK_BUILD_DEFAULT_MODULES:BOOL=ON
      -DModule_ITKIOGDCM:BOOL=ON
    INSTALL_COMMAND "")
  list(APPEND RECONTRAST_INNER_DEPENDS ${proj})
  list(APPEND RECONTRAST_INNER_CMAKE_ARGS "-DITK_DIR:PATH=${CMAKE_BINARY_DIR}/${proj}-build")
endif()
