/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Where this process stands in a data-parallel training, from the launcher's variables.
 *
 *=========================================================================*/
#include "ReContrast/Distributed.h"

#include "ReContrast/Error.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace recontrast
{

DistributedMode
DistributedModeFromString(const std::string & name)
{
  if (name == "auto")
  {
    return DistributedMode::Auto;
  }
  if (name == "off")
  {
    return DistributedMode::Off;
  }
  throw Error("The distributed mode must be auto or off; got '" + name + "'.");
}

std::string
FirstHostOfSlurmList(const std::string & hostList)
{
  // The first entry ends at a comma outside brackets; a bracket holds ranges and lists of numbers,
  // whose first number (with its zero padding) names the first host.
  std::string host;
  size_t i = 0;
  while (i < hostList.size() && hostList[i] != ',')
  {
    if (hostList[i] == '[')
    {
      const size_t close = hostList.find(']', i);
      if (close == std::string::npos)
      {
        throw Error("The Slurm host list '" + hostList + "' has an unclosed '['.");
      }
      const std::string inside = hostList.substr(i + 1, close - i - 1);
      host += inside.substr(0, inside.find_first_of("-,"));
      i = close + 1;
      continue;
    }
    host += hostList[i++];
  }
  if (host.empty())
  {
    throw Error("The Slurm host list '" + hostList + "' names no host.");
  }
  return host;
}

namespace
{
// A whole number from the launcher, or one sentence naming the variable.
int
WholeNumberOf(const char * name, const char * text, int minimum)
{
  if (!text || !*text)
  {
    throw Error(std::string("The launcher did not set ") + name + ", which a distributed training needs.");
  }
  char * end = nullptr;
  errno = 0;
  const long value = std::strtol(text, &end, 10);
  if (errno != 0 || *end != '\0' || value < minimum || value > 1000000)
  {
    throw Error(std::string("The variable ") + name + " must be a whole number of at least " + std::to_string(minimum) +
                "; it is '" + text + "'.");
  }
  return static_cast<int>(value);
}
} // namespace

DistributedSettings
DistributedSettingsFromEnvironment(DistributedMode mode, const std::function<const char *(const char *)> & lookup)
{
  const auto get = [&](const char * name) -> const char * { return lookup ? lookup(name) : std::getenv(name); };
  DistributedSettings settings;
  if (mode == DistributedMode::Off)
  {
    return settings;
  }
  if (const char * timeout = get("RECONTRAST_DISTRIBUTED_TIMEOUT"))
  {
    char * end = nullptr;
    settings.timeoutSeconds = std::strtod(timeout, &end);
    if (*end != '\0' || !std::isfinite(settings.timeoutSeconds) || settings.timeoutSeconds < 1.0)
    {
      throw Error(std::string("RECONTRAST_DISTRIBUTED_TIMEOUT must be a number of seconds, at least 1; it is '") +
                  timeout + "'.");
    }
  }
  if (const char * bucket = get("RECONTRAST_GRADIENT_BUCKET_MB"))
  {
    char * end = nullptr;
    settings.gradientBucketMegabytes = std::strtod(bucket, &end);
    if (*end != '\0' || !std::isfinite(settings.gradientBucketMegabytes) || settings.gradientBucketMegabytes <= 0.0)
    {
      throw Error(std::string("RECONTRAST_GRADIENT_BUCKET_MB must be a positive number of megabytes; it is '") +
                  bucket + "'.");
    }
  }
  if (get("WORLD_SIZE"))
  {
    // torchrun (and anything that follows its conventions, e.g. a hand-written srun wrapper).
    settings.launcher = "torchrun";
    settings.worldSize = WholeNumberOf("WORLD_SIZE", get("WORLD_SIZE"), 1);
    settings.rank = WholeNumberOf("RANK", get("RANK"), 0);
    settings.localRank = get("LOCAL_RANK") ? WholeNumberOf("LOCAL_RANK", get("LOCAL_RANK"), 0) : 0;
    const char * useAgentStore = get("TORCHELASTIC_USE_AGENT_STORE");
    settings.launcherHostsStore = useAgentStore && std::string(useAgentStore) == "True";
    if (settings.launcherHostsStore)
    {
      const char * attempt = get("TORCHELASTIC_RESTART_COUNT");
      settings.storePrefix = std::string("/worker/attempt_") + (attempt ? attempt : "0");
    }
  }
  else if (get("SLURM_STEP_NUM_TASKS") && get("SLURM_PROCID"))
  {
    // A job step started by srun: the batch script itself is not a step and trains alone.
    settings.launcher = "slurm";
    settings.worldSize = WholeNumberOf("SLURM_STEP_NUM_TASKS", get("SLURM_STEP_NUM_TASKS"), 1);
    settings.rank = WholeNumberOf("SLURM_PROCID", get("SLURM_PROCID"), 0);
    settings.localRank = get("SLURM_LOCALID") ? WholeNumberOf("SLURM_LOCALID", get("SLURM_LOCALID"), 0) : 0;
  }
  else
  {
    return settings;
  }
  if (settings.worldSize == 1)
  {
    return DistributedSettings{};
  }
  if (settings.rank >= settings.worldSize)
  {
    throw Error("The rank " + std::to_string(settings.rank) + " is not below the number of processes " +
                std::to_string(settings.worldSize) + ".");
  }
  if (const char * address = get("MASTER_ADDR"); address && *address)
  {
    settings.masterAddress = address;
  }
  else if (settings.launcher == "slurm" && get("SLURM_STEP_NODELIST"))
  {
    settings.masterAddress = FirstHostOfSlurmList(get("SLURM_STEP_NODELIST"));
  }
  else
  {
    throw Error("The launcher did not set MASTER_ADDR, the address of the first process.");
  }
  if (get("MASTER_PORT"))
  {
    settings.masterPort = WholeNumberOf("MASTER_PORT", get("MASTER_PORT"), 1);
  }
  else if (settings.launcher == "slurm" && get("SLURM_JOB_ID"))
  {
    // Two jobs on one node must not meet at the same port: one from the job's number, below Linux's
    // range of temporary ports (32768 and up).
    settings.masterPort = 10000 + WholeNumberOf("SLURM_JOB_ID", get("SLURM_JOB_ID"), 0) % 20000;
  }
  else
  {
    throw Error("The launcher did not set MASTER_PORT, the rendezvous port of the first process.");
  }
  if (settings.masterPort > 65535)
  {
    throw Error("MASTER_PORT must be a port number (1-65535); it is " + std::to_string(settings.masterPort) + ".");
  }
  return settings;
}

} // namespace recontrast
