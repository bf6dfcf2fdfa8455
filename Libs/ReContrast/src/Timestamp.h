/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Times written into model files and reports.
 *
 *=========================================================================*/
#ifndef ReContrast_Timestamp_h
#define ReContrast_Timestamp_h

#include <string>

namespace recontrast
{

/** The current time as ISO 8601 in UTC, e.g. "2026-11-28T23:59:01Z" (recorded in model files). */
std::string UtcTimestamp();

} // namespace recontrast

#endif
