/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Curves as pictures: training loss, ROC and PRO curves.
 *
 *=========================================================================*/
#ifndef ReContrast_CurvePlot_h
#define ReContrast_CurvePlot_h

#include <string>
#include <vector>

/** Line plots (a training loss per iteration, an ROC curve) written as PNG files without a display.
 *
 * The picture has a white background, a title at the top, the axis labels below the x axis and
 * (turned a quarter to the left) beside the y axis, "nice" ticks (1, 2 or 5 times a power of ten)
 * with light grid lines, and the curve as a blue anti-aliased line. The axis ranges are the data's,
 * widened to the enclosing ticks. Non-finite points are left out and break the line there; a lone
 * finite point between two gaps is drawn as a dot.
 *
 * The file is written atomically (to a temporary name in the same folder, then renamed); on any
 * error nothing is left behind. Bad input (no finite point, x and y of different lengths, a size
 * below 200 x 150 or above 8192 x 8192, a folder that does not exist, a file that cannot be
 * written) throws recontrast::Error with one sentence naming the file. VTK's text renderer is not
 * thread-safe: call these functions from one thread at a time. */
namespace recontrast::visualization
{

/** Plots y[i] against the iteration number i + 1 (iterations count from 1). */
void WriteCurvePng(const std::vector<double> & y, const std::string & title, const std::string & xLabel,
                   const std::string & yLabel, const std::string & path, int width = 800, int height = 500);

/** Plots y[i] against x[i], joining the points in the given order. With drawDiagonal, the line
 * y = x is drawn dashed across the plot (the chance line of an ROC curve). */
void WriteXYCurvePng(const std::vector<double> & x, const std::vector<double> & y, const std::string & title,
                     const std::string & xLabel, const std::string & yLabel, const std::string & path,
                     bool drawDiagonal = false, int width = 800, int height = 500);

} // namespace recontrast::visualization

#endif
