/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Checks of numeric options that name the accepted range in words a user reads.
 *
 *=========================================================================*/
#ifndef ReContrast_OptionChecks_h
#define ReContrast_OptionChecks_h

#include <CLI/CLI.hpp>

#include <charconv>
#include <cmath>
#include <string>

namespace recontrast::cli
{

/** A whole number from `minimum` to `maximum`, written as digits (CLI11's own range checks accept
 * "-1" for unsigned options, which then wraps, and print their limits with 310 digits). */
inline CLI::Validator
WholeNumber(long long minimum, long long maximum)
{
  return CLI::Validator(
    [=](std::string & text) -> std::string {
      long long value = 0;
      const char * end = text.data() + text.size();
      const auto [stop, error] = std::from_chars(text.data(), end, value);
      if (error != std::errc() || stop != end || value < minimum || value > maximum)
      {
        return "'" + text.substr(0, 40) + (text.size() > 40 ? "...'" : "'") + " is not a whole number from " +
               std::to_string(minimum) + " to " + std::to_string(maximum) + ".";
      }
      return {};
    },
    "INT in [" + std::to_string(minimum) + " - " + std::to_string(maximum) + "]");
}

/** A finite number from `minimum` to `maximum`, or any finite number without limits (NaN and
 * infinity are refused: CLI11's range checks let NaN through). */
inline CLI::Validator
FiniteNumber(double minimum = -HUGE_VAL, double maximum = HUGE_VAL)
{
  return CLI::Validator(
    [=](std::string & text) -> std::string {
      double value = 0.0;
      try
      {
        size_t used = 0;
        value = std::stod(text, &used);
        if (used != text.size())
        {
          value = std::nan("");
        }
      }
      catch (const std::exception &)
      {
        value = std::nan("");
      }
      if (std::isfinite(value) && value >= minimum && value <= maximum)
      {
        return {};
      }
      const std::string quoted = "'" + text.substr(0, 40) + (text.size() > 40 ? "...'" : "'");
      if (!std::isfinite(minimum) && !std::isfinite(maximum))
      {
        return quoted + " is not a finite number.";
      }
      return quoted + " is not a finite number from " + CLI::detail::to_string(minimum) + " to " +
             CLI::detail::to_string(maximum) + ".";
    },
    "FLOAT");
}

} // namespace recontrast::cli

#endif
