/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The names of the engine's enumerations (backbones, precisions, ...), from one table each.
 *
 *=========================================================================*/
#ifndef ReContrast_EnumNames_h
#define ReContrast_EnumNames_h

#include "ReContrast/Error.h"

#include <cstddef>
#include <string>
#include <vector>

namespace recontrast
{

/** One row of an enumeration's table: a value and the name users type. */
template <typename TEnum>
struct EnumName
{
  TEnum value;
  const char * name;
};

/** The name of `value`; `what` names the enumeration in the error for a value not in the table. */
template <typename TEnum, std::size_t N>
std::string
NameOf(const EnumName<TEnum> (&table)[N], TEnum value, const char * what)
{
  for (const auto & entry : table)
  {
    if (entry.value == value)
    {
      return entry.name;
    }
  }
  throw Error(std::string("Unknown ") + what + " value.");
}

/** The names of a table, in its order. */
template <typename TEnum, std::size_t N>
std::vector<std::string>
NamesOf(const EnumName<TEnum> (&table)[N])
{
  std::vector<std::string> names;
  for (const auto & entry : table)
  {
    names.emplace_back(entry.name);
  }
  return names;
}

/** The value named `name`; otherwise Error: "Unknown <what> '<name>'; expected one of a, b, c." */
template <typename TEnum, std::size_t N>
TEnum
ValueOf(const EnumName<TEnum> (&table)[N], const std::string & name, const char * what)
{
  for (const auto & entry : table)
  {
    if (name == entry.name)
    {
      return entry.value;
    }
  }
  std::string accepted;
  for (const auto & entry : table)
  {
    accepted += accepted.empty() ? entry.name : std::string(", ") + entry.name;
  }
  throw Error("Unknown " + std::string(what) + " '" + name + "'; expected one of " + accepted + ".");
}

} // namespace recontrast

#endif
