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
