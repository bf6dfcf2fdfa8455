#!/usr/bin/env python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Compile-checks the Slicer loadable module (Modules/Loadable/AnomalyDetection) without a Slicer build.

C++ Slicer modules build only inside a Slicer build tree, which these machines cannot make. This
check runs the compiler in syntax-only mode on every source of the module (MRML, Logic, the Qt
module and widget, the tests) against the real public headers of Slicer and CTK source trees, with
Debian's Qt 5, VTK 9.1 and ITK development packages. Only what Slicer's and CTK's CMake would generate
is supplied here:
  - export headers (<Name>Export.h): the export macro the headers next to the includer use, defined
    empty (visibility does not matter for a syntax check);
  - the few configure headers listed in CONFIGURE_HEADERS below;
  - ui_<Widget>.h from the module's .ui file, by Qt's own uic.
Any other missing header, and any compiler error, fails the check.

Usage:
  check_module_syntax.py <Slicer-source> <CTK-source> [--vtkaddon <dir>] [--sem <dir>]

vtkAddon and SlicerExecutionModel are parts of Slicer's sources that its superbuild checks out
(the commits are pinned in Slicer's SuperBuild.cmake and SuperBuild/External_SlicerExecutionModel.cmake);
by default they are looked for next to the Slicer tree as vtkAddon/ and SlicerExecutionModel/.
See Documentation/DeveloperGuide.md ("Checking the Slicer module").
"""
import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPOSITORY = os.path.dirname(os.path.dirname(HERE))
MODULE = os.path.join(REPOSITORY, "Modules", "Loadable", "AnomalyDetection")

# Configure headers CMake writes in a Slicer build; only what the included headers use.
CONFIGURE_HEADERS = {
    "vtkSlicerConfigure.h": "#define Slicer_VERSION \"5.12.3\"\n#define Slicer_VERSION_MAJOR 5\n"
                            "#define Slicer_VERSION_MINOR 12\n#ifndef CHECK_WITHOUT_PYTHONQT\n"
                            "#define Slicer_USE_PYTHONQT\n#endif\n",
    "vtkMRMLConfigure.h": "",
    "vtkSegmentationCoreConfigure.h": "",
    "vtkAddonConfigure.h": "",
    "vtkSlicerVersionConfigure.h": "#include \"vtkSlicerVersionConfigureMinimal.h\"\n",
    "vtkSlicerVersionConfigureMinimal.h": "#define Slicer_VERSION \"5.12.3\"\n#define Slicer_VERSION_MAJOR 5\n"
                                          "#define Slicer_VERSION_MINOR 12\n#define Slicer_VERSION_PATCH 3\n",
    "qSlicerBaseQTCoreConfigure.h": "",
    "qSlicerBaseQTGUIConfigure.h": "",
    "ctkConfig.h": "",
    "vtkITKConfigure.h": "",
    "vtkMRMLLogicConfigure.h": "",
    "qMRMLWidgetsConfigure.h": "",
    "ModuleDescriptionParserConfigure.h": "",
}

# Compile definitions that CTK's CMake gives the users of its VTK widgets
# (Libs/Visualization/VTK/Widgets/CMakeLists.txt: target_compile_definitions INTERFACE).
DEFINITIONS = ["-DCTK_USE_QVTKOPENGLWIDGET=1", "-DCTK_HAS_QVTKOPENGLNATIVEWIDGET_H=1"]
# The application test includes qSlicerApplicationHelper, whose Python console needs PythonQt's
# headers (not in these trees): it is checked as for a Slicer built without Python, the kind it runs in.
WITHOUT_PYTHONQT = {"qSlicerAnomalyDetectionModuleAppTest.cxx"}

MISSING = re.compile(r"^(?P<includer>[^:\s]+):\d+:\d+: fatal error: (?P<header>[^:]+): No such file or directory")
EXPORT_MACRO = re.compile(r"\b([A-Za-z][A-Za-z0-9_]*_EXPORT)\b")


def fail(message):
    print("check_module_syntax: " + message, file=sys.stderr)
    sys.exit(1)


def header_dirs(root, subdirs):
    dirs = set()
    for sub in subdirs:
        base = os.path.join(root, sub)
        for path, names, files in os.walk(base):
            names[:] = [n for n in names if n not in ("Testing", "Templates", "Python", ".git")]
            if any(f.endswith((".h", ".txx")) for f in files):
                dirs.add(path)
    return sorted(dirs)


def export_macro_for(includer, header):
    """The export macro the headers beside the includer use: first those that include this export
    header themselves, else every header of the folder (a library's headers often include it only
    through one common header)."""
    folder = os.path.dirname(includer)
    texts = []
    for name in sorted(os.listdir(folder)):
        if name.endswith(".h"):
            with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as f:
                texts.append(f.read())
    for candidates in ([t for t in texts if header in t], texts):
        counts = collections.Counter(m for t in candidates for m in EXPORT_MACRO.findall(t)
                                     if m not in ("Q_DECL_EXPORT", "VTK_EXPORT"))
        if counts:
            return counts.most_common(1)[0][0]
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("slicer", help="Slicer source tree")
    parser.add_argument("ctk", help="CTK source tree")
    parser.add_argument("--vtkaddon", help="vtkAddon source tree (default: <slicer>/../vtkAddon)")
    parser.add_argument("--sem", help="SlicerExecutionModel source tree (default: <slicer>/../SlicerExecutionModel)")
    parser.add_argument("--compiler", default=os.environ.get("CXX", "g++"))
    args = parser.parse_args()

    slicer = os.path.abspath(args.slicer)
    ctk = os.path.abspath(args.ctk)
    vtkaddon = os.path.abspath(args.vtkaddon or os.path.join(slicer, "..", "vtkAddon"))
    sem = os.path.abspath(args.sem or os.path.join(slicer, "..", "SlicerExecutionModel"))
    checks = [(slicer, "Libs/MRML/Core/vtkMRMLNode.h", "a Slicer source tree"),
              (ctk, "Libs/Widgets/ctkSliderWidget.h", "a CTK source tree"),
              (vtkaddon, "vtkLoggingMacros.h", "a vtkAddon source tree (give it with --vtkaddon)"),
              (sem, "ModuleDescriptionParser/ModuleDescription.h",
               "a SlicerExecutionModel source tree (give it with --sem)")]
    for root, probe, what in checks:
        if not os.path.isfile(os.path.join(root, probe)):
            fail("'%s' is not %s (no %s)." % (root, what, probe))
    uic = shutil.which("uic", path="/usr/lib/qt5/bin:" + os.environ.get("PATH", "")) or shutil.which("uic-qt5")
    if not uic:
        fail("Qt 5's uic is missing (Debian: qtbase5-dev-tools).")
    try:
        qt_flags = subprocess.run(["pkg-config", "--cflags", "Qt5Widgets", "Qt5Xml", "Qt5Network"], check=True,
                                  capture_output=True, text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        fail("Qt 5 development files are missing (Debian: qtbase5-dev).")
    vtk_include = "/usr/include/vtk-9.1"
    if not os.path.isfile(os.path.join(vtk_include, "vtkObject.h")):
        fail("VTK 9.1 development files are missing (Debian: libvtk9-dev).")
    # MRML's volume nodes carry ITK's metadata dictionary.
    itk_include = next((d for d in sorted(os.listdir("/usr/include"), reverse=True) if d.startswith("ITK-")), None)
    if not itk_include:
        fail("ITK development files are missing (Debian: libinsighttoolkit5-dev).")
    itk_include = os.path.join("/usr/include", itk_include)

    generated = tempfile.mkdtemp(prefix="recontrast-slicer-syntax-")
    try:
        subprocess.run([uic, os.path.join(MODULE, "Resources", "UI", "qSlicerAnomalyDetectionModuleWidget.ui"),
                        "-o", os.path.join(generated, "ui_qSlicerAnomalyDetectionModuleWidget.h")], check=True)
        include_dirs = [generated, MODULE, os.path.join(MODULE, "MRML"), os.path.join(MODULE, "Logic"),
                        os.path.join(REPOSITORY, "Libs", "Visualization", "include"),
                        os.path.join(REPOSITORY, "Libs", "ITKReContrast", "include")]
        include_dirs += header_dirs(slicer, ["Base", "Libs", "Modules/Loadable"])
        include_dirs += header_dirs(ctk, ["Libs"])
        include_dirs += [vtkaddon, os.path.join(sem, "ModuleDescriptionParser")]
        flags = ["-std=c++17", "-fPIC", "-fsyntax-only", "-Wall"] + ["-I" + d for d in include_dirs]
        flags += DEFINITIONS + qt_flags + ["-I" + vtk_include, "-I" + itk_include]

        sources = []
        for sub in ["MRML", "Logic", ".", os.path.join("Testing", "Cxx")]:
            folder = os.path.join(MODULE, sub)
            sources += sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".cxx"))

        supplied = []
        failures = 0
        for source in sources:
            for _ in range(200):
                extra = ["-DCHECK_WITHOUT_PYTHONQT"] if os.path.basename(source) in WITHOUT_PYTHONQT else []
                result = subprocess.run([args.compiler] + flags + extra + [source], capture_output=True, text=True)
                missing = next((m for m in map(MISSING.match, result.stderr.splitlines()) if m), None)
                if result.returncode == 0 or not missing:
                    break
                header = missing.group("header")
                target = os.path.join(generated, header)
                if header in CONFIGURE_HEADERS:
                    content = CONFIGURE_HEADERS[header]
                elif header.endswith("Export.h"):
                    macro = export_macro_for(missing.group("includer"), header)
                    if not macro:
                        break
                    content = "#define %s\n" % macro
                else:
                    break  # a header that neither the trees nor CMake provide: a real error
                guard = re.sub(r"\W", "_", header)
                with open(target, "w") as f:
                    f.write("// Supplied by check_module_syntax.py for %s\n#ifndef %s\n#define %s\n%s#endif\n"
                            % (header, guard, guard, content, ))
                supplied.append(header)
            name = os.path.relpath(source, REPOSITORY)
            # Warnings in the module's own code count as errors; Slicer's and CTK's are theirs.
            own_warnings = [line for line in result.stderr.splitlines()
                            if line.startswith(MODULE) and ": warning:" in line]
            if result.returncode == 0 and own_warnings:
                result = subprocess.CompletedProcess(result.args, 1, result.stdout, "\n".join(own_warnings))
            if result.returncode == 0:
                print("ok      " + name)
            else:
                failures += 1
                print("FAILED  " + name)
                print(result.stderr)
        print("supplied headers: " + ", ".join(sorted(set(supplied))))
        if failures:
            fail("%d of %d sources do not compile against these Slicer and CTK headers." % (failures, len(sources)))
        print("all %d sources of the Slicer module compile against %s and %s" % (len(sources), slicer, ctk))
    finally:
        shutil.rmtree(generated, ignore_errors=True)


if __name__ == "__main__":
    main()
