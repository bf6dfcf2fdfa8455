/*==============================================================================

  ReContrast for Slicer and ITK
  Licensed under the Apache License, Version 2.0 (see LICENSE).

==============================================================================*/

#ifndef __vtkSlicerAnomalyDetectionLogic_h
#define __vtkSlicerAnomalyDetectionLogic_h

// Slicer includes
#include "vtkSlicerModuleLogic.h"

#include "vtkSlicerAnomalyDetectionModuleLogicExport.h"

// VTK includes
#include <vtkCommand.h>

// STD includes
#include <string>
#include <vector>

class vtkMRMLAnomalyDetectionParametersNode;
class vtkOrientedImageData;
namespace recontrast
{
namespace visualization
{
struct RegionRow;
}
} // namespace recontrast
class vtkMRMLCommandLineModuleNode;
class vtkMRMLScalarVolumeNode;

/// \brief The Anomaly Detection module's logic: runs the ReContrast CLI modules and turns their
/// outputs into what the viewer shows.
///
/// The model never runs in Slicer's process: scoring, training and model description are CLI
/// modules (Modules/CLI), run as vtkSlicerCropVolumeLogic runs
/// ResampleScalarVectorDWIVolume (Modules/Loadable/CropVolume/Logic), so progress and Cancel come
/// from the CLI infrastructure and a LibTorch failure ends a child process, not Slicer.
///
/// When a detection completes, the logic shows the map as a heat overlay (foreground layer of every
/// slice view, colour table and window from Libs/Visualization's HeatDisplay), makes the anomalous
/// regions (found in this process from the map, so that moving the threshold needs no CLI run) a
/// segmentation with one named, coloured segment per region, fills the region table and the
/// per-slice score table, and shows the score plot.
class VTK_SLICER_ANOMALYDETECTION_MODULE_LOGIC_EXPORT vtkSlicerAnomalyDetectionLogic : public vtkSlicerModuleLogic
{
public:
  static vtkSlicerAnomalyDetectionLogic* New();
  vtkTypeMacro(vtkSlicerAnomalyDetectionLogic, vtkSlicerModuleLogic);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  /// What a model file says about itself, and what this computer offers to run it.
  struct ModelInfo
  {
    bool Valid{ false };
    std::string Error; ///< Why the description failed (Valid false).
    std::string Summary;
    std::string Backbone;
    int ImageSize{ 0 };
    bool Calibrated{ false };
    double RecommendedThreshold{ 0.0 };
    double NormalScore{ 0.0 };
    bool CudaAvailable{ false };
    bool BFloat16Available{ false };
  };

  /// Invoked on the logic when a description started by RequestModelDescription() is known; the
  /// call data is the model path (const char*).
  enum
  {
    ModelDescribedEvent = vtkCommand::UserEvent + 701
  };

  /// Describes a model file with the ReContrastModelInfo CLI module (reads the file, never runs the
  /// model), never waiting: returns true with `info` filled when the description is known (the file
  /// is unchanged since it was last described, successfully or not); otherwise starts the module in
  /// the background and returns false, and ModelDescribedEvent follows, after which this returns
  /// true for the same file. A newer request supersedes an older one. The parameter node, when
  /// given, receives the model's calibration (calibrated, normal score, recommended threshold).
  bool RequestModelDescription(const std::string& modelPath, vtkMRMLAnomalyDetectionParametersNode* parameters, ModelInfo& info);

  /// Starts scoring the parameter node's input volume with its model, in the background. Returns
  /// the CLI node to observe (status, progress, Cancel()), or nullptr with GetLastError() set.
  /// The results are loaded when the node completes.
  vtkMRMLCommandLineModuleNode* StartDetection(vtkMRMLAnomalyDetectionParametersNode* parameters);

  /// Finds the anomalous regions of the current anomaly map at the threshold that applies, here in
  /// Slicer's process (the map is already loaded; no model runs), and shows them as the
  /// segmentation and the region table. Returns false with GetLastError() set when there is no map
  /// or no threshold (the regions are then cleared) or the map cannot be analysed.
  bool UpdateRegions(vtkMRMLAnomalyDetectionParametersNode* parameters);

  /// Cancels a run this logic started. Slicer's CLI task marks a run Running only after it has
  /// written the run's inputs, which overwrites a Cancel that came before
  /// (vtkSlicerCLIModuleLogic::ApplyTask): the logic cancels again when the run starts, so that a
  /// quick Cancel is never lost.
  void CancelRun(vtkMRMLCommandLineModuleNode* cliNode);

  /// Starts training a model on the parameter node's training folder, in the background.
  vtkMRMLCommandLineModuleNode* StartTraining(vtkMRMLAnomalyDetectionParametersNode* parameters);

  /// The threshold that applies: the node's when set (>= 0), otherwise the model's recommended one
  /// when the model is calibrated, otherwise -1 (none).
  static double EffectiveThreshold(vtkMRMLAnomalyDetectionParametersNode* parameters);

  /// Shows the anomaly map as heat over the input in every slice view, with the node's colour map,
  /// threshold (values below it are transparent) and opacity. Cheap: called on every slider move.
  void UpdateHeatDisplay(vtkMRMLAnomalyDetectionParametersNode* parameters);

  /// Centres every slice view on slice `sliceIndex` of the map along its slice axis (the plot's
  /// point that was clicked). Returns false when there is no map or the index is out of range.
  bool JumpToSlice(vtkMRMLAnomalyDetectionParametersNode* parameters, int sliceIndex);

  /// The one-sentence reason a run of the project's CLI modules failed (the last line of its error
  /// output, without the program's name), for the panel.
  static std::string ErrorSentence(vtkMRMLCommandLineModuleNode* cliNode);

  /// The last error, one sentence for the user.
  std::string GetLastError() const { return this->LastError; }

protected:
  vtkSlicerAnomalyDetectionLogic();
  ~vtkSlicerAnomalyDetectionLogic() override;

  void RegisterNodes() override;
  void SetMRMLSceneInternal(vtkMRMLScene* newScene) override;
  void ProcessMRMLNodesEvents(vtkObject* caller, unsigned long event, void* callData) override;

  /// The description a finished ReContrastModelInfo run returned.
  static ModelInfo ModelInfoFromRun(vtkMRMLCommandLineModuleNode* cliNode);
  /// The cached description of `modelPath` when the file is unchanged since (nullptr otherwise).
  const ModelInfo* CachedModelInfo(const std::string& modelPath);
  void CacheModelInfo(const std::string& modelPath, const ModelInfo& info);
  static void StoreCalibration(vtkMRMLAnomalyDetectionParametersNode* parameters, const ModelInfo& info);

  /// A run in progress: the parameter node it belongs to and where its outputs go.
  struct PendingRunInfo;
  /// The parameter node a run was started for (nullptr when it has left the scene).
  vtkMRMLAnomalyDetectionParametersNode* ParametersOf(const PendingRunInfo& run);

  /// Loads a completed run's outputs (map, regions, tables, plot) into the scene.
  void OnDetectionCompleted(vtkMRMLCommandLineModuleNode* cliNode, const PendingRunInfo& run);
  void OnTrainingCompleted(vtkMRMLCommandLineModuleNode* cliNode, const PendingRunInfo& run);
  void OnModelDescriptionFinished(vtkMRMLCommandLineModuleNode* cliNode, const PendingRunInfo& run);

  /// Region table and segmentation from the regions and their label image (nullptr: none).
  void ShowRegions(vtkMRMLAnomalyDetectionParametersNode* parameters, const std::vector<recontrast::visualization::RegionRow>& rows, vtkOrientedImageData* labels);
  void LoadSliceScores(vtkMRMLAnomalyDetectionParametersNode* parameters, const std::string& reportJson);

  /// Starts a CLI module node of `moduleName`; nullptr (and LastError) when the module is missing.
  vtkMRMLCommandLineModuleNode* CreateCLINode(const char* moduleName);
  /// Observes and applies a run in the background; false (everything undone, LastError set) when
  /// Slicer could not schedule it.
  bool ApplyObserved(const char* moduleName, vtkMRMLCommandLineModuleNode* cliNode, const PendingRunInfo& run);
  void RemoveNodeByID(const std::string& nodeID);
  /// A file name in Slicer's temporary folder for a run's report.
  std::string TemporaryFilePath(const std::string& name);

private:
  vtkSlicerAnomalyDetectionLogic(const vtkSlicerAnomalyDetectionLogic&); // Not implemented
  void operator=(const vtkSlicerAnomalyDetectionLogic&);                 // Not implemented

  class vtkInternal;
  vtkInternal* Internal;
  std::string LastError;
};

#endif
