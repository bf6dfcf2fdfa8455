/*==============================================================================

  ReContrast for Slicer and ITK
  Licensed under the Apache License, Version 2.0 (see LICENSE).

==============================================================================*/

// AnomalyDetection MRML includes
#include "vtkMRMLAnomalyDetectionParametersNode.h"

// MRML includes
#include <vtkMRMLPlotChartNode.h>
#include <vtkMRMLScalarVolumeNode.h>
#include <vtkMRMLSegmentationNode.h>
#include <vtkMRMLTableNode.h>

// VTK includes
#include <vtkObjectFactory.h>

namespace
{
const char* InputVolumeRole = "inputVolume";
const char* AnomalyMapRole = "anomalyMap";
const char* SegmentationRole = "segmentation";
const char* RegionTableRole = "regionTable";
const char* SliceScoreTableRole = "sliceScoreTable";
const char* SliceScoreChartRole = "sliceScoreChart";
} // namespace

//----------------------------------------------------------------------------
vtkMRMLNodeNewMacro(vtkMRMLAnomalyDetectionParametersNode);

//----------------------------------------------------------------------------
vtkMRMLAnomalyDetectionParametersNode::vtkMRMLAnomalyDetectionParametersNode()
{
#if ANOMALYDETECTION_SLICER_AT_LEAST(5, 10)
  this->TypeDisplayName = vtkMRMLTr("vtkMRMLAnomalyDetectionParametersNode", "Anomaly Detection Parameters");
#endif
  this->HideFromEditors = 1;

  this->AddNodeReferenceRole(InputVolumeRole, "inputVolumeNodeID");
  this->AddNodeReferenceRole(AnomalyMapRole, "anomalyMapNodeID");
  this->AddNodeReferenceRole(SegmentationRole, "segmentationNodeID");
  this->AddNodeReferenceRole(RegionTableRole, "regionTableNodeID");
  this->AddNodeReferenceRole(SliceScoreTableRole, "sliceScoreTableNodeID");
  this->AddNodeReferenceRole(SliceScoreChartRole, "sliceScoreChartNodeID");
}

//----------------------------------------------------------------------------
vtkMRMLAnomalyDetectionParametersNode::~vtkMRMLAnomalyDetectionParametersNode() = default;

//----------------------------------------------------------------------------
void vtkMRMLAnomalyDetectionParametersNode::ReadXMLAttributes(const char** atts)
{
  MRMLNodeModifyBlocker blocker(this);
  this->Superclass::ReadXMLAttributes(atts);
  vtkMRMLReadXMLBeginMacro(atts);
  vtkMRMLReadXMLStdStringMacro(modelPath, ModelPath);
  vtkMRMLReadXMLStdStringMacro(device, Device);
  vtkMRMLReadXMLStdStringMacro(precision, Precision);
  vtkMRMLReadXMLFloatMacro(threshold, Threshold);
  vtkMRMLReadXMLFloatMacro(opacity, Opacity);
  vtkMRMLReadXMLStdStringMacro(colorMap, ColorMap);
  vtkMRMLReadXMLBooleanMacro(modelCalibrated, ModelCalibrated);
  vtkMRMLReadXMLFloatMacro(normalScore, NormalScore);
  vtkMRMLReadXMLFloatMacro(recommendedThreshold, RecommendedThreshold);
  vtkMRMLReadXMLFloatMacro(volumeScore, VolumeScore);
  vtkMRMLReadXMLFloatMacro(calibratedScore, CalibratedScore);
  vtkMRMLReadXMLIntMacro(sliceAxis, SliceAxis);
  vtkMRMLReadXMLStdStringMacro(trainingDataDirectory, TrainingDataDirectory);
  vtkMRMLReadXMLStdStringMacro(trainingBackbone, TrainingBackbone);
  vtkMRMLReadXMLIntMacro(trainingIterations, TrainingIterations);
  vtkMRMLReadXMLIntMacro(trainingImageSize, TrainingImageSize);
  vtkMRMLReadXMLStdStringMacro(trainingOutputModelPath, TrainingOutputModelPath);
  vtkMRMLReadXMLStdStringMacro(trainingEncoderWeights, TrainingEncoderWeights);
  vtkMRMLReadXMLEndMacro();
}

//----------------------------------------------------------------------------
void vtkMRMLAnomalyDetectionParametersNode::WriteXML(ostream& of, int nIndent)
{
  this->Superclass::WriteXML(of, nIndent);
  vtkMRMLWriteXMLBeginMacro(of);
  vtkMRMLWriteXMLStdStringMacro(modelPath, ModelPath);
  vtkMRMLWriteXMLStdStringMacro(device, Device);
  vtkMRMLWriteXMLStdStringMacro(precision, Precision);
  vtkMRMLWriteXMLFloatMacro(threshold, Threshold);
  vtkMRMLWriteXMLFloatMacro(opacity, Opacity);
  vtkMRMLWriteXMLStdStringMacro(colorMap, ColorMap);
  vtkMRMLWriteXMLBooleanMacro(modelCalibrated, ModelCalibrated);
  vtkMRMLWriteXMLFloatMacro(normalScore, NormalScore);
  vtkMRMLWriteXMLFloatMacro(recommendedThreshold, RecommendedThreshold);
  vtkMRMLWriteXMLFloatMacro(volumeScore, VolumeScore);
  vtkMRMLWriteXMLFloatMacro(calibratedScore, CalibratedScore);
  vtkMRMLWriteXMLIntMacro(sliceAxis, SliceAxis);
  vtkMRMLWriteXMLStdStringMacro(trainingDataDirectory, TrainingDataDirectory);
  vtkMRMLWriteXMLStdStringMacro(trainingBackbone, TrainingBackbone);
  vtkMRMLWriteXMLIntMacro(trainingIterations, TrainingIterations);
  vtkMRMLWriteXMLIntMacro(trainingImageSize, TrainingImageSize);
  vtkMRMLWriteXMLStdStringMacro(trainingOutputModelPath, TrainingOutputModelPath);
  vtkMRMLWriteXMLStdStringMacro(trainingEncoderWeights, TrainingEncoderWeights);
  vtkMRMLWriteXMLEndMacro();
}

//----------------------------------------------------------------------------
void vtkMRMLAnomalyDetectionParametersNode::CopyContent(vtkMRMLNode* anode, bool deepCopy /*=true*/)
{
  MRMLNodeModifyBlocker blocker(this);
  this->Superclass::CopyContent(anode, deepCopy);
  vtkMRMLCopyBeginMacro(anode);
  vtkMRMLCopyStdStringMacro(ModelPath);
  vtkMRMLCopyStdStringMacro(Device);
  vtkMRMLCopyStdStringMacro(Precision);
  vtkMRMLCopyFloatMacro(Threshold);
  vtkMRMLCopyFloatMacro(Opacity);
  vtkMRMLCopyStdStringMacro(ColorMap);
  vtkMRMLCopyBooleanMacro(ModelCalibrated);
  vtkMRMLCopyFloatMacro(NormalScore);
  vtkMRMLCopyFloatMacro(RecommendedThreshold);
  vtkMRMLCopyFloatMacro(VolumeScore);
  vtkMRMLCopyFloatMacro(CalibratedScore);
  vtkMRMLCopyIntMacro(SliceAxis);
  vtkMRMLCopyStdStringMacro(TrainingDataDirectory);
  vtkMRMLCopyStdStringMacro(TrainingBackbone);
  vtkMRMLCopyIntMacro(TrainingIterations);
  vtkMRMLCopyIntMacro(TrainingImageSize);
  vtkMRMLCopyStdStringMacro(TrainingOutputModelPath);
  vtkMRMLCopyStdStringMacro(TrainingEncoderWeights);
  vtkMRMLCopyEndMacro();
}

//----------------------------------------------------------------------------
void vtkMRMLAnomalyDetectionParametersNode::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  vtkMRMLPrintBeginMacro(os, indent);
  vtkMRMLPrintStdStringMacro(ModelPath);
  vtkMRMLPrintStdStringMacro(Device);
  vtkMRMLPrintStdStringMacro(Precision);
  vtkMRMLPrintFloatMacro(Threshold);
  vtkMRMLPrintFloatMacro(Opacity);
  vtkMRMLPrintStdStringMacro(ColorMap);
  vtkMRMLPrintBooleanMacro(ModelCalibrated);
  vtkMRMLPrintFloatMacro(NormalScore);
  vtkMRMLPrintFloatMacro(RecommendedThreshold);
  vtkMRMLPrintFloatMacro(VolumeScore);
  vtkMRMLPrintFloatMacro(CalibratedScore);
  vtkMRMLPrintIntMacro(SliceAxis);
  vtkMRMLPrintStdStringMacro(TrainingDataDirectory);
  vtkMRMLPrintStdStringMacro(TrainingBackbone);
  vtkMRMLPrintIntMacro(TrainingIterations);
  vtkMRMLPrintIntMacro(TrainingImageSize);
  vtkMRMLPrintStdStringMacro(TrainingOutputModelPath);
  vtkMRMLPrintStdStringMacro(TrainingEncoderWeights);
  vtkMRMLPrintEndMacro();
}

//----------------------------------------------------------------------------
// Node references: one setter, getter and typed getter per role.
#define RECONTRAST_NODE_REFERENCE(Name, Role, NodeType)                            \
 void vtkMRMLAnomalyDetectionParametersNode::Set##Name##NodeID(const char* nodeID) \
 {                                                                                 \
  this->SetNodeReferenceID(Role, nodeID);                                          \
 }                                                                                 \
 const char* vtkMRMLAnomalyDetectionParametersNode::Get##Name##NodeID()            \
 {                                                                                 \
  return this->GetNodeReferenceID(Role);                                           \
 }                                                                                 \
 NodeType* vtkMRMLAnomalyDetectionParametersNode::Get##Name##Node()                \
 {                                                                                 \
  return NodeType::SafeDownCast(this->GetNodeReference(Role));                     \
 }

RECONTRAST_NODE_REFERENCE(InputVolume, InputVolumeRole, vtkMRMLScalarVolumeNode)
RECONTRAST_NODE_REFERENCE(AnomalyMap, AnomalyMapRole, vtkMRMLScalarVolumeNode)
RECONTRAST_NODE_REFERENCE(Segmentation, SegmentationRole, vtkMRMLSegmentationNode)
RECONTRAST_NODE_REFERENCE(RegionTable, RegionTableRole, vtkMRMLTableNode)
RECONTRAST_NODE_REFERENCE(SliceScoreTable, SliceScoreTableRole, vtkMRMLTableNode)
RECONTRAST_NODE_REFERENCE(SliceScoreChart, SliceScoreChartRole, vtkMRMLPlotChartNode)

#undef RECONTRAST_NODE_REFERENCE
