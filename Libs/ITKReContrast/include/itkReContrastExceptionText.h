/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The sentence of an ITK exception, as a user should read it.
 *
 *=========================================================================*/
#ifndef itkReContrastExceptionText_h
#define itkReContrastExceptionText_h

#include "itkMacro.h"

#include <cctype>
#include <string>

namespace itk
{

/** The description of an ITK exception without the prefixes ITK's macros put before it for developers
 * ("ITK ERROR: " and "ClassName(0x55d0c0ffee00): "), and without trailing white space: what the
 * command-line tools and the Slicer module show. */
inline std::string
ReContrastExceptionText(const ExceptionObject & exception)
{
  std::string text = exception.GetDescription();
  const std::string itkError = "ITK ERROR: ";
  if (text.compare(0, itkError.size(), itkError) == 0)
  {
    text.erase(0, itkError.size());
  }
  // "ClassName(0x...): " as itkExceptionMacro writes it.
  const size_t open = text.find("(0x");
  const size_t close = open == std::string::npos ? open : text.find("): ", open);
  if (open != std::string::npos && close != std::string::npos && open > 0)
  {
    bool className = true;
    for (size_t i = 0; i < open && className; ++i)
    {
      className = std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_' || text[i] == ':';
    }
    for (size_t i = open + 3; i < close && className; ++i)
    {
      className = std::isxdigit(static_cast<unsigned char>(text[i])) != 0;
    }
    if (className)
    {
      text.erase(0, close + 3);
    }
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
  {
    text.pop_back();
  }
  return text;
}

} // namespace itk

#endif
