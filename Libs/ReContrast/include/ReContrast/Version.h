/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The project's version.
 *
 *=========================================================================*/
#ifndef ReContrast_Version_h
#define ReContrast_Version_h

#include "ReContrast/ReContrastExport.h"

#include <string>

namespace recontrast
{

/** The project's version, e.g. "0.1.0". */
RECONTRAST_EXPORT std::string Version();

/** The LibTorch version the engine was built against, e.g. "1.13.0". */
RECONTRAST_EXPORT std::string TorchVersion();

/** True when the engine was built with CUDA and a CUDA device is usable now. */
RECONTRAST_EXPORT bool CudaAvailable();

} // namespace recontrast

#endif
