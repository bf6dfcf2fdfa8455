# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# Warnings and sanitizers for the project's own targets.
#
# recontrast_target_settings(<target>) applies them; third-party headers come in as SYSTEM
# include directories through imported targets, so their warnings are not ours to fix.

add_library(ReContrastCompileSettings INTERFACE)
add_library(ReContrast::CompileSettings ALIAS ReContrastCompileSettings)

if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(ReContrastCompileSettings INTERFACE
    -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual -Wformat=2)
  if(RECONTRAST_WARNINGS_AS_ERRORS)
    target_compile_options(ReContrastCompileSettings INTERFACE -Werror)
  endif()
  if(RECONTRAST_ENABLE_SANITIZERS OR RECONTRAST_BUILD_FUZZERS)
    # Reports stay recoverable so that the suppression files can name third-party ones; the scripts
    # make every other report fatal at run time (UBSAN_OPTIONS=halt_on_error=1).
    target_compile_options(ReContrastCompileSettings INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer)
    target_link_options(ReContrastCompileSettings INTERFACE -fsanitize=address,undefined)
  endif()
  if(RECONTRAST_BUILD_FUZZERS)
    # Coverage for libFuzzer in all of the project's code; the fuzz targets add its main. Debian's
    # ITK headers accept only GCC: Testing/Fuzzing/ItkClangShim.h presents clang as the GCC it emulates.
    target_compile_options(ReContrastCompileSettings INTERFACE -fsanitize=fuzzer-no-link -fgnuc-version=10.2
      "SHELL:-include ${PROJECT_SOURCE_DIR}/Testing/Fuzzing/ItkClangShim.h")
  endif()
elseif(MSVC)
  target_compile_options(ReContrastCompileSettings INTERFACE /W4 /permissive-)
  if(RECONTRAST_WARNINGS_AS_ERRORS)
    target_compile_options(ReContrastCompileSettings INTERFACE /WX)
  endif()
  if(RECONTRAST_ENABLE_SANITIZERS)
    target_compile_options(ReContrastCompileSettings INTERFACE /fsanitize=address)
  endif()
endif()

# -Wpedantic separately: code that uses ITK's class macros cannot have it (see below).
add_library(ReContrastPedantic INTERFACE)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(ReContrastPedantic INTERFACE -Wpedantic)
endif()

# Link the settings privately so they never leak to consumers of the installed package.
function(recontrast_target_settings target)
  target_link_libraries(${target} PRIVATE $<BUILD_INTERFACE:ReContrast::CompileSettings>
                                          $<BUILD_INTERFACE:ReContrastPedantic>)
endfunction()

# recontrast_add_gtest(<name> <sources...> [INTERNAL] [ITK] [LIBRARIES <libs...>]) builds a GoogleTest
# executable and registers each of its tests with ctest. It links the shared engine (public API),
# or with INTERNAL the engine's objects, so white-box tests reach the torch-facing classes.
function(recontrast_add_gtest name)
  cmake_parse_arguments(_arg "INTERNAL;ITK" "" "LIBRARIES" ${ARGN})
  add_executable(${name} ${_arg_UNPARSED_ARGUMENTS})
  if(_arg_INTERNAL)
    target_link_libraries(${name} PRIVATE ReContrastEngineObjects)
  else()
    target_link_libraries(${name} PRIVATE ReContrast::Engine)
  endif()
  target_link_libraries(${name} PRIVATE GTest::gtest GTest::gtest_main ${_arg_LIBRARIES})
  if(_arg_ITK)
    recontrast_itk_target_settings(${name})
  else()
    recontrast_target_settings(${name})
  endif()
  gtest_discover_tests(${name}
    WORKING_DIRECTORY "${CMAKE_BINARY_DIR}"
    # One variable only: gtest_discover_tests splits a list-valued ENVIRONMENT into separate arguments.
    # Tests find the source tree from __FILE__ (Libs/ReContrast/test/PythonOracle.h).
    PROPERTIES ENVIRONMENT "RECONTRAST_PYTHON=${RECONTRAST_PYTHON}"
    DISCOVERY_TIMEOUT 60)
endfunction()

# Targets that use ITK's class macros: ITK 5.2's itkNewMacro/itkTypeMacro end with their own ';'
# and ITK's idiom adds another, which -Wpedantic reports; everything else stays on.
function(recontrast_itk_target_settings target)
  target_link_libraries(${target} PRIVATE $<BUILD_INTERFACE:ReContrast::CompileSettings>)
endfunction()

# A shared library of the project: `target`, also known as ReContrast::<exportName> (in the build and
# to installed consumers), versioned with the project, installed into the ReContrastTargets export set.
function(recontrast_add_library target exportName)
  add_library(${target} SHARED ${ARGN})
  add_library(ReContrast::${exportName} ALIAS ${target})
  set_target_properties(${target} PROPERTIES
    VERSION ${PROJECT_VERSION}
    SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}
    EXPORT_NAME ${exportName})
  install(TARGETS ${target} EXPORT ReContrastTargets
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
endfunction()
