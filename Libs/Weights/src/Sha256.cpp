/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  SHA-256 of a file with OpenSSL's EVP interface.
 *
 *=========================================================================*/
#include "ReContrast/WeightsDownload.h"

#include "ReContrast/Error.h"

#include <openssl/evp.h>

#include <cstdio>
#include <memory>
#include <vector>

namespace recontrast::weights
{

std::string
Sha256OfFile(const std::string & path)
{
  std::unique_ptr<std::FILE, int (*)(std::FILE *)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file)
  {
    throw Error("Cannot read " + path + " to check its SHA-256.");
  }
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX *)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1)
  {
    throw Error("OpenSSL could not start a SHA-256 computation.");
  }
  std::vector<unsigned char> buffer(1 << 20);
  size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0)
  {
    EVP_DigestUpdate(context.get(), buffer.data(), n);
  }
  if (std::ferror(file.get()))
  {
    throw Error("Reading " + path + " failed while checking its SHA-256.");
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(context.get(), digest, &length);
  static const char * hex = "0123456789abcdef";
  std::string text;
  for (unsigned int i = 0; i < length; ++i)
  {
    text += hex[digest[i] >> 4];
    text += hex[digest[i] & 15];
  }
  return text;
}

} // namespace recontrast::weights
