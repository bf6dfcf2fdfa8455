/*==============================================================================

  ReContrast for Slicer and ITK
  Licensed under the Apache License, Version 2.0 (see LICENSE).

==============================================================================*/

// AnomalyDetection includes
#include "vtkSlicerAnomalyDetectionLogic.h"
#include "vtkMRMLAnomalyDetectionParametersNode.h"

// ReContrast Slicer-free display helpers (Libs/Visualization) and the model-free region filter of
// the ITK layer (header-only ITK code: no engine, no LibTorch in Slicer's process)
#include <ReContrast/HeatDisplay.h>
#include <ReContrast/ResultTables.h>
#include <itkReContrastAnomalyRegionsImageFilter.h>
#include <itkReContrastExceptionText.h>

// Slicer includes
#include <vtkSlicerCLIModuleLogic.h>
#include <vtkSlicerPlotsLogic.h>
#include <vtkSlicerSegmentationsModuleLogic.h>

// MRML includes
#include <vtkMRMLApplicationLogic.h>
#include <vtkMRMLColorTableNode.h>
#include <vtkMRMLCommandLineModuleNode.h>
#include <vtkMRMLPlotChartNode.h>
#include <vtkMRMLPlotSeriesNode.h>
#include <vtkMRMLScalarVolumeDisplayNode.h>
#include <vtkMRMLScalarVolumeNode.h>
#include <vtkMRMLScene.h>
#include <vtkMRMLSegmentationNode.h>
#include <vtkMRMLSliceCompositeNode.h>
#include <vtkMRMLSliceNode.h>
#include <vtkMRMLTableNode.h>

// Segmentation core includes
#include <vtkOrientedImageData.h>
#include <vtkSegment.h>
#include <vtkSegmentation.h>

// VTK includes
#include <vtkDoubleArray.h>
#include <vtkFloatArray.h>
#include <vtkImageData.h>
#include <vtkIntArray.h>
#include <vtkMatrix4x4.h>
#include <vtkNew.h>
#include <vtkObjectFactory.h>
#include <vtkPointData.h>
#include <vtkStringArray.h>
#include <vtkTable.h>

// STD includes
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

namespace
{
// The project's CLI modules (Modules/CLI), by their module names.
const char* DetectionModule = "ReContrastAnomalyDetection";
const char* TrainingModule = "ReContrastTrainModel";
const char* ModelInfoModule = "ReContrastModelInfo";

// Distinguishable segment colours, the most anomalous region first.
const double SegmentColors[][3] = { { 0.90, 0.10, 0.10 }, { 1.00, 0.55, 0.00 }, { 0.95, 0.85, 0.10 }, { 0.75, 0.20, 0.75 },
                                    { 0.10, 0.75, 0.85 }, { 0.35, 0.80, 0.25 }, { 0.25, 0.40, 0.95 }, { 0.60, 0.40, 0.20 } };

std::string ReadTextFile(const std::string& path)
{
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

bool IsFinished(int status)
{
  return (status & vtkMRMLCommandLineModuleNode::Completed) != 0 || status == vtkMRMLCommandLineModuleNode::Cancelled;
}
} // namespace

//----------------------------------------------------------------------------
/// A run in progress: what it belongs to and where its outputs go.
struct vtkSlicerAnomalyDetectionLogic::PendingRunInfo
{
  enum Kind
  {
    Detection,
    Training,
    ModelDescription
  };
  Kind RunKind{ Detection };
  std::string ParametersNodeID;
  std::string ReportPath;
  std::string ModelPath; ///< ModelDescription: the file described.
  /// Detection: the map node this run made (none when it reuses the previous run's); removed
  /// again when the run fails or is cancelled, so that no empty map is left behind.
  std::string CreatedMapNodeID;
  /// Cancel was asked for; asked again when the run starts (see CancelRun).
  bool CancelRequested{ false };
};

class vtkSlicerAnomalyDetectionLogic::vtkInternal
{
public:
  std::map<vtkMRMLCommandLineModuleNode*, PendingRunInfo> Runs;
  /// The last description, valid while the file keeps its modification time: the panel asks again
  /// on every entry and the description costs a process start.
  std::string DescribedPath;
  std::filesystem::file_time_type DescribedTime;
  ModelInfo Described;
  /// The file of the latest RequestModelDescription() that started a run; older runs' answers are
  /// cached but not announced.
  std::string RequestedPath;
  /// Finished description runs, removed at the next request (never inside their own event).
  std::vector<std::string> FinishedDescriptionNodeIDs;
  /// The run whose status event is being handled: it must outlive its own event.
  vtkMRMLCommandLineModuleNode* NotifyingRun{ nullptr };
};

//----------------------------------------------------------------------------
vtkStandardNewMacro(vtkSlicerAnomalyDetectionLogic);

//----------------------------------------------------------------------------
vtkSlicerAnomalyDetectionLogic::vtkSlicerAnomalyDetectionLogic()
  : Internal(new vtkInternal)
{
}

//----------------------------------------------------------------------------
vtkSlicerAnomalyDetectionLogic::~vtkSlicerAnomalyDetectionLogic()
{
  delete this->Internal;
}

//----------------------------------------------------------------------------
void vtkSlicerAnomalyDetectionLogic::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "Runs in progress: " << this->Internal->Runs.size() << "\n";
  os << indent << "LastError: " << this->LastError << "\n";
}

//----------------------------------------------------------------------------
void vtkSlicerAnomalyDetectionLogic::RegisterNodes()
{
  if (!this->GetMRMLScene())
  {
    vtkErrorMacro("RegisterNodes: no scene");
    return;
  }
  this->GetMRMLScene()->RegisterNodeClass(vtkSmartPointer<vtkMRMLAnomalyDetectionParametersNode>::New());
}

//----------------------------------------------------------------------------
void vtkSlicerAnomalyDetectionLogic::SetMRMLSceneInternal(vtkMRMLScene* newScene)
{
  // Runs of the old scene can no longer deliver their results.
  this->Internal->Runs.clear();
  vtkNew<vtkIntArray> events;
  events->InsertNextValue(vtkMRMLScene::EndBatchProcessEvent);
  this->SetAndObserveMRMLSceneEventsInternal(newScene, events.GetPointer());
}

//----------------------------------------------------------------------------
vtkMRMLCommandLineModuleNode* vtkSlicerAnomalyDetectionLogic::CreateCLINode(const char* moduleName)
{
  vtkSlicerCLIModuleLogic* cliLogic = vtkSlicerCLIModuleLogic::SafeDownCast(this->GetModuleLogic(moduleName));
  if (!cliLogic)
  {
    this->LastError = std::string("The CLI module ") + moduleName + " is not loaded; reinstall the ReContrast extension.";
    return nullptr;
  }
  vtkMRMLCommandLineModuleNode* cliNode = cliLogic->CreateNodeInScene();
  if (!cliNode)
  {
    this->LastError = std::string("Could not create a run of ") + moduleName + ".";
  }
  return cliNode;
}

//----------------------------------------------------------------------------
std::string vtkSlicerAnomalyDetectionLogic::TemporaryFilePath(const std::string& name)
{
  std::string folder = ".";
  const char* temporary = this->GetMRMLApplicationLogic() ? this->GetMRMLApplicationLogic()->GetTemporaryPath() : nullptr;
  if (temporary && *temporary)
  {
    folder = temporary;
  }
  return folder + "/" + name;
}

//----------------------------------------------------------------------------
bool vtkSlicerAnomalyDetectionLogic::RequestModelDescription(const std::string& modelPath, vtkMRMLAnomalyDetectionParametersNode* parameters, ModelInfo& info)
{
  vtkMRMLScene* scene = this->GetMRMLScene();
  std::vector<std::string> keep;
  for (const std::string& nodeID : this->Internal->FinishedDescriptionNodeIDs)
  {
    vtkMRMLNode* node = scene ? scene->GetNodeByID(nodeID) : nullptr;
    if (node && node == this->Internal->NotifyingRun)
    {
      keep.push_back(nodeID); // asked from the run's own event (the panel showing the answer)
      continue;
    }
    this->RemoveNodeByID(nodeID);
  }
  this->Internal->FinishedDescriptionNodeIDs = keep;
  info = ModelInfo();
  if (modelPath.empty())
  {
    info.Error = "Choose a model file.";
    return true;
  }
  if (const ModelInfo* cached = this->CachedModelInfo(modelPath))
  {
    info = *cached;
    StoreCalibration(parameters, info);
    return true;
  }
  if (modelPath == this->Internal->RequestedPath)
  {
    for (const auto& entry : this->Internal->Runs)
    {
      if (entry.second.RunKind == PendingRunInfo::ModelDescription && entry.second.ModelPath == modelPath)
      {
        return false; // already being read
      }
    }
  }
  vtkMRMLCommandLineModuleNode* cliNode = scene ? this->CreateCLINode(ModelInfoModule) : nullptr;
  if (!cliNode)
  {
    info.Error = scene ? this->LastError : "There is no scene.";
    return true;
  }
  cliNode->SetParameterAsString("model", modelPath);
  PendingRunInfo run;
  run.RunKind = PendingRunInfo::ModelDescription;
  run.ParametersNodeID = parameters && parameters->GetID() ? parameters->GetID() : "";
  run.ModelPath = modelPath;
  this->Internal->RequestedPath = modelPath;
  if (!this->ApplyObserved(ModelInfoModule, cliNode, run))
  {
    info.Error = this->LastError;
    return true;
  }
  return false;
}

//----------------------------------------------------------------------------
const vtkSlicerAnomalyDetectionLogic::ModelInfo* vtkSlicerAnomalyDetectionLogic::CachedModelInfo(const std::string& modelPath)
{
  std::error_code noThrow;
  const std::filesystem::file_time_type modified = std::filesystem::last_write_time(modelPath, noThrow);
  if (!noThrow && !modelPath.empty() && modelPath == this->Internal->DescribedPath && modified == this->Internal->DescribedTime)
  {
    return &this->Internal->Described;
  }
  return nullptr;
}

//----------------------------------------------------------------------------
void vtkSlicerAnomalyDetectionLogic::CacheModelInfo(const std::string& modelPath, const ModelInfo& info)
{
  // Failures are kept too, with the file's time: a file being copied changes its time and is
  // asked again.
  std::error_code noThrow;
  const std::filesystem::file_time_type modified = std::filesystem::last_write_time(modelPath, noThrow);
  this->Internal->DescribedPath = !noThrow ? modelPath : std::string();
  this->Internal->DescribedTime = modified;
  this->Internal->Described = info;
}

//----------------------------------------------------------------------------
void vtkSlicerAnomalyDetectionLogic::StoreCalibration(vtkMRMLAnomalyDetectionParametersNode* parameters, const ModelInfo& info)
{
  if (parameters && info.Valid)
  {
    MRMLNodeModifyBlocker blocker(parameters);
    parameters->SetModelCalibrated(info.Calibrated);
    parameters->SetNormalScore(info.NormalScore);
    parameters->SetRecommendedThreshold(info.RecommendedThreshold);
  }
}

//----------------------------------------------------------------------------
//----------------------------------------------------------------------------
std::string vtkSlicerAnomalyDetectionLogic::ErrorSentence(vtkMRMLCommandLineModuleNode* cliNode)
{
  // The project's CLI modules end their error output with one sentence, "<program>: <sentence>".
  std::string text = cliNode ? cliNode->GetErrorText() : std::string();
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
  {
    text.pop_back();
  }
  const size_t lastLine = text.rfind('\n');
  if (lastLine != std::string::npos)
  {
    text = text.substr(lastLine + 1);
  }
  const size_t colon = text.find(": ");
  if (text.rfind("ReContrast", 0) == 0 && colon != std::string::npos && text.find(' ') > colon)
  {
    text = text.substr(colon + 2);
  }
  return text;
}

//----------------------------------------------------------------------------
vtkSlicerAnomalyDetectionLogic::ModelInfo vtkSlicerAnomalyDetectionLogic::ModelInfoFromRun(vtkMRMLCommandLineModuleNode* cliNode)
{
  ModelInfo info;
  const int status = cliNode->GetStatus();
  if ((status & vtkMRMLCommandLineModuleNode::ErrorsMask) || status == vtkMRMLCommandLineModuleNode::Cancelled || cliNode->GetParameterAsString("backbone").empty())
  {
    info.Error = ErrorSentence(cliNode);
    if (info.Error.empty())
    {
      info.Error = "The model file could not be read.";
    }
    return info;
  }
  info.Valid = true;
  info.Summary = cliNode->GetParameterAsString("summary");
  info.Backbone = cliNode->GetParameterAsString("backbone");
  info.ImageSize = std::atoi(cliNode->GetParameterAsString("imageSize").c_str());
  info.Calibrated = cliNode->GetParameterAsString("calibrated") == "true";
  info.RecommendedThreshold = std::atof(cliNode->GetParameterAsString("recommendedThreshold").c_str());
  info.NormalScore = std::atof(cliNode->GetParameterAsString("normalScoreMean").c_str());
  info.CudaAvailable = cliNode->GetParameterAsString("cudaAvailable") == "true";
  info.BFloat16Available = cliNode->GetParameterAsString("bf16Available") == "true";
  return info;
}

//----------------------------------------------------------------------------
bool vtkSlicerAnomalyDetectionLogic::ApplyObserved(const char* moduleName, vtkMRMLCommandLineModuleNode* cliNode, const PendingRunInfo& run)
{
  vtkNew<vtkIntArray> events;
  events->InsertNextValue(vtkMRMLCommandLineModuleNode::StatusModifiedEvent);
  vtkObserveMRMLNodeEventsMacro(cliNode, events.GetPointer());
  this->Internal->Runs[cliNode] = run;
  vtkSlicerCLIModuleLogic::SafeDownCast(this->GetModuleLogic(moduleName))->Apply(cliNode, false);
  if (cliNode->GetStatus() == vtkMRMLCommandLineModuleNode::Idle)
  {
    // The CLI logic could not schedule the run (it only warns): undo everything this run made.
    this->Internal->Runs.erase(cliNode);
    vtkUnObserveMRMLNodeMacro(cliNode);
    if (!run.CreatedMapNodeID.empty())
    {
      if (vtkMRMLAnomalyDetectionParametersNode* parameters = this->ParametersOf(run))
      {
        parameters->SetAnomalyMapNodeID(nullptr);
      }
      this->RemoveNodeByID(run.CreatedMapNodeID);
    }
    this->GetMRMLScene()->RemoveNode(cliNode);
    this->LastError = std::string("Slicer could not start ") + moduleName + ".";
    return false;
  }
  return true;
}

//----------------------------------------------------------------------------
void vtkSlicerAnomalyDetectionLogic::RemoveNodeByID(const std::string& nodeID)
{
  if (!nodeID.empty() && this->GetMRMLScene())
  {
    if (vtkMRMLNode* node = this->GetMRMLScene()->GetNodeByID(nodeID))
    {
      this->GetMRMLScene()->RemoveNode(node);
    }
  }
}

//----------------------------------------------------------------------------
double vtkSlicerAnomalyDetectionLogic::EffectiveThreshold(vtkMRMLAnomalyDetectionParametersNode* parameters)
{
  if (!parameters)
  {
    return -1.0;
  }
  if (parameters->GetThreshold() >= 0.0)
  {
    return parameters->GetThreshold();
  }
  return parameters->GetModelCalibrated() ? parameters->GetRecommendedThreshold() : -1.0;
}

//----------------------------------------------------------------------------
vtkMRMLCommandLineModuleNode* vtkSlicerAnomalyDetectionLogic::StartDetection(vtkMRMLAnomalyDetectionParametersNode* parameters)
{
  vtkMRMLScene* scene = this->GetMRMLScene();
  if (!parameters || !scene)
  {
    this->LastError = "No parameters to run with.";
    return nullptr;
  }
  vtkMRMLScalarVolumeNode* input = parameters->GetInputVolumeNode();
  if (!input || !input->GetImageData())
  {
    this->LastError = "Choose the scan to examine.";
    return nullptr;
  }
  if (parameters->GetModelPath().empty())
  {
    this->LastError = "Choose a model file.";
    return nullptr;
  }
  vtkMRMLCommandLineModuleNode* cliNode = this->CreateCLINode(DetectionModule);
  if (!cliNode)
  {
    return nullptr;
  }

  // The map node is reused by later runs on the same scan, so its display settings stay.
  PendingRunInfo run;
  vtkMRMLScalarVolumeNode* map = parameters->GetAnomalyMapNode();
  if (!map)
  {
    const std::string name = std::string(input->GetName() ? input->GetName() : "Scan") + " anomaly map";
    map = vtkMRMLScalarVolumeNode::SafeDownCast(scene->AddNewNodeByClass("vtkMRMLScalarVolumeNode", name));
    parameters->SetAnomalyMapNodeID(map->GetID());
    run.CreatedMapNodeID = map->GetID();
  }

  run.RunKind = PendingRunInfo::Detection;
  run.ParametersNodeID = parameters->GetID();
  run.ReportPath = this->TemporaryFilePath(std::string("ReContrast-") + cliNode->GetID() + "-report.json");
  std::remove(run.ReportPath.c_str());

  cliNode->SetParameterAsString("inputVolume", input->GetID());
  cliNode->SetParameterAsString("outputVolume", map->GetID());
  cliNode->SetParameterAsString("model", parameters->GetModelPath());
  cliNode->SetParameterAsString("device", parameters->GetDevice());
  cliNode->SetParameterAsString("precision", parameters->GetPrecision());
  cliNode->SetParameterAsString("report", run.ReportPath);
  // The regions are found here, in Slicer's process, from the map the run returns.
  cliNode->SetParameterAsDouble("threshold", EffectiveThreshold(parameters));

  return this->ApplyObserved(DetectionModule, cliNode, run) ? cliNode : nullptr;
}

//----------------------------------------------------------------------------
vtkMRMLCommandLineModuleNode* vtkSlicerAnomalyDetectionLogic::StartTraining(vtkMRMLAnomalyDetectionParametersNode* parameters)
{
  if (!parameters || parameters->GetTrainingDataDirectory().empty())
  {
    this->LastError = "Choose the folder of normal scans to learn from.";
    return nullptr;
  }
  if (parameters->GetTrainingOutputModelPath().empty())
  {
    this->LastError = "Choose where to write the model file.";
    return nullptr;
  }
  vtkMRMLCommandLineModuleNode* cliNode = this->CreateCLINode(TrainingModule);
  if (!cliNode)
  {
    return nullptr;
  }
  cliNode->SetParameterAsString("trainingData", parameters->GetTrainingDataDirectory());
  cliNode->SetParameterAsString("outputModel", parameters->GetTrainingOutputModelPath());
  // Empty: the CLI module's own default applies (the backbones and their default are the engine's).
  if (!parameters->GetTrainingBackbone().empty())
  {
    cliNode->SetParameterAsString("backbone", parameters->GetTrainingBackbone());
  }
  cliNode->SetParameterAsInt("iterations", parameters->GetTrainingIterations());
  cliNode->SetParameterAsInt("imageSize", parameters->GetTrainingImageSize());
  // "imagenet": the CLI module downloads the backbone's weights into the cache when missing (its
  // progress is the run's); a path: that file.
  const std::string& encoderWeights = parameters->GetTrainingEncoderWeights();
  if (encoderWeights == "imagenet")
  {
    cliNode->SetParameterAsBool("imagenetEncoder", true);
  }
  else if (!encoderWeights.empty())
  {
    cliNode->SetParameterAsString("encoderWeights", encoderWeights);
  }
  cliNode->SetParameterAsString("device", parameters->GetDevice());

  PendingRunInfo run;
  run.RunKind = PendingRunInfo::Training;
  run.ParametersNodeID = parameters->GetID();
  return this->ApplyObserved(TrainingModule, cliNode, run) ? cliNode : nullptr;
}

//----------------------------------------------------------------------------
void vtkSlicerAnomalyDetectionLogic::CancelRun(vtkMRMLCommandLineModuleNode* cliNode)
{
  if (!cliNode || !cliNode->IsBusy())
  {
    return;
  }
  auto found = this->Internal->Runs.find(cliNode);
  if (found != this->Internal->Runs.end())
  {
    found->second.CancelRequested = true;
  }
  cliNode->Cancel();
}

//----------------------------------------------------------------------------
void vtkSlicerAnomalyDetectionLogic::ProcessMRMLNodesEvents(vtkObject* caller, unsigned long event, void* callData)
{
  vtkMRMLCommandLineModuleNode* cliNode = vtkMRMLCommandLineModuleNode::SafeDownCast(caller);
  if (!cliNode || event != vtkMRMLCommandLineModuleNode::StatusModifiedEvent)
  {
    this->Superclass::ProcessMRMLNodesEvents(caller, event, callData);
    return;
  }
  auto found = this->Internal->Runs.find(cliNode);
  if (found != this->Internal->Runs.end() && found->second.CancelRequested && cliNode->GetStatus() == vtkMRMLCommandLineModuleNode::Running)
  {
    cliNode->Cancel();
    return;
  }
  if (found == this->Internal->Runs.end() || !IsFinished(cliNode->GetStatus()))
  {
    return;
  }
  const PendingRunInfo run = found->second;
  this->Internal->Runs.erase(found);
  vtkUnObserveMRMLNodeMacro(cliNode);

  if (run.RunKind == PendingRunInfo::ModelDescription)
  {
    // Failed descriptions are answers too (the panel shows why).
    this->Internal->NotifyingRun = cliNode;
    this->OnModelDescriptionFinished(cliNode, run);
    this->Internal->NotifyingRun = nullptr;
    return;
  }
  if (cliNode->GetStatus() == vtkMRMLCommandLineModuleNode::Completed)
  {
    switch (run.RunKind)
    {
      case PendingRunInfo::Detection: this->OnDetectionCompleted(cliNode, run); break;
      case PendingRunInfo::Training: this->OnTrainingCompleted(cliNode, run); break;
      case PendingRunInfo::ModelDescription: break;
    }
  }
  else if (!run.CreatedMapNodeID.empty())
  {
    // A first run that failed or was cancelled leaves the scene as it found it.
    if (vtkMRMLAnomalyDetectionParametersNode* parameters = this->ParametersOf(run))
    {
      parameters->SetAnomalyMapNodeID(nullptr);
    }
    this->RemoveNodeByID(run.CreatedMapNodeID);
  }
  std::remove(run.ReportPath.c_str());
  // Keep the finished node: the widget reads its status and error text. It is removed with the
  // next run (the widget) or the scene.
  (void)callData;
}

//----------------------------------------------------------------------------
vtkMRMLAnomalyDetectionParametersNode* vtkSlicerAnomalyDetectionLogic::ParametersOf(const PendingRunInfo& run)
{
  return this->GetMRMLScene() ? vtkMRMLAnomalyDetectionParametersNode::SafeDownCast(this->GetMRMLScene()->GetNodeByID(run.ParametersNodeID)) : nullptr;
}

//----------------------------------------------------------------------------
void vtkSlicerAnomalyDetectionLogic::OnDetectionCompleted(vtkMRMLCommandLineModuleNode* cliNode, const PendingRunInfo& run)
{
  vtkMRMLAnomalyDetectionParametersNode* parameters = this->ParametersOf(run);
  if (!parameters || !parameters->GetAnomalyMapNode())
  {
    return;
  }
  const std::string report = ReadTextFile(run.ReportPath);
  MRMLNodeModifyBlocker blocker(parameters);
  parameters->SetVolumeScore(std::atof(cliNode->GetParameterAsString("volumeScore").c_str()));
  parameters->SetCalibratedScore(std::atof(cliNode->GetParameterAsString("calibratedScore").c_str()));
  this->LoadSliceScores(parameters, report);
  // Without a threshold (an uncalibrated model and none chosen yet) the map comes alone and the
  // regions follow when the user sets one.
  const std::string lastError = this->LastError;
  if (!this->UpdateRegions(parameters) && EffectiveThreshold(parameters) < 0.0)
  {
    this->LastError = lastError;
  }
  this->UpdateHeatDisplay(parameters);
}

//----------------------------------------------------------------------------
void vtkSlicerAnomalyDetectionLogic::OnTrainingCompleted(vtkMRMLCommandLineModuleNode* cliNode, const PendingRunInfo& run)
{
  // The new model is the one to use next.
  vtkMRMLAnomalyDetectionParametersNode* parameters = this->ParametersOf(run);
  if (!parameters)
  {
    return;
  }
  const std::string modelPath = cliNode->GetParameterAsString("outputModel");
  MRMLNodeModifyBlocker blocker(parameters);
  parameters->SetModelPath(modelPath);
  parameters->SetThreshold(-1.0);
  // The panel describes the new model (in the background) when it shows the finished run.
}

//----------------------------------------------------------------------------
void vtkSlicerAnomalyDetectionLogic::OnModelDescriptionFinished(vtkMRMLCommandLineModuleNode* cliNode, const PendingRunInfo& run)
{
  this->Internal->FinishedDescriptionNodeIDs.push_back(cliNode->GetID());
  if (cliNode->GetStatus() == vtkMRMLCommandLineModuleNode::Cancelled)
  {
    if (run.ModelPath == this->Internal->RequestedPath)
    {
      this->Internal->RequestedPath.clear();
    }
    return;
  }
  const ModelInfo info = ModelInfoFromRun(cliNode);
  this->CacheModelInfo(run.ModelPath, info);
  if (run.ModelPath != this->Internal->RequestedPath)
  {
    return; // superseded by a later request
  }
  this->Internal->RequestedPath.clear();
  StoreCalibration(this->ParametersOf(run), info);
  this->InvokeEvent(ModelDescribedEvent, const_cast<char*>(run.ModelPath.c_str()));
}

//----------------------------------------------------------------------------
void vtkSlicerAnomalyDetectionLogic::LoadSliceScores(vtkMRMLAnomalyDetectionParametersNode* parameters, const std::string& reportJson)
{
  vtkMRMLScene* scene = this->GetMRMLScene();
  recontrast::visualization::SliceScoreSeries series;
  try
  {
    series = recontrast::visualization::SliceScoresFromReport(reportJson);
  }
  catch (const std::exception& e)
  {
    this->LastError = e.what();
    return;
  }
  parameters->SetSliceAxis(series.axis);

  vtkMRMLTableNode* table = parameters->GetSliceScoreTableNode();
  if (!table)
  {
    table = vtkMRMLTableNode::SafeDownCast(scene->AddNewNodeByClass("vtkMRMLTableNode", "Anomaly score per slice"));
    parameters->SetSliceScoreTableNodeID(table->GetID());
  }
  vtkNew<vtkIntArray> slices;
  slices->SetName("Slice");
  vtkNew<vtkDoubleArray> scores;
  scores->SetName("Score");
  for (size_t k = 0; k < series.scores.size(); ++k)
  {
    // Slices too empty to score are left out of the plot rather than drawn at 0.
    if (series.scored[k])
    {
      slices->InsertNextValue(static_cast<int>(k));
      scores->InsertNextValue(series.scores[k]);
    }
  }
  {
    MRMLNodeModifyBlocker tableBlocker(table);
    table->RemoveAllColumns();
    table->AddColumn(slices.GetPointer());
    table->AddColumn(scores.GetPointer());
    table->SetColumnDescription("Slice", "Slice index along the scan's slice axis");
    table->SetColumnDescription("Score",
                                series.calibrated ? "Calibrated slice score: standard deviations above the normal slices at "
                                                    "this position"
                                                  : "Largest anomaly-map value of the slice");
  }

  vtkMRMLPlotChartNode* chart = parameters->GetSliceScoreChartNode();
  if (!chart)
  {
    chart = vtkMRMLPlotChartNode::SafeDownCast(scene->AddNewNodeByClass("vtkMRMLPlotChartNode", "Anomaly score per slice"));
    auto* plotSeries = vtkMRMLPlotSeriesNode::SafeDownCast(scene->AddNewNodeByClass("vtkMRMLPlotSeriesNode", "Slice score"));
    plotSeries->SetAndObserveTableNodeID(table->GetID());
    plotSeries->SetXColumnName("Slice");
    plotSeries->SetYColumnName("Score");
    plotSeries->SetPlotType(vtkMRMLPlotSeriesNode::PlotTypeScatter);
    plotSeries->SetMarkerStyle(vtkMRMLPlotSeriesNode::MarkerStyleCircle);
    plotSeries->SetColor(0.85, 0.15, 0.10);
    chart->AddAndObservePlotSeriesNodeID(plotSeries->GetID());
    chart->SetTitle("Anomaly score per slice");
    chart->SetXAxisTitle("Slice");
    parameters->SetSliceScoreChartNodeID(chart->GetID());
  }
  // A calibrated model's slice scores are in standard deviations above normal at each position.
  chart->SetYAxisTitle(series.calibrated ? "Score (SD above normal)" : "Score");
  if (auto* plotsLogic = vtkSlicerPlotsLogic::SafeDownCast(this->GetModuleLogic("Plots")))
  {
    plotsLogic->ShowChartInLayout(chart);
  }
}

//----------------------------------------------------------------------------
bool vtkSlicerAnomalyDetectionLogic::UpdateRegions(vtkMRMLAnomalyDetectionParametersNode* parameters)
{
  vtkMRMLScalarVolumeNode* mapNode = parameters ? parameters->GetAnomalyMapNode() : nullptr;
  vtkImageData* image = mapNode ? mapNode->GetImageData() : nullptr;
  vtkFloatArray* values = image ? vtkFloatArray::SafeDownCast(image->GetPointData()->GetScalars()) : nullptr;
  if (!this->GetMRMLScene() || !values || image->GetNumberOfPoints() == 0)
  {
    this->LastError = "There is no anomaly map yet: press Apply first.";
    return false;
  }
  const double threshold = EffectiveThreshold(parameters);
  std::vector<recontrast::visualization::RegionRow> rows;
  vtkNew<vtkOrientedImageData> labels;
  if (threshold >= 0.0)
  {
    // The map node's voxels as an ITK image in patient (LPS) coordinates, without a copy.
    using MapType = itk::Image<float, 3>;
    using FilterType = itk::ReContrastAnomalyRegionsImageFilter<MapType>;
    int dimensions[3];
    image->GetDimensions(dimensions);
    auto map = MapType::New();
    MapType::SizeType size;
    MapType::SpacingType spacing;
    MapType::PointType origin;
    MapType::DirectionType direction;
    double ijkToRASDirections[3][3];
    mapNode->GetIJKToRASDirections(ijkToRASDirections);
    for (unsigned int d = 0; d < 3; ++d)
    {
      const double flip = d < 2 ? -1.0 : 1.0; // RAS -> LPS
      size[d] = static_cast<itk::SizeValueType>(dimensions[d]);
      spacing[d] = mapNode->GetSpacing()[d];
      origin[d] = flip * mapNode->GetOrigin()[d];
      for (unsigned int c = 0; c < 3; ++c)
      {
        direction[d][c] = flip * ijkToRASDirections[d][c];
      }
    }
    map->SetRegions(size);
    map->SetSpacing(spacing);
    map->SetOrigin(origin);
    map->SetDirection(direction);
    map->GetPixelContainer()->SetImportPointer(values->GetPointer(0), static_cast<itk::SizeValueType>(values->GetNumberOfValues()), false);

    auto filter = FilterType::New();
    filter->SetInput(map);
    filter->SetThreshold(threshold);
    try
    {
      filter->Update();
    }
    catch (const itk::ExceptionObject& e)
    {
      this->LastError = "Could not find the anomalous regions: " + itk::ReContrastExceptionText(e);
      return false;
    }
    for (const auto& region : filter->GetRegions())
    {
      recontrast::visualization::RegionRow row;
      row.label = static_cast<int>(region.Label);
      row.voxels = static_cast<double>(region.VoxelCount);
      row.size = region.PhysicalVolume;
      row.maximumScore = region.MaximumScore;
      row.meanScore = region.MeanScore;
      row.centroidRAS = { -region.Centroid[0], -region.Centroid[1], region.Centroid[2] };
      row.peakRAS = { -region.PeakPoint[0], -region.PeakPoint[1], region.PeakPoint[2] };
      rows.push_back(row);
    }
    // The label image on the map's grid, for the segmentation.
    labels->SetExtent(image->GetExtent());
    labels->AllocateScalars(VTK_UNSIGNED_SHORT, 1);
    const auto* labelValues = filter->GetOutput()->GetBufferPointer();
    std::copy(labelValues, labelValues + values->GetNumberOfValues(), static_cast<unsigned short*>(labels->GetScalarPointer()));
    vtkNew<vtkMatrix4x4> ijkToRAS;
    mapNode->GetIJKToRASMatrix(ijkToRAS);
    labels->SetImageToWorldMatrix(ijkToRAS);
  }
  this->ShowRegions(parameters, rows, threshold >= 0.0 ? labels.GetPointer() : nullptr);
  if (threshold < 0.0)
  {
    this->LastError = "Set a threshold first (the model recommends none).";
    return false;
  }
  return true;
}

//----------------------------------------------------------------------------
void vtkSlicerAnomalyDetectionLogic::ShowRegions(vtkMRMLAnomalyDetectionParametersNode* parameters,
                                                 const std::vector<recontrast::visualization::RegionRow>& rows,
                                                 vtkOrientedImageData* labels)
{
  vtkMRMLScene* scene = this->GetMRMLScene();
  // Region table: one row per region, the most anomalous first (label 1).
  vtkMRMLTableNode* table = parameters->GetRegionTableNode();
  if (!table)
  {
    table = vtkMRMLTableNode::SafeDownCast(scene->AddNewNodeByClass("vtkMRMLTableNode", "Anomalous regions"));
    parameters->SetRegionTableNodeID(table->GetID());
  }
  vtkNew<vtkStringArray> names;
  names->SetName("Region");
  vtkNew<vtkDoubleArray> sizes;
  sizes->SetName("Size");
  vtkNew<vtkDoubleArray> maxima;
  maxima->SetName("Max score");
  vtkNew<vtkDoubleArray> means;
  means->SetName("Mean score");
  vtkNew<vtkDoubleArray> centroids;
  centroids->SetName("Centroid (RAS)");
  centroids->SetNumberOfComponents(3);
  for (const auto& row : rows)
  {
    names->InsertNextValue("Region " + std::to_string(row.label));
    sizes->InsertNextValue(row.size);
    maxima->InsertNextValue(row.maximumScore);
    means->InsertNextValue(row.meanScore);
    centroids->InsertNextTuple(row.centroidRAS.data());
  }
  {
    MRMLNodeModifyBlocker tableBlocker(table);
    table->RemoveAllColumns();
    table->AddColumn(names.GetPointer());
    table->AddColumn(sizes.GetPointer());
    table->AddColumn(maxima.GetPointer());
    table->AddColumn(means.GetPointer());
    table->AddColumn(centroids.GetPointer());
    table->SetColumnUnitLabel("Size", rows.empty() ? "mm3" : rows.front().sizeUnit);
    table->SetColumnUnitLabel("Centroid (RAS)", "mm");
  }

  // Segmentation: replaced as a whole, one segment per region.
  vtkMRMLSegmentationNode* segmentation = parameters->GetSegmentationNode();
  if (!segmentation)
  {
    segmentation = vtkMRMLSegmentationNode::SafeDownCast(scene->AddNewNodeByClass("vtkMRMLSegmentationNode", "Anomalous regions"));
    segmentation->CreateDefaultDisplayNodes();
    parameters->SetSegmentationNodeID(segmentation->GetID());
  }
  segmentation->GetSegmentation()->RemoveAllSegments();
  if (parameters->GetInputVolumeNode())
  {
    segmentation->SetReferenceImageGeometryParameterFromVolumeNode(parameters->GetInputVolumeNode());
  }
  if (labels && !rows.empty())
  {
    // One segment per label value; label i is the region of row i - 1 (labels count from 1 in the
    // order of the rows).
    if (!vtkSlicerSegmentationsModuleLogic::ImportLabelmapToSegmentationNode(labels, segmentation))
    {
      this->LastError = "The anomalous regions could not be made into a segmentation.";
    }
    vtkSegmentation* segments = segmentation->GetSegmentation();
    const int colorCount = static_cast<int>(sizeof(SegmentColors) / sizeof(SegmentColors[0]));
    for (int i = 0; i < segments->GetNumberOfSegments(); ++i)
    {
      vtkSegment* segment = segments->GetNthSegment(i);
      const int row = segment->GetLabelValue() - 1;
      if (row < 0 || row >= static_cast<int>(rows.size()))
      {
        continue;
      }
      char name[96];
      std::snprintf(name, sizeof(name), "Anomalous region %d (max %.3g)", rows[row].label, rows[row].maximumScore);
      segment->SetName(name);
      segment->SetColor(const_cast<double*>(SegmentColors[row % colorCount]));
    }
  }
}

//----------------------------------------------------------------------------
void vtkSlicerAnomalyDetectionLogic::UpdateHeatDisplay(vtkMRMLAnomalyDetectionParametersNode* parameters)
{
  vtkMRMLScene* scene = this->GetMRMLScene();
  vtkMRMLScalarVolumeNode* map = parameters ? parameters->GetAnomalyMapNode() : nullptr;
  if (!scene || !map || !map->GetImageData() || !map->GetImageData()->GetPointData()->GetScalars())
  {
    return;
  }
  vtkFloatArray* values = vtkFloatArray::SafeDownCast(map->GetImageData()->GetPointData()->GetScalars());
  if (!values || values->GetNumberOfValues() == 0)
  {
    this->LastError = "The anomaly map holds no float values.";
    return;
  }

  // One colour table per colour map, shared by every map of the scene.
  const std::string colorMap = parameters->GetColorMap().empty() ? "hot" : parameters->GetColorMap();
  const std::string tableName = "ReContrast heat (" + colorMap + ")";
  vtkMRMLColorTableNode* colors = vtkMRMLColorTableNode::SafeDownCast(scene->GetFirstNodeByName(tableName.c_str()));
  if (!colors)
  {
    std::vector<std::array<double, 3>> entries;
    try
    {
      entries = recontrast::visualization::HeatColorTable(colorMap, 256);
    }
    catch (const std::exception& e)
    {
      this->LastError = e.what();
      return;
    }
    // Filled before it enters the scene: one Modified event instead of one per colour.
    vtkNew<vtkMRMLColorTableNode> table;
    table->SetName(tableName.c_str());
    table->SetTypeToUser();
    table->SetNumberOfColors(static_cast<int>(entries.size()));
    for (size_t i = 0; i < entries.size(); ++i)
    {
      // Opaque: the display threshold hides what is below it and the layer's opacity blends the rest.
      table->SetColor(static_cast<int>(i), entries[i][0], entries[i][1], entries[i][2], 1.0);
    }
    table->SetHideFromEditors(false);
    colors = vtkMRMLColorTableNode::SafeDownCast(scene->AddNode(table.GetPointer()));
  }

  const double threshold = EffectiveThreshold(parameters);
  recontrast::visualization::HeatRange range;
  try
  {
    // With a threshold, the colours span what stays visible above it; without one (an uncalibrated
    // model before the user chose), the heat starts at half the map's maximum.
    range =
      threshold >= 0.0
        ? recontrast::visualization::ChooseThresholdedHeatRange(values->GetPointer(0), static_cast<size_t>(values->GetNumberOfValues()), threshold)
        : recontrast::visualization::ChooseHeatRange(
          values->GetPointer(0), static_cast<size_t>(values->GetNumberOfValues()), parameters->GetModelCalibrated() ? parameters->GetNormalScore() : std::nan(""), std::nan(""));
  }
  catch (const std::exception& e)
  {
    // A map without a finite value (the CLI module refuses NaN scans, but a map may be edited).
    this->LastError = e.what();
    return;
  }

  if (!map->GetScalarVolumeDisplayNode())
  {
    map->CreateDefaultDisplayNodes();
  }
  vtkMRMLScalarVolumeDisplayNode* display = map->GetScalarVolumeDisplayNode();
  {
    MRMLNodeModifyBlocker displayBlocker(display);
    display->SetAndObserveColorNodeID(colors->GetID());
    display->SetAutoWindowLevel(0);
    display->SetWindowLevelMinMax(range.lower, range.upper);
    display->SetAutoThreshold(0);
    display->SetApplyThreshold(1);
    display->SetLowerThreshold(threshold >= 0.0 ? threshold : range.lower);
    display->SetUpperThreshold(VTK_FLOAT_MAX);
    display->SetInterpolate(0);
  }

  // The map over the scan in every slice view, as the Volumes module's subject hierarchy plugin
  // shows a foreground volume (qSlicerSubjectHierarchyVolumesPlugin::showVolumesInAllViews).
  vtkMRMLScalarVolumeNode* input = parameters->GetInputVolumeNode();
  std::vector<vtkMRMLNode*> composites;
  scene->GetNodesByClass("vtkMRMLSliceCompositeNode", composites);
  for (vtkMRMLNode* node : composites)
  {
    auto* composite = vtkMRMLSliceCompositeNode::SafeDownCast(node);
    MRMLNodeModifyBlocker compositeBlocker(composite);
    if (input)
    {
      composite->SetBackgroundVolumeID(input->GetID());
    }
    composite->SetForegroundVolumeID(map->GetID());
    composite->SetForegroundOpacity(parameters->GetOpacity());
  }
}

//----------------------------------------------------------------------------
bool vtkSlicerAnomalyDetectionLogic::JumpToSlice(vtkMRMLAnomalyDetectionParametersNode* parameters, int sliceIndex)
{
  vtkMRMLScalarVolumeNode* map = parameters ? parameters->GetAnomalyMapNode() : nullptr;
  if (!map || !map->GetImageData() || !this->GetMRMLScene())
  {
    return false;
  }
  vtkNew<vtkMatrix4x4> ijkToRAS;
  map->GetIJKToRASMatrix(ijkToRAS.GetPointer());
  std::array<std::array<double, 4>, 4> matrix{};
  for (int row = 0; row < 4; ++row)
  {
    for (int column = 0; column < 4; ++column)
    {
      matrix[row][column] = ijkToRAS->GetElement(row, column);
    }
  }
  int dimensions[3] = { 0, 0, 0 };
  map->GetImageData()->GetDimensions(dimensions);
  try
  {
    const std::array<double, 3> center = recontrast::visualization::SliceCenterRAS(matrix, { dimensions[0], dimensions[1], dimensions[2] }, parameters->GetSliceAxis(), sliceIndex);
    vtkMRMLSliceNode::JumpAllSlices(this->GetMRMLScene(), center[0], center[1], center[2], vtkMRMLSliceNode::DefaultJumpSlice);
  }
  catch (const std::exception& e)
  {
    this->LastError = e.what();
    return false;
  }
  return true;
}
