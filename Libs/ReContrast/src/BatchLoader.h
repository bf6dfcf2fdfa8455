/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The trainer's batches, loaded ahead in background threads.
 *
 *=========================================================================*/
#ifndef ReContrast_BatchLoader_h
#define ReContrast_BatchLoader_h

#include "ReContrast/SampleSource.h"

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace recontrast
{

/** A batch of training images: count x 3 x S x S floats in [0, 1]; in data-parallel training, this
 * process's shard of a batch of globalCount images. */
struct ImageBatch
{
  std::vector<float> pixels;
  size_t count = 0;
  size_t globalCount = 0;
};

/** Prepares training batches on worker threads, ahead of the model, in a deterministic order.
 *
 * Iteration i uses batch (i mod B) of epoch (i div B), B = ceil(N / batchSize): each epoch is a
 * permutation of the samples drawn from (seed, epoch), batches are consecutive and the last one
 * of an epoch may be smaller (the official loader: shuffle=True, drop_last=False). Because the
 * order depends only on the iteration, a resumed run sees exactly the batches it would have seen.
 * With zero workers, Take() loads the batch itself. In data-parallel training each of `shards`
 * processes loads only its part of every batch (shard k: images [k n / shards, (k+1) n / shards) of
 * a batch of n), so the processes together see what one process would. */
class BatchLoader
{
public:
  BatchLoader(const SampleSource & source, std::vector<size_t> sampleIndices, int imageSize, int batchSize,
              uint64_t seed, int firstIteration, int endIteration, int workers, int prefetch, int shard = 0,
              int shards = 1);
  ~BatchLoader();
  BatchLoader(const BatchLoader &) = delete;
  BatchLoader & operator=(const BatchLoader &) = delete;

  /** The batch of `iteration` (called with consecutive iterations); rethrows a worker's error. */
  ImageBatch Take(int iteration);

  /** The samples of iteration `iteration`, as indices into the source (for tests): the whole batch. */
  std::vector<size_t> SamplesOf(int iteration) const;

  /** The range [first, end) of a batch of `count` images that shard `shard` of `shards` takes. */
  static std::pair<size_t, size_t> ShardRange(size_t count, int shard, int shards);

private:
  ImageBatch LoadBatch(int iteration) const;
  void Work();

  const SampleSource & m_Source;
  std::vector<size_t> m_Indices;
  int m_ImageSize;
  int m_BatchSize;
  uint64_t m_Seed;
  int m_EndIteration;
  int m_Prefetch;
  int m_Shard;
  int m_Shards;

  std::mutex m_Mutex;
  std::condition_variable m_Changed;
  int m_NextToLoad;
  int m_NextToTake;
  bool m_Stopping = false;
  std::exception_ptr m_Error;
  std::map<int, ImageBatch> m_Ready;
  std::vector<std::thread> m_Workers;
};

} // namespace recontrast

#endif
