/*==============================================================================

  ReContrast for Slicer and ITK
  Licensed under the Apache License, Version 2.0 (see LICENSE).

==============================================================================*/

// AnomalyDetection includes
#include "vtkMRMLAnomalyDetectionParametersNode.h"
#include "vtkSlicerAnomalyDetectionLogic.h"

// Slicer includes
#include <vtkSlicerApplicationLogic.h>

// MRML includes
#include "vtkMRMLCoreTestingMacros.h"
#include <vtkMRMLColorTableNode.h>
#include <vtkMRMLScalarVolumeDisplayNode.h>
#include <vtkMRMLScalarVolumeNode.h>
#include <vtkMRMLScene.h>
#include <vtkMRMLSliceCompositeNode.h>
#include <vtkMRMLSliceNode.h>

// VTK includes
#include <vtkImageData.h>
#include <vtkMatrix4x4.h>
#include <vtkNew.h>

namespace
{
// A 20x16x10 volume node whose voxels are `value`, with a peak at (10, 8, 5), spacing 2 x 1.5 x 3.
vtkMRMLScalarVolumeNode* AddVolume(vtkMRMLScene* scene, const char* name, float value, float peak)
{
  vtkNew<vtkImageData> image;
  image->SetDimensions(20, 16, 10);
  image->AllocateScalars(VTK_FLOAT, 1);
  float* voxels = static_cast<float*>(image->GetScalarPointer());
  for (vtkIdType i = 0; i < 20 * 16 * 10; ++i)
  {
    voxels[i] = value;
  }
  *static_cast<float*>(image->GetScalarPointer(10, 8, 5)) = peak;
  vtkMRMLScalarVolumeNode* node = vtkMRMLScalarVolumeNode::SafeDownCast(scene->AddNewNodeByClass("vtkMRMLScalarVolumeNode", name));
  node->SetSpacing(2.0, 1.5, 3.0);
  node->SetOrigin(-10.0, 20.0, 5.0);
  node->SetAndObserveImageData(image.GetPointer());
  return node;
}
} // namespace

// The logic's display side with a scene and no Slicer application (as vtkSlicerVolumesLogicTest1
// exercises the Volumes logic): heat display, slice jumps, thresholds, refusals without CLI modules.
int vtkSlicerAnomalyDetectionLogicTest1(int, char*[])
{
  vtkNew<vtkMRMLScene> scene;
  vtkNew<vtkSlicerApplicationLogic> appLogic;
  appLogic->SetMRMLScene(scene.GetPointer());
  vtkNew<vtkSlicerAnomalyDetectionLogic> logic;
  logic->SetMRMLApplicationLogic(appLogic.GetPointer());
  logic->SetMRMLScene(scene.GetPointer());

  vtkMRMLAnomalyDetectionParametersNode* parameters = vtkMRMLAnomalyDetectionParametersNode::SafeDownCast(scene->AddNewNodeByClass("vtkMRMLAnomalyDetectionParametersNode"));
  CHECK_NOT_NULL(parameters);

  // Without an input there is nothing to run, and the sentence says what is missing.
  CHECK_NULL(logic->StartDetection(parameters));
  CHECK_STD_STRING(logic->GetLastError(), "Choose the scan to examine.");

  vtkMRMLScalarVolumeNode* input = AddVolume(scene.GetPointer(), "Brain", 100.0f, 100.0f);
  parameters->SetInputVolumeNodeID(input->GetID());
  CHECK_NULL(logic->StartDetection(parameters));
  CHECK_STD_STRING(logic->GetLastError(), "Choose a model file.");

  // No CLI modules are loaded in this test: the run is refused with a sentence, not a crash.
  parameters->SetModelPath("/nonexistent/model.rcm");
  CHECK_NULL(logic->StartDetection(parameters));
  CHECK_STD_STRING(logic->GetLastError(), "The CLI module ReContrastAnomalyDetection is not loaded; reinstall the ReContrast extension.");
  CHECK_BOOL(logic->UpdateRegions(parameters), false);
  CHECK_STD_STRING(logic->GetLastError(), "There is no anomaly map yet: press Apply first.");

  // Thresholds: the user's, else the calibrated model's, else none.
  CHECK_DOUBLE_TOLERANCE(vtkSlicerAnomalyDetectionLogic::EffectiveThreshold(parameters), -1.0, 1e-12);
  parameters->SetModelCalibrated(true);
  parameters->SetRecommendedThreshold(0.4);
  parameters->SetNormalScore(0.1);
  CHECK_DOUBLE_TOLERANCE(vtkSlicerAnomalyDetectionLogic::EffectiveThreshold(parameters), 0.4, 1e-12);
  parameters->SetThreshold(0.3);
  CHECK_DOUBLE_TOLERANCE(vtkSlicerAnomalyDetectionLogic::EffectiveThreshold(parameters), 0.3, 1e-12);

  // Heat display of a map: colour table, window over the visible values (the threshold a third of the
  // way up, the maximum at the top), values below the threshold hidden, the map over the scan in
  // every slice view with the opacity.
  vtkMRMLScalarVolumeNode* map = AddVolume(scene.GetPointer(), "Brain anomaly map", 0.05f, 0.9f);
  parameters->SetAnomalyMapNodeID(map->GetID());
  parameters->SetOpacity(0.7);
  vtkMRMLSliceCompositeNode* composite = vtkMRMLSliceCompositeNode::SafeDownCast(scene->AddNewNodeByClass("vtkMRMLSliceCompositeNode"));
  logic->UpdateHeatDisplay(parameters);
  vtkMRMLScalarVolumeDisplayNode* display = map->GetScalarVolumeDisplayNode();
  CHECK_NOT_NULL(display);
  vtkMRMLColorTableNode* colors = vtkMRMLColorTableNode::SafeDownCast(display->GetColorNode());
  CHECK_NOT_NULL(colors);
  CHECK_INT(colors->GetNumberOfColors(), 256);
  CHECK_INT(display->GetAutoWindowLevel(), 0);
  CHECK_DOUBLE_TOLERANCE(display->GetWindowLevelMin(), 0.0, 1e-6);
  CHECK_DOUBLE_TOLERANCE(display->GetWindowLevelMax(), 0.9, 1e-6);
  CHECK_INT(display->GetApplyThreshold(), 1);
  CHECK_DOUBLE_TOLERANCE(display->GetLowerThreshold(), 0.3, 1e-9);
  CHECK_STRING(composite->GetBackgroundVolumeID(), input->GetID());
  CHECK_STRING(composite->GetForegroundVolumeID(), map->GetID());
  CHECK_DOUBLE_TOLERANCE(composite->GetForegroundOpacity(), 0.7, 1e-12);

  // The colour table is shared: a second update does not add another.
  logic->UpdateHeatDisplay(parameters);
  CHECK_INT(scene->GetNumberOfNodesByClass("vtkMRMLColorTableNode"), 1);

  // A click on the plot's point of slice 5 (axis k) centres the views on that slice.
  vtkMRMLSliceNode* slice = vtkMRMLSliceNode::SafeDownCast(scene->AddNewNodeByClass("vtkMRMLSliceNode"));
  slice->SetOrientationToAxial();
  parameters->SetSliceAxis(2);
  CHECK_BOOL(logic->JumpToSlice(parameters, 5), true);
  vtkNew<vtkMatrix4x4> ijkToRAS;
  map->GetIJKToRASMatrix(ijkToRAS.GetPointer());
  const double expectedS = ijkToRAS->GetElement(2, 2) * 5.0 + ijkToRAS->GetElement(2, 3);
  CHECK_DOUBLE_TOLERANCE(slice->GetSliceToRAS()->GetElement(2, 3), expectedS, 1e-6);
  CHECK_BOOL(logic->JumpToSlice(parameters, 10), false);

  return EXIT_SUCCESS;
}
