/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  What the benchmarks share: timing and printing ratios against a reference.
 *
 *=========================================================================*/
#ifndef ReContrast_BenchmarkSupport_h
#define ReContrast_BenchmarkSupport_h

// What every benchmark executable measures the same way: peak memory and the median of timings.

#include <sys/resource.h>

#include <algorithm>
#include <vector>

namespace recontrast::benchmark
{

/** The process's peak resident memory so far, in MB (one measurement per process). */
inline double
PeakResidentMegabytes()
{
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

inline double
Median(std::vector<double> values)
{
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

} // namespace recontrast::benchmark

#endif
