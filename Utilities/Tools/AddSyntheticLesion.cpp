// recontrast-add-lesion: writes a copy of a scan with a synthetic spherical lesion, for the demo
// and for tests of detection (a known anomaly at a known place).
#include "itkImage.h"
#include "itkImageFileReader.h"
#include "itkImageFileWriter.h"
#include "itkImageRegionIteratorWithIndex.h"
#include "ReContrast/AtomicFile.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

int
main(int argc, char ** argv)
{
  CLI::App app{ "Write a copy of a 3-D scan with a synthetic spherical lesion (for demos and tests)." };
  app.name("recontrast-add-lesion");
  std::string input;
  std::string output;
  std::vector<double> centre;
  double radius = 8.0;
  double contrast = 1.6;
  app.add_option("--input", input, "Scan to copy")->required()->check(CLI::ExistingFile);
  app.add_option("--output", output, "Where to write the scan with the lesion")->required();
  app.add_option("--centre", centre, "Lesion centre as a continuous index x y z (default: the volume centre)")
    ->expected(3);
  app.add_option("--radius", radius, "Lesion radius in millimetres")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--contrast", contrast, "Intensity factor inside the lesion (relative to the local tissue)")
    ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  using ImageType = itk::Image<float, 3>;
  try
  {
    auto reader = itk::ImageFileReader<ImageType>::New();
    reader->SetFileName(input);
    reader->Update();
    ImageType::Pointer image = reader->GetOutput();
    const auto size = image->GetLargestPossibleRegion().GetSize();
    itk::ContinuousIndex<double, 3> middle;
    for (unsigned d = 0; d < 3; ++d)
    {
      middle[d] = centre.size() == 3 ? centre[d] : 0.5 * (size[d] - 1);
    }
    ImageType::PointType centrePoint;
    image->TransformContinuousIndexToPhysicalPoint(middle, centrePoint);
    itk::ImageRegionIteratorWithIndex<ImageType> it(image, image->GetLargestPossibleRegion());
    for (it.GoToBegin(); !it.IsAtEnd(); ++it)
    {
      ImageType::PointType point;
      image->TransformIndexToPhysicalPoint(it.GetIndex(), point);
      const double distance = point.EuclideanDistanceTo(centrePoint);
      if (distance < radius + 1.0)
      {
        // A soft edge over one millimetre, like a real lesion's partial-volume border.
        const double weight = std::clamp(radius + 1.0 - distance, 0.0, 1.0);
        it.Set(static_cast<float>(it.Get() * (1.0 + weight * (contrast - 1.0))));
      }
    }
    // ITK chooses the format by the extension, which the temporary name keeps.
    recontrast::AtomicFile file(output, recontrast::AtomicFile::Mode::PathOnly);
    auto writer = itk::ImageFileWriter<ImageType>::New();
    writer->SetInput(image);
    writer->SetFileName(file.TemporaryPath());
    writer->UseCompressionOn();
    writer->Update();
    file.Commit();
    std::printf("recontrast-add-lesion: wrote %s (lesion of radius %.1f mm at index %.1f %.1f %.1f)\n",
                output.c_str(),
                radius,
                middle[0],
                middle[1],
                middle[2]);
  }
  catch (const itk::ExceptionObject & e)
  {
    std::fprintf(stderr, "recontrast-add-lesion: %s\n", e.GetDescription());
    return 1;
  }
  catch (const std::exception & e)
  {
    std::fprintf(stderr, "recontrast-add-lesion: %s\n", e.what());
    return 1;
  }
  return 0;
}
