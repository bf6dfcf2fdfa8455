# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# nlohmann/json: model-file metadata and JSON reports (header-only).
recontrast_superbuild_use_system(nlohmann_json NLOHMANN_JSON 3.9)
if(NOT USE_SYSTEM_NLOHMANN_JSON)
  recontrast_superbuild_install_project(nlohmann_json "https://github.com/nlohmann/json.git" "v3.11.3"
    "share/cmake/nlohmann_json" -DJSON_BuildTests:BOOL=OFF)
endif()
