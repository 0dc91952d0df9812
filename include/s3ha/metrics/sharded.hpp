// Counters split into per-thread shards, summed when read.
//
// Every request updates about a dozen counters and gauges (requests by status, duration and
// first-byte histograms, body bytes, in-flight and pooled connections). Shared by the worker
// threads, each update is a locked read-modify-write on a cache line the other worker wrote last:
// measured, dropping those updates gave +1 to +6 % small-GET req/s and -0.5 us of CPU per request
// on the benchmark VM (bench/README.md). Here each worker thread adds to its own shard, on cache
// lines no other thread writes, and a scrape adds the shards up.
//
// Shard of a thread: set_thread_shard(i) (a worker sets its id + 1); 0 for every other thread
// (health checker, admin, tests) and for an index past the shard count. Several threads may share
// a shard: updates stay atomic read-modify-writes, so sharing costs speed, never correctness.
//
// Thread safety: add() and sum() from any thread at any time. A sum taken while other threads
// add may miss their latest updates, as any lock-free metric read does.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

namespace s3ha::metrics {

namespace detail {
inline thread_local std::size_t t_shard = 0;
} // namespace detail

/// The calling thread's shard index (0 unless set_thread_shard was called on this thread).
inline std::size_t thread_shard() noexcept {
    return detail::t_shard;
}
/// Sets the calling thread's shard index for every sharded value.
inline void set_thread_shard(std::size_t shard) noexcept {
    detail::t_shard = shard;
}

/// `slots` values of type T (an integer, or double), each kept as one partial value per shard.
template <class T> class sharded {
public:
    sharded(std::size_t slots, std::size_t shards)
        : slots_(slots), shards_(shards == 0 ? 1 : shards),
          lines_per_shard_((slots + k_per_line - 1) / k_per_line),
          lines_(std::make_unique<line[]>(lines_per_shard_ * shards_)) {}

    /// Adds delta to slot (< size()) in the calling thread's shard. Lock-free, no allocation.
    void add(std::size_t slot, T delta) noexcept {
        const std::size_t s = thread_shard();
        cell(s < shards_ ? s : 0, slot).fetch_add(delta, std::memory_order_relaxed);
    }

    /// The value of slot: the sum over the shards.
    T sum(std::size_t slot) const noexcept {
        T total{};
        for (std::size_t s = 0; s < shards_; ++s)
            total += cell(s, slot).load(std::memory_order_relaxed);
        return total;
    }

    std::size_t size() const noexcept { return slots_; }

private:
    static constexpr std::size_t k_line = 64; // bytes: a shard's slots never share a line
    static constexpr std::size_t k_per_line = k_line / sizeof(T);
    struct alignas(k_line) line {
        std::atomic<T> v[k_per_line]{};
    };

    std::atomic<T>& cell(std::size_t shard, std::size_t slot) const noexcept {
        return lines_[shard * lines_per_shard_ + slot / k_per_line].v[slot % k_per_line];
    }

    std::size_t slots_;
    std::size_t shards_;
    std::size_t lines_per_shard_;
    std::unique_ptr<line[]> lines_;
};

} // namespace s3ha::metrics
