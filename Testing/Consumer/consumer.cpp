/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Uses the installed engine's public, torch-free API only.
 *
 *=========================================================================*/
#include "ReContrast/Version.h"

#include <iostream>

int
main()
{
  std::cout << "ReContrast " << recontrast::Version() << '\n';
  return recontrast::Version().empty() ? 1 : 0;
}
