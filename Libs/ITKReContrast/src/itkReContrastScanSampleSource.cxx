/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Training samples from sets of scans, and how the ITK layer reads a scan.
 *
 *=========================================================================*/
#include "itkReContrastScanSampleSource.h"

#include "itkImage.h"
#include "itkImageFileReader.h"
#include "itkReContrastImageFiles.h"
#include "itkImageIOFactory.h"
#include "itkRGBPixel.h"
#include "itkReContrastAnomalyImageFilter.h"
#include "itkReContrastExceptionText.h"
#include "itkReContrastForegroundMaskImageFilter.h"
#include "itkReContrastImageSlices.h"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <fstream>

namespace itk
{

namespace
{
namespace fs = std::filesystem;
using VolumeType = Image<float, 3>;
using ColourVolumeType = Image<RGBPixel<float>, 3>;
using MaskType = Image<unsigned char, 3>;

template <typename TImage>
void
ReadInto(const std::string & path, ImageIOBase * checked, typename TImage::Pointer & image)
{
  image = ReContrastReadImageFile<TImage>(path, checked);
  image->DisconnectPipeline();
}

} // namespace

std::shared_ptr<const ReContrastScanSlices>
ReContrastReadScanSlices(const std::string & path, const ReContrastScanSampleSource::Settings & settings)
{
  try
  {
    VolumeType::Pointer grey;
    if (fs::is_directory(path))
    {
      if (!settings.seriesReader)
      {
        itkGenericExceptionMacro("'" << path << "' is a folder, and this program reads no DICOM series folders.");
      }
      grey = settings.seriesReader->ReadSeriesFolder(path);
    }
    else
    {
      const ImageIOBase::Pointer io = ReContrastReadImageFileInformation(path);
      if (io->GetNumberOfDimensions() > 3)
      {
        itkGenericExceptionMacro("'" << path << "' is a " << io->GetNumberOfDimensions()
                                     << "-D image; only 2-D and 3-D scans are supported.");
      }
      const unsigned int components = io->GetNumberOfComponents();
      if (components == 3 || components == 4)
      {
        ColourVolumeType::Pointer colour;
        ReadInto<ColourVolumeType>(path, io, colour);
        const auto size = ReContrastSize3(colour.GetPointer());
        if (size[2] != 1)
        {
          itkGenericExceptionMacro("'" << path << "' is a colour volume; colour is supported for 2-D pictures only.");
        }
        return ReContrastMakeScanSlices(colour.GetPointer(), nullptr, 2, 0, 0, settings.slices);
      }
      if (components != 1)
      {
        itkGenericExceptionMacro("'" << path << "' has " << components
                                     << " components per pixel; grey scans and RGB pictures are supported.");
      }
      ReadInto<VolumeType>(path, io, grey);
    }

    const auto size = ReContrastSize3(grey.GetPointer());
    unsigned int axis = 2;
    if (size[2] > 1)
    {
      axis = settings.sliceAxis >= 0 ? static_cast<unsigned int>(settings.sliceAxis)
                                     : ReContrastAxialAxis(grey->GetDirection());
    }
    MaskType::Pointer foreground;
    if (settings.automaticMask && size[2] > 1)
    {
      auto mask = ReContrastForegroundMaskImageFilter<VolumeType, MaskType>::New();
      mask->SetInput(grey);
      mask->SetSliceAxis(axis);
      mask->Update();
      foreground = mask->GetOutput();
    }
    return ReContrastMakeScanSlices(grey.GetPointer(),
                                    foreground ? foreground->GetBufferPointer() : nullptr,
                                    axis,
                                    0,
                                    size[axis] - 1,
                                    settings.slices);
  }
  catch (const ExceptionObject & e)
  {
    const std::string description = ReContrastExceptionText(e);
    if (description.find(path) != std::string::npos)
    {
      throw;
    }
    itkGenericExceptionMacro("Cannot use the scan '" << path << "': " << description);
  }
}

ReContrastScanSampleSource::ReContrastScanSampleSource(std::vector<std::string> files, const Settings & settings)
  : m_Files(std::move(files))
  , m_Settings(settings)
{
  for (size_t f = 0; f < m_Files.size(); ++f)
  {
    const auto scan = ReContrastReadScanSlices(m_Files[f], m_Settings);
    for (SizeValueType k : scan->GetUsableSlices())
    {
      m_Samples.emplace_back(f, k);
      m_Positions.push_back(ReContrastScanSlices::SlicePosition(scan->GetUsableSlices(), k, scan->GetNumberOfSlices()));
    }
  }
}

size_t
ReContrastScanSampleSource::Size() const
{
  return m_Samples.size();
}

std::shared_ptr<const ReContrastScanSlices>
ReContrastScanSampleSource::Scan(size_t file) const
{
  {
    std::lock_guard<std::mutex> lock(m_Mutex);
    for (auto it = m_Cache.begin(); it != m_Cache.end(); ++it)
    {
      if (it->first == file)
      {
        m_Cache.splice(m_Cache.begin(), m_Cache, it);
        return m_Cache.front().second;
      }
    }
  }
  // Read outside the lock so that other loader threads keep working on cached scans.
  auto scan = ReContrastReadScanSlices(m_Files[file], m_Settings);
  std::lock_guard<std::mutex> lock(m_Mutex);
  m_Cache.emplace_front(file, scan);
  while (m_Cache.size() > std::max<size_t>(1, m_Settings.cachedScans))
  {
    m_Cache.pop_back();
  }
  return scan;
}

void
ReContrastScanSampleSource::Load(size_t index, int imageSize, float * out) const
{
  if (index >= m_Samples.size())
  {
    itkGenericExceptionMacro("Training sample " << index << " does not exist (" << m_Samples.size() << " samples).");
  }
  const auto & [file, slice] = m_Samples[index];
  Scan(file)->MakeModelInput(slice, static_cast<unsigned int>(imageSize), out);
}

double
ReContrastScanSampleSource::Position(size_t index) const
{
  return index < m_Positions.size() ? m_Positions[index] : std::numeric_limits<double>::quiet_NaN();
}

std::string
ReContrastScanSampleSource::Summary() const
{
  return std::to_string(m_Samples.size()) + " slices of " + std::to_string(m_Files.size()) + " scans";
}

std::vector<std::string>
ReContrastScanSampleSource::ListScans(const std::string & folderOrList)
{
  std::vector<std::string> scans;
  const fs::path path(folderOrList);
  if (fs::is_regular_file(path) && !ReContrastHasImageFileName(path.string()) && !ReContrastIsImageFile(path.string()))
  {
    std::ifstream list(path);
    std::string line;
    while (std::getline(list, line))
    {
      const auto first = line.find_first_not_of(" \t\r");
      if (first == std::string::npos || line[first] == '#')
      {
        continue;
      }
      line = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
      const fs::path entry = fs::path(line).is_absolute() ? fs::path(line) : path.parent_path() / line;
      if (!fs::exists(entry))
      {
        itkGenericExceptionMacro("The list '" << folderOrList << "' names '" << line << "', which does not exist.");
      }
      scans.push_back(entry.string());
    }
  }
  else if (fs::is_regular_file(path))
  {
    scans.push_back(path.string());
  }
  else if (fs::is_directory(path))
  {
    const fs::path folder = fs::is_directory(path / "train" / "good") ? path / "train" / "good" : path;
    bool hasDicom = false;
    for (const auto & entry : fs::directory_iterator(folder))
    {
      if (entry.is_directory())
      {
        scans.push_back(entry.path().string()); // a DICOM series folder
      }
      else if (entry.is_regular_file() && ReContrastHasDicomPreamble(entry.path().string()))
      {
        hasDicom = true; // a slice of the folder's series, read as one volume (not probed: GDCM's probe talks)
      }
      else if (const ImageIOBase::Pointer io =
                 entry.is_regular_file() ? ReContrastCreateImageIO(entry.path().string()) : nullptr)
      {
        // Single DICOM files of a folder are slices of its series, read as one volume.
        const bool dicom = std::string(io->GetNameOfClass()) == "GDCMImageIO";
        hasDicom = hasDicom || dicom;
        if (!dicom)
        {
          scans.push_back(entry.path().string());
        }
      }
    }
    if (hasDicom)
    {
      scans.push_back(folder.string()); // the folder itself is one DICOM series
    }
    std::sort(scans.begin(), scans.end());
  }
  else
  {
    itkGenericExceptionMacro("The training data '" << folderOrList << "' does not exist.");
  }
  if (scans.empty())
  {
    itkGenericExceptionMacro("No images were found in '" << folderOrList << "'.");
  }
  return scans;
}

} // namespace itk
