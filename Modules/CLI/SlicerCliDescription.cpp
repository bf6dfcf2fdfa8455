/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The Slicer CLI modules' declarations turned into SlicerExecutionModel XML and CLI11 options.
 *
 *=========================================================================*/
#include "SlicerCliDescription.h"
#include "OptionChecks.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace recontrast::cli
{

namespace
{

/** Text for an XML element or attribute (the descriptions hold quotes, '<' and '&'). */
std::string
Escape(const std::string & text)
{
  std::string escaped;
  escaped.reserve(text.size());
  for (const char c : text)
  {
    switch (c)
    {
      case '&':
        escaped += "&amp;";
        break;
      case '<':
        escaped += "&lt;";
        break;
      case '>':
        escaped += "&gt;";
        break;
      case '"':
        escaped += "&quot;";
        break;
      default:
        escaped += c;
    }
  }
  return escaped;
}

void
WriteElement(std::string & xml, int indent, const char * element, const std::string & text)
{
  xml += std::string(indent, ' ') + "<" + element + ">" + Escape(text) + "</" + element + ">\n";
}

/** The shortest text that reads back as the same double: "-1", "0.05", "100000". */
std::string
NumberText(double value)
{
  // Whole numbers without a fraction or an exponent, whatever fmt's version prefers.
  if (std::trunc(value) == value && std::fabs(value) < 1e15)
  {
    return fmt::format("{:.0f}", value);
  }
  return fmt::format("{}", value);
}

} // namespace

SlicerCliParameter::SlicerCliParameter(std::string tag, std::string name, Binding binding)
  : m_Tag(std::move(tag))
  , m_Name(std::move(name))
  , m_Binding(binding)
{}

SlicerCliParameter &
SlicerCliParameter::LongFlag(std::string flag)
{
  m_LongFlag = std::move(flag);
  return *this;
}

SlicerCliParameter &
SlicerCliParameter::Index(int index)
{
  m_Index = index;
  return *this;
}

SlicerCliParameter &
SlicerCliParameter::Label(std::string label)
{
  m_Label = std::move(label);
  return *this;
}

SlicerCliParameter &
SlicerCliParameter::Description(std::string description)
{
  m_Description = std::move(description);
  return *this;
}

SlicerCliParameter &
SlicerCliParameter::Output()
{
  m_Output = true;
  return *this;
}

SlicerCliParameter &
SlicerCliParameter::ImageType(std::string type)
{
  m_ImageType = std::move(type);
  return *this;
}

SlicerCliParameter &
SlicerCliParameter::Reference(std::string parameterName)
{
  m_Reference = std::move(parameterName);
  return *this;
}

SlicerCliParameter &
SlicerCliParameter::FileExtensions(std::string extensions)
{
  m_FileExtensions = std::move(extensions);
  return *this;
}

SlicerCliParameter &
SlicerCliParameter::Range(double minimum, double maximum, double step)
{
  m_HasRange = true;
  m_Minimum = minimum;
  m_Maximum = maximum;
  m_Step = step;
  return *this;
}

void
SlicerCliParameter::WriteXml(std::string & xml) const
{
  std::string attributes;
  if (!m_ImageType.empty())
  {
    attributes += fmt::format(" type=\"{}\"", Escape(m_ImageType));
  }
  if (!m_Reference.empty())
  {
    attributes += fmt::format(" reference=\"{}\"", Escape(m_Reference));
  }
  if (!m_FileExtensions.empty())
  {
    attributes += fmt::format(" fileExtensions=\"{}\"", Escape(m_FileExtensions));
  }
  xml += fmt::format("    <{}{}>\n", m_Tag, attributes);
  WriteElement(xml, 6, "name", m_Name);
  WriteElement(xml, 6, "label", m_Label);
  if (!m_LongFlag.empty())
  {
    WriteElement(xml, 6, "longflag", m_LongFlag);
  }
  if (m_Index >= 0)
  {
    WriteElement(xml, 6, "index", std::to_string(m_Index));
  }
  // Paths always say which way they go; scalars only when they are results.
  const bool path = m_Tag == "image" || m_Tag == "file" || m_Tag == "directory";
  if (path || IsResult())
  {
    WriteElement(xml, 6, "channel", (m_Output || IsResult()) ? "output" : "input");
  }
  if (m_HasDefault)
  {
    WriteElement(xml, 6, "default", m_Default);
  }
  for (const auto & element : m_Elements)
  {
    WriteElement(xml, 6, "element", element);
  }
  if (m_HasRange)
  {
    xml += "      <constraints>\n";
    WriteElement(xml, 8, "minimum", NumberText(m_Minimum));
    WriteElement(xml, 8, "maximum", NumberText(m_Maximum));
    WriteElement(xml, 8, "step", NumberText(m_Step));
    xml += "      </constraints>\n";
  }
  WriteElement(xml, 6, "description", m_Description);
  xml += fmt::format("    </{}>\n", m_Tag);
}

void
SlicerCliParameter::AddOption(CLI::App & app) const
{
  if (IsResult())
  {
    if (m_Index >= 0 || !m_LongFlag.empty())
    {
      throw std::logic_error("The output scalar " + m_Name + " is reported by the run, not passed: it has no flag.");
    }
    return;
  }
  // Slicer needs exactly one way to pass each value, and passes booleans as flags.
  if ((m_Index >= 0) == !m_LongFlag.empty() || (m_Tag == "boolean" && m_LongFlag.empty()))
  {
    throw std::logic_error("The parameter " + m_Name + " needs either a long flag or (not a boolean) an index.");
  }
  const std::string name = m_Index >= 0 ? m_Name : "--" + m_LongFlag;
  const std::string help = m_Label + ": " + m_Description;
  CLI::Option * option = std::visit(
    [&](auto variable) -> CLI::Option * {
      using Variable = decltype(variable);
      if constexpr (std::is_same_v<Variable, std::monostate>)
      {
        return nullptr;
      }
      else if constexpr (std::is_same_v<Variable, bool *>)
      {
        return app.add_flag(name, *variable, help);
      }
      else
      {
        return app.add_option(name, *variable, help)->capture_default_str();
      }
    },
    m_Binding);
  if (!m_Elements.empty())
  {
    option->check(CLI::IsMember(m_Elements));
  }
  if (m_HasRange)
  {
    if (m_Tag == "integer")
    {
      option->check(WholeNumber(static_cast<long long>(m_Minimum), static_cast<long long>(m_Maximum)));
    }
    else
    {
      option->check(FiniteNumber(m_Minimum, m_Maximum));
    }
  }
  else if (m_Tag == "float" || m_Tag == "double")
  {
    option->check(FiniteNumber());
  }
  if (!m_Output)
  {
    // Inputs are checked before any work starts. A directory may also be a list file of scans.
    if (m_Tag == "file")
    {
      option->check(CLI::ExistingFile);
    }
    else if (m_Tag == "image" || m_Tag == "directory")
    {
      option->check(CLI::ExistingPath);
    }
  }
}

SlicerCliParameterGroup::SlicerCliParameterGroup(std::string label, std::string description, bool advanced)
  : m_Label(std::move(label))
  , m_Description(std::move(description))
  , m_Advanced(advanced)
{}

SlicerCliParameter &
SlicerCliParameterGroup::Add(std::string tag, std::string name, SlicerCliParameter::Binding binding, std::string def)
{
  SlicerCliParameter & parameter = m_Parameters.emplace_back(std::move(tag), std::move(name), binding);
  const bool path = parameter.m_Tag == "image" || parameter.m_Tag == "file" || parameter.m_Tag == "directory";
  parameter.m_HasDefault = !path;
  parameter.m_Default = std::move(def);
  return parameter;
}

SlicerCliParameter &
SlicerCliParameterGroup::AddImage(std::string name, std::string & path)
{
  return Add("image", std::move(name), &path, "");
}

SlicerCliParameter &
SlicerCliParameterGroup::AddFile(std::string name, std::string & path)
{
  return Add("file", std::move(name), &path, "");
}

SlicerCliParameter &
SlicerCliParameterGroup::AddDirectory(std::string name, std::string & path)
{
  return Add("directory", std::move(name), &path, "");
}

SlicerCliParameter &
SlicerCliParameterGroup::AddString(std::string name, std::string & value, std::string defaultValue)
{
  value = defaultValue;
  return Add("string", std::move(name), &value, std::move(defaultValue));
}

SlicerCliParameter &
SlicerCliParameterGroup::AddStringEnumeration(std::string name, std::string & value, std::vector<std::string> elements,
                                              std::string defaultValue)
{
  if (std::find(elements.begin(), elements.end(), defaultValue) == elements.end())
  {
    throw std::logic_error("The default of " + name + " is not one of its elements.");
  }
  value = defaultValue;
  SlicerCliParameter & parameter = Add("string-enumeration", std::move(name), &value, std::move(defaultValue));
  parameter.m_Elements = std::move(elements);
  return parameter;
}

SlicerCliParameter &
SlicerCliParameterGroup::AddInteger(std::string name, int & value, int defaultValue)
{
  value = defaultValue;
  return Add("integer", std::move(name), &value, std::to_string(defaultValue));
}

SlicerCliParameter &
SlicerCliParameterGroup::AddInteger(std::string name, uint64_t & value, uint64_t defaultValue)
{
  value = defaultValue;
  return Add("integer", std::move(name), &value, std::to_string(defaultValue));
}

SlicerCliParameter &
SlicerCliParameterGroup::AddFloat(std::string name, double & value, double defaultValue)
{
  value = defaultValue;
  return Add("float", std::move(name), &value, NumberText(defaultValue));
}

SlicerCliParameter &
SlicerCliParameterGroup::AddDouble(std::string name, double & value, double defaultValue)
{
  value = defaultValue;
  return Add("double", std::move(name), &value, NumberText(defaultValue));
}

SlicerCliParameter &
SlicerCliParameterGroup::AddBoolean(std::string name, bool & value)
{
  value = false;
  return Add("boolean", std::move(name), &value, "false");
}

SlicerCliParameter &
SlicerCliParameterGroup::AddIntegerResult(std::string name)
{
  return Add("integer", std::move(name), std::monostate{}, "0");
}

SlicerCliParameter &
SlicerCliParameterGroup::AddFloatResult(std::string name)
{
  return Add("float", std::move(name), std::monostate{}, "0");
}

SlicerCliParameter &
SlicerCliParameterGroup::AddStringResult(std::string name)
{
  return Add("string", std::move(name), std::monostate{}, "");
}

SlicerCliParameter &
SlicerCliParameterGroup::AddBooleanResult(std::string name)
{
  return Add("boolean", std::move(name), std::monostate{}, "false");
}

void
SlicerCliParameterGroup::WriteXml(std::string & xml) const
{
  xml += m_Advanced ? "  <parameters advanced=\"true\">\n" : "  <parameters>\n";
  WriteElement(xml, 4, "label", m_Label);
  WriteElement(xml, 4, "description", m_Description);
  for (const auto & parameter : m_Parameters)
  {
    parameter.WriteXml(xml);
  }
  xml += "  </parameters>\n";
}

SlicerCliParameterGroup &
SlicerCliDescription::AddGroup(std::string label, std::string groupDescription, bool advanced)
{
  return m_Groups.emplace_back(std::move(label), std::move(groupDescription), advanced);
}

std::string
SlicerCliDescription::Xml() const
{
  std::string xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<executable>\n";
  WriteElement(xml, 2, "category", category);
  WriteElement(xml, 2, "title", title);
  WriteElement(xml, 2, "description", description);
  WriteElement(xml, 2, "version", version);
  WriteElement(xml, 2, "license", license);
  WriteElement(xml, 2, "contributor", contributor);
  WriteElement(xml, 2, "acknowledgements", acknowledgements);
  for (const auto & group : m_Groups)
  {
    group.WriteXml(xml);
  }
  xml += "</executable>\n";
  return xml;
}

void
SlicerCliDescription::AddOptions(CLI::App & app) const
{
  std::set<std::string> names;
  std::vector<const SlicerCliParameter *> positionals;
  for (const auto & group : m_Groups)
  {
    for (const auto & parameter : group.Parameters())
    {
      // Slicer addresses parameters (and return parameters) by name.
      if (!names.insert(parameter.Name()).second)
      {
        throw std::logic_error("Two parameters are named " + parameter.Name() + ".");
      }
      if (parameter.GetIndex() >= 0)
      {
        positionals.push_back(&parameter);
      }
      else
      {
        parameter.AddOption(app);
      }
    }
  }
  // CLI11 fills positional options in the order they were added.
  std::sort(positionals.begin(), positionals.end(), [](const auto * a, const auto * b) {
    return a->GetIndex() < b->GetIndex();
  });
  for (const auto * parameter : positionals)
  {
    parameter->AddOption(app);
  }
}

bool
SlicerCliDescription::HasResult(const std::string & name) const
{
  for (const auto & group : m_Groups)
  {
    for (const auto & parameter : group.Parameters())
    {
      if (parameter.IsResult() && parameter.Name() == name)
      {
        return true;
      }
    }
  }
  return false;
}

} // namespace recontrast::cli
