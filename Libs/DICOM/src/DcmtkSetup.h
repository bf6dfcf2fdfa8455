/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  DCMTK's process-wide setup (codecs, logging) done once.
 *
 *=========================================================================*/
#ifndef ReContrast_DcmtkSetup_h
#define ReContrast_DcmtkSetup_h

#include <string>

class DcmItem;
class DcmTagKey;
class OFCondition;

namespace recontrast::dicom::detail
{

/** Registers DCMTK's decoders (JPEG, JPEG-LS, RLE) once per process and keeps DCMTK's own log
 * quiet: its messages are not sentences for our users; our errors carry the condition text. */
void EnsureDcmtkReady();

/** The condition's text, for an error sentence. */
std::string TextOf(const OFCondition & condition);

/** The element's value (all of it, backslashes kept) without trailing padding; empty when absent. */
std::string StringOf(DcmItem * item, const DcmTagKey & tag);

} // namespace recontrast::dicom::detail

#endif
