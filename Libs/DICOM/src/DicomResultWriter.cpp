/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Writers of the DICOM Parametric Map and SEG that reference their source series.
 *
 *=========================================================================*/
#include "ReContrast/DicomResultWriter.h"

#include "DcmtkSetup.h"
#include "ReContrast/AtomicFile.h"
#include "ReContrast/Error.h"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmfg/fgderimg.h"
#include "dcmtk/dcmfg/fgfracon.h"
#include "dcmtk/dcmfg/fgframeanatomy.h"
#include "dcmtk/dcmfg/fgparametricmapframetype.h"
#include "dcmtk/dcmfg/fgpixeltransform.h"
#include "dcmtk/dcmfg/fgpixmsr.h"
#include "dcmtk/dcmfg/fgplanor.h"
#include "dcmtk/dcmfg/fgplanpo.h"
#include "dcmtk/dcmfg/fgrealworldvaluemapping.h"
#include "dcmtk/dcmiod/iodcontentitemmacro.h"
#include "dcmtk/dcmiod/iodmacro.h"
#include "dcmtk/dcmiod/modcommoninstanceref.h"
#include "dcmtk/dcmpmap/dpmparametricmapiod.h"
#include "dcmtk/dcmseg/segdoc.h"
#include "dcmtk/dcmseg/segment.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <memory>
#include <vector>

namespace recontrast::dicom
{

namespace
{

// Codes. The anomaly score has no standard concept: a private coding scheme ("99" prefix, PS3.3
// 8.2) names it; the rest are standard SNOMED CT / DICOM / UCUM codes.
const char * const AnomalyScoreScheme = "99RECONTRAST";
const char * const AnomalyScoreCode = "ANOMALYSCORE";
const char * const AnomalyScoreMeaning = "Anomaly score";

std::string
Number(double value)
{
  return fmt::format("{:.6f}", value);
}

void
Check(const OFCondition & condition, const std::string & what, const std::string & path)
{
  if (condition.bad())
  {
    throw Error(fmt::format("Cannot write the DICOM {} '{}': {}.", what, path, detail::TextOf(condition)));
  }
}

// Saving fails mostly for want of space: the sentence says so.
void
CheckSaved(const OFCondition & condition, const std::string & what, const std::string & path)
{
  if (condition.bad())
  {
    throw Error(
      fmt::format("Cannot write the DICOM {} '{}' (is the disk full?): {}.", what, path, detail::TextOf(condition)));
  }
}

template <typename TImage>
void
RequireSourceGrid(const TImage * image, const Series & source, const std::string & what, const std::string & path)
{
  if (!image || !source.volume)
  {
    throw Error(fmt::format("Cannot write the DICOM {} '{}': no image or no source series.", what, path));
  }
  const auto size = image->GetLargestPossibleRegion().GetSize();
  const auto sourceSize = source.volume->GetLargestPossibleRegion().GetSize();
  // Frame k references source slice k: the grid must be the source's, not only its size.
  bool sameGeometry = true;
  for (unsigned int i = 0; i < 3; ++i)
  {
    sameGeometry = sameGeometry && std::abs(image->GetOrigin()[i] - source.volume->GetOrigin()[i]) < 1e-3 &&
                   std::abs(image->GetSpacing()[i] - source.volume->GetSpacing()[i]) < 1e-3;
    for (unsigned int j = 0; j < 3; ++j)
    {
      sameGeometry = sameGeometry && std::abs(image->GetDirection()[i][j] - source.volume->GetDirection()[i][j]) < 1e-4;
    }
  }
  if (!sameGeometry && size == sourceSize)
  {
    throw Error(fmt::format("Cannot write the DICOM {} '{}': its origin, spacing or direction is not the source "
                            "series'.",
                            what,
                            path));
  }
  if (size != sourceSize || source.slices.size() != size[2] || size[0] > 65535 || size[1] > 65535)
  {
    throw Error(fmt::format("Cannot write the DICOM {} '{}': its grid ({}x{}x{}) is not the source series' grid "
                            "({}x{}x{}).",
                            what,
                            path,
                            size[0],
                            size[1],
                            size[2],
                            sourceSize[0],
                            sourceSize[1],
                            sourceSize[2]));
  }
}

// The source's first file: patient, study and Frame of Reference come from it.
std::unique_ptr<DcmFileFormat>
LoadSourceHeader(const Series & source)
{
  auto file = std::make_unique<DcmFileFormat>();
  const OFCondition status =
    file->loadFile(source.slices.front().file.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect);
  if (status.bad())
  {
    throw Error(fmt::format(
      "Cannot read the source DICOM file '{}' again: {}.", source.slices.front().file, detail::TextOf(status)));
  }
  return file;
}

std::string
SeriesNumberFor(const Series & source, const ResultDescription & description, int offset)
{
  if (description.seriesNumber > 0)
  {
    return std::to_string(description.seriesNumber);
  }
  int base = 0;
  try
  {
    base = std::stoi(source.seriesNumber);
  }
  catch (const std::exception &)
  {
    base = 0;
  }
  return std::to_string(base + offset);
}

// Shared geometry of the frames: pixel spacing and thickness, orientation.
void
AddGeometry(const itk::ImageBase<3> * image, FGPixelMeasures & measures, FGPlaneOrientationPatient & orientation)
{
  const auto spacing = image->GetSpacing();
  const auto direction = image->GetDirection();
  measures.setPixelSpacing(OFString(fmt::format("{}\\{}", Number(spacing[1]), Number(spacing[0])).c_str()));
  measures.setSliceThickness(Number(spacing[2]).c_str());
  measures.setSpacingBetweenSlices(Number(spacing[2]).c_str());
  orientation.setImageOrientationPatient(Number(direction[0][0]).c_str(),
                                         Number(direction[1][0]).c_str(),
                                         Number(direction[2][0]).c_str(),
                                         Number(direction[0][1]).c_str(),
                                         Number(direction[1][1]).c_str(),
                                         Number(direction[2][1]).c_str());
}

// The patient position of the first pixel of slice k: where its source image is, when it says so
// (positions may deviate slightly from the volume's regular grid), else the grid's.
void
SetPosition(const itk::ImageBase<3> * image, const SourceImage & source, itk::SizeValueType k,
            FGPlanePosPatient & position)
{
  if (source.hasPosition)
  {
    position.setImagePositionPatient(
      Number(source.position[0]).c_str(), Number(source.position[1]).c_str(), Number(source.position[2]).c_str());
    return;
  }
  itk::Index<3> index;
  index[0] = 0;
  index[1] = 0;
  index[2] = static_cast<itk::IndexValueType>(k);
  itk::Point<double, 3> point;
  image->TransformIndexToPhysicalPoint(index, point);
  position.setImagePositionPatient(Number(point[0]).c_str(), Number(point[1]).c_str(), Number(point[2]).c_str());
}

OFVector<ImageSOPInstanceReferenceMacro>
SourceReference(const SourceImage & slice)
{
  OFVector<ImageSOPInstanceReferenceMacro> references(1);
  references[0].setReferencedSOPClassUID(slice.sopClassUid.c_str());
  references[0].setReferencedSOPInstanceUID(slice.sopInstanceUid.c_str());
  if (slice.frameNumber > 0)
  {
    references[0].addReferencedFrameNumber(static_cast<Uint16>(slice.frameNumber));
  }
  return references;
}

// Common Instance Reference: the source series and each of its instances (once).
void
AddSeriesReference(const Series & source, IODCommonInstanceReferenceModule & module)
{
  auto * series = new IODSeriesAndInstanceReferenceMacro::ReferencedSeriesItem;
  series->setSeriesInstanceUID(source.seriesInstanceUid.c_str());
  std::vector<std::string> seen;
  for (const SourceImage & slice : source.slices)
  {
    if (std::find(seen.begin(), seen.end(), slice.sopInstanceUid) != seen.end())
    {
      continue;
    }
    seen.push_back(slice.sopInstanceUid);
    auto * instance = new SOPInstanceReferenceMacro;
    instance->setReferencedSOPClassUID(slice.sopClassUid.c_str());
    instance->setReferencedSOPInstanceUID(slice.sopInstanceUid.c_str());
    series->getReferencedInstanceItems().push_back(instance);
  }
  module.getReferencedSeriesItems().push_back(series);
}

// Importing the study brings the scanner's site along (General Equipment); these objects are made
// by software elsewhere, so the scanner's institution and station are not theirs to claim.
void
ForgetScannerSite(DcmItem & item)
{
  for (const DcmTagKey & tag :
       { DCM_InstitutionName, DCM_InstitutionAddress, DCM_StationName, DCM_InstitutionalDepartmentName })
  {
    item.findAndDeleteElement(tag);
  }
}

std::string
NewUid()
{
  char uid[100];
  dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT);
  return uid;
}

} // namespace

void
WriteParametricMap(const MapVolumeType * map, const Series & source, const ResultDescription & description,
                   const std::string & path)
{
  detail::EnsureDcmtkReady();
  const std::string what = "Parametric Map";
  RequireSourceGrid(map, source, what, path);
  const auto size = map->GetLargestPossibleRegion().GetSize();
  const auto rows = static_cast<Uint16>(size[1]);
  const auto columns = static_cast<Uint16>(size[0]);
  const size_t pixels = static_cast<size_t>(rows) * columns;
  const std::string version = description.algorithmVersion.empty() ? "unknown" : description.algorithmVersion;

  const IODEnhGeneralEquipmentModule::EquipmentInfo equipment(
    "ReContrast for Slicer and ITK", description.algorithmName.c_str(), "0", version.c_str());
  const ContentIdentificationMacro content(
    "1",
    "ANOMALY_MAP",
    fmt::format("{} anomaly map. {}", description.algorithmName, description.modelDescription).substr(0, 64).c_str(),
    "");
  auto created = DPMParametricMapIOD::create<IODFloatingPointImagePixelModule>(
    source.modality.empty() ? "OT" : source.modality.c_str(),
    SeriesNumberFor(source, description, 1000).c_str(),
    "1",
    rows,
    columns,
    equipment,
    content,
    "VOLUME",
    "NONE",
    DPMTypes::CQ_RESEARCH);
  if (OFCondition * failed = OFget<OFCondition>(&created))
  {
    Check(failed->bad() ? *failed : OFCondition(EC_IllegalCall), what, path);
  }
  DPMParametricMapIOD & pmap = *OFget<DPMParametricMapIOD>(&created);

  auto header = LoadSourceHeader(source);
  Check(pmap.importHierarchy(*header->getDataset(), OFTrue, OFTrue, !source.frameOfReferenceUid.empty(), OFFalse),
        what,
        path);
  // Importing the study brings the scanner's equipment along; this object is made by software.
  Check(pmap.getIODEnhGeneralEquipmentModule().set(equipment), what, path);
  ForgetScannerSite(pmap.getIODGeneralEquipmentModule().getData());
  Check(
    pmap.getSeries().setSeriesDescription(
      fmt::format("Anomaly map ({}) of {}", description.algorithmName, source.seriesDescription).substr(0, 64).c_str()),
    what,
    path);
  Check(pmap.getSeries().setSeriesNumber(SeriesNumberFor(source, description, 1000).c_str()), what, path);
  Check(pmap.setRecognizableVisualFeatures(DPMTypes::RVF_NO), what, path);
  Check(pmap.getIODMultiframeDimensionModule().addDimensionIndex(
          DCM_ImagePositionPatient, NewUid().c_str(), DCM_PlanePositionSequence, "ImagePositionPatient"),
        what,
        path);

  FGPixelMeasures measures;
  FGPlaneOrientationPatient orientation;
  AddGeometry(map, measures, orientation);
  Check(pmap.addForAllFrames(measures), what, path);
  Check(pmap.addForAllFrames(orientation), what, path);

  FGFrameAnatomy anatomy;
  anatomy.setLaterality(FGFrameAnatomy::LATERALITY_UNPAIRED);
  anatomy.getAnatomy().getAnatomicRegion().set("85756007", "SCT", "Tissue");
  Check(pmap.addForAllFrames(anatomy), what, path);

  FGPixelValueTransformation transformation;
  transformation.setFGType(FGPixelValueTransformation::E_PixelValTrans_Identity);
  Check(pmap.addForAllFrames(transformation), what, path);

  FGParametricMapFrameType frameType;
  frameType.setFrameType("DERIVED\\PRIMARY\\VOLUME\\NONE");
  Check(pmap.addForAllFrames(frameType), what, path);

  // Real World Value Mapping: stored values are the scores themselves, without unit or (calibrated)
  // in standard deviations above normal.
  const float * values = map->GetBufferPointer();
  const auto [lowest, highest] = std::minmax_element(values, values + pixels * size[2]);
  FGRealWorldValueMapping realWorld;
  auto * mapping = new FGRealWorldValueMapping::RWVMItem();
  mapping->setRealWorldValueSlope(1.0);
  mapping->setRealWorldValueIntercept(0.0);
  mapping->setDoubleFloatRealWorldValueFirstValueMapped(*lowest);
  mapping->setDoubleFloatRealWorldValueLastValueMapped(std::max(*highest, *lowest));
  if (description.calibrated)
  {
    mapping->setLUTExplanation("Anomaly score, standard deviations above normal");
    mapping->getMeasurementUnitsCode().set("{SD}", "UCUM", "standard deviation");
  }
  else
  {
    mapping->setLUTExplanation(AnomalyScoreMeaning);
    mapping->getMeasurementUnitsCode().set("1", "UCUM", "no units");
  }
  mapping->setLUTLabel("ANOMALY");
  auto * quantity = new ContentItemMacro;
  quantity->setValueType(ContentItemMacro::VT_CODE);
  quantity->getEntireConceptNameCodeSequence().push_back(new CodeSequenceMacro("246205007", "SCT", "Quantity"));
  quantity->getEntireConceptCodeSequence().push_back(
    new CodeSequenceMacro(AnomalyScoreCode, AnomalyScoreScheme, AnomalyScoreMeaning));
  mapping->getEntireQuantityDefinitionSequence().push_back(quantity);
  realWorld.getRealWorldValueMapping().push_back(mapping);
  Check(pmap.addForAllFrames(realWorld), what, path);

  DPMParametricMapIOD::FramesType frames = pmap.getFrames();
  auto * floatFrames = OFget<DPMParametricMapIOD::Frames<Float32>>(&frames);
  if (!floatFrames)
  {
    throw Error(fmt::format("Cannot write the DICOM Parametric Map '{}': no float frames.", path));
  }
  std::vector<Float32> frame(pixels);
  for (itk::SizeValueType k = 0; k < size[2]; ++k)
  {
    FGPlanePosPatient position;
    SetPosition(map, source.slices[k], k, position);
    FGFrameContent frameContent;
    frameContent.setDimensionIndexValues(static_cast<Uint32>(k + 1), 0);
    std::unique_ptr<FGDerivationImage> derivation(FGDerivationImage::createMinimal(
      SourceReference(source.slices[k]),
      "Anomaly map computed from this image",
      CodeSequenceMacro("110001", "DCM", "Image Processing"),
      CodeSequenceMacro("121322", "DCM", "Source image for image processing operation")));
    if (!derivation)
    {
      throw Error(
        fmt::format("Cannot write the DICOM Parametric Map '{}': the reference to slice {} is invalid.", path, k));
    }
    std::copy(values + k * pixels, values + (k + 1) * pixels, frame.begin());
    OFVector<FGBase *> perFrame;
    perFrame.push_back(&position);
    perFrame.push_back(&frameContent);
    perFrame.push_back(derivation.get());
    Check(floatFrames->addFrame(frame.data(), pixels, perFrame), what, path);
  }
  AddSeriesReference(source, pmap.getCommonInstanceReference());

  AtomicFile file(path, AtomicFile::Mode::PathOnly);
  CheckSaved(pmap.saveFile(file.TemporaryPath().c_str(), EXS_LittleEndianExplicit), what, path);
  file.Commit();
}

void
WriteSegmentation(const LabelVolumeType * labels, const Series & source, const ResultDescription & description,
                  const std::string & path)
{
  detail::EnsureDcmtkReady();
  const std::string what = "Segmentation";
  RequireSourceGrid(labels, source, what, path);
  const auto size = labels->GetLargestPossibleRegion().GetSize();
  const auto rows = static_cast<Uint16>(size[1]);
  const auto columns = static_cast<Uint16>(size[0]);
  const size_t pixels = static_cast<size_t>(rows) * columns;
  const std::string version = description.algorithmVersion.empty() ? "unknown" : description.algorithmVersion;

  const IODGeneralEquipmentModule::EquipmentInfo equipment(
    "ReContrast for Slicer and ITK", description.algorithmName.c_str(), "0", version.c_str());
  const ContentIdentificationMacro content(
    "1",
    "ANOMALY_REGIONS",
    fmt::format("{} anomalous regions. {}", description.algorithmName, description.modelDescription)
      .substr(0, 64)
      .c_str(),
    "");
  DcmSegmentation * created = nullptr;
  Check(DcmSegmentation::createBinarySegmentation(created, rows, columns, equipment, content), what, path);
  std::unique_ptr<DcmSegmentation> segmentation(created);

  auto header = LoadSourceHeader(source);
  Check(segmentation->importFromSourceImage(*header->getDataset()), what, path);
  Check(segmentation->setEquipmentInfo(equipment), what, path);
  ForgetScannerSite(segmentation->getEquipment().getData());
  Check(segmentation->getSeries().setSeriesDescription(
          fmt::format("Anomalous regions ({}) of {}", description.algorithmName, source.seriesDescription)
            .substr(0, 64)
            .c_str()),
        what,
        path);
  Check(segmentation->getSeries().setSeriesNumber(SeriesNumberFor(source, description, 1001).c_str()), what, path);

  DcmSegment * newSegment = nullptr;
  Check(DcmSegment::create(newSegment,
                           "Anomaly",
                           CodeSequenceMacro("49755003", "SCT", "Morphologically Abnormal Structure"),
                           CodeSequenceMacro("52988006", "SCT", "Lesion"),
                           DcmSegTypes::SAT_AUTOMATIC,
                           description.algorithmName.c_str()),
        what,
        path);
  std::unique_ptr<DcmSegment> segment(newSegment); // owned by the document only once added
  AlgorithmIdentificationMacro algorithm;
  algorithm.getAlgorithmFamilyCode().set("123110", "DCM", "Artificial Intelligence");
  algorithm.setAlgorithmName(description.algorithmName.c_str());
  algorithm.setAlgorithmVersion(version.c_str());
  segment->setSegmentationAlgorithmIdentification(algorithm);
  segment->setRecommendedDisplayCIELabValue(34885, 53485, 50171); // red, as the heat map's top
  Uint16 segmentNumber = 0;
  Check(segmentation->addSegment(segment.get(), segmentNumber), what, path);
  segment.release();

  const std::string dimensions = NewUid();
  IODMultiframeDimensionModule & dimension = segmentation->getDimensions();
  Check(
    dimension.addDimensionIndex(
      DCM_ReferencedSegmentNumber, dimensions.c_str(), DCM_SegmentIdentificationSequence, "ReferencedSegmentNumber"),
    what,
    path);
  Check(dimension.addDimensionIndex(
          DCM_ImagePositionPatient, dimensions.c_str(), DCM_PlanePositionSequence, "ImagePositionPatient"),
        what,
        path);

  FGPixelMeasures measures;
  FGPlaneOrientationPatient orientation;
  AddGeometry(labels, measures, orientation);
  Check(segmentation->addForAllFrames(measures), what, path);
  Check(segmentation->addForAllFrames(orientation), what, path);

  // One frame per source slice, also the empty ones: the object covers the whole series.
  const unsigned short * values = labels->GetBufferPointer();
  std::vector<Uint8> mask(pixels);
  for (itk::SizeValueType k = 0; k < size[2]; ++k)
  {
    FGPlanePosPatient position;
    SetPosition(labels, source.slices[k], k, position);
    FGFrameContent frameContent;
    frameContent.setDimensionIndexValues(segmentNumber, 0);
    frameContent.setDimensionIndexValues(static_cast<Uint32>(k + 1), 1);
    std::unique_ptr<FGDerivationImage> derivation(
      DcmSegmentation::createDerivationImageFG(SourceReference(source.slices[k]), "Anomalous regions of this image"));
    if (!derivation)
    {
      throw Error(
        fmt::format("Cannot write the DICOM Segmentation '{}': the reference to slice {} is invalid.", path, k));
    }
    for (size_t i = 0; i < pixels; ++i)
    {
      mask[i] = values[k * pixels + i] != 0 ? 1 : 0;
    }
    OFVector<FGBase *> perFrame;
    perFrame.push_back(&position);
    perFrame.push_back(&frameContent);
    perFrame.push_back(derivation.get());
    Check(segmentation->addFrame(mask.data(), segmentNumber, perFrame), what, path);
  }
  AddSeriesReference(source, segmentation->getCommonInstanceReference());

  AtomicFile file(path, AtomicFile::Mode::PathOnly);
  CheckSaved(segmentation->saveFile(file.TemporaryPath().c_str(), EXS_LittleEndianExplicit), what, path);
  file.Commit();
}

} // namespace recontrast::dicom
