/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Fuzz target: the DICOM series reader (DCMTK underneath) on a folder of one to four files: the
 *  input is cut into files at each "RCFZ" marker, so the fuzzer can grow single files and series.
 *
 *=========================================================================*/
#include "FuzzSupport.h"

#include "ReContrast/DicomSeriesReader.h"
#include "ReContrast/Error.h"

#include <algorithm>
#include <cstring>

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t * data, size_t size)
{
  const std::filesystem::path folder = recontrast::fuzz::FreshFolder() / "series";
  std::filesystem::create_directories(folder);
  static const uint8_t marker[] = { 'R', 'C', 'F', 'Z' };
  const uint8_t * begin = data;
  const uint8_t * end = data + size;
  for (int file = 0; file < 4 && begin <= end; ++file)
  {
    const uint8_t * cut = file == 3 ? end : std::search(begin, end, marker, marker + sizeof(marker));
    recontrast::fuzz::WriteFile(
      folder / ("slice" + std::to_string(file) + ".dcm"), begin, static_cast<size_t>(cut - begin));
    if (cut == end)
    {
      break;
    }
    begin = cut + sizeof(marker);
  }
  try
  {
    const recontrast::dicom::SeriesFolderReader reader;
    reader.Read(folder.string());
  }
  catch (const recontrast::Error &)
  {}
  return 0;
}
