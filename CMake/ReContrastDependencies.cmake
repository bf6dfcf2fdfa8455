# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# Finds the project's dependencies. On Debian 12 all of them are system packages
# (Utilities/install-dependencies.sh); SuperBuild/ provides them otherwise and passes <Name>_DIR.

# LibTorch: the engine (Libs/ReContrast) is the only layer that includes its headers.
find_package(Torch REQUIRED)
# zlib's CRC-32 checks model files.
find_package(ZLIB REQUIRED)
# libjpeg decodes a JPEG once under the project's own error handling before ITK reads it
# (Libs/ITKReContrast/src/itkReContrastImageFiles.cxx).
find_package(JPEG REQUIRED)
include(ReContrastTorchABICheck)

set(_recontrast_torch_has_cuda OFF)
if(TARGET torch_cuda OR TARGET c10_cuda OR TORCH_CUDA_LIBRARIES OR CAFFE2_USE_CUDA)
  set(_recontrast_torch_has_cuda ON)
endif()
option(RECONTRAST_USE_CUDA "Build the CUDA code paths (default: on when LibTorch has CUDA)" ${_recontrast_torch_has_cuda})
if(RECONTRAST_USE_CUDA AND NOT _recontrast_torch_has_cuda)
  message(FATAL_ERROR "ReContrast: RECONTRAST_USE_CUDA is ON but the LibTorch found at ${Torch_DIR} was built without CUDA; "
                      "point Torch_DIR at a CUDA LibTorch or set RECONTRAST_USE_CUDA=OFF.")
endif()

# The ITK layer (volumes, filters) and the tools that read images.
# The same list is recorded in the installed package (ReContrastConfig.cmake) for consumers.
set(RECONTRAST_ITK_COMPONENTS
  ITKCommon ITKIOImageBase ITKImageIntensity ITKImageGrid ITKImageFunction ITKThresholding
  ITKConnectedComponents ITKLabelMap ITKSmoothing ITKIONIFTI ITKIONRRD ITKIOMeta ITKIOPNG ITKIOJPEG
  ITKIOGDCM ITKIOTransformBase ITKTestKernel)
find_package(ITK 5.2 REQUIRED COMPONENTS ${RECONTRAST_ITK_COMPONENTS})
# ITK's use file for a folder whose targets read or write images, with ITK's image IO factory
# registration on: ITK registers its image IO factories in every program that links such a target.
# A Slicer extension's configuration turns the registration off (Slicer registers the factories
# itself, in its own process); the project's executables and CLI modules run in processes of their
# own and need it back.
macro(recontrast_use_itk)
  unset(ITK_NO_IO_FACTORY_REGISTER_MANAGER)
  unset(ITK_NO_IMAGEIO_FACTORY_REGISTER_MANAGER)
  unset(ITK_NO_MESHIO_FACTORY_REGISTER_MANAGER)
  unset(ITK_NO_TRANSFORMIO_FACTORY_REGISTER_MANAGER)
  include(${ITK_USE_FILE})
endmacro()
# VTK for pictures (overlays, montages, plots) rendered off-screen.
find_package(VTK 9.1 REQUIRED COMPONENTS
  CommonCore CommonDataModel CommonExecutionModel IOImage RenderingCore RenderingFreeType)
# DCMTK for DICOM in and out (Parametric Map, SEG).
find_package(DCMTK REQUIRED NO_MODULE)
# The DICOM node serves associations from a pool of threads.
find_package(Threads REQUIRED)

# Small well-kept libraries instead of hand-written parsing, JSON and logging.
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3.9 REQUIRED)
# fmt is used through spdlog (<spdlog/fmt/fmt.h>), bundled or external.
find_package(spdlog REQUIRED)

if(RECONTRAST_BUILD_TESTING)
  find_package(GTest REQUIRED)
  # The PyTorch oracle of the fidelity tests: Debian's python3-torch lives in the system interpreter,
  # which may not be the first python3 on PATH.
  set(RECONTRAST_PYTHON "" CACHE FILEPATH "Python 3 interpreter with torch and torchvision (fidelity tests)")
  if(NOT RECONTRAST_PYTHON)
    foreach(_candidate /usr/bin/python3 python3)
      find_program(_recontrast_python_candidate NAMES ${_candidate} NO_CACHE)
      if(_recontrast_python_candidate)
        execute_process(COMMAND ${_recontrast_python_candidate} -c "import torch, torchvision"
          RESULT_VARIABLE _recontrast_python_ok OUTPUT_QUIET ERROR_QUIET)
        if(_recontrast_python_ok EQUAL 0)
          set(RECONTRAST_PYTHON "${_recontrast_python_candidate}" CACHE FILEPATH "" FORCE)
          break()
        endif()
      endif()
      unset(_recontrast_python_candidate)
    endforeach()
  endif()
  if(RECONTRAST_PYTHON)
    message(STATUS "ReContrast: PyTorch oracle for fidelity tests: ${RECONTRAST_PYTHON}")
  else()
    message(STATUS "ReContrast: no Python with torch+torchvision found; fidelity tests against PyTorch will be skipped")
  endif()
endif()
