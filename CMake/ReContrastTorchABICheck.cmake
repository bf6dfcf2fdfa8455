# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# Configure-time check that LibTorch, the C++ compiler settings of this project and ITK agree on
# libstdc++'s dual ABI (_GLIBCXX_USE_CXX11_ABI). A mismatch otherwise shows up late, as undefined
# references to c10::Error with std::__cxx11::basic_string arguments.

include(CheckCXXSourceCompiles)

function(_recontrast_abi_of_flags flags out_var)
  set(${out_var} "" PARENT_SCOPE)
  if(flags MATCHES "_GLIBCXX_USE_CXX11_ABI=([01])")
    set(${out_var} "${CMAKE_MATCH_1}" PARENT_SCOPE)
  endif()
endfunction()

# 1. The ABI LibTorch was built with: TORCH_CXX_FLAGS states it on Linux.
_recontrast_abi_of_flags("${TORCH_CXX_FLAGS}" RECONTRAST_TORCH_CXX11_ABI)

# 2. The ABI this project compiles with (the compiler default, unless CMAKE_CXX_FLAGS override it).
set(CMAKE_REQUIRED_QUIET ON)
check_cxx_source_compiles("
#include <string>
#if !defined(_GLIBCXX_USE_CXX11_ABI) || _GLIBCXX_USE_CXX11_ABI != 1
#  error old ABI
#endif
int main() { return 0; }" RECONTRAST_COMPILER_CXX11_ABI_IS_1)
check_cxx_source_compiles("
#include <string>
#if !defined(_GLIBCXX_USE_CXX11_ABI)
#  error not libstdc++
#endif
int main() { return 0; }" RECONTRAST_COMPILER_IS_LIBSTDCXX)
unset(CMAKE_REQUIRED_QUIET)

if(NOT RECONTRAST_COMPILER_IS_LIBSTDCXX)
  message(STATUS "ReContrast: C++ ABI check skipped (not libstdc++)")
  return()
endif()
if(RECONTRAST_COMPILER_CXX11_ABI_IS_1)
  set(_project_abi 1)
else()
  set(_project_abi 0)
endif()
# TORCH_CXX_FLAGS is added to every target that links torch, so those targets use LibTorch's ABI;
# everything else (ITK, VTK, the ITK layer) uses the compiler's. Both must be the same.
if(RECONTRAST_TORCH_CXX11_ABI STREQUAL "")
  set(RECONTRAST_TORCH_CXX11_ABI ${_project_abi})
endif()

# 3. The ABI ITK was built with: its C++ libraries export std::__cxx11 symbols only under ABI 1.
set(_itk_abi "")
find_program(RECONTRAST_NM NAMES nm)
find_library(_recontrast_itkcommon NAMES ITKCommon-5.2 ITKCommon-5.3 ITKCommon-5.4 ITKCommon
  HINTS "${ITK_DIR}/../.." "${ITK_DIR}/../../.." NO_CACHE)
if(RECONTRAST_NM AND _recontrast_itkcommon)
  execute_process(COMMAND ${RECONTRAST_NM} -D --defined-only "${_recontrast_itkcommon}"
    OUTPUT_VARIABLE _itk_symbols ERROR_QUIET RESULT_VARIABLE _nm_result)
  if(_nm_result EQUAL 0 AND _itk_symbols)
    if(_itk_symbols MATCHES "__cxx11")
      set(_itk_abi 1)
    else()
      set(_itk_abi 0)
    endif()
  endif()
endif()

if(NOT RECONTRAST_TORCH_CXX11_ABI STREQUAL _project_abi)
  message(FATAL_ERROR
    "ReContrast: LibTorch was built with _GLIBCXX_USE_CXX11_ABI=${RECONTRAST_TORCH_CXX11_ABI} but this "
    "compiler builds with _GLIBCXX_USE_CXX11_ABI=${_project_abi}. Use a LibTorch with the matching ABI "
    "(the 'cxx11-abi' archives, or any LibTorch >= 2.7) or build every dependency with the same setting.")
endif()
if(NOT _itk_abi STREQUAL "" AND NOT _itk_abi STREQUAL _project_abi)
  message(FATAL_ERROR
    "ReContrast: ITK (${_recontrast_itkcommon}) was built with _GLIBCXX_USE_CXX11_ABI=${_itk_abi} but LibTorch "
    "and this compiler use ${_project_abi}; they cannot be linked into one program.")
endif()
message(STATUS "ReContrast: C++11 ABI check passed (LibTorch ${RECONTRAST_TORCH_CXX11_ABI}, compiler ${_project_abi}, ITK "
               "${_itk_abi})")
