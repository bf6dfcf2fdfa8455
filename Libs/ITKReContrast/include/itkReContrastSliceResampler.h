/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Resampling of a 2-D slice into the model's square input (aspect-preserving or stretched), and back.
 *
 *=========================================================================*/
#ifndef itkReContrastSliceResampler_h
#define itkReContrastSliceResampler_h

#include "itkContinuousIndex.h"
#include "itkIndex.h"
#include "itkSize.h"

#include <cstddef>
#include <vector>

#include "ReContrastITKExport.h"

namespace itk
{

/** \class ReContrastSliceResampler
 * \brief Maps a slice grid into the model's S x S square input preserving the physical aspect ratio, and back.
 *
 * Geometry: the slice (width x height pixels of spacingX x spacingY) covers a physical rectangle of
 * width * spacingX by height * spacingY. The square has S x S pixels of GetSquareSpacing() =
 * max(width * spacingX, height * spacingY) / S, so the rectangle's longer side spans the square
 * exactly and the shorter one is centred, with padding on both sides. Pixel centres sit at the middle
 * of the pixels (continuous index i of a pixel centre is i, its edges are i - 0.5 and i + 0.5), in
 * both grids; TransformSliceIndexToSquareIndex and TransformSquareIndexToSliceIndex are exact inverses.
 *
 * With Fit::Stretch (the official code's resize of pictures to S x S) each side of the slice spans
 * the square: square pixels are width * spacingX / S by height * spacingY / S, there is no padding,
 * and the aspect ratio is not kept.
 *
 * The content region (GetContentIndex, GetContentSize) holds the square pixels whose centres lie on
 * the slice; ToSquare fills the others with the padding value. A slice thinner than one square pixel
 * still gets the one row (or column) through its centre.
 *
 * Interpolation (ToSquare and FromSquare alike), separable along x and y: each output pixel is a
 * normalised weighted sum of input pixels with a triangle (tent) kernel centred on the output pixel's
 * centre. Its radius is one input pixel when the output is at least as fine as the input, which is
 * exactly bilinear interpolation; when the output is coarser by a factor f (down-sampling) the radius
 * is f input pixels, i.e. the tent is stretched to the output pixel size. That is antialiasing: every
 * input pixel contributes, as with PIL's bilinear resize when reducing (and torchvision's
 * antialias=True), instead of point samples that alias when reducing by 2x or more. Near the border,
 * weights that would fall outside the input are dropped and the rest renormalised (equivalent to
 * clamping to the edge pixel for the bilinear case). FromSquare only reads the content region, so the
 * padding never leaks into the slice.
 *
 * Buffers are row-major with x fastest: slice[y * width + x], square[y * S + x]. The object is
 * immutable after construction and its methods are safe to call from several threads at once.
 *
 * \ingroup ITKReContrast
 */
class ReContrastITK_EXPORT ReContrastSliceResampler
{
public:
  using ContinuousIndexType = ContinuousIndex<double, 2>;
  using IndexType = Index<2>;
  using SizeType = Size<2>;

  /** How a slice fills the square. */
  enum class Fit
  {
    PreserveAspect, ///< The longer side spans the square, the shorter is centred with padding (scans).
    Stretch         ///< Both sides span the square (the paper's resize of pictures).
  };

  /** Throws ExceptionObject for zero sizes or non-positive / non-finite spacings. */
  ReContrastSliceResampler(unsigned int width, unsigned int height, double spacingX, double spacingY,
                           unsigned int squareSize, Fit fit = Fit::PreserveAspect);

  Fit GetFit() const { return m_Fit; }

  unsigned int GetWidth() const { return m_Width; }
  unsigned int GetHeight() const { return m_Height; }
  double GetSpacingX() const { return m_SpacingX; }
  double GetSpacingY() const { return m_SpacingY; }
  unsigned int GetSquareSize() const { return m_SquareSize; }

  /** The physical size of one square pixel along x (along y too when the aspect is preserved). */
  double GetSquareSpacing() const { return m_SquareSpacingX; }
  /** The physical size of one square pixel along y. */
  double GetSquareSpacingY() const { return m_SquareSpacingY; }

  /** First square pixel (x, y) of the content region. */
  IndexType GetContentIndex() const;

  /** Size (x, y) of the content region in square pixels. */
  SizeType GetContentSize() const;

  /** A continuous index of the slice grid to the continuous index of the same physical point in the square. */
  ContinuousIndexType TransformSliceIndexToSquareIndex(const ContinuousIndexType & sliceIndex) const;

  /** The inverse of TransformSliceIndexToSquareIndex. */
  ContinuousIndexType TransformSquareIndexToSliceIndex(const ContinuousIndexType & squareIndex) const;

  /** Resamples a slice (width x height) into the square (S x S), antialiased; padding gets padValue. */
  void ToSquare(const float * slice, float * square, float padValue = 0.0f) const;

  /** Nearest-neighbour resampling of a mask into the square; padding gets 0. */
  void MaskToSquare(const unsigned char * mask, unsigned char * square) const;

  /** Resamples a square map (S x S) back onto the slice grid (width x height), reading only the content region. */
  void FromSquare(const float * square, float * slice) const;

private:
  /** One axis of a separable resampling: for each output pixel, a run of input pixels and their weights. */
  struct AxisKernel
  {
    unsigned int OutputBegin{ 0 };
    unsigned int OutputEnd{ 0 };
    unsigned int InputBegin{ 0 };
    unsigned int InputEnd{ 0 };
    std::vector<unsigned> First;
    std::vector<unsigned> Count;
    std::vector<size_t> Offset;
    std::vector<float> Weights;
  };

  static AxisKernel MakeKernel(unsigned int outputBegin, unsigned int outputEnd, double scale, double shift,
                               unsigned int inputBegin, unsigned int inputEnd);

  static void Resample(const float * input, size_t inputStride, const AxisKernel & kernelX, const AxisKernel & kernelY,
                       float * output, size_t outputStride);

  unsigned int m_Width;
  unsigned int m_Height;
  double m_SpacingX;
  double m_SpacingY;
  unsigned int m_SquareSize;
  Fit m_Fit;
  double m_SquareSpacingX;
  double m_SquareSpacingY;
  // Physical offsets of the slice's corner inside the square (the centring padding).
  double m_OffsetX;
  double m_OffsetY;
  // Content region of the square: [m_ContentBegin, m_ContentEnd) along x and y.
  unsigned int m_ContentBegin[2];
  unsigned int m_ContentEnd[2];

  AxisKernel m_ToSquareX;
  AxisKernel m_ToSquareY;
  AxisKernel m_FromSquareX;
  AxisKernel m_FromSquareY;
  // Slice column / row that each content column / row of the square takes its mask value from.
  std::vector<unsigned int> m_NearestX;
  std::vector<unsigned int> m_NearestY;
};

} // end namespace itk

#endif // itkReContrastSliceResampler_h
