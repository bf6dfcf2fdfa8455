// Uses the installed engine's public, torch-free API only.
#include "ReContrast/Version.h"

#include <iostream>

int
main()
{
  std::cout << "ReContrast " << recontrast::Version() << '\n';
  return recontrast::Version().empty() ? 1 : 0;
}
