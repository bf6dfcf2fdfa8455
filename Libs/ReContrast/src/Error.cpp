/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The engine's error type: one sentence for the user.
 *
 *=========================================================================*/
#include "ReContrast/Error.h"

namespace recontrast
{

Error::Error(const std::string & message)
  : std::runtime_error(message)
{}

Cancelled::Cancelled(const std::string & what)
  : Error(what)
{}

} // namespace recontrast
