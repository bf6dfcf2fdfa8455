# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# GoogleTest: unit tests (only when RECONTRAST_BUILD_TESTING is ON).
if(RECONTRAST_BUILD_TESTING OR DEFINED USE_SYSTEM_GTEST)
  recontrast_superbuild_use_system(GTest GTEST)
  if(NOT USE_SYSTEM_GTEST)
    recontrast_superbuild_install_project(GTest "https://github.com/google/googletest.git" "v1.14.0" "lib/cmake/GTest")
  endif()
else()
  message(STATUS "ReContrast SuperBuild: GTest from the system (not needed: RECONTRAST_BUILD_TESTING is OFF)")
endif()
