/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  For the fuzz build only (clang). Debian's ITK 5.2 headers know only the compiler ITK was built with:
 *  their compiler detection stops with "Unsupported compiler" for clang. Included before everything
 *  (-include), this reads that detection once with clang presented as the GCC it emulates
 *  (-fgnuc-version), which is what clang's GNU-compatible front end is; its include guard then keeps
 *  ITK's own inclusion from running it again.
 *
 *=========================================================================*/
#if defined(__clang__) && __has_include(<itk_compiler_detection.h>)
#  pragma clang diagnostic push
#  pragma clang diagnostic ignored "-Wbuiltin-macro-redefined"
#  pragma push_macro("__clang__")
#  undef __clang__
#  include <itk_compiler_detection.h>
#  pragma pop_macro("__clang__")
#  pragma clang diagnostic pop
#endif
