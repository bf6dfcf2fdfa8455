#ifndef ReContrast_CLI_Commands_h
#define ReContrast_CLI_Commands_h

#include <CLI/CLI.hpp>

#include <string>

namespace recontrast::cli
{

/** `recontrast info <model>`: what the model is, how it was trained, its calibration. */
class InfoCommand
{
public:
  explicit InfoCommand(CLI::App & app);
  bool Selected() const { return m_Command->parsed(); }
  int Run() const;

private:
  CLI::App * m_Command;
  std::string m_Model;
  bool m_Json = false;
};

/** `recontrast import (--official <state_dict.pth> | --torchvision <weights.pth>) --backbone <name> --out <model>`. */
class ImportCommand
{
public:
  explicit ImportCommand(CLI::App & app);
  bool Selected() const { return m_Command->parsed(); }
  int Run() const;

private:
  CLI::App * m_Command;
  std::string m_Official;
  std::string m_Torchvision;
  std::string m_Backbone = "wide_resnet50_2";
  int m_ImageSize = 256;
  std::string m_Output;
};

} // namespace recontrast::cli

#endif
