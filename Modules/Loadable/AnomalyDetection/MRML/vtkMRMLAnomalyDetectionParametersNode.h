/*==============================================================================

  ReContrast for Slicer and ITK
  Licensed under the Apache License, Version 2.0 (see LICENSE).

==============================================================================*/

#ifndef __vtkMRMLAnomalyDetectionParametersNode_h
#define __vtkMRMLAnomalyDetectionParametersNode_h

// MRML includes
#include <vtkMRMLNode.h>

// Slicer includes
#include <vtkSlicerVersionConfigure.h> // Slicer_VERSION_MAJOR, Slicer_VERSION_MINOR

/// True when building against Slicer major.minor or later: the module builds against every Slicer
/// from 5.2 (the newest release built on VTK 9.1, Debian 12's) to the current one.
#define ANOMALYDETECTION_SLICER_AT_LEAST(major, minor) (Slicer_VERSION_MAJOR > (major) || (Slicer_VERSION_MAJOR == (major) && Slicer_VERSION_MINOR >= (minor)))

#include "vtkSlicerAnomalyDetectionModuleMRMLExport.h"

class vtkMRMLPlotChartNode;
class vtkMRMLScalarVolumeNode;
class vtkMRMLSegmentationNode;
class vtkMRMLTableNode;

/// \brief The state of the Anomaly Detection module: the scan, the model and how the results are
/// shown, saved with the scene so that a reopened scene shows the same overlay.
///
/// Modelled on vtkMRMLCropVolumeParametersNode (Modules/Loadable/CropVolume/MRML): node references
/// for the nodes it works with, plain properties for the settings.
class VTK_SLICER_ANOMALYDETECTION_MODULE_MRML_EXPORT vtkMRMLAnomalyDetectionParametersNode : public vtkMRMLNode
{
public:
  static vtkMRMLAnomalyDetectionParametersNode* New();
  vtkTypeMacro(vtkMRMLAnomalyDetectionParametersNode, vtkMRMLNode);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  vtkMRMLNode* CreateNodeInstance() override;
  void ReadXMLAttributes(const char** atts) override;
  void WriteXML(ostream& of, int indent) override;
  vtkMRMLCopyContentMacro(vtkMRMLAnomalyDetectionParametersNode);
  const char* GetNodeTagName() override { return "AnomalyDetectionParameters"; }
#if !ANOMALYDETECTION_SLICER_AT_LEAST(5, 10)
  // Slicer 5.10 made the type's display name a translatable member set in the constructor.
  const char* GetTypeDisplayName() override
  {
    return "Anomaly Detection Parameters";
  }
#endif

  /// The scan to examine.
  void SetInputVolumeNodeID(const char* nodeID);
  const char* GetInputVolumeNodeID();
  vtkMRMLScalarVolumeNode* GetInputVolumeNode();

  /// The anomaly map (the input's geometry), shown as the foreground layer.
  void SetAnomalyMapNodeID(const char* nodeID);
  const char* GetAnomalyMapNodeID();
  vtkMRMLScalarVolumeNode* GetAnomalyMapNode();

  /// The anomalous regions above the threshold, one segment each.
  void SetSegmentationNodeID(const char* nodeID);
  const char* GetSegmentationNodeID();
  vtkMRMLSegmentationNode* GetSegmentationNode();

  /// One row per region: size, maximum and mean score, centroid.
  void SetRegionTableNodeID(const char* nodeID);
  const char* GetRegionTableNodeID();
  vtkMRMLTableNode* GetRegionTableNode();

  /// Slice index and score, the data of the slice-score plot.
  void SetSliceScoreTableNodeID(const char* nodeID);
  const char* GetSliceScoreTableNodeID();
  vtkMRMLTableNode* GetSliceScoreTableNode();

  /// The plot of the score of each slice.
  void SetSliceScoreChartNodeID(const char* nodeID);
  const char* GetSliceScoreChartNodeID();
  vtkMRMLPlotChartNode* GetSliceScoreChartNode();

  /// The model file (recognised by its content).
  vtkSetMacro(ModelPath, std::string);
  vtkGetMacro(ModelPath, std::string);

  /// "cpu" or "cuda".
  vtkSetMacro(Device, std::string);
  vtkGetMacro(Device, std::string);

  /// "fp32", "bf16", "fp16" or "exact" (the CLI module's precisions).
  vtkSetMacro(Precision, std::string);
  vtkGetMacro(Precision, std::string);

  /// Map value above which voxels are anomalous; negative: the model's recommended threshold.
  vtkSetMacro(Threshold, double);
  vtkGetMacro(Threshold, double);

  /// Opacity of the heat overlay in the slice views, in [0, 1].
  vtkSetClampMacro(Opacity, double, 0.0, 1.0);
  vtkGetMacro(Opacity, double);

  /// Colour map of the heat: "hot" or "rainbow" (Libs/Visualization HeatDisplay).
  vtkSetMacro(ColorMap, std::string);
  vtkGetMacro(ColorMap, std::string);

  /// Whether the model is calibrated, and then its mean score of normal scans (where the heat
  /// starts) and recommended threshold; from the model's description.
  vtkSetMacro(ModelCalibrated, bool);
  vtkGetMacro(ModelCalibrated, bool);
  vtkBooleanMacro(ModelCalibrated, bool);
  vtkSetMacro(NormalScore, double);
  vtkGetMacro(NormalScore, double);
  vtkSetMacro(RecommendedThreshold, double);
  vtkGetMacro(RecommendedThreshold, double);

  /// The last run's results.
  vtkSetMacro(VolumeScore, double);
  vtkGetMacro(VolumeScore, double);
  vtkSetMacro(CalibratedScore, double);
  vtkGetMacro(CalibratedScore, double);
  /// The slice axis of the map (IJK), from the last run's report.
  vtkSetMacro(SliceAxis, int);
  vtkGetMacro(SliceAxis, int);

  /// Training: a folder of normal scans, the backbone, iterations and the model file to write.
  /// An empty backbone is the ReContrastTrainModel CLI module's default (the engine's).
  vtkSetMacro(TrainingDataDirectory, std::string);
  vtkGetMacro(TrainingDataDirectory, std::string);
  vtkSetMacro(TrainingBackbone, std::string);
  vtkGetMacro(TrainingBackbone, std::string);
  vtkSetMacro(TrainingIterations, int);
  vtkGetMacro(TrainingIterations, int);
  vtkSetMacro(TrainingImageSize, int);
  vtkGetMacro(TrainingImageSize, int);
  vtkSetMacro(TrainingOutputModelPath, std::string);
  vtkGetMacro(TrainingOutputModelPath, std::string);
  /// Where the encoder starts: empty (random weights), "imagenet" (the backbone's ImageNet weights,
  /// downloaded once into the weights cache) or the path of a torchvision weights file.
  vtkSetMacro(TrainingEncoderWeights, std::string);
  vtkGetMacro(TrainingEncoderWeights, std::string);

protected:
  vtkMRMLAnomalyDetectionParametersNode();
  ~vtkMRMLAnomalyDetectionParametersNode() override;
  vtkMRMLAnomalyDetectionParametersNode(const vtkMRMLAnomalyDetectionParametersNode&);
  void operator=(const vtkMRMLAnomalyDetectionParametersNode&);

  std::string ModelPath;
  std::string Device{ "cpu" };
  std::string Precision{ "fp32" };
  double Threshold{ -1.0 };
  double Opacity{ 0.5 };
  std::string ColorMap{ "hot" };
  bool ModelCalibrated{ false };
  double NormalScore{ 0.0 };
  double RecommendedThreshold{ 0.0 };
  double VolumeScore{ 0.0 };
  double CalibratedScore{ 0.0 };
  int SliceAxis{ 2 };
  std::string TrainingDataDirectory;
  std::string TrainingBackbone; ///< Empty: the CLI module's default.
  int TrainingIterations{ 2000 };
  int TrainingImageSize{ 256 };
  std::string TrainingOutputModelPath;
  std::string TrainingEncoderWeights;
};

#endif
