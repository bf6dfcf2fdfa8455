# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# ITKReContrast: anomaly maps of scans with ReContrast models (an ITK module in the layout of
# ITKModuleTemplate). In this repository it is built by CMakeLists.txt next to this file; as an
# ITK remote module these are its dependencies.
set(DOCUMENTATION "Unsupervised anomaly detection (ReContrast, NeurIPS 2023) for ITK images:
an anomaly-map filter for 2-D and 3-D scans with the input's geometry, the slice pre-processing
shared with training, training samples from sets of scans, and anomalous-region analysis.")

itk_module(ITKReContrast
  DEPENDS
    ITKCommon
    ITKImageIntensity
    ITKImageFilterBase
    ITKThresholding
    ITKConnectedComponents
    ITKLabelMap
    ITKBinaryMathematicalMorphology
    ITKIOImageBase
  TEST_DEPENDS
    ITKTestKernel
  DESCRIPTION "${DOCUMENTATION}"
  EXCLUDE_FROM_DEFAULT)
