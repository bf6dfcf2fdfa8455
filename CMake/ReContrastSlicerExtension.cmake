# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# The project as a 3D Slicer extension (RECONTRAST_BUILD_SLICER_MODULE=ON with Slicer_DIR), in the
# shape of Slicer's SuperBuild extension template (Utilities/Templates/Extensions/SuperBuild): the
# outer build (RECONTRAST_SUPERBUILD=ON) builds what Slicer does not provide (LibTorch, DCMTK, ...)
# and configures this tree again as the inner build in inner-build/, which builds the libraries, the
# CLI modules and the loadable module against Slicer's own ITK and VTK.

if(NOT Slicer_DIR)
  message(FATAL_ERROR "ReContrast: the Slicer module builds only against a Slicer build tree, and Slicer_DIR is "
                      "not set. Configure with -DSlicer_DIR=<Slicer-build>/Slicer-build, or with "
                      "-DRECONTRAST_BUILD_SLICER_MODULE=OFF for the libraries and command-line tools alone.")
endif()

if(NOT EXISTS "${Slicer_DIR}/SlicerConfig.cmake")
  message(FATAL_ERROR "ReContrast: Slicer_DIR='${Slicer_DIR}' is not a Slicer build tree (it has no "
                      "SlicerConfig.cmake); point it at <Slicer-build>/Slicer-build.")
endif()

# Extension meta-information, read by Slicer's extension packaging and the Extensions Index.
set(EXTENSION_NAME ReContrast)
set(EXTENSION_HOMEPAGE "${PROJECT_HOMEPAGE_URL}")
set(EXTENSION_CATEGORY "Quantification")
set(EXTENSION_CONTRIBUTORS "ReContrast for Slicer and ITK developers")
set(EXTENSION_DESCRIPTION "Unsupervised anomaly detection: a model trained on normal scans only shows where a new scan is unusual, as a heat-map overlay, regions and per-slice scores (ReContrast, NeurIPS 2023).")
set(EXTENSION_ICONURL "${PROJECT_HOMEPAGE_URL}/raw/main/Modules/Loadable/AnomalyDetection/Resources/Icons/AnomalyDetection.png")
set(EXTENSION_SCREENSHOTURLS "${PROJECT_HOMEPAGE_URL}/raw/main/Documentation/images/slicer-module-overlay.png")
set(EXTENSION_DEPENDS "NA")
# The superbuild's inner build lives in inner-build/ of the outer build tree, which the outer build
# passes down as EXTENSION_SUPERBUILD_BINARY_DIR (SuperBuild/SuperBuild.cmake); a plain configure is
# its own extension tree.
if(RECONTRAST_SUPERBUILD OR DEFINED EXTENSION_SUPERBUILD_BINARY_DIR)
  set(EXTENSION_BUILD_SUBDIRECTORY inner-build)
else()
  set(EXTENSION_BUILD_SUBDIRECTORY .)
endif()
set(SUPERBUILD_TOPLEVEL_PROJECT inner)

find_package(Slicer REQUIRED)
# Without a build type the project builds Release, as outside Slicer (Slicer's use file would pick its
# own default, Debug, which SlicerConfig.cmake sets).
set(Slicer_DEFAULT_BUILD_TYPE Release)
include(${Slicer_USE_FILE})
# The project's libraries go to Slicer's library folder (lib/Slicer-X.Y), which Slicer puts on
# the library path of an installed extension; set before GNUInstallDirs is included.
set(CMAKE_INSTALL_LIBDIR "${Slicer_THIRDPARTY_LIB_DIR}")
if(COMMAND mark_as_superbuild)
  mark_as_superbuild(Slicer_DIR)
endif()

# Called at the end of the inner build: what the extension package holds. Slicer's packaging step
# reconfigures the inner build (Docs/developer_guide/extensions.md, "How are Superbuild extensions
# packaged?"), so the external projects to package are kept in the cache.
macro(recontrast_slicer_extension_package)
  # LibTorch's shared libraries travel with the extension (Slicer does not ship them), from an
  # official LibTorch tree (<root>/share/cmake/Torch, as SuperBuild/External_Torch.cmake makes it).
  get_filename_component(_recontrast_torch_root "${Torch_DIR}/../../.." ABSOLUTE)
  if(Torch_DIR AND EXISTS "${_recontrast_torch_root}/lib")
    install(DIRECTORY "${_recontrast_torch_root}/lib/" DESTINATION "${Slicer_INSTALL_THIRDPARTY_LIB_DIR}"
      COMPONENT RuntimeLibraries FILES_MATCHING PATTERN "*.so*" PATTERN "*.dylib" PATTERN "*.dll")
  endif()
  # Everything is installed by this (inner) build itself: no external project to add.
  list(APPEND CPACK_INSTALL_CMAKE_PROJECTS "${CMAKE_BINARY_DIR};${EXTENSION_NAME};ALL;/")
  include(${Slicer_EXTENSION_GENERATE_CONFIG})
  include(${Slicer_EXTENSION_CPACK})
endmacro()
