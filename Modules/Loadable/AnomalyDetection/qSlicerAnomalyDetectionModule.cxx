/*==============================================================================

  ReContrast for Slicer and ITK
  Licensed under the Apache License, Version 2.0 (see LICENSE).

==============================================================================*/

// AnomalyDetection includes
#include "qSlicerAnomalyDetectionModule.h"
#include "qSlicerAnomalyDetectionModuleWidget.h"

// AnomalyDetection Logic includes
#include <vtkSlicerAnomalyDetectionLogic.h>

//-----------------------------------------------------------------------------
class qSlicerAnomalyDetectionModulePrivate
{
public:
  qSlicerAnomalyDetectionModulePrivate() = default;
};

//-----------------------------------------------------------------------------
qSlicerAnomalyDetectionModule::qSlicerAnomalyDetectionModule(QObject* _parent)
  : Superclass(_parent)
  , d_ptr(new qSlicerAnomalyDetectionModulePrivate)
{
}

//-----------------------------------------------------------------------------
qSlicerAnomalyDetectionModule::~qSlicerAnomalyDetectionModule() = default;

//-----------------------------------------------------------------------------
QString qSlicerAnomalyDetectionModule::helpText() const
{
  return tr("Shows where a scan is unusual: a ReContrast model, trained on normal scans only, computes an "
            "anomaly map with the scan's geometry. The map is shown as a heat overlay; the regions above "
            "the threshold become a segmentation and a table, and a plot gives the score of every slice "
            "(click a point to go to that slice). The model runs in a separate process, so Cancel works "
            "and a failure cannot take Slicer down. An anomaly map is not a diagnosis. See the "
            "<a href=\"https://github.com/recontrast/recontrast-slicer-itk/blob/main/Documentation/SlicerModule.md\">"
            "user guide</a>.");
}

//-----------------------------------------------------------------------------
QString qSlicerAnomalyDetectionModule::acknowledgementText() const
{
  return tr("Method: J. Guo et al., \"ReContrast: Domain-Specific Anomaly Detection via Contrastive "
            "Reconstruction\", NeurIPS 2023.");
}

//-----------------------------------------------------------------------------
QStringList qSlicerAnomalyDetectionModule::contributors() const
{
  return QStringList() << QString("ReContrast for Slicer and ITK developers");
}

//-----------------------------------------------------------------------------
QIcon qSlicerAnomalyDetectionModule::icon() const
{
  return QIcon(":/Icons/AnomalyDetection.png");
}

//-----------------------------------------------------------------------------
QStringList qSlicerAnomalyDetectionModule::categories() const
{
  return QStringList() << qSlicerAbstractCoreModule::tr("Quantification");
}

//-----------------------------------------------------------------------------
QStringList qSlicerAnomalyDetectionModule::dependencies() const
{
  // As CropVolume lists the CLI it runs (qSlicerCropVolumeModule::dependencies).
  return QStringList() << "ReContrastAnomalyDetection"
                       << "ReContrastTrainModel"
                       << "ReContrastModelInfo"
                       << "Segmentations"
                       << "Plots"
                       << "Tables";
}

//-----------------------------------------------------------------------------
QStringList qSlicerAnomalyDetectionModule::associatedNodeTypes() const
{
  return QStringList() << "vtkMRMLAnomalyDetectionParametersNode";
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModule::setup()
{
  this->Superclass::setup();
}

//-----------------------------------------------------------------------------
qSlicerAbstractModuleRepresentation* qSlicerAnomalyDetectionModule::createWidgetRepresentation()
{
  return new qSlicerAnomalyDetectionModuleWidget;
}

//-----------------------------------------------------------------------------
vtkMRMLAbstractLogic* qSlicerAnomalyDetectionModule::createLogic()
{
  return vtkSlicerAnomalyDetectionLogic::New();
}
