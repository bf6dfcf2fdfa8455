/*==============================================================================

  ReContrast for Slicer and ITK
  Licensed under the Apache License, Version 2.0 (see LICENSE).

==============================================================================*/

#ifndef __qSlicerAnomalyDetectionModule_h
#define __qSlicerAnomalyDetectionModule_h

// Slicer includes
#include "qSlicerLoadableModule.h"

#include "qSlicerAnomalyDetectionModuleExport.h"

class qSlicerAnomalyDetectionModulePrivate;

/// \brief The Anomaly Detection module: a ReContrast model's anomaly map of a scan as a heat
/// overlay, with the anomalous regions, their table and a per-slice score plot.
class Q_SLICER_QTMODULES_ANOMALYDETECTION_EXPORT qSlicerAnomalyDetectionModule : public qSlicerLoadableModule
{
  Q_OBJECT
  Q_PLUGIN_METADATA(IID "org.slicer.modules.loadable.qSlicerLoadableModule/1.0");
  Q_INTERFACES(qSlicerLoadableModule);

public:
  typedef qSlicerLoadableModule Superclass;
  explicit qSlicerAnomalyDetectionModule(QObject* parent = nullptr);
  ~qSlicerAnomalyDetectionModule() override;

  qSlicerGetTitleMacro(tr("Anomaly Detection"));

  QString helpText() const override;
  QString acknowledgementText() const override;
  QStringList contributors() const override;
  QIcon icon() const override;
  QStringList categories() const override;
  /// The CLI modules that do the work, and the modules whose logics show the results.
  QStringList dependencies() const override;
  QStringList associatedNodeTypes() const override;

protected:
  void setup() override;
  qSlicerAbstractModuleRepresentation* createWidgetRepresentation() override;
  vtkMRMLAbstractLogic* createLogic() override;

protected:
  QScopedPointer<qSlicerAnomalyDetectionModulePrivate> d_ptr;

private:
  Q_DECLARE_PRIVATE(qSlicerAnomalyDetectionModule);
  Q_DISABLE_COPY(qSlicerAnomalyDetectionModule);
};

#endif
