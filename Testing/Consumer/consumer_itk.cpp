/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  A plain ITK pipeline with the installed ReContrast ITK layer: a tiny model is trained on a
 *  synthetic normal volume, then the anomaly filter maps a second volume with its geometry.
 *
 *=========================================================================*/
#include "itkImage.h"
#include "itkImageRegionIterator.h"
#include "itkReContrastAnomalyImageFilter.h"
#include "ReContrast/Predictor.h"
#include "ReContrast/Trainer.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

namespace
{
using VolumeType = itk::Image<float, 3>;

VolumeType::Pointer
MakeVolume()
{
  auto volume = VolumeType::New();
  volume->SetRegions(VolumeType::RegionType(VolumeType::SizeType{ { 24, 24, 6 } }));
  volume->Allocate();
  itk::ImageRegionIterator<VolumeType> it(volume, volume->GetLargestPossibleRegion());
  for (it.GoToBegin(); !it.IsAtEnd(); ++it)
  {
    const auto index = it.GetIndex();
    it.Set(static_cast<float>(50.0 + 40.0 * std::sin(0.4 * index[0]) * std::cos(0.3 * index[1])));
  }
  return volume;
}

// Normal samples for the trainer: smooth patterns in [0, 1].
class Patterns : public recontrast::SampleSource
{
public:
  size_t Size() const override { return 4; }
  void Load(size_t index, int size, float * out) const override
  {
    for (int i = 0; i < 3 * size * size; ++i)
    {
      out[i] = 0.5f + 0.4f * static_cast<float>(std::sin(0.1 * (i % size) + static_cast<double>(index)));
    }
  }
  std::string Summary() const override { return "patterns"; }
};
} // namespace

int
main()
{
  const std::string model = (std::filesystem::temp_directory_path() / "recontrast-consumer-model.rcm").string();
  recontrast::TrainingOptions options;
  options.backbone = recontrast::Backbone::ResNet18;
  options.imageSize = 32;
  options.iterations = 1;
  options.batchSize = 2;
  options.calibrationFraction = 0.0;
  recontrast::Trainer(options).Train(Patterns(), model);

  auto filter = itk::ReContrastAnomalyImageFilter<VolumeType>::New();
  filter->SetInput(MakeVolume());
  filter->SetPredictor(std::make_shared<recontrast::Predictor>(model));
  filter->SetAutomaticMask(false);
  filter->Update();
  const bool sameGeometry =
    filter->GetOutput()->GetLargestPossibleRegion() == filter->GetInput()->GetLargestPossibleRegion();
  std::printf("ReContrast ITK filter: %zu slices scored, geometry %s\n",
              filter->GetSliceScores().size(),
              sameGeometry ? "kept" : "CHANGED");
  std::filesystem::remove(model);
  return sameGeometry ? 0 : 1;
}
