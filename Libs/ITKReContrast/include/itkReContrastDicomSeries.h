#ifndef itkReContrastDicomSeries_h
#define itkReContrastDicomSeries_h

#include "itkGDCMImageIO.h"
#include "itkGDCMSeriesFileNames.h"
#include "itkImageSeriesReader.h"
#include "itkMacro.h"

#include <string>

namespace itk
{

/** Reads the first DICOM series of a folder (through ITK's GDCM) as a volume. Throws
 * itk::ExceptionObject naming the folder when it holds no series.
 * \ingroup ITKReContrast */
template <typename TImage>
typename TImage::Pointer
ReContrastReadDicomSeries(const std::string & folder)
{
  auto names = GDCMSeriesFileNames::New();
  names->SetUseSeriesDetails(true);
  names->SetDirectory(folder);
  const auto series = names->GetSeriesUIDs();
  if (series.empty())
  {
    itkGenericExceptionMacro("The folder '" << folder << "' holds no DICOM series.");
  }
  auto reader = ImageSeriesReader<TImage>::New();
  reader->SetImageIO(GDCMImageIO::New());
  reader->SetFileNames(names->GetFileNames(series.front()));
  reader->Update();
  typename TImage::Pointer volume = reader->GetOutput();
  volume->DisconnectPipeline();
  return volume;
}

} // namespace itk

#endif
