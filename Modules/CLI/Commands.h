/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The sub-commands of `recontrast`.
 *
 *=========================================================================*/
#ifndef ReContrast_CLI_Commands_h
#define ReContrast_CLI_Commands_h

#include "ReContrast/ModelConfig.h"
#include "Training.h"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

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
  std::string m_Backbone = DefaultBackboneName(); ///< The engine's default.
  int m_ImageSize = 256;
  std::string m_Output;
};

/** `recontrast train --data <folder|list> --out <model> ...`: trains a model on normal scans. */
class TrainCommand
{
public:
  explicit TrainCommand(CLI::App & app);
  bool Selected() const { return m_Command->parsed(); }
  int Run() const;

private:
  CLI::App * m_Command;
  TrainingRequest m_Request; ///< The engine's defaults until the options set them.
};

/** `recontrast infer --model <model> --input <scan> --output <map> ...`: anomaly map, report, overlay. */
class InferCommand
{
public:
  explicit InferCommand(CLI::App & app);
  bool Selected() const { return m_Command->parsed(); }
  int Run() const;

private:
  CLI::App * m_Command;
  std::string m_Model;
  std::string m_Input;
  std::string m_Output;
  std::string m_Overlay;
  std::string m_Report;
  std::string m_Labels;
  double m_Threshold = -1.0;
  std::string m_Device = "cpu";
  int m_Threads = 0;
  int m_BatchSize = 4;
  std::string m_Intensity;
  std::string m_Format = "nii.gz";
  std::string m_DicomOutput;
  std::string m_Series;
  std::string m_Precision = "fp32";
  std::string m_Map = "calibrated";
  std::string m_Shard;    ///< "I/N", "all", or empty: a Slurm array task's part, else all.
  bool m_Rescore = false; ///< Score scans whose status says they are done too.
  std::string m_Pacs;     ///< AET@host:port: retrieve the study from there (C-FIND, C-GET).
  std::string m_Study;    ///< Study Instance UID to retrieve from the PACS.
  std::string m_AETitle = "RECONTRAST";
  bool m_SendResults = false;

  int RunFromPacs() const; ///< PacsInference.cpp
};

/** `recontrast find --pacs AET@host:port --patient ID`: a patient's studies (C-FIND), or with
 * --study the series of a study. */
class FindCommand
{
public:
  explicit FindCommand(CLI::App & app);
  bool Selected() const { return m_Command->parsed(); }
  int Run() const;

private:
  CLI::App * m_Command;
  std::string m_Pacs;
  std::string m_Patient;
  std::string m_Study;
  std::string m_AETitle = "RECONTRAST";
  bool m_Json = false;
};

/** `recontrast report-merge --from <output folder> ... --csv <table.csv> --json <table.json>`: one
 * table of a batch's scans from their status files, whichever shards scored them. */
class ReportMergeCommand
{
public:
  explicit ReportMergeCommand(CLI::App & app);
  bool Selected() const { return m_Command->parsed(); }
  int Run() const;

private:
  CLI::App * m_Command;
  std::vector<std::string> m_Folders;
  std::string m_Input;
  std::string m_Csv;
  std::string m_Json;
};

/** `recontrast eval --model <model> --data <MVTec-style folder> --report <json>`: image and pixel
 * metrics of a model on a labelled test set. */
class EvalCommand
{
public:
  explicit EvalCommand(CLI::App & app);
  bool Selected() const { return m_Command->parsed(); }
  int Run() const;

private:
  CLI::App * m_Command;
  std::string m_Model;
  std::string m_Data;
  std::string m_Report;
  std::string m_Roc;
  std::string m_Device = "cpu";
  int m_Threads = 0;
  int m_BatchSize = 4;
  std::string m_Score = "max";
  std::string m_Precision = "fp32";
};

/** `recontrast weights (list | fetch <name>... | import <file>)`: the ImageNet encoder weights in the
 * cache that `train --encoder-weights imagenet` starts from. */
class WeightsCommand
{
public:
  explicit WeightsCommand(CLI::App & app);
  bool Selected() const { return m_Command->parsed(); }
  int Run() const;

private:
  int List() const;
  int Fetch() const;
  int Import() const;

  CLI::App * m_Command;
  CLI::App * m_List;
  CLI::App * m_Fetch;
  CLI::App * m_Import;
  std::string m_Cache; ///< Empty: the default cache folder.
  bool m_Json = false;
  std::vector<std::string> m_Names;
  std::string m_File;
  std::string m_Name;
};

/** `recontrast serve`: the anomaly-detection DICOM node. */
class ServeCommand
{
public:
  explicit ServeCommand(CLI::App & app);
  bool Selected() const { return m_Command->parsed(); }
  int Run() const;

private:
  CLI::App * m_Command;
  std::string m_Config;
  std::vector<std::string> m_Models;
  std::string m_AETitle;
  int m_Port = 0;
  std::string m_Destination;
  std::string m_Work;
  std::string m_Status;
  bool m_Json = false;
};

} // namespace recontrast::cli

#endif
