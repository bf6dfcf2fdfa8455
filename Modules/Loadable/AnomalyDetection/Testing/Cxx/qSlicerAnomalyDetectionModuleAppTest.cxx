/*==============================================================================

  ReContrast for Slicer and ITK
  Licensed under the Apache License, Version 2.0 (see LICENSE).

==============================================================================*/

// The Anomaly Detection module in the real application: a qSlicerApplication with Slicer's main
// window (as Slicer's own Main.cxx makes them), the module and the ReContrast CLI modules found
// through --additional-module-paths, driven through its panel's widgets as a user would. Run under
// xvfb-run by ctest (Testing/Cxx/CMakeLists.txt).
//
// Usage: qSlicerAnomalyDetectionModuleAppTest <scan> <model> <bad-model> <work-dir> <module-path>...
//   [--screenshots <dir>] [--memory-runs N] [--centre I J K]
// <scan> is a volume with a lesion, <model> a small model trained on the normal scan with a
// calibration share (so that it recommends a threshold), <bad-model> a file that is not a model.
// The test links none of the module's libraries: it sees the module only as Slicer loaded it, and
// reads the parameter node through the generic MRML API (references and saved attributes).

// Slicer includes
#include <qMRMLLayoutManager.h>
#include <qMRMLNodeComboBox.h>
#include <qMRMLPlotView.h>
#include <qMRMLPlotWidget.h>
#include <qMRMLTableView.h>
#include <qSlicerAbstractCoreModule.h>
#include <qSlicerAbstractModuleRepresentation.h>
#include <qSlicerApplication.h>
#include <qSlicerApplicationHelper.h>
#include <qSlicerIOManager.h>
#include <qSlicerLayoutManager.h>
#include <qSlicerMainWindow.h>
#include <qSlicerModuleManager.h>
#include <qSlicerStyle.h>

// CTK includes
#include <ctkPathLineEdit.h>
#include <ctkSliderWidget.h>

// MRML includes
#include <vtkMRMLColorNode.h>
#include <vtkMRMLPlotChartNode.h>
#include <vtkMRMLPlotViewNode.h>
#include <vtkMRMLScalarVolumeDisplayNode.h>
#include <vtkMRMLScalarVolumeNode.h>
#include <vtkMRMLScene.h>
#include <vtkMRMLSegmentationNode.h>
#include <vtkMRMLSliceCompositeNode.h>
#include <vtkMRMLSliceNode.h>
#include <vtkMRMLTableNode.h>

// Segmentation core includes
#include <vtkSegmentation.h>

// VTK includes
#include <vtkImageData.h>
#include <vtkMatrix4x4.h>
#include <vtkDataArray.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkTable.h>

// Qt includes
#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QPixmap>
#include <QPushButton>
#include <QSplashScreen>
#include <QThread>
#include <QTimer>

// STD includes
#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace
{
int Failures = 0;

#define APP_CHECK(condition, message)                                         \
 do                                                                           \
 {                                                                            \
  if (!(condition))                                                           \
  {                                                                           \
   std::cerr << "FAILED (line " << __LINE__ << "): " << message << std::endl; \
   ++Failures;                                                                \
  }                                                                           \
 } while (false)

/// Runs the event loop until `done` holds or `seconds` pass; false on timeout.
bool WaitFor(const std::function<bool()>& done, double seconds)
{
  QElapsedTimer clock;
  clock.start();
  while (!done())
  {
    if (clock.elapsed() > seconds * 1000.0)
    {
      return false;
    }
    qApp->processEvents(QEventLoop::AllEvents, 50);
    QThread::msleep(20);
  }
  return true;
}

/// Resident memory of this process in bytes (Linux /proc).
double ResidentBytes()
{
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
  {
    if (line.rfind("VmRSS:", 0) == 0)
    {
      std::istringstream fields(line.substr(6));
      double kilobytes = 0.0;
      fields >> kilobytes;
      return kilobytes * 1024.0;
    }
  }
  return 0.0;
}

/// How many nodes of each class the scene holds, for "no new nodes" checks.
std::map<std::string, int> CountNodes(vtkMRMLScene* scene)
{
  std::map<std::string, int> counts;
  for (const char* nodeClass : { "vtkMRMLScalarVolumeNode",
                                 "vtkMRMLLabelMapVolumeNode",
                                 "vtkMRMLSegmentationNode",
                                 "vtkMRMLTableNode",
                                 "vtkMRMLPlotChartNode",
                                 "vtkMRMLPlotSeriesNode",
                                 "vtkMRMLColorTableNode",
                                 "vtkMRMLScalarVolumeDisplayNode",
                                 "vtkMRMLAnomalyDetectionParametersNode",
                                 "vtkMRMLVolumeArchetypeStorageNode",
                                 "vtkMRMLCommandLineModuleNode" })
  {
    counts[nodeClass] = scene->GetNumberOfNodesByClass(nodeClass);
  }
  return counts;
}

std::string Describe(const std::map<std::string, int>& counts)
{
  std::ostringstream text;
  for (const auto& entry : counts)
  {
    text << entry.first << "=" << entry.second << " ";
  }
  return text.str();
}

/// Nodes of the classes a run may leave differ, CLI nodes aside (the panel keeps its last run's).
bool SameNodesButRuns(std::map<std::string, int> a, std::map<std::string, int> b)
{
  a.erase("vtkMRMLCommandLineModuleNode");
  b.erase("vtkMRMLCommandLineModuleNode");
  return a == b;
}

/// The module's parameter node, read as a saved scene would read it.
struct ParametersView
{
  vtkMRMLNode* Node{ nullptr };

  std::string Attribute(const char* name) const
  {
    std::ostringstream xml;
    this->Node->WriteXML(xml, 0);
    const std::string text = xml.str();
    const std::string key = std::string(" ") + name + "=\"";
    const size_t start = text.find(key);
    if (start == std::string::npos)
    {
      return std::string();
    }
    const size_t begin = start + key.size();
    return text.substr(begin, text.find('"', begin) - begin);
  }
  double Number(const char* name) const { return std::atof(this->Attribute(name).c_str()); }
  template <class T>
  T* Reference(const char* role) const
  {
    return T::SafeDownCast(this->Node->GetNodeReference(role));
  }
  vtkMRMLScalarVolumeNode* Input() const { return this->Reference<vtkMRMLScalarVolumeNode>("inputVolume"); }
  vtkMRMLScalarVolumeNode* Map() const { return this->Reference<vtkMRMLScalarVolumeNode>("anomalyMap"); }
  vtkMRMLSegmentationNode* Segmentation() const { return this->Reference<vtkMRMLSegmentationNode>("segmentation"); }
  vtkMRMLTableNode* RegionTable() const { return this->Reference<vtkMRMLTableNode>("regionTable"); }
  vtkMRMLTableNode* SliceScoreTable() const { return this->Reference<vtkMRMLTableNode>("sliceScoreTable"); }
  vtkMRMLPlotChartNode* SliceScoreChart() const { return this->Reference<vtkMRMLPlotChartNode>("sliceScoreChart"); }
};

/// The panel of the module, as the module selector shows it.
struct Panel
{
  QWidget* Widget{ nullptr };
  qMRMLNodeComboBox* Input{ nullptr };
  ctkPathLineEdit* ModelPath{ nullptr };
  QLabel* ModelDescription{ nullptr };
  QPushButton* Apply{ nullptr };
  QLabel* Status{ nullptr };
  ctkSliderWidget* Threshold{ nullptr };
  ctkSliderWidget* Opacity{ nullptr };
  qMRMLTableView* RegionTable{ nullptr };

  bool Find(QWidget* widget)
  {
    this->Widget = widget;
    if (!widget)
    {
      return false;
    }
    this->Input = widget->findChild<qMRMLNodeComboBox*>("InputVolumeComboBox");
    this->ModelPath = widget->findChild<ctkPathLineEdit*>("ModelPathLineEdit");
    this->ModelDescription = widget->findChild<QLabel*>("ModelDescriptionLabel");
    this->Apply = widget->findChild<QPushButton*>("ApplyButton");
    this->Status = widget->findChild<QLabel*>("StatusLabel");
    this->Threshold = widget->findChild<ctkSliderWidget*>("ThresholdSliderWidget");
    this->Opacity = widget->findChild<ctkSliderWidget*>("OpacitySliderWidget");
    this->RegionTable = widget->findChild<qMRMLTableView*>("RegionTableView");
    return this->Input && this->ModelPath && this->ModelDescription && this->Apply && this->Status && this->Threshold && this->Opacity && this->RegionTable;
  }

  /// Chooses a model file as a user does, and waits for its description; true when the panel
  /// answered "Reading the model file..." at once (it never waits for the model file).
  bool ChooseModel(const QString& path, double seconds)
  {
    this->ModelPath->setCurrentPath(path);
    const bool answeredAtOnce = this->ModelDescription->text().startsWith("Reading");
    WaitFor([this]() { return !this->ModelDescription->text().startsWith("Reading"); }, seconds);
    return answeredAtOnce;
  }

  /// Presses Apply and waits for the run to end; returns the status line.
  QString ApplyAndWait(double seconds)
  {
    this->Apply->click();
    WaitFor([this]() { return this->Apply->text() == "Apply"; }, seconds);
    return this->Status->text();
  }
};

double TotalRegionSize(vtkMRMLTableNode* table)
{
  double total = 0.0;
  if (table && table->GetTable() && table->GetTable()->GetColumnByName("Size"))
  {
    for (vtkIdType row = 0; row < table->GetTable()->GetNumberOfRows(); ++row)
    {
      total += table->GetTable()->GetValueByName(row, "Size").ToDouble();
    }
  }
  return total;
}

/// The value below which `fraction` of the map's voxels lie.
// A percentile of the map's values above 0: outside the scan's foreground the map is 0, and so is a
// calibrated map wherever it is at or below normal.
double Percentile(vtkMRMLScalarVolumeNode* map, double fraction)
{
  vtkDataArray* scalars = map->GetImageData()->GetPointData()->GetScalars();
  std::vector<double> values;
  for (vtkIdType i = 0; i < scalars->GetNumberOfTuples(); ++i)
  {
    const double value = scalars->GetTuple1(i);
    if (value > 0.0)
    {
      values.push_back(value);
    }
  }
  if (values.empty())
  {
    return 0.0;
  }
  const size_t k = std::min(values.size() - 1, static_cast<size_t>(fraction * static_cast<double>(values.size())));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

bool SameGeometry(vtkMRMLScalarVolumeNode* a, vtkMRMLScalarVolumeNode* b)
{
  if (!a || !b || !a->GetImageData() || !b->GetImageData())
  {
    return false;
  }
  int da[3], db[3];
  a->GetImageData()->GetDimensions(da);
  b->GetImageData()->GetDimensions(db);
  vtkNew<vtkMatrix4x4> ma, mb;
  a->GetIJKToRASMatrix(ma.GetPointer());
  b->GetIJKToRASMatrix(mb.GetPointer());
  for (int i = 0; i < 3; ++i)
  {
    if (da[i] != db[i])
    {
      return false;
    }
  }
  for (int r = 0; r < 4; ++r)
  {
    for (int c = 0; c < 4; ++c)
    {
      if (std::abs(ma->GetElement(r, c) - mb->GetElement(r, c)) > 1e-6)
      {
        return false;
      }
    }
  }
  return true;
}

void Screenshot(QWidget* window, const QString& folder, const QString& name)
{
  if (folder.isEmpty())
  {
    return;
  }
  // Let the views render what the last change showed.
  WaitFor([]() { return false; }, 1.0);
  const QString path = QDir(folder).filePath(name);
  if (!window->grab().save(path))
  {
    std::cerr << "FAILED: could not write the screenshot " << path.toStdString() << std::endl;
    ++Failures;
  }
  else
  {
    std::cout << "screenshot: " << path.toStdString() << std::endl;
  }
}

int RunTest(qSlicerApplication& app, qSlicerMainWindow* window, const QStringList& arguments)
{
  const QString scanPath = arguments.value(0);
  const QString modelPath = arguments.value(1);
  const QString badModelPath = arguments.value(2);
  const QString workDir = arguments.value(3);
  const int screenshotsAt = arguments.indexOf("--screenshots");
  const QString screenshots = screenshotsAt >= 0 ? arguments.value(screenshotsAt + 1) : QString();
  const int memoryAt = arguments.indexOf("--memory-runs");
  const int memoryRuns = memoryAt >= 0 ? arguments.value(memoryAt + 1).toInt() : 5;
  const int centreAt = arguments.indexOf("--centre");
  const double runSeconds = 600.0;
  QDir().mkpath(workDir);
  if (!screenshots.isEmpty())
  {
    QDir().mkpath(screenshots);
  }

  vtkMRMLScene* scene = app.mrmlScene();
  qSlicerAbstractCoreModule* module = app.moduleManager()->module("AnomalyDetection");
  if (!module)
  {
    std::cerr << "FAILED: the module AnomalyDetection was not loaded from the additional module paths" << std::endl;
    return 1;
  }
  for (const char* cliModule : { "ReContrastAnomalyDetection", "ReContrastModelInfo", "ReContrastTrainModel" })
  {
    APP_CHECK(app.moduleManager()->module(cliModule), "the CLI module " << cliModule << " was not loaded");
  }

  // The scan, loaded as "Add Data" loads it.
  qSlicerIO::IOProperties properties;
  properties["fileName"] = scanPath;
  vtkMRMLScalarVolumeNode* scan = vtkMRMLScalarVolumeNode::SafeDownCast(app.ioManager()->loadNodesAndGetFirst("VolumeFile", properties));
  if (!scan || !scan->GetImageData())
  {
    std::cerr << "FAILED: the scan " << scanPath.toStdString() << " could not be loaded" << std::endl;
    return 1;
  }

  // The module, selected as from the module list.
  app.layoutManager()->setCurrentModule("AnomalyDetection");
  WaitFor([]() { return false; }, 0.5);
  Panel panel;
  if (!panel.Find(dynamic_cast<QWidget*>(module->widgetRepresentation())))
  {
    std::cerr << "FAILED: the module panel lacks one of its widgets" << std::endl;
    return 1;
  }
  APP_CHECK(panel.Widget->isVisible(), "the module panel is not shown in the main window");
  ParametersView parameters;
  parameters.Node = scene->GetFirstNodeByClass("vtkMRMLAnomalyDetectionParametersNode");
  if (!parameters.Node)
  {
    std::cerr << "FAILED: entering the module made no parameter node" << std::endl;
    return 1;
  }
  panel.Input->setCurrentNode(scan);
  APP_CHECK(parameters.Input() == scan, "the input selector does not set the parameter node");

  // The backbones offered for training are the training CLI module's, its default chosen; the
  // parameter node keeps the default as empty, so that it follows the CLI module's.
  QComboBox* backbones = panel.Widget->findChild<QComboBox*>("BackboneComboBox");
  APP_CHECK(backbones && backbones->count() >= 2 && backbones->findText("resnet18") >= 0 && !backbones->currentText().isEmpty(),
            "the backbones were not filled from the ReContrastTrainModel CLI module's description");
  APP_CHECK(parameters.Attribute("trainingBackbone").empty(), "a new parameter node names a backbone instead of the CLI module's default");

  // 1. A file that is not a model: one sentence in the panel, and Apply leaves no half-made nodes.
  const std::map<std::string, int> before = CountNodes(scene);
  APP_CHECK(panel.ChooseModel(badModelPath, 60.0), "the panel did not answer at once for a new model file");
  const QString badDescription = panel.ModelDescription->text();
  std::cout << "bad model description: " << badDescription.toStdString() << std::endl;
  APP_CHECK(badDescription.startsWith("Not usable: ") && !badDescription.contains('\n') && badDescription.length() < 300,
            "a bad model file is not refused in one sentence: " << badDescription.toStdString());
  APP_CHECK(!panel.Apply->isEnabled(), "Apply is offered with a file that is not a model");
  panel.Apply->click();
  WaitFor([]() { return false; }, 1.0);
  APP_CHECK(SameNodesButRuns(before, CountNodes(scene)), "a file that is not a model left nodes behind: before " << Describe(before) << "after " << Describe(CountNodes(scene)));
  APP_CHECK(!parameters.Map(), "a file that is not a model left a map node referenced");

  // 2. The model: described in the background, then Apply.
  APP_CHECK(panel.ChooseModel(modelPath, 60.0), "the panel did not answer at once for the model file");
  std::cout << "model description: " << panel.ModelDescription->text().toStdString() << std::endl;
  APP_CHECK(panel.ModelDescription->text().startsWith("resnet18"), "the model was not described: " << panel.ModelDescription->text().toStdString());
  APP_CHECK(parameters.Attribute("modelCalibrated") == "true", "the test model should be calibrated (it recommends the threshold)");

  // A scan the model cannot score (constant: no foreground): the run fails with its sentence and the
  // scene is left as it was, without an empty map.
  vtkNew<vtkImageData> constantImage;
  constantImage->SetDimensions(20, 20, 20);
  constantImage->AllocateScalars(VTK_FLOAT, 1);
  constantImage->GetPointData()->GetScalars()->Fill(0.0);
  auto* constant = vtkMRMLScalarVolumeNode::SafeDownCast(scene->AddNewNodeByClass("vtkMRMLScalarVolumeNode", "constant"));
  constant->SetAndObserveImageData(constantImage.GetPointer());
  constant->CreateDefaultDisplayNodes();
  panel.Input->setCurrentNode(constant);
  const std::map<std::string, int> beforeFailure = CountNodes(scene);
  const QString failed = panel.ApplyAndWait(runSeconds);
  std::cout << "run on a constant volume: " << failed.toStdString() << std::endl;
  APP_CHECK(failed.startsWith("Failed: ") && !failed.contains('\n'), "a run that fails does not say so in one line: " << failed.toStdString());
  APP_CHECK(SameNodesButRuns(beforeFailure, CountNodes(scene)), "a failed run left nodes behind: before " << Describe(beforeFailure) << "after " << Describe(CountNodes(scene)));
  APP_CHECK(!parameters.Map(), "a failed first run left a map node referenced");
  panel.Input->setCurrentNode(scan);
  scene->RemoveNode(constant);

  const QString status = panel.ApplyAndWait(runSeconds);
  std::cout << "run: " << status.toStdString() << std::endl;
  APP_CHECK(status == "Done.", "the run did not complete: " << status.toStdString());

  vtkMRMLScalarVolumeNode* map = parameters.Map();
  APP_CHECK(map && SameGeometry(map, scan), "the anomaly map is missing or does not have the scan's geometry");
  if (!map)
  {
    return 1;
  }
  vtkMRMLScalarVolumeDisplayNode* display = map->GetScalarVolumeDisplayNode();
  vtkMRMLColorNode* colors = display ? display->GetColorNode() : nullptr;
  APP_CHECK(colors && std::string(colors->GetName()).rfind("ReContrast heat (", 0) == 0, "the map is not shown with the heat colours");
  APP_CHECK(display && display->GetApplyThreshold() == 1, "values below the threshold are not hidden");
  std::vector<vtkMRMLNode*> composites;
  scene->GetNodesByClass("vtkMRMLSliceCompositeNode", composites);
  APP_CHECK(composites.size() >= 3, "the layout has fewer than three slice views");
  for (vtkMRMLNode* node : composites)
  {
    auto* composite = vtkMRMLSliceCompositeNode::SafeDownCast(node);
    APP_CHECK(composite->GetForegroundVolumeID() && std::string(composite->GetForegroundVolumeID()) == map->GetID(),
              "the map is not the foreground of slice view " << composite->GetLayoutName());
    APP_CHECK(composite->GetBackgroundVolumeID() && std::string(composite->GetBackgroundVolumeID()) == scan->GetID(),
              "the scan is not the background of slice view " << composite->GetLayoutName());
    APP_CHECK(std::abs(composite->GetForegroundOpacity() - parameters.Number("opacity")) < 1e-9,
              "the foreground opacity is not the panel's in slice view " << composite->GetLayoutName());
  }
  vtkMRMLSegmentationNode* segmentation = parameters.Segmentation();
  vtkMRMLTableNode* regionTable = parameters.RegionTable();
  const int segments = segmentation ? segmentation->GetSegmentation()->GetNumberOfSegments() : 0;
  const vtkIdType regionRows = regionTable ? regionTable->GetNumberOfRows() : 0;
  std::cout << "regions: " << segments << " segments, " << regionRows << " table rows, recommended threshold " << parameters.Number("recommendedThreshold") << std::endl;
  APP_CHECK(segmentation && regionTable, "the run made no segmentation or region table");
  APP_CHECK(regionRows == segments, "the region table has " << regionRows << " rows for " << segments << " segments");
  APP_CHECK(panel.RegionTable->mrmlTableNode() == regionTable, "the panel's table does not show the region table");
  vtkMRMLTableNode* sliceScores = parameters.SliceScoreTable();
  APP_CHECK(sliceScores && sliceScores->GetNumberOfRows() > 10, "the slice-score table is not filled");
  vtkMRMLPlotChartNode* chart = parameters.SliceScoreChart();
  bool chartShown = false;
  for (int i = 0; chart && i < app.layoutManager()->plotViewCount(); ++i)
  {
    qMRMLPlotWidget* plotWidget = app.layoutManager()->plotWidget(i);
    vtkMRMLPlotViewNode* viewNode = plotWidget ? plotWidget->mrmlPlotViewNode() : nullptr;
    chartShown = chartShown || (viewNode && viewNode->GetPlotChartNodeID() && std::string(viewNode->GetPlotChartNodeID()) == chart->GetID() && plotWidget->isVisible());
  }
  APP_CHECK(chartShown, "the slice-score plot is not shown in a plot view");
  if (centreAt >= 0)
  {
    // The views through a voxel of interest (the pictures: the lesion's centre).
    vtkNew<vtkMatrix4x4> ijkToRAS;
    scan->GetIJKToRASMatrix(ijkToRAS.GetPointer());
    const double ijk[4] = { arguments.value(centreAt + 1).toDouble(), arguments.value(centreAt + 2).toDouble(), arguments.value(centreAt + 3).toDouble(), 1.0 };
    double ras[4];
    ijkToRAS->MultiplyPoint(ijk, ras);
    std::vector<vtkMRMLNode*> sliceNodes;
    scene->GetNodesByClass("vtkMRMLSliceNode", sliceNodes);
    for (vtkMRMLNode* node : sliceNodes)
    {
      vtkMRMLSliceNode::SafeDownCast(node)->JumpSliceByCentering(ras[0], ras[1], ras[2]);
    }
  }
  Screenshot(window, screenshots, "slicer-module-overlay.png");

  // 3. Moving the threshold changes the overlay at once and the regions when released (found in
  // Slicer's process from the map it holds): down to the 99th percentile of the map's values above 0,
  // then up to their 99.9th.
  const double lowThreshold = Percentile(map, 0.99);
  const double highThreshold = Percentile(map, 0.999);
  std::cout << "thresholds: 99th percentile " << lowThreshold << ", 99.9th percentile " << highThreshold << std::endl;
  const double sizeAtRecommended = TotalRegionSize(regionTable);
  panel.Threshold->setValue(lowThreshold);
  APP_CHECK(std::abs(parameters.Number("threshold") - lowThreshold) < 1e-3 * std::abs(lowThreshold) + 1e-3,
            "the threshold slider does not set the parameter node: " << parameters.Attribute("threshold"));
  APP_CHECK(std::abs(display->GetLowerThreshold() - parameters.Number("threshold")) < 1e-4 * std::abs(lowThreshold) + 1e-6, "the overlay does not follow the threshold");
  WaitFor([&]() { return TotalRegionSize(regionTable) != sizeAtRecommended; }, 120.0);
  const double sizeLow = TotalRegionSize(regionTable);
  const int segmentsLow = segmentation->GetSegmentation()->GetNumberOfSegments();
  std::cout << "regions at the 99th percentile: " << segmentsLow << " segments, " << regionTable->GetNumberOfRows() << " rows, " << sizeLow << " mm3 in all" << std::endl;
  APP_CHECK(segmentsLow >= 1, "the segmentation holds no region at the 99th percentile");
  APP_CHECK(regionTable->GetNumberOfRows() == segmentsLow, "the segmentation does not follow the region table");
  Screenshot(window, screenshots, "slicer-regions.png");
  panel.Threshold->setValue(highThreshold);
  WaitFor([&]() { return TotalRegionSize(regionTable) != sizeLow; }, 120.0);
  const double sizeHigh = TotalRegionSize(regionTable);
  std::cout << "regions at the 99.9th percentile: " << segmentation->GetSegmentation()->GetNumberOfSegments() << " segments, " << sizeHigh << " mm3 in all" << std::endl;
  APP_CHECK(sizeHigh < sizeLow, "a higher threshold did not shrink the regions");
  APP_CHECK(segmentation->GetSegmentation()->GetNumberOfSegments() == regionTable->GetNumberOfRows(), "the segmentation does not follow the region table");
  APP_CHECK(std::abs(display->GetLowerThreshold() - parameters.Number("threshold")) < 1e-4 * std::abs(highThreshold) + 1e-6, "the overlay does not follow the threshold");
  Screenshot(window, screenshots, "slicer-threshold.png");

  // 4. Apply again on the same scan: the same nodes are reused, none piles up.
  const std::map<std::string, int> afterFirst = CountNodes(scene);
  const QString again = panel.ApplyAndWait(runSeconds);
  APP_CHECK(again == "Done.", "the second run did not complete: " << again.toStdString());
  APP_CHECK(parameters.Map() == map && parameters.Segmentation() == segmentation && parameters.RegionTable() == regionTable,
            "a second run replaced the result nodes instead of reusing them");
  // CLI runs included: the panel keeps only its last run of each kind.
  APP_CHECK(afterFirst == CountNodes(scene), "a second run added nodes: before " << Describe(afterFirst) << "after " << Describe(CountNodes(scene)));

  // 5. Cancel during a run: the previous results stay, no node is added.
  const std::map<std::string, int> beforeCancel = CountNodes(scene);
  vtkImageData* mapImage = map->GetImageData();
  panel.Apply->click();
  APP_CHECK(panel.Apply->text() == "Cancel", "Apply did not turn into Cancel during the run");
  panel.Apply->click();
  WaitFor([&]() { return panel.Apply->text() == "Apply"; }, runSeconds);
  std::cout << "cancelled run: " << panel.Status->text().toStdString() << std::endl;
  APP_CHECK(panel.Status->text() == "Cancelled.", "Cancel did not cancel: " << panel.Status->text().toStdString());
  APP_CHECK(SameNodesButRuns(beforeCancel, CountNodes(scene)), "a cancelled run changed the scene: before " << Describe(beforeCancel) << "after " << Describe(CountNodes(scene)));
  APP_CHECK(parameters.Map() == map && map->GetImageData() == mapImage, "a cancelled run replaced the map");

  // 6. Memory: repeated runs on the same scan do not grow the process by more than one map and
  // one segmentation (no leaked nodes, images or observers).
  const double mapBytes = static_cast<double>(map->GetImageData()->GetNumberOfPoints()) * sizeof(float);
  const double segmentationBytes = static_cast<double>(map->GetImageData()->GetNumberOfPoints()) * sizeof(unsigned char);
  panel.ApplyAndWait(runSeconds);
  const std::map<std::string, int> beforeRepeats = CountNodes(scene);
  const double residentStart = ResidentBytes();
  for (int run = 0; run < memoryRuns; ++run)
  {
    const QString memoryStatus = panel.ApplyAndWait(runSeconds);
    APP_CHECK(memoryStatus == "Done.", "memory run " << run << " did not complete: " << memoryStatus.toStdString());
  }
  const double residentEnd = ResidentBytes();
  std::cout << "resident memory after the first run " << residentStart / 1e6 << " MB, after " << memoryRuns << " more runs " << residentEnd / 1e6 << " MB (growth "
            << (residentEnd - residentStart) / 1e6 << " MB; allowed: map " << mapBytes / 1e6 << " MB + segmentation " << segmentationBytes / 1e6 << " MB)" << std::endl;
  APP_CHECK(residentEnd - residentStart <= mapBytes + segmentationBytes, "the process grows with repeated runs");
  APP_CHECK(beforeRepeats == CountNodes(scene), "repeated runs added nodes: before " << Describe(beforeRepeats) << "after " << Describe(CountNodes(scene)));

  // 7. The scene saved as a Medical Reality Bundle and loaded again: the parameter node keeps its
  // settings and its references, and the results come back with it.
  const std::string modelBefore = parameters.Attribute("modelPath");
  const double thresholdBefore = parameters.Number("threshold");
  const double opacityBefore = parameters.Number("opacity");
  const int segmentsBefore = segmentation->GetSegmentation()->GetNumberOfSegments();
  const QString bundle = QDir(workDir).filePath("scene.mrb");
  QFile::remove(bundle);
  qSlicerIO::IOProperties saveProperties;
  saveProperties["fileName"] = bundle;
  APP_CHECK(app.ioManager()->saveNodes("SceneFile", saveProperties), "the scene could not be saved as " << bundle.toStdString());
  APP_CHECK(QFileInfo(bundle).size() > 0, "no scene bundle was written");
  scene->Clear(false);
  std::vector<vtkMRMLNode*> leftOver;
  scene->GetNodesByClass("vtkMRMLAnomalyDetectionParametersNode", leftOver);
  for (vtkMRMLNode* node : leftOver)
  {
    // The panel starts a new scene with an empty parameter node.
    APP_CHECK(!node->GetNodeReference("inputVolume") && !node->GetNodeReference("anomalyMap"), "closing the scene kept the results");
  }
  APP_CHECK(app.ioManager()->loadScene(bundle), "the scene bundle could not be loaded");
  WaitFor([]() { return false; }, 1.0);
  // (The panel made an empty parameter node when the scene closed; the loaded one has the scan.)
  ParametersView restored;
  std::vector<vtkMRMLNode*> parameterNodes;
  scene->GetNodesByClass("vtkMRMLAnomalyDetectionParametersNode", parameterNodes);
  for (vtkMRMLNode* node : parameterNodes)
  {
    if (node->GetNodeReference("inputVolume"))
    {
      restored.Node = node;
    }
  }
  APP_CHECK(restored.Node, "the parameter node did not come back with the scene");
  if (restored.Node)
  {
    APP_CHECK(panel.Input->currentNode() == restored.Input() && panel.RegionTable->mrmlTableNode() == restored.RegionTable(),
              "the panel does not show the restored parameter node");
    APP_CHECK(restored.Attribute("modelPath") == modelBefore, "the model path did not round-trip");
    APP_CHECK(std::abs(restored.Number("threshold") - thresholdBefore) < 1e-9, "the threshold did not round-trip");
    APP_CHECK(std::abs(restored.Number("opacity") - opacityBefore) < 1e-9, "the opacity did not round-trip");
    APP_CHECK(restored.Input() && restored.Input()->GetImageData(), "the scan did not come back");
    APP_CHECK(restored.Map() && SameGeometry(restored.Map(), restored.Input()), "the anomaly map did not come back with the scan's geometry");
    APP_CHECK(restored.Segmentation() && restored.Segmentation()->GetSegmentation()->GetNumberOfSegments() == segmentsBefore,
              "the segmentation did not come back with its regions");
    APP_CHECK(restored.RegionTable() && restored.RegionTable()->GetNumberOfRows() == segmentsBefore, "the region table did not come back");
    APP_CHECK(restored.SliceScoreChart() && restored.SliceScoreTable(), "the slice-score plot did not come back");
  }
  return Failures == 0 ? 0 : 1;
}
} // namespace

int main(int argc, char* argv[])
{
  if (argc < 6)
  {
    std::cerr << "Usage: " << argv[0] << " <scan> <model> <bad-model> <work-dir> <module-path>... [--screenshots <dir>] [--memory-runs N]" << std::endl;
    return 2;
  }
  // Four file arguments, then the module folders (the application's --additional-module-paths),
  // then this test's options.
  QStringList testArguments;
  std::vector<std::string> applicationArguments = { argv[0], "--testing", "--no-splash", "--additional-module-paths" };
  int i = 1;
  for (; i < 5; ++i)
  {
    testArguments << QString::fromLocal8Bit(argv[i]);
  }
  for (; i < argc && std::string(argv[i]).rfind("--", 0) != 0; ++i)
  {
    applicationArguments.push_back(argv[i]);
  }
  for (; i < argc; ++i)
  {
    testArguments << QString::fromLocal8Bit(argv[i]);
  }
  std::vector<char*> applicationArgv;
  for (std::string& argument : applicationArguments)
  {
    applicationArgv.push_back(&argument[0]);
  }
  applicationArgv.push_back(nullptr);
  int applicationArgc = static_cast<int>(applicationArguments.size());

  qSlicerApplicationHelper::preInitializeApplication(argv[0], new qSlicerStyle);
  qSlicerApplication app(applicationArgc, applicationArgv.data());
  if (app.returnCode() != -1)
  {
    return app.returnCode();
  }
  QScopedPointer<qSlicerMainWindow> window;
  QScopedPointer<QSplashScreen> splashScreen;
  const int exitCode = qSlicerApplicationHelper::postInitializeApplication<qSlicerMainWindow>(app, splashScreen, window);
  if (exitCode != 0 || window.isNull())
  {
    std::cerr << "FAILED: the Slicer main window could not be made" << std::endl;
    return 1;
  }
  window->resize(1600, 1000);
  window->show();
  WaitFor([]() { return false; }, 1.0);

  const int result = RunTest(app, window.data(), testArguments);
  // Leave as Slicer's own main does: the window goes first, then the application and its scene.
  window.reset();
  std::cout << (result == 0 ? "Slicer application test passed" : "Slicer application test FAILED") << std::endl;
  return result;
}
