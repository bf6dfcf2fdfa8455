# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# VTK, without rendering windows: the project only renders pictures off-screen.
set(proj VTK)
recontrast_superbuild_use_system(VTK VTK 9.1 COMPONENTS CommonCore CommonDataModel CommonExecutionModel IOImage RenderingCore RenderingFreeType)
if(NOT USE_SYSTEM_VTK)
  set(RECONTRAST_VTK_GIT_TAG "v9.3.1" CACHE STRING "VTK release to build")
  ExternalProject_Add(${proj}
    GIT_REPOSITORY "https://gitlab.kitware.com/vtk/vtk.git"
    GIT_TAG "${RECONTRAST_VTK_GIT_TAG}"
    GIT_SHALLOW ON
    BINARY_DIR "${CMAKE_BINARY_DIR}/${proj}-build"
    CMAKE_CACHE_ARGS
      ${RECONTRAST_EP_COMMON_ARGS}
      -DBUILD_SHARED_LIBS:BOOL=ON
      -DVTK_BUILD_TESTING:STRING=OFF
      -DVTK_GROUP_ENABLE_Rendering:STRING=YES
      -DVTK_GROUP_ENABLE_Imaging:STRING=YES
      -DVTK_WRAP_PYTHON:BOOL=OFF
    INSTALL_COMMAND "")
  list(APPEND RECONTRAST_INNER_DEPENDS ${proj})
  list(APPEND RECONTRAST_INNER_CMAKE_ARGS "-DVTK_DIR:PATH=${CMAKE_BINARY_DIR}/${proj}-build")
endif()
