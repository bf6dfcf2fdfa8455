/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  DCMTK's process-wide setup (codecs, logging) done once.
 *
 *=========================================================================*/
#include "DcmtkSetup.h"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcitem.h"
#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/dcmjpls/djdecode.h"
#include "dcmtk/oflog/oflog.h"
#include "dcmtk/ofstd/ofcond.h"

#include <mutex>

namespace recontrast::dicom::detail
{

void
EnsureDcmtkReady()
{
  static std::once_flag once;
  std::call_once(once, [] {
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    DJDecoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
  });
}

std::string
TextOf(const OFCondition & condition)
{
  return condition.text() ? std::string(condition.text()) : std::string("unknown DCMTK error");
}

std::string
StringOf(DcmItem * item, const DcmTagKey & tag)
{
  OFString value;
  if (!item || item->findAndGetOFStringArray(tag, value).bad())
  {
    return {};
  }
  std::string text(value.c_str());
  const size_t end = text.find_last_not_of(' ');
  return end == std::string::npos ? std::string() : text.substr(0, end + 1);
}

} // namespace recontrast::dicom::detail
