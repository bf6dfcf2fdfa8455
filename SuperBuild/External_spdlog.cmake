# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# spdlog (and the fmt it brings, bundled or external): logging of the command-line tools.
recontrast_superbuild_use_system(spdlog SPDLOG)
if(NOT USE_SYSTEM_SPDLOG)
  recontrast_superbuild_install_project(spdlog "https://github.com/gabime/spdlog.git" "v1.14.1"
    "lib/cmake/spdlog" -DSPDLOG_BUILD_EXAMPLE:BOOL=OFF -DSPDLOG_BUILD_TESTS:BOOL=OFF)
endif()
