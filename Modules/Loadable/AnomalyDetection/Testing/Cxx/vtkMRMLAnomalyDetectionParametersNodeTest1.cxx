/*==============================================================================

  ReContrast for Slicer and ITK
  Licensed under the Apache License, Version 2.0 (see LICENSE).

==============================================================================*/

// AnomalyDetection MRML includes
#include "vtkMRMLAnomalyDetectionParametersNode.h"

// MRML includes
#include "vtkMRMLCoreTestingMacros.h"
#include <vtkMRMLScene.h>

// VTK includes
#include <vtkNew.h>

// The parameter node's settings survive saving and reloading the scene (as
// vtkMRMLCropVolumeParametersNodeTest1 checks its node with the core testing macros).
int vtkMRMLAnomalyDetectionParametersNodeTest1(int, char*[])
{
  vtkNew<vtkMRMLAnomalyDetectionParametersNode> node1;
  EXERCISE_ALL_BASIC_MRML_METHODS(node1.GetPointer());

  TEST_SET_GET_STRING(node1.GetPointer(), InputVolumeNodeID);
  TEST_SET_GET_STRING(node1.GetPointer(), AnomalyMapNodeID);
  TEST_SET_GET_STRING(node1.GetPointer(), SegmentationNodeID);
  TEST_SET_GET_STRING(node1.GetPointer(), RegionTableNodeID);
  TEST_SET_GET_STRING(node1.GetPointer(), SliceScoreTableNodeID);
  TEST_SET_GET_STRING(node1.GetPointer(), SliceScoreChartNodeID);
  TEST_SET_GET_DOUBLE_RANGE(node1.GetPointer(), Threshold, -1.0, 10.0);
  TEST_SET_GET_BOOLEAN(node1.GetPointer(), ModelCalibrated);

  // Defaults a new panel starts from.
  vtkNew<vtkMRMLAnomalyDetectionParametersNode> defaults;
  CHECK_STD_STRING(defaults->GetDevice(), "cpu");
  CHECK_STD_STRING(defaults->GetPrecision(), "fp32");
  CHECK_STD_STRING(defaults->GetColorMap(), "hot");
  CHECK_DOUBLE_TOLERANCE(defaults->GetOpacity(), 0.5, 1e-12);
  CHECK_DOUBLE_TOLERANCE(defaults->GetThreshold(), -1.0, 1e-12);
  CHECK_BOOL(defaults->GetModelCalibrated(), false);
  // Empty: the training CLI module's default backbone (the engine's), not a copy of it.
  CHECK_STD_STRING(defaults->GetTrainingBackbone(), "");

  // The opacity is clamped to [0, 1].
  defaults->SetOpacity(3.0);
  CHECK_DOUBLE_TOLERANCE(defaults->GetOpacity(), 1.0, 1e-12);

  // Round trip through a saved scene.
  vtkNew<vtkMRMLScene> scene;
  scene->RegisterNodeClass(vtkSmartPointer<vtkMRMLAnomalyDetectionParametersNode>::New());
  vtkNew<vtkMRMLAnomalyDetectionParametersNode> saved;
  saved->SetModelPath("/models/brain-mr.rcm");
  saved->SetDevice("cuda");
  saved->SetPrecision("bf16");
  saved->SetThreshold(0.625);
  saved->SetOpacity(0.75);
  saved->SetColorMap("rainbow");
  saved->SetModelCalibrated(true);
  saved->SetNormalScore(0.25);
  saved->SetRecommendedThreshold(0.5);
  saved->SetVolumeScore(0.875);
  saved->SetCalibratedScore(4.5);
  saved->SetSliceAxis(1);
  saved->SetTrainingDataDirectory("/data/normal scans");
  saved->SetTrainingBackbone("resnet18");
  saved->SetTrainingIterations(500);
  saved->SetTrainingImageSize(128);
  saved->SetTrainingOutputModelPath("/models/new.rcm");
  saved->SetTrainingEncoderWeights("imagenet");
  scene->AddNode(saved.GetPointer());
  scene->SetSaveToXMLString(1);
  CHECK_BOOL(scene->Commit() != 0, true);
  const std::string xml = scene->GetSceneXMLString();

  vtkNew<vtkMRMLScene> reloaded;
  reloaded->RegisterNodeClass(vtkSmartPointer<vtkMRMLAnomalyDetectionParametersNode>::New());
  reloaded->SetLoadFromXMLString(1);
  reloaded->SetSceneXMLString(xml);
  reloaded->Import();
  vtkMRMLAnomalyDetectionParametersNode* loaded = vtkMRMLAnomalyDetectionParametersNode::SafeDownCast(reloaded->GetFirstNodeByClass("vtkMRMLAnomalyDetectionParametersNode"));
  CHECK_NOT_NULL(loaded);
  CHECK_STD_STRING(loaded->GetModelPath(), "/models/brain-mr.rcm");
  CHECK_STD_STRING(loaded->GetDevice(), "cuda");
  CHECK_STD_STRING(loaded->GetPrecision(), "bf16");
  CHECK_DOUBLE_TOLERANCE(loaded->GetThreshold(), 0.625, 1e-12);
  CHECK_DOUBLE_TOLERANCE(loaded->GetOpacity(), 0.75, 1e-12);
  CHECK_STD_STRING(loaded->GetColorMap(), "rainbow");
  CHECK_BOOL(loaded->GetModelCalibrated(), true);
  CHECK_DOUBLE_TOLERANCE(loaded->GetNormalScore(), 0.25, 1e-12);
  CHECK_DOUBLE_TOLERANCE(loaded->GetRecommendedThreshold(), 0.5, 1e-12);
  CHECK_DOUBLE_TOLERANCE(loaded->GetVolumeScore(), 0.875, 1e-12);
  CHECK_DOUBLE_TOLERANCE(loaded->GetCalibratedScore(), 4.5, 1e-12);
  CHECK_INT(loaded->GetSliceAxis(), 1);
  CHECK_STD_STRING(loaded->GetTrainingDataDirectory(), "/data/normal scans");
  CHECK_STD_STRING(loaded->GetTrainingBackbone(), "resnet18");
  CHECK_INT(loaded->GetTrainingIterations(), 500);
  CHECK_INT(loaded->GetTrainingImageSize(), 128);
  CHECK_STD_STRING(loaded->GetTrainingOutputModelPath(), "/models/new.rcm");
  CHECK_STD_STRING(loaded->GetTrainingEncoderWeights(), "imagenet");

  return EXIT_SUCCESS;
}
