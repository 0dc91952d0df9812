// A fixed set of Prometheus histograms (one per label combination, all with the same bucket
// bounds), updated lock-free. prometheus-cpp 1.0.1's Histogram::Observe takes a mutex per
// observation; the data path must not lock, so the proxy's histograms live here: one relaxed
// atomic increment per observation plus an atomic add to the sum, in the calling thread's shard
// (sharded.hpp). A scrape reads the atomics one by one, so a sample recorded during the scrape may
// show in _count but not yet in _sum (or the reverse): Prometheus tolerates that, as with every
// client library's lock-free histogram.
//
// Thread safety: observe() and read() may be called from any thread at any time.
#pragma once

#include "s3ha/metrics/sharded.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace s3ha::metrics {

class histogram_set {
public:
    /// bounds: the finite upper bounds, strictly increasing (the +Inf bucket is implicit).
    /// series: how many histograms (label combinations); shards: see sharded.hpp. Allocates
    /// everything here.
    histogram_set(std::vector<double> bounds, std::size_t series, std::size_t shards = 1);

    /// Records v in histogram `series` (< size()). Lock-free, no allocation.
    void observe(std::size_t series, double v) noexcept;

    struct reading {
        std::vector<std::uint64_t> cumulative; ///< per finite bound, then +Inf (= count)
        std::uint64_t count = 0;
        double sum = 0;
    };
    /// A copy of histogram `series`, buckets made cumulative (the exposition format's shape).
    reading read(std::size_t series) const;

    const std::vector<double>& bounds() const noexcept { return bounds_; }
    std::size_t size() const noexcept { return series_; }

private:
    std::vector<double> bounds_;
    std::size_t series_;
    std::size_t stride_;            // bounds_.size() + 1: the last slot is +Inf
    sharded<std::uint64_t> counts_; // [series][bucket]
    sharded<double> sums_;          // [series]
};

} // namespace s3ha::metrics
