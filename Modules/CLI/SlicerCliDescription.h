/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The one declaration of a Slicer CLI module's interface: from it come both the SlicerExecutionModel
 *  XML that Slicer reads (--xml) and the CLI11 options that parse what Slicer then passes.
 *
 *=========================================================================*/
#ifndef ReContrast_CLI_SlicerCliDescription_h
#define ReContrast_CLI_SlicerCliDescription_h

#include <CLI/CLI.hpp>

#include <cstdint>
#include <deque>
#include <string>
#include <variant>
#include <vector>

namespace recontrast::cli
{

/** One parameter of a Slicer CLI module: an option bound to a variable of the module, or an output
 * scalar (a return parameter) that the run reports. Made by SlicerCliParameterGroup's Add...
 * methods and completed by chaining, as CLI11's options are:
 *   group.AddInteger("threads", a.threads, 0).LongFlag("threads").Label("CPU threads").Range(0, 256, 1)
 *     .Description("Threads on the CPU; 0 uses every core."); */
class SlicerCliParameter
{
public:
  /** The variable an option writes; none for output scalars. */
  using Binding = std::variant<std::monostate, std::string *, int *, uint64_t *, double *, bool *>;

  SlicerCliParameter(std::string tag, std::string name, Binding binding);

  /** Passed as --<flag>. */
  SlicerCliParameter & LongFlag(std::string flag);
  /** Passed by position (Slicer passes these last, by increasing index). */
  SlicerCliParameter & Index(int index);
  SlicerCliParameter & Label(std::string label);
  SlicerCliParameter & Description(std::string description);
  /** An image, file or directory the module writes (the default channel is input). */
  SlicerCliParameter & Output();
  /** An image's type attribute: "scalar", "label", ... */
  SlicerCliParameter & ImageType(std::string type);
  /** The image whose geometry an output image takes. */
  SlicerCliParameter & Reference(std::string parameterName);
  /** A file's extensions, e.g. ".rcm" or ".nrrd,.nii.gz". */
  SlicerCliParameter & FileExtensions(std::string extensions);
  /** Constraints of a number: Slicer's slider bounds, and the range the option accepts. */
  SlicerCliParameter & Range(double minimum, double maximum, double step);

  const std::string & Name() const { return m_Name; }
  const std::string & Tag() const { return m_Tag; }
  /** True for output scalars: reported by the run, not passed on the command line. */
  bool IsResult() const { return std::holds_alternative<std::monostate>(m_Binding); }
  int GetIndex() const { return m_Index; }

  /** Writes the parameter's SEM element. */
  void WriteXml(std::string & xml) const;
  /** Adds the parameter's CLI11 option (no option for output scalars). */
  void AddOption(CLI::App & app) const;

private:
  friend class SlicerCliParameterGroup;

  std::string m_Tag; ///< The SEM element: image, file, directory, string, string-enumeration, integer, float, ...
  std::string m_Name;
  Binding m_Binding;
  std::string m_LongFlag;
  int m_Index = -1;
  std::string m_Label;
  std::string m_Description;
  bool m_Output = false;
  bool m_HasDefault = false;
  std::string m_Default; ///< As SEM writes it.
  std::vector<std::string> m_Elements;
  std::string m_ImageType;
  std::string m_Reference;
  std::string m_FileExtensions;
  bool m_HasRange = false;
  double m_Minimum = 0.0;
  double m_Maximum = 0.0;
  double m_Step = 0.0;
};

/** A group of parameters (a collapsible section of Slicer's generated panel). The Add... methods
 * set the bound variable to its default, so that the XML's default and the option's are the same
 * value. References stay valid while parameters are added. */
class SlicerCliParameterGroup
{
public:
  SlicerCliParameterGroup(std::string label, std::string description, bool advanced);

  // Inputs and outputs read or written by path; no default (empty: not given).
  SlicerCliParameter & AddImage(std::string name, std::string & path);
  SlicerCliParameter & AddFile(std::string name, std::string & path);
  SlicerCliParameter & AddDirectory(std::string name, std::string & path);

  // Options with a default.
  SlicerCliParameter & AddString(std::string name, std::string & value, std::string defaultValue);
  SlicerCliParameter & AddStringEnumeration(std::string name, std::string & value, std::vector<std::string> elements,
                                            std::string defaultValue);
  SlicerCliParameter & AddInteger(std::string name, int & value, int defaultValue);
  SlicerCliParameter & AddInteger(std::string name, uint64_t & value, uint64_t defaultValue);
  /** SEM's <float> (single precision in Slicer's panel) and <double>; both parse into a double. */
  SlicerCliParameter & AddFloat(std::string name, double & value, double defaultValue);
  SlicerCliParameter & AddDouble(std::string name, double & value, double defaultValue);
  /** Slicer passes a boolean as a bare flag, only when true: its default is always false. */
  SlicerCliParameter & AddBoolean(std::string name, bool & value);

  // Output scalars: return parameters the run reports by name (default 0, false or empty).
  SlicerCliParameter & AddIntegerResult(std::string name);
  SlicerCliParameter & AddFloatResult(std::string name);
  SlicerCliParameter & AddStringResult(std::string name);
  SlicerCliParameter & AddBooleanResult(std::string name);

  const std::deque<SlicerCliParameter> & Parameters() const { return m_Parameters; }
  void WriteXml(std::string & xml) const;

private:
  SlicerCliParameter & Add(std::string tag, std::string name, SlicerCliParameter::Binding binding, std::string def);

  std::string m_Label;
  std::string m_Description;
  bool m_Advanced;
  std::deque<SlicerCliParameter> m_Parameters;
};

/** A Slicer CLI module's description: what Slicer shows about the module and its parameters. */
class SlicerCliDescription
{
public:
  std::string category; ///< e.g. "Quantification.ReContrast"
  std::string title;
  std::string description;
  std::string version; ///< The project's version (recontrast::Version()).
  std::string license;
  std::string contributor;
  std::string acknowledgements;

  /** A new group; `advanced` groups start collapsed in Slicer's panel. */
  SlicerCliParameterGroup & AddGroup(std::string label, std::string groupDescription, bool advanced = false);

  /** The SlicerExecutionModel XML. */
  std::string Xml() const;
  /** Adds every option to the parser: positional parameters by increasing index, with the checks
   * their declaration implies (choices, ranges, existing inputs). */
  void AddOptions(CLI::App & app) const;
  /** Whether `name` is a declared output scalar (the run may report only those). */
  bool HasResult(const std::string & name) const;

private:
  std::deque<SlicerCliParameterGroup> m_Groups;
};

} // namespace recontrast::cli

#endif
