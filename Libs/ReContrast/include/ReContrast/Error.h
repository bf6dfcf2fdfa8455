/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The engine's error type: one sentence for the user.
 *
 *=========================================================================*/
#ifndef ReContrast_Error_h
#define ReContrast_Error_h

#include "ReContrast/ReContrastCoreExport.h"

#include <stdexcept>
#include <string>

namespace recontrast
{

/** The one exception type the engine throws across its public API.
 *
 * Its message is a single sentence meant for the user: it names the file or the argument and
 * says what is wrong. LibTorch's own error texts never leave the engine; they are translated
 * into an Error at the boundary. */
class RECONTRAST_CORE_EXPORT Error : public std::runtime_error
{
public:
  explicit Error(const std::string & message);
};

/** Thrown when a long operation stops because its caller asked it to. */
class RECONTRAST_CORE_EXPORT Cancelled : public Error
{
public:
  explicit Cancelled(const std::string & what = "The operation was cancelled.");
};

} // namespace recontrast

#endif
