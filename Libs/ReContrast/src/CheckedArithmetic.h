/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Sizes from untrusted files (checkpoints, model files) computed without overflow.
 *
 *=========================================================================*/
#ifndef ReContrast_CheckedArithmetic_h
#define ReContrast_CheckedArithmetic_h

#include <cstdint>
#include <limits>

namespace recontrast
{

/** product = a * b for non-negative a and b; false (product unchanged) when it would overflow. */
inline bool
MultiplyChecked(int64_t a, int64_t b, int64_t & product)
{
  if (a != 0 && b > std::numeric_limits<int64_t>::max() / a)
  {
    return false;
  }
  product = a * b;
  return true;
}

/** sum = a + b for non-negative b; false (sum unchanged) when it would overflow. */
inline bool
AddChecked(int64_t a, int64_t b, int64_t & sum)
{
  if (b > std::numeric_limits<int64_t>::max() - a)
  {
    return false;
  }
  sum = a + b;
  return true;
}

} // namespace recontrast

#endif
