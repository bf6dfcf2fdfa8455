# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# CLI11: command-line parsing of the `recontrast` command (header-only).
recontrast_superbuild_use_system(CLI11 CLI11 2.1)
if(NOT USE_SYSTEM_CLI11)
  recontrast_superbuild_install_project(CLI11 "https://github.com/CLIUtils/CLI11.git" "v2.4.2" "share/cmake/CLI11"
    -DCLI11_BUILD_TESTS:BOOL=OFF -DCLI11_BUILD_EXAMPLES:BOOL=OFF -DCLI11_BUILD_DOCS:BOOL=OFF)
endif()
