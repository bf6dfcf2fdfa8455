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

namespace ReContrastDetail
{
// Removes "ClassName(0x55d0c0ffee00): " (as itkExceptionMacro writes it) at `at`, when it is there.
inline bool
EraseClassPrefix(std::string & text, size_t at)
{
  const size_t open = text.find("(0x", at);
  const size_t close = open == std::string::npos ? open : text.find("): ", open);
  if (open == std::string::npos || close == std::string::npos || open == at)
  {
    return false;
  }
  for (size_t i = at; i < open; ++i)
  {
    if (!(std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_' || text[i] == ':'))
    {
      return false;
    }
  }
  for (size_t i = open + 3; i < close; ++i)
  {
    if (!std::isxdigit(static_cast<unsigned char>(text[i])))
    {
      return false;
    }
  }
  text.erase(at, close + 3 - at);
  return true;
}
} // namespace ReContrastDetail

/** The description of an ITK exception as one line for users: without the prefixes ITK's macros put
 * before it for developers ("ITK ERROR: ", "itk::ERROR: " and "ClassName(0x55d0c0ffee00): ", also
 * where a reader quotes another exception), and with the trail of a reader's own messages (teem's
 * "[nrrd] function: ..." lines, "Reason: ...") reduced to its last, most specific reason. */
inline std::string
ReContrastExceptionText(const ExceptionObject & exception)
{
  std::string text = exception.GetDescription();
  for (const std::string prefix : { "ITK ERROR: ", "itk::ERROR: " })
  {
    for (size_t at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at))
    {
      text.erase(at, prefix.size());
      ReContrastDetail::EraseClassPrefix(text, at);
    }
  }
  ReContrastDetail::EraseClassPrefix(text, 0);
  // One line: the first, plus the last specific reason of the lines after it.
  std::string first = text.substr(0, text.find('\n'));
  std::string reason;
  for (size_t start = first.size(); start < text.size();)
  {
    size_t end = text.find('\n', start + 1);
    std::string line = text.substr(start + 1, end == std::string::npos ? std::string::npos : end - start - 1);
    start = end == std::string::npos ? text.size() : end;
    if (line.rfind("[nrrd] ", 0) == 0)
    {
      const size_t colon = line.find(": ");
      line = colon == std::string::npos ? std::string() : line.substr(colon + 2);
    }
    else if (line.rfind("Reason: ", 0) == 0)
    {
      line = line == "Reason: Success" ? std::string() : line.substr(8);
    }
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
    {
      line.pop_back();
    }
    if (!line.empty())
    {
      reason = line;
    }
  }
  while (!first.empty() && (std::isspace(static_cast<unsigned char>(first.back())) || first.back() == ':'))
  {
    first.pop_back();
  }
  if (!reason.empty())
  {
    first += " (" + reason + ")";
  }
  return first;
}

} // namespace itk

#endif
