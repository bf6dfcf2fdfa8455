/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Image files that nobody checked, read and written: the file's own promises first, then ITK's
 *  reader, then the geometry; written files appear whole or not at all.
 *
 *=========================================================================*/
#ifndef itkReContrastImageFiles_h
#define itkReContrastImageFiles_h

#include "ReContrastITKExport.h"

#include "ReContrast/AtomicFile.h"
#include "ReContrast/Error.h"

#include "itkImageFileReader.h"
#include "itkImageFileWriter.h"
#include "itkMacro.h"
#include "itkReContrastGeometryCheck.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <string>

namespace itk
{

/** Checks what ITK's readers take on trust in a file they would read, without reading the pixels into
 * memory: that a NIfTI or MetaImage file holds all the bytes its header announces (ITK's readers fill a
 * short file with zeros), that header values are finite numbers and known types, and that a PNG or
 * JPEG is whole (libpng aborts on a picture cut inside its header; libjpeg grey-fills a cut one).
 * Other formats pass unchanged. Throws ExceptionObject whose description is one sentence naming
 * `path`. */
ReContrastITK_EXPORT void ReContrastCheckImageFile(const std::string & path);

/** The same checks of a file's length and header, without judging its voxel values (for files the
 * project writes itself: an image may hold NaN on purpose). */
ReContrastITK_EXPORT void ReContrastCheckImageFileIsWhole(const std::string & path);

/** While it lives, what the C libraries below ITK's readers and writers print to stderr on failure
 * (niftilib's "** ERROR", MetaIO's lines) is held back: the caller's one sentence says what failed.
 * The process's stderr is redirected once for all instances alive (in any thread) and restored when
 * the last one ends; what was held back is then printed, unless one of them was Discard()ed. */
class ReContrastITK_EXPORT ReContrastQuietStderr
{
public:
  ReContrastQuietStderr();
  ~ReContrastQuietStderr();
  ReContrastQuietStderr(const ReContrastQuietStderr &) = delete;
  ReContrastQuietStderr & operator=(const ReContrastQuietStderr &) = delete;
  /** Drops what was held back (the operation failed and says so itself). */
  void Discard();
};

/** Checks `path` as ReContrastCheckImageFile does and reads its header with the ImageIO ITK chooses
 * for it, for callers that choose the pixel type by the file's dimension and components; hand the
 * result to ReContrastReadImageFile so that the file is checked once. Throws ExceptionObject with one
 * sentence, also when no ITK reader takes the file. */
ReContrastITK_EXPORT ImageIOBase::Pointer ReContrastReadImageFileInformation(const std::string & path);

/** Where a folder is listed, the ImageIO that reads `path`, or nullptr when it is not an image file ITK
 * can read. Unlike ReContrastReadImageFileInformation (a file the user named), a file is offered to
 * ITK's readers only when it has the DICOM preamble, an image file name or no extension: a listing
 * meets licences and lists, and ITK's DICOM ImageIO's probe of those floods stderr. */
ReContrastITK_EXPORT ImageIOBase::Pointer ReContrastCreateImageIO(const std::string & path);

/** Whether ReContrastCreateImageIO finds a reader for `path`. */
ReContrastITK_EXPORT bool ReContrastIsImageFile(const std::string & path);


/** Whether the file `io` has read the header of is an 8-bit picture (PNG or JPEG, and BMP or TIFF where
 * an application registers their readers; one byte per value, grey or colour): the kind of image the paper scales as
 * bytes, unlike scans (16-bit or float, DICOM, NIfTI, NRRD, MetaImage), whose values are measurements. */
ReContrastITK_EXPORT bool ReContrastIsEightBitPicture(const ImageIOBase & io);

/** Whether `path` starts with DICOM's 128-byte preamble and "DICM". */
ReContrastITK_EXPORT bool ReContrastHasDicomPreamble(const std::string & path);

/** Whether `path` ends with an extension that a registered ITK ImageIO reads (".nii.gz", ".png", ...). */
ReContrastITK_EXPORT bool ReContrastHasImageFileName(const std::string & path);

/** Reads an image file as ReContrastCheckImageFile and ReContrastCheckGeometry allow: each failure is
 * an ExceptionObject with one sentence. With `checked` (from ReContrastReadImageFileInformation on the
 * same path) the file is not checked again and that ImageIO reads it. */
template <typename TImage>
typename TImage::Pointer
ReContrastReadImageFile(const std::string & path, ImageIOBase * checked = nullptr)
{
  auto reader = ImageFileReader<TImage>::New();
  reader->SetFileName(path);
  if (checked)
  {
    reader->SetImageIO(checked);
  }
  else
  {
    ReContrastCheckImageFile(path);
  }
  {
    ReContrastQuietStderr quiet;
    try
    {
      reader->Update();
    }
    catch (...)
    {
      quiet.Discard();
      throw;
    }
  }
  typename TImage::Pointer image = reader->GetOutput();
  ReContrastCheckGeometry(image.GetPointer(), "'" + path + "'");
  return image;
}

/** Whether ReContrastCheckImageFile can tell a whole file of this name from a cut one (NIfTI,
 * MetaImage with its data inside, PNG, JPEG). */
ReContrastITK_EXPORT bool ReContrastChecksWholeness(const std::string & path);

/** Writes `image` to `path` (format by extension) so that the file appears whole or not at all: to a
 * temporary name in the same folder, checked (ITK's NIfTI and MetaImage writers do not report a full
 * disk), then renamed over `path`. Formats ReContrastCheckImageFile cannot judge are read back and
 * compared instead. Formats of two files (.mhd, .hdr, .nhdr) are refused: one rename cannot publish
 * two files at once. Throws ExceptionObject with one sentence; nothing is left behind on failure. */
template <typename TImage>
void
ReContrastWriteImageFile(const TImage * image, const std::string & path, bool compress = true)
{
  std::string name = path;
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char * twoFiles : { ".mhd", ".hdr", ".nhdr", ".img" })
  {
    const std::string extension(twoFiles);
    if (name.size() >= extension.size() &&
        name.compare(name.size() - extension.size(), extension.size(), extension) == 0)
    {
      itkGenericExceptionMacro(<< "Cannot write '" << path << "': formats of two files (" << extension
                               << ") are not written; use .mha, .nrrd or .nii.gz.");
    }
  }
  try
  {
    recontrast::AtomicFile file(path, recontrast::AtomicFile::Mode::PathOnly);
    ReContrastQuietStderr quiet;
    bool whole = false;
    try
    {
      auto writer = ImageFileWriter<TImage>::New();
      writer->SetInput(image);
      writer->SetFileName(file.TemporaryPath());
      writer->SetUseCompression(compress);
      writer->Update();
      ReContrastCheckImageFileIsWhole(file.TemporaryPath());
      if (ReContrastChecksWholeness(path))
      {
        whole = true;
      }
      else
      {
        auto reader = ImageFileReader<TImage>::New();
        reader->SetFileName(file.TemporaryPath());
        reader->Update();
        const TImage * back = reader->GetOutput();
        whole =
          back->GetLargestPossibleRegion() == image->GetLargestPossibleRegion() &&
          std::memcmp(back->GetBufferPointer(),
                      image->GetBufferPointer(),
                      image->GetLargestPossibleRegion().GetNumberOfPixels() * sizeof(typename TImage::PixelType)) == 0;
      }
    }
    catch (const ExceptionObject &)
    {
      whole = false;
    }
    if (!whole)
    {
      quiet.Discard();
      itkGenericExceptionMacro(<< "Writing '" << path
                               << "' failed: the written file does not read back whole (is the disk full?).");
    }
    file.Commit();
  }
  catch (const recontrast::Error & e)
  {
    itkGenericExceptionMacro(<< e.what());
  }
}

} // namespace itk

#endif
