/*==============================================================================

  ReContrast for Slicer and ITK
  Licensed under the Apache License, Version 2.0 (see LICENSE).

==============================================================================*/

// Qt includes
#include <QLabel>
#include <QProgressBar>
#include <QFileInfo>
#include <QTimer>

// STD includes
#include <vector>

// Slicer includes
#include <qMRMLPlotView.h>
#include <qMRMLPlotWidget.h>
#include <qSlicerApplication.h>
#include <qSlicerCLIModule.h>
#include <qSlicerCoreApplication.h>
#include <qSlicerLayoutManager.h>
#include <qSlicerModuleManager.h>

// AnomalyDetection includes
#include "qSlicerAnomalyDetectionModuleWidget.h"
#include "ui_qSlicerAnomalyDetectionModuleWidget.h"

// AnomalyDetection Logic and MRML includes
#include <vtkMRMLAnomalyDetectionParametersNode.h>
#include <vtkSlicerAnomalyDetectionLogic.h>

// MRML includes
#include <vtkMRMLCommandLineModuleNode.h>
#include <vtkMRMLPlotChartNode.h>
#include <vtkMRMLScalarVolumeNode.h>
#include <vtkMRMLScene.h>
#include <vtkMRMLTableNode.h>

// VTK includes
#include <vtkCollection.h>
#include <vtkFloatArray.h>
#include <vtkIdTypeArray.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkStringArray.h>
#include <vtkTable.h>
#include <vtkWeakPointer.h>

//-----------------------------------------------------------------------------
class qSlicerAnomalyDetectionModuleWidgetPrivate : public Ui_qSlicerAnomalyDetectionModuleWidget
{
  Q_DECLARE_PUBLIC(qSlicerAnomalyDetectionModuleWidget);

protected:
  qSlicerAnomalyDetectionModuleWidget* const q_ptr;

public:
  qSlicerAnomalyDetectionModuleWidgetPrivate(qSlicerAnomalyDetectionModuleWidget& object);
  vtkSlicerAnomalyDetectionLogic* logic() const;

  /// Offers the devices and precisions this computer has (from the model description).
  void updateDeviceChoices(const vtkSlicerAnomalyDetectionLogic::ModelInfo& info);
  /// Offers the backbones of the training CLI module's description, its default first chosen.
  void setupBackboneChoices();
  /// The backbone to show for the parameter node's (empty: the default).
  QString backboneOf(const std::string& nodeBackbone) const;
  /// The threshold slider's range: the map's values when there is a map, otherwise [0, 1].
  void updateThresholdRange();
  /// Shows the model's description and offers what this computer can run it on, at once when it
  /// is known, otherwise when the logic has read it (onModelDescribed).
  void describeModel(const QString& path);
  void showModelDescription(const vtkSlicerAnomalyDetectionLogic::ModelInfo& info);
  /// Shows a run's progress and state; returns its status.
  static int showRunStatus(vtkMRMLCommandLineModuleNode* run, QProgressBar* progressBar, QLabel* statusLabel, const QString& doneText, const QString& cancelledText);

  vtkWeakPointer<vtkMRMLAnomalyDetectionParametersNode> ParametersNode;
  vtkWeakPointer<vtkMRMLCommandLineModuleNode> DetectionRun;
  vtkWeakPointer<vtkMRMLCommandLineModuleNode> TrainingRun;
  /// Whether the chosen file has been described as a usable model (Apply needs one).
  bool ModelUsable{ false };
  /// The training CLI module's default backbone (empty when the module is not loaded).
  QString DefaultBackbone;
};

//-----------------------------------------------------------------------------
qSlicerAnomalyDetectionModuleWidgetPrivate::qSlicerAnomalyDetectionModuleWidgetPrivate(qSlicerAnomalyDetectionModuleWidget& object)
  : q_ptr(&object)
{
}

//-----------------------------------------------------------------------------
vtkSlicerAnomalyDetectionLogic* qSlicerAnomalyDetectionModuleWidgetPrivate::logic() const
{
  Q_Q(const qSlicerAnomalyDetectionModuleWidget);
  return vtkSlicerAnomalyDetectionLogic::SafeDownCast(q->logic());
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidgetPrivate::updateDeviceChoices(const vtkSlicerAnomalyDetectionLogic::ModelInfo& info)
{
  const QString device = this->DeviceComboBox->currentData().toString();
  QSignalBlocker blocker(this->DeviceComboBox);
  this->DeviceComboBox->clear();
  this->DeviceComboBox->addItem(qSlicerAnomalyDetectionModuleWidget::tr("CPU"), "cpu");
  if (info.CudaAvailable)
  {
    this->DeviceComboBox->addItem(qSlicerAnomalyDetectionModuleWidget::tr("GPU (CUDA)"), "cuda");
  }
  const int index = this->DeviceComboBox->findData(device);
  this->DeviceComboBox->setCurrentIndex(index >= 0 ? index : 0);

  QSignalBlocker precisionBlocker(this->PrecisionComboBox);
  const QString precision = this->PrecisionComboBox->currentData().toString();
  this->PrecisionComboBox->clear();
  this->PrecisionComboBox->addItem(qSlicerAnomalyDetectionModuleWidget::tr("fp32 (fast, exact to 1e-6)"), "fp32");
  this->PrecisionComboBox->addItem(info.BFloat16Available || info.CudaAvailable ? qSlicerAnomalyDetectionModuleWidget::tr("bf16 (fastest)")
                                                                                : qSlicerAnomalyDetectionModuleWidget::tr("bf16 (not native on this CPU: runs as fp32)"),
                                   "bf16");
  if (info.CudaAvailable)
  {
    this->PrecisionComboBox->addItem(qSlicerAnomalyDetectionModuleWidget::tr("fp16 (GPU only)"), "fp16");
  }
  this->PrecisionComboBox->addItem(qSlicerAnomalyDetectionModuleWidget::tr("exact (the paper's computation)"), "exact");
  const int precisionIndex = this->PrecisionComboBox->findData(precision.isEmpty() ? QString("fp32") : precision);
  this->PrecisionComboBox->setCurrentIndex(precisionIndex >= 0 ? precisionIndex : 0);
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidgetPrivate::setupBackboneChoices()
{
  // The backbones, their default and their help come from the ReContrastTrainModel CLI module's
  // description (the engine's list), so that a new backbone needs no change in this module.
  qSlicerCoreApplication* application = qSlicerCoreApplication::application();
  qSlicerCLIModule* trainingModule =
    application && application->moduleManager() ? qobject_cast<qSlicerCLIModule*>(application->moduleManager()->module("ReContrastTrainModel")) : nullptr;
  if (!trainingModule)
  {
    return; // Training then says that its CLI module is not loaded.
  }
  for (const ModuleParameterGroup& group : trainingModule->moduleDescription().GetParameterGroups())
  {
    for (const ModuleParameter& parameter : group.GetParameters())
    {
      if (parameter.GetName() != "backbone")
      {
        continue;
      }
      QSignalBlocker blocker(this->BackboneComboBox);
      this->BackboneComboBox->clear();
      for (const std::string& element : parameter.GetElements())
      {
        this->BackboneComboBox->addItem(QString::fromStdString(element));
      }
      // The module's description holds the defaults as its values (GetDefault() returns GetValue()).
      this->DefaultBackbone = QString::fromStdString(parameter.GetValue());
      this->BackboneComboBox->setCurrentText(this->DefaultBackbone);
      this->BackboneComboBox->setToolTip(QString::fromStdString(parameter.GetDescription()));
      return;
    }
  }
}

//-----------------------------------------------------------------------------
QString qSlicerAnomalyDetectionModuleWidgetPrivate::backboneOf(const std::string& nodeBackbone) const
{
  return nodeBackbone.empty() ? this->DefaultBackbone : QString::fromStdString(nodeBackbone);
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidgetPrivate::describeModel(const QString& path)
{
  this->ModelUsable = false;
  if (!QFileInfo(path).isFile())
  {
    this->ModelDescriptionLabel->setText(path.isEmpty() ? qSlicerAnomalyDetectionModuleWidget::tr("Choose a model file.")
                                                        : qSlicerAnomalyDetectionModuleWidget::tr("There is no file at this path."));
    return;
  }
  // Never waits: an unknown file is read in the background and shown by onModelDescribed().
  vtkSlicerAnomalyDetectionLogic::ModelInfo info;
  if (!this->logic()->RequestModelDescription(path.toStdString(), this->ParametersNode, info))
  {
    this->ModelDescriptionLabel->setText(qSlicerAnomalyDetectionModuleWidget::tr("Reading the model file..."));
    return;
  }
  this->showModelDescription(info);
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidgetPrivate::showModelDescription(const vtkSlicerAnomalyDetectionLogic::ModelInfo& info)
{
  if (!info.Valid)
  {
    this->ModelDescriptionLabel->setText(qSlicerAnomalyDetectionModuleWidget::tr("Not usable: %1").arg(QString::fromStdString(info.Error)));
    return;
  }
  this->ModelDescriptionLabel->setText(QString::fromStdString(info.Summary));
  this->ModelUsable = true;
  this->updateDeviceChoices(info);
}

//-----------------------------------------------------------------------------
int qSlicerAnomalyDetectionModuleWidgetPrivate::showRunStatus(vtkMRMLCommandLineModuleNode* run,
                                                              QProgressBar* progressBar,
                                                              QLabel* statusLabel,
                                                              const QString& doneText,
                                                              const QString& cancelledText)
{
  const int status = run->GetStatus();
  progressBar->setValue(status == vtkMRMLCommandLineModuleNode::Completed ? 100 : run->GetProgress());
  if (status == vtkMRMLCommandLineModuleNode::Completed)
  {
    statusLabel->setText(doneText);
  }
  else if (status == vtkMRMLCommandLineModuleNode::CompletedWithErrors)
  {
    // The CLI module's one-sentence error, not its whole log.
    statusLabel->setText(qSlicerAnomalyDetectionModuleWidget::tr("Failed: %1").arg(QString::fromStdString(vtkSlicerAnomalyDetectionLogic::ErrorSentence(run))));
  }
  else if (status == vtkMRMLCommandLineModuleNode::Cancelled)
  {
    statusLabel->setText(cancelledText);
  }
  else
  {
#if ANOMALYDETECTION_SLICER_AT_LEAST(5, 6)
    statusLabel->setText(QString::fromStdString(run->GetDisplayableStatusString()));
#else
    statusLabel->setText(QString::fromUtf8(run->GetStatusString()));
#endif
  }
  return status;
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidgetPrivate::updateThresholdRange()
{
  double lower = 0.0;
  double upper = 1.0;
  vtkMRMLScalarVolumeNode* map = this->ParametersNode ? this->ParametersNode->GetAnomalyMapNode() : nullptr;
  if (map && map->GetImageData() && map->GetImageData()->GetPointData()->GetScalars())
  {
    double range[2] = { 0.0, 1.0 };
    map->GetImageData()->GetPointData()->GetScalars()->GetRange(range);
    lower = range[0];
    upper = range[1] > range[0] ? range[1] : range[0] + 1.0;
  }
  QSignalBlocker blocker(this->ThresholdSliderWidget);
  this->ThresholdSliderWidget->setRange(lower, upper);
  this->ThresholdSliderWidget->setSingleStep((upper - lower) / 1000.0);
}

//-----------------------------------------------------------------------------
qSlicerAnomalyDetectionModuleWidget::qSlicerAnomalyDetectionModuleWidget(QWidget* _parent)
  : Superclass(_parent)
  , d_ptr(new qSlicerAnomalyDetectionModuleWidgetPrivate(*this))
{
}

//-----------------------------------------------------------------------------
qSlicerAnomalyDetectionModuleWidget::~qSlicerAnomalyDetectionModuleWidget() = default;

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidget::setup()
{
  Q_D(qSlicerAnomalyDetectionModuleWidget);
  d->setupUi(this);
  this->Superclass::setup();

  d->updateDeviceChoices(vtkSlicerAnomalyDetectionLogic::ModelInfo());
  d->setupBackboneChoices();

  connect(d->InputVolumeComboBox, SIGNAL(currentNodeChanged(vtkMRMLNode*)), this, SLOT(onInputVolumeChanged(vtkMRMLNode*)));
  connect(d->ModelPathLineEdit, SIGNAL(currentPathChanged(QString)), this, SLOT(onModelPathChanged(QString)));
  connect(d->DeviceComboBox, SIGNAL(currentIndexChanged(int)), this, SLOT(onDeviceChanged(int)));
  connect(d->PrecisionComboBox, SIGNAL(currentIndexChanged(int)), this, SLOT(onPrecisionChanged(int)));
  connect(d->ApplyButton, SIGNAL(clicked()), this, SLOT(onApplyOrCancel()));

  // The overlay follows the slider while it moves; the regions are recomputed once it stops.
  connect(d->ThresholdSliderWidget, SIGNAL(valueIsChanging(double)), this, SLOT(onThresholdChanging(double)));
  connect(d->ThresholdSliderWidget, SIGNAL(valueChanged(double)), this, SLOT(onThresholdChanged(double)));
  connect(d->OpacitySliderWidget, SIGNAL(valueIsChanging(double)), this, SLOT(onOpacityChanged(double)));
  connect(d->OpacitySliderWidget, SIGNAL(valueChanged(double)), this, SLOT(onOpacityChanged(double)));
  connect(d->ColorMapComboBox, SIGNAL(currentTextChanged(QString)), this, SLOT(onColorMapChanged(QString)));

  connect(d->TrainingDataDirectoryButton, SIGNAL(directoryChanged(QString)), this, SLOT(onTrainingDataDirectoryChanged(QString)));
  connect(d->TrainButton, SIGNAL(clicked()), this, SLOT(onTrainOrCancel()));
  // The file field is for the third choice only.
  connect(d->EncoderComboBox,
          QOverload<int>::of(&QComboBox::currentIndexChanged),
          d->EncoderWeightsPathLineEdit,
          [d](int index) { d->EncoderWeightsPathLineEdit->setEnabled(index == 2); });
  qvtkConnect(d->logic(), vtkSlicerAnomalyDetectionLogic::ModelDescribedEvent, this, SLOT(onModelDescribed()));

  // A click on a point of the slice-score plot jumps to that slice. Plot views exist only in
  // layouts that have one (the logic switches to such a layout), so connect whenever it changes.
  qSlicerLayoutManager* layoutManager = qSlicerApplication::application() ? qSlicerApplication::application()->layoutManager() : nullptr;
  if (layoutManager)
  {
    connect(layoutManager, SIGNAL(layoutChanged(int)), this, SLOT(connectPlotViews()));
  }
  this->connectPlotViews();
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidget::connectPlotViews()
{
  qSlicerLayoutManager* layoutManager = qSlicerApplication::application() ? qSlicerApplication::application()->layoutManager() : nullptr;
  if (!layoutManager)
  {
    return;
  }
  for (int i = 0; i < layoutManager->plotViewCount(); ++i)
  {
    qMRMLPlotWidget* plotWidget = layoutManager->plotWidget(i);
    if (plotWidget && plotWidget->plotView())
    {
      connect(plotWidget->plotView(), SIGNAL(dataSelected(vtkStringArray*, vtkCollection*)), this, SLOT(onPlotDataSelected(vtkStringArray*, vtkCollection*)), Qt::UniqueConnection);
    }
  }
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidget::enter()
{
  // isEntered() is true only after the superclass's enter(), as in qSlicerCropVolumeModuleWidget.
  this->Superclass::enter();
  this->onMRMLSceneEndBatchProcessEvent();
  this->updateWidgetFromMRML();
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidget::setMRMLScene(vtkMRMLScene* scene)
{
  this->Superclass::setMRMLScene(scene);
  // A closed or newly loaded scene needs a parameter node again (as the CropVolume widget does).
  qvtkReconnect(this->mrmlScene(), vtkMRMLScene::EndImportEvent, this, SLOT(onMRMLSceneEndBatchProcessEvent()));
  qvtkReconnect(this->mrmlScene(), vtkMRMLScene::EndCloseEvent, this, SLOT(onMRMLSceneEndBatchProcessEvent()));
  qvtkReconnect(this->mrmlScene(), vtkMRMLScene::EndRestoreEvent, this, SLOT(onMRMLSceneEndBatchProcessEvent()));
  this->updateWidgetFromMRML();
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidget::onMRMLSceneEndBatchProcessEvent()
{
  vtkMRMLScene* scene = this->mrmlScene();
  if (!scene || !this->isEntered())
  {
    return;
  }
  // A loaded scene brings its own parameter node next to the empty one made when the previous scene
  // closed: show the one that has a scan (the latest), as the user left it.
  std::vector<vtkMRMLNode*> nodes;
  scene->GetNodesByClass("vtkMRMLAnomalyDetectionParametersNode", nodes);
  vtkMRMLNode* node = nodes.empty() ? nullptr : nodes.front();
  for (vtkMRMLNode* candidate : nodes)
  {
    if (vtkMRMLAnomalyDetectionParametersNode::SafeDownCast(candidate)->GetInputVolumeNode())
    {
      node = candidate;
    }
  }
  if (!node)
  {
    node = scene->AddNewNodeByClass("vtkMRMLAnomalyDetectionParametersNode");
  }
  this->setParametersNode(node);
}

//-----------------------------------------------------------------------------
bool qSlicerAnomalyDetectionModuleWidget::setEditedNode(vtkMRMLNode* node, QString role, QString context)
{
  Q_UNUSED(role);
  Q_UNUSED(context);
  if (vtkMRMLAnomalyDetectionParametersNode::SafeDownCast(node))
  {
    this->setParametersNode(node);
    return true;
  }
  return false;
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidget::setParametersNode(vtkMRMLNode* node)
{
  Q_D(qSlicerAnomalyDetectionModuleWidget);
  vtkMRMLAnomalyDetectionParametersNode* parametersNode = vtkMRMLAnomalyDetectionParametersNode::SafeDownCast(node);
  qvtkReconnect(d->ParametersNode, parametersNode, vtkCommand::ModifiedEvent, this, SLOT(updateWidgetFromMRML()));
  d->ParametersNode = parametersNode;
  if (parametersNode && !parametersNode->GetModelPath().empty())
  {
    d->describeModel(QString::fromStdString(parametersNode->GetModelPath()));
  }
  this->updateWidgetFromMRML();
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidget::updateWidgetFromMRML()
{
  Q_D(qSlicerAnomalyDetectionModuleWidget);
  vtkMRMLAnomalyDetectionParametersNode* p = d->ParametersNode;
  this->setEnabled(p != nullptr);
  if (!p)
  {
    return;
  }
  {
    QSignalBlocker b1(d->InputVolumeComboBox);
    QSignalBlocker b2(d->ModelPathLineEdit);
    QSignalBlocker b3(d->OpacitySliderWidget);
    QSignalBlocker b4(d->ColorMapComboBox);
    QSignalBlocker b5(d->BackboneComboBox);
    QSignalBlocker b6(d->IterationsSpinBox);
    QSignalBlocker b7(d->ImageSizeSpinBox);
    QSignalBlocker b8(d->OutputModelPathLineEdit);
    QSignalBlocker b9(d->TrainingDataDirectoryButton);
    QSignalBlocker b10(d->EncoderComboBox);
    QSignalBlocker b11(d->EncoderWeightsPathLineEdit);
    d->InputVolumeComboBox->setCurrentNode(p->GetInputVolumeNode());
    d->ModelPathLineEdit->setCurrentPath(QString::fromStdString(p->GetModelPath()));
    d->OpacitySliderWidget->setValue(p->GetOpacity());
    d->ColorMapComboBox->setCurrentText(QString::fromStdString(p->GetColorMap()));
    d->BackboneComboBox->setCurrentText(d->backboneOf(p->GetTrainingBackbone()));
    d->IterationsSpinBox->setValue(p->GetTrainingIterations());
    d->ImageSizeSpinBox->setValue(p->GetTrainingImageSize());
    d->OutputModelPathLineEdit->setCurrentPath(QString::fromStdString(p->GetTrainingOutputModelPath()));
    const std::string& encoder = p->GetTrainingEncoderWeights();
    d->EncoderComboBox->setCurrentIndex(encoder.empty() ? 0 : encoder == "imagenet" ? 1 : 2);
    d->EncoderWeightsPathLineEdit->setEnabled(d->EncoderComboBox->currentIndex() == 2);
    if (d->EncoderComboBox->currentIndex() == 2)
    {
      d->EncoderWeightsPathLineEdit->setCurrentPath(QString::fromStdString(encoder));
    }
    if (!p->GetTrainingDataDirectory().empty())
    {
      d->TrainingDataDirectoryButton->setDirectory(QString::fromStdString(p->GetTrainingDataDirectory()));
    }
  }
  const int device = d->DeviceComboBox->findData(QString::fromStdString(p->GetDevice()));
  const int precision = d->PrecisionComboBox->findData(QString::fromStdString(p->GetPrecision()));
  {
    QSignalBlocker b1(d->DeviceComboBox);
    QSignalBlocker b2(d->PrecisionComboBox);
    d->DeviceComboBox->setCurrentIndex(device >= 0 ? device : 0);
    d->PrecisionComboBox->setCurrentIndex(precision >= 0 ? precision : 0);
  }

  d->updateThresholdRange();
  const double threshold = vtkSlicerAnomalyDetectionLogic::EffectiveThreshold(p);
  if (threshold >= 0.0)
  {
    QSignalBlocker blocker(d->ThresholdSliderWidget);
    d->ThresholdSliderWidget->setValue(threshold);
  }
  d->ThresholdSliderWidget->setEnabled(p->GetAnomalyMapNode() != nullptr);

  const bool detecting = d->DetectionRun && d->DetectionRun->IsBusy();
  d->ApplyButton->setText(detecting ? tr("Cancel") : tr("Apply"));
  // A model file is usable once its description says so (a file that is not a model has its
  // sentence under the path, and Apply stays off).
  d->ApplyButton->setEnabled(detecting || (p->GetInputVolumeNode() && !p->GetModelPath().empty() && d->ModelUsable));
  d->RegionTableView->setMRMLTableNode(p->GetRegionTableNode());
  if (p->GetAnomalyMapNode())
  {
    QString score = tr("Score %1").arg(p->GetVolumeScore(), 0, 'g', 4);
    if (p->GetModelCalibrated())
    {
      score += tr(" (%1 standard deviations above the normal scans)").arg(p->GetCalibratedScore(), 0, 'f', 1);
    }
    d->ScoreLabel->setText(score);
  }

  const bool training = d->TrainingRun && d->TrainingRun->IsBusy();
  d->TrainButton->setText(training ? tr("Cancel") : tr("Train"));
  d->TrainButton->setEnabled(training || (!p->GetTrainingDataDirectory().empty() && !p->GetTrainingOutputModelPath().empty()));
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidget::onInputVolumeChanged(vtkMRMLNode* node)
{
  Q_D(qSlicerAnomalyDetectionModuleWidget);
  if (d->ParametersNode)
  {
    d->ParametersNode->SetInputVolumeNodeID(node ? node->GetID() : nullptr);
  }
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidget::onModelPathChanged(const QString& path)
{
  Q_D(qSlicerAnomalyDetectionModuleWidget);
  if (!d->ParametersNode)
  {
    return;
  }
  // Typing a path emits this for every character: only an existing file is described (the logic
  // keeps the last description while the file is unchanged).
  d->describeModel(path);
  if (!QFileInfo(path).isFile() || path.toStdString() == d->ParametersNode->GetModelPath())
  {
    this->updateWidgetFromMRML(); // Apply follows whether the file shown is a usable model
    return;
  }
  MRMLNodeModifyBlocker blocker(d->ParametersNode);
  d->ParametersNode->SetModelPath(path.toStdString());
  // A new model brings its own recommended threshold.
  d->ParametersNode->SetThreshold(-1.0);
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidget::onModelDescribed()
{
  Q_D(qSlicerAnomalyDetectionModuleWidget);
  // The file shown may have changed since the request: describe what is shown now (known, or a
  // new request).
  d->describeModel(d->ModelPathLineEdit->currentPath());
  this->updateWidgetFromMRML();
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidget::onDeviceChanged(int index)
{
  Q_D(qSlicerAnomalyDetectionModuleWidget);
  if (d->ParametersNode && index >= 0)
  {
    d->ParametersNode->SetDevice(d->DeviceComboBox->itemData(index).toString().toStdString());
  }
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidget::onPrecisionChanged(int index)
{
  Q_D(qSlicerAnomalyDetectionModuleWidget);
  if (d->ParametersNode && index >= 0)
  {
    d->ParametersNode->SetPrecision(d->PrecisionComboBox->itemData(index).toString().toStdString());
  }
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidget::onApplyOrCancel()
{
  Q_D(qSlicerAnomalyDetectionModuleWidget);
  if (d->DetectionRun && d->DetectionRun->IsBusy())
  {
    d->logic()->CancelRun(d->DetectionRun);
    return;
  }
  if (d->DetectionRun && this->mrmlScene())
  {
    // The previous run's node has been read; it is not kept in the scene.
    this->mrmlScene()->RemoveNode(d->DetectionRun);
  }
  vtkMRMLCommandLineModuleNode* run = d->logic()->StartDetection(d->ParametersNode);
  d->DetectionRun = run;
  if (!run)
  {
    d->StatusLabel->setText(QString::fromStdString(d->logic()->GetLastError()));
    return;
  }
  d->StatusLabel->setText(tr("Scoring the scan..."));
  d->ProgressBar->setValue(0);
  qvtkConnect(run, vtkCommand::ModifiedEvent, this, SLOT(onDetectionRunModified()));
  this->updateWidgetFromMRML();
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidget::onDetectionRunModified()
{
  Q_D(qSlicerAnomalyDetectionModuleWidget);
  vtkMRMLCommandLineModuleNode* run = d->DetectionRun;
  if (!run)
  {
    return;
  }
  if (d->showRunStatus(run, d->ProgressBar, d->StatusLabel, tr("Done."), tr("Cancelled.")) == vtkMRMLCommandLineModuleNode::Completed)
  {
    this->connectPlotViews();
  }
  this->updateWidgetFromMRML();
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidget::onThresholdChanging(double value)
{
  Q_D(qSlicerAnomalyDetectionModuleWidget);
  if (!d->ParametersNode)
  {
    return;
  }
  d->ParametersNode->SetThreshold(value);
  d->logic()->UpdateHeatDisplay(d->ParametersNode);
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidget::onThresholdChanged(double value)
{
  // The slider has no tracking: this comes once, when it is released.
  this->onThresholdChanging(value);
  this->startRegionUpdate();
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidget::startRegionUpdate()
{
  Q_D(qSlicerAnomalyDetectionModuleWidget);
  if (!d->ParametersNode || !d->ParametersNode->GetAnomalyMapNode())
  {
    return;
  }
  // In this process, from the map Slicer holds: no CLI run, no re-read of the map.
  if (!d->logic()->UpdateRegions(d->ParametersNode))
  {
    d->StatusLabel->setText(QString::fromStdString(d->logic()->GetLastError()));
  }
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidget::onOpacityChanged(double value)
{
  Q_D(qSlicerAnomalyDetectionModuleWidget);
  if (d->ParametersNode)
  {
    d->ParametersNode->SetOpacity(value);
    d->logic()->UpdateHeatDisplay(d->ParametersNode);
  }
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidget::onColorMapChanged(const QString& colorMap)
{
  Q_D(qSlicerAnomalyDetectionModuleWidget);
  if (d->ParametersNode)
  {
    d->ParametersNode->SetColorMap(colorMap.toStdString());
    d->logic()->UpdateHeatDisplay(d->ParametersNode);
  }
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidget::onPlotDataSelected(vtkStringArray* plotSeriesIDs, vtkCollection* selections)
{
  Q_D(qSlicerAnomalyDetectionModuleWidget);
  vtkMRMLTableNode* table = d->ParametersNode ? d->ParametersNode->GetSliceScoreTableNode() : nullptr;
  vtkMRMLPlotChartNode* chart = d->ParametersNode ? d->ParametersNode->GetSliceScoreChartNode() : nullptr;
  if (!table || !chart || !plotSeriesIDs || !selections)
  {
    return;
  }
  for (vtkIdType i = 0; i < plotSeriesIDs->GetNumberOfValues() && i < selections->GetNumberOfItems(); ++i)
  {
    // Only our chart's series; its points are the table's rows.
    if (!chart->HasPlotSeriesNodeID(plotSeriesIDs->GetValue(i).c_str()))
    {
      continue;
    }
    vtkIdTypeArray* points = vtkIdTypeArray::SafeDownCast(selections->GetItemAsObject(i));
    if (points && points->GetNumberOfValues() > 0)
    {
      const vtkIdType row = points->GetValue(0);
      if (row >= 0 && row < table->GetTable()->GetNumberOfRows())
      {
        const int slice = table->GetTable()->GetValueByName(row, "Slice").ToInt();
        d->logic()->JumpToSlice(d->ParametersNode, slice);
      }
      return;
    }
  }
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidget::onTrainingDataDirectoryChanged(const QString& directory)
{
  Q_D(qSlicerAnomalyDetectionModuleWidget);
  if (d->ParametersNode)
  {
    d->ParametersNode->SetTrainingDataDirectory(directory.toStdString());
  }
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidget::onTrainOrCancel()
{
  Q_D(qSlicerAnomalyDetectionModuleWidget);
  if (!d->ParametersNode)
  {
    return;
  }
  if (d->TrainingRun && d->TrainingRun->IsBusy())
  {
    d->logic()->CancelRun(d->TrainingRun);
    return;
  }
  {
    MRMLNodeModifyBlocker blocker(d->ParametersNode);
    // The default is kept as empty, so that the node follows the CLI module's default.
    const QString backbone = d->BackboneComboBox->currentText();
    d->ParametersNode->SetTrainingBackbone(backbone == d->DefaultBackbone ? std::string() : backbone.toStdString());
    d->ParametersNode->SetTrainingIterations(d->IterationsSpinBox->value());
    d->ParametersNode->SetTrainingImageSize(d->ImageSizeSpinBox->value());
    d->ParametersNode->SetTrainingOutputModelPath(d->OutputModelPathLineEdit->currentPath().toStdString());
    const int encoder = d->EncoderComboBox->currentIndex();
    d->ParametersNode->SetTrainingEncoderWeights(encoder == 1   ? std::string("imagenet")
                                                 : encoder == 2 ? d->EncoderWeightsPathLineEdit->currentPath().toStdString()
                                                                : std::string());
  }
  if (d->TrainingRun && this->mrmlScene())
  {
    this->mrmlScene()->RemoveNode(d->TrainingRun);
  }
  d->TrainingRun = d->logic()->StartTraining(d->ParametersNode);
  if (!d->TrainingRun)
  {
    d->TrainingStatusLabel->setText(QString::fromStdString(d->logic()->GetLastError()));
    return;
  }
  d->TrainingStatusLabel->setText(tr("Training..."));
  d->TrainingProgressBar->setValue(0);
  qvtkConnect(d->TrainingRun, vtkCommand::ModifiedEvent, this, SLOT(onTrainingRunModified()));
  this->updateWidgetFromMRML();
}

//-----------------------------------------------------------------------------
void qSlicerAnomalyDetectionModuleWidget::onTrainingRunModified()
{
  Q_D(qSlicerAnomalyDetectionModuleWidget);
  vtkMRMLCommandLineModuleNode* run = d->TrainingRun;
  if (!run)
  {
    return;
  }
  const int status =
    d->showRunStatus(run, d->TrainingProgressBar, d->TrainingStatusLabel, tr("Model written; it is now the model in use."), tr("Cancelled; no model was written."));
  if (status == vtkMRMLCommandLineModuleNode::Completed && d->ParametersNode)
  {
    d->describeModel(QString::fromStdString(d->ParametersNode->GetModelPath()));
  }
  this->updateWidgetFromMRML();
}
