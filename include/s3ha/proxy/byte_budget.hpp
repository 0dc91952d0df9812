// A per-worker byte budget: what the in-flight requests of one worker may hold in memory
// together for one purpose. Two exist per worker (proxy_context): the replay buffers'
// (replay_budget, replay_buffer.hpp) and the aws-chunked chunks held until their signature is
// verified (server.max_aws_chunk_buffer_per_worker, aws_chunked_transform.hpp). A reservation
// that does not fit is refused, never granted in part; what is reserved is released by whoever
// reserved it (on success, error and destruction alike).
// Thread affinity: the worker thread (one budget per worker and purpose).
#pragma once

#include <cstdint>

namespace s3ha::proxy {

class byte_budget {
public:
    byte_budget() = default;
    explicit byte_budget(std::uint64_t limit) noexcept : limit_(limit) {}

    /// Reserves n bytes; false (nothing reserved) when the budget would be exceeded.
    bool try_reserve(std::uint64_t n) noexcept;
    /// Gives back n bytes reserved earlier.
    void release(std::uint64_t n) noexcept;
    /// A configuration reload: later reservations see the new limit; what is held stays held
    /// (and is released as usual), even when it is now above the limit.
    void set_limit(std::uint64_t limit) noexcept { limit_ = limit; }

    std::uint64_t held() const noexcept { return held_; }
    std::uint64_t limit() const noexcept { return limit_; }

private:
    std::uint64_t limit_ = 0;
    std::uint64_t held_ = 0;
};

} // namespace s3ha::proxy
