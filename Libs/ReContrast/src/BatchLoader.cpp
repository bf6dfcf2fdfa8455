/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The trainer's batches, loaded ahead in background threads.
 *
 *=========================================================================*/
#include "BatchLoader.h"

#include "ReContrast/Error.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace recontrast
{

BatchLoader::BatchLoader(const SampleSource & source, std::vector<size_t> sampleIndices, int imageSize, int batchSize,
                         uint64_t seed, int firstIteration, int endIteration, int workers, int prefetch, int shard,
                         int shards)
  : m_Source(source)
  , m_Indices(std::move(sampleIndices))
  , m_ImageSize(imageSize)
  , m_BatchSize(batchSize)
  , m_Seed(seed)
  , m_EndIteration(endIteration)
  , m_Prefetch(std::max(1, prefetch))
  , m_Shard(shard)
  , m_Shards(std::max(1, shards))
  , m_NextToLoad(firstIteration)
  , m_NextToTake(firstIteration)
{
  if (m_Indices.empty())
  {
    throw Error("There are no training samples.");
  }
  // workers == 0: batches are loaded in the caller's thread when taken (no thread competes with
  // LibTorch's threads on small machines).
  for (int i = 0; i < workers; ++i)
  {
    m_Workers.emplace_back([this]() { Work(); });
  }
}

BatchLoader::~BatchLoader()
{
  {
    std::lock_guard<std::mutex> lock(m_Mutex);
    m_Stopping = true;
  }
  m_Changed.notify_all();
  for (std::thread & worker : m_Workers)
  {
    worker.join();
  }
}

std::vector<size_t>
BatchLoader::SamplesOf(int iteration) const
{
  const size_t n = m_Indices.size();
  const size_t batchesPerEpoch = (n + static_cast<size_t>(m_BatchSize) - 1) / static_cast<size_t>(m_BatchSize);
  const size_t epoch = static_cast<size_t>(iteration) / batchesPerEpoch;
  const size_t batch = static_cast<size_t>(iteration) % batchesPerEpoch;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{ 0 });
  std::mt19937_64 random(m_Seed * 0x9E3779B97F4A7C15ull + epoch);
  // Fisher-Yates with our own draws: std::shuffle's algorithm is not specified across libraries.
  for (size_t i = n; i > 1; --i)
  {
    const size_t j = static_cast<size_t>(random() % i);
    std::swap(order[i - 1], order[j]);
  }
  const size_t begin = batch * static_cast<size_t>(m_BatchSize);
  const size_t end = std::min(n, begin + static_cast<size_t>(m_BatchSize));
  std::vector<size_t> samples;
  for (size_t i = begin; i < end; ++i)
  {
    samples.push_back(m_Indices[order[i]]);
  }
  return samples;
}

std::pair<size_t, size_t>
BatchLoader::ShardRange(size_t count, int shard, int shards)
{
  const auto k = static_cast<size_t>(shard);
  const auto n = static_cast<size_t>(shards);
  return { k * count / n, (k + 1) * count / n };
}

ImageBatch
BatchLoader::LoadBatch(int iteration) const
{
  const size_t imagePixels = 3 * static_cast<size_t>(m_ImageSize) * static_cast<size_t>(m_ImageSize);
  const std::vector<size_t> samples = SamplesOf(iteration);
  const auto [first, end] = ShardRange(samples.size(), m_Shard, m_Shards);
  ImageBatch batch;
  batch.globalCount = samples.size();
  batch.count = end - first;
  batch.pixels.resize(batch.count * imagePixels);
  for (size_t i = first; i < end; ++i)
  {
    m_Source.Load(samples[i], m_ImageSize, batch.pixels.data() + (i - first) * imagePixels);
  }
  return batch;
}

void
BatchLoader::Work()
{
  for (;;)
  {
    int iteration = 0;
    {
      std::unique_lock<std::mutex> lock(m_Mutex);
      m_Changed.wait(lock, [this]() {
        return m_Stopping || m_Error || (m_NextToLoad < m_EndIteration && m_NextToLoad < m_NextToTake + m_Prefetch);
      });
      if (m_Stopping || m_Error)
      {
        return;
      }
      iteration = m_NextToLoad++;
    }
    try
    {
      ImageBatch batch = LoadBatch(iteration);
      std::lock_guard<std::mutex> lock(m_Mutex);
      m_Ready.emplace(iteration, std::move(batch));
    }
    catch (...)
    {
      std::lock_guard<std::mutex> lock(m_Mutex);
      if (!m_Error)
      {
        m_Error = std::current_exception();
      }
    }
    m_Changed.notify_all();
  }
}

ImageBatch
BatchLoader::Take(int iteration)
{
  if (m_Workers.empty())
  {
    return LoadBatch(iteration);
  }
  std::unique_lock<std::mutex> lock(m_Mutex);
  m_Changed.wait(lock, [this, iteration]() { return m_Error || m_Ready.count(iteration) > 0; });
  if (m_Error)
  {
    std::rethrow_exception(m_Error);
  }
  ImageBatch batch = std::move(m_Ready[iteration]);
  m_Ready.erase(iteration);
  m_NextToTake = iteration + 1;
  lock.unlock();
  m_Changed.notify_all();
  return batch;
}

} // namespace recontrast
