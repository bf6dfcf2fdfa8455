/*==============================================================================

  ReContrast for Slicer and ITK
  Licensed under the Apache License, Version 2.0 (see LICENSE).

==============================================================================*/

#ifndef __qSlicerAnomalyDetectionModuleWidget_h
#define __qSlicerAnomalyDetectionModuleWidget_h

// Slicer includes
#include "qSlicerAbstractModuleWidget.h"

#include "qSlicerAnomalyDetectionModuleExport.h"

class qSlicerAnomalyDetectionModuleWidgetPrivate;
class vtkCollection;
class vtkMRMLNode;
class vtkStringArray;

/// \brief The module's panel: scan, model (with its description), device and precision, Apply /
/// Cancel with progress, live threshold and opacity, the results, and a collapsed training panel.
/// Everything it shows lives in the module's parameter node; the work is the logic's.
class Q_SLICER_QTMODULES_ANOMALYDETECTION_EXPORT qSlicerAnomalyDetectionModuleWidget : public qSlicerAbstractModuleWidget
{
  Q_OBJECT

public:
  typedef qSlicerAbstractModuleWidget Superclass;
  qSlicerAnomalyDetectionModuleWidget(QWidget* parent = nullptr);
  ~qSlicerAnomalyDetectionModuleWidget() override;

  bool setEditedNode(vtkMRMLNode* node, QString role = QString(), QString context = QString()) override;

public slots:
  void setParametersNode(vtkMRMLNode* node);

protected:
  QScopedPointer<qSlicerAnomalyDetectionModuleWidgetPrivate> d_ptr;

  void setup() override;
  void enter() override;
  void setMRMLScene(vtkMRMLScene* scene) override;

protected slots:
  void updateWidgetFromMRML();
  void onMRMLSceneEndBatchProcessEvent();

  void onInputVolumeChanged(vtkMRMLNode* node);
  void onModelPathChanged(const QString& path);
  void onModelDescribed();
  void onDeviceChanged(int index);
  void onPrecisionChanged(int index);

  void onApplyOrCancel();
  void onDetectionRunModified();

  void onThresholdChanging(double value);
  void onThresholdChanged(double value);
  void startRegionUpdate();
  void onOpacityChanged(double value);
  void onColorMapChanged(const QString& colorMap);
  void onPlotDataSelected(vtkStringArray* plotSeriesIDs, vtkCollection* selections);
  void connectPlotViews();

  void onTrainingDataDirectoryChanged(const QString& directory);
  void onTrainOrCancel();
  void onTrainingRunModified();

private:
  Q_DECLARE_PRIVATE(qSlicerAnomalyDetectionModuleWidget);
  Q_DISABLE_COPY(qSlicerAnomalyDetectionModuleWidget);
};

#endif
