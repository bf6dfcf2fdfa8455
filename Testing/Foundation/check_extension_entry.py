#!/usr/bin/env python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Checks the Slicer Extensions Index entry (Utilities/ExtensionsIndex/ReContrast.json) against the
catalog-entry schema's rules (version 1.0.2 of Slicer's Schemas/, restated here: the allowed and
required keys and their types) and against the project's own CMake: the same category, the
repository at the project's homepage, and the superbuild's inner build folder.
Usage: check_extension_entry.py <source-dir>"""
import json
import os
import re
import sys

ALLOWED = {
    "$schema": str, "category": str, "scm_url": str, "scm_revision": str, "scm_type": str,
    "build_dependencies": list, "dicom_support_rule": str, "build_subdirectory": str,
    "enabled": bool, "tier": int,
}
REQUIRED = ("$schema", "category", "scm_url")


def main():
    source = sys.argv[1]
    with open(os.path.join(source, "Utilities", "ExtensionsIndex", "ReContrast.json")) as f:
        entry = json.load(f)
    errors = []
    for key in REQUIRED:
        if key not in entry:
            errors.append("the required key %s is missing" % key)
    for key, value in entry.items():
        if key not in ALLOWED:
            errors.append("%s is not a key of the catalog-entry schema" % key)
        elif not isinstance(value, ALLOWED[key]) or (ALLOWED[key] is int and isinstance(value, bool)):
            errors.append("%s should be of type %s" % (key, ALLOWED[key].__name__))
    if entry.get("scm_type", "git") not in ("git", "local"):
        errors.append("scm_type must be git or local")
    if not 1 <= entry.get("tier", 1) <= 5:
        errors.append("tier must be between 1 and 5")
    if not re.search(r"slicer-extension-catalog-entry-schema-v1\.0\.\d+\.json#$", entry.get("$schema", "")):
        errors.append("$schema does not name a catalog-entry schema")

    with open(os.path.join(source, "CMakeLists.txt")) as f:
        homepage = re.search(r'HOMEPAGE_URL "([^"]+)"', f.read()).group(1)
    with open(os.path.join(source, "CMake", "ReContrastSlicerExtension.cmake")) as f:
        extension_cmake = f.read()
    category = re.search(r'set\(EXTENSION_CATEGORY "([^"]+)"\)', extension_cmake).group(1)
    if entry.get("category") != category:
        errors.append("category %r differs from EXTENSION_CATEGORY %r" % (entry.get("category"), category))
    if entry.get("scm_url", "").removesuffix(".git") != homepage:
        errors.append("scm_url %r is not the project's homepage %r" % (entry.get("scm_url"), homepage))
    if "set(EXTENSION_BUILD_SUBDIRECTORY %s)" % entry.get("build_subdirectory") not in extension_cmake:
        errors.append("build_subdirectory %r is not the superbuild's inner build" % entry.get("build_subdirectory"))
    for error in errors:
        print("FAILED: " + error)
    if errors:
        return 1
    print("extensions index entry passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
