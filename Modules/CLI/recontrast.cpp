/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The `recontrast` command: one executable, one subcommand per job.
 *
 *=========================================================================*/
#include "Commands.h"

#include "ReContrast/Error.h"
#include "ReContrast/Version.h"

#include <CLI/CLI.hpp>
#include <spdlog/fmt/fmt.h>

#include <cstdio>
#include <exception>

int
main(int argc, char ** argv)
{
  CLI::App app{ "ReContrast: unsupervised anomaly detection for medical images and volumes." };
  app.name("recontrast");
  app.set_version_flag("--version", []() {
    return fmt::format("recontrast {} (LibTorch {}, CUDA {})",
                       recontrast::Version(),
                       recontrast::TorchVersion(),
                       recontrast::CudaAvailable() ? "available" : "not available");
  });
  app.require_subcommand(0, 1);

  recontrast::cli::TrainCommand train(app);
  recontrast::cli::InferCommand infer(app);
  recontrast::cli::EvalCommand eval(app);
  recontrast::cli::ImportCommand import(app);
  recontrast::cli::InfoCommand info(app);
  recontrast::cli::WeightsCommand weights(app);
  recontrast::cli::ServeCommand serve(app);
  recontrast::cli::FindCommand find(app);
  recontrast::cli::ReportMergeCommand reportMerge(app);

  try
  {
    app.parse(argc, argv);
  }
  catch (const CLI::ParseError & e)
  {
    return app.exit(e);
  }

  try
  {
    if (train.Selected())
    {
      return train.Run();
    }
    if (infer.Selected())
    {
      return infer.Run();
    }
    if (eval.Selected())
    {
      return eval.Run();
    }
    if (info.Selected())
    {
      return info.Run();
    }
    if (import.Selected())
    {
      return import.Run();
    }
    if (weights.Selected())
    {
      return weights.Run();
    }
    if (serve.Selected())
    {
      return serve.Run();
    }
    if (find.Selected())
    {
      return find.Run();
    }
    if (reportMerge.Selected())
    {
      return reportMerge.Run();
    }
    std::fputs(app.help().c_str(), stdout);
    return 0;
  }
  catch (const recontrast::Error & e)
  {
    std::fprintf(stderr, "recontrast: %s\n", e.what());
    return 1;
  }
  catch (const std::exception & e)
  {
    std::fprintf(stderr, "recontrast: unexpected error: %s\n", e.what());
    return 1;
  }
}
