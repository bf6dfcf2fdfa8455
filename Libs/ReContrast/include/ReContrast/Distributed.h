/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Where this process stands in a data-parallel training: rank, size and rendezvous, read from the
 *  variables that torchrun or Slurm's srun set.
 *
 *=========================================================================*/
#ifndef ReContrast_Distributed_h
#define ReContrast_Distributed_h

#include "ReContrast/ReContrastExport.h"

#include <functional>
#include <string>

namespace recontrast
{

/** Whether training joins the processes its launcher started (Auto) or runs alone whatever the
 * environment says (Off). */
enum class DistributedMode
{
  Auto,
  Off
};

RECONTRAST_EXPORT DistributedMode DistributedModeFromString(const std::string & name); ///< "auto" or "off"

/** One process of a data-parallel training (Documentation/Scaling.md). worldSize 1: training alone. */
struct RECONTRAST_EXPORT DistributedSettings
{
  int rank = 0;
  int worldSize = 1;
  int localRank = 0;    ///< Rank among the processes of this machine: --device cuda becomes cuda:<localRank mod GPUs>.
  std::string launcher; ///< "torchrun" or "slurm"; empty when alone.
  /** The rendezvous: a TCP store at masterAddress:masterPort, hosted by rank 0 unless the launcher
   * hosts it (torchrun's agent, TORCHELASTIC_USE_AGENT_STORE). */
  std::string masterAddress;
  int masterPort = 0;
  bool launcherHostsStore = false;
  std::string storePrefix; ///< Keys of this run in a shared store (torchrun: its restart attempt).
  /** How long a collective operation or the rendezvous may wait for the other processes. A process
   * that dies is noticed at once (its connections close); one that hangs, after this time. */
  double timeoutSeconds = 300.0;
  /** Gradients are summed in buckets of about this size while backward runs (torch's DDP uses 25);
   * a bucket larger than the model is summed only after backward, with no overlap. */
  double gradientBucketMegabytes = 25.0;

  bool Enabled() const { return worldSize > 1; }
};

/** Reads the launcher's variables: torchrun's RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT
 * (and TORCHELASTIC_USE_AGENT_STORE, TORCHELASTIC_RESTART_COUNT), else those of a Slurm job step
 * started by srun (SLURM_PROCID, SLURM_STEP_NUM_TASKS, SLURM_LOCALID, the first host of
 * SLURM_STEP_NODELIST, MASTER_ADDR / MASTER_PORT when set). RECONTRAST_DISTRIBUTED_TIMEOUT (seconds)
 * replaces the timeout, RECONTRAST_GRADIENT_BUCKET_MB the bucket size. Off, or no launcher: one process. Throws Error
 * naming the variable when a value is missing or not a number. `lookup` stands in for std::getenv (tests). */
RECONTRAST_EXPORT DistributedSettings
DistributedSettingsFromEnvironment(DistributedMode mode, const std::function<const char *(const char *)> & lookup = {});

/** The first host name of a Slurm host list ("node[07-09,12],gpu3" -> "node07"). */
RECONTRAST_EXPORT std::string FirstHostOfSlurmList(const std::string & hostList);

} // namespace recontrast

#endif
