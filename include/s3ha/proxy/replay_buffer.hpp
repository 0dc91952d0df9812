// A copy of a request body as it was received from the client (raw bytes, aws-chunked framing
// included), so that a failed attempt can be replayed on another backend: the replayed bytes go
// through a fresh body_transform, which verifies them again.
//
// Memory is bounded twice (README.md, "Failover guarantees"):
//  - per request by routing.retries.replay_buffer_size (0 = never keep a body);
//  - per worker by a replay_budget: the bodies held by the in-flight requests of one worker
//    total at most replay_buffer_size * k_budget_factor bytes.
// A body whose Content-Length is known is admitted (its whole length reserved) before its first
// byte or not at all; a body of unknown length (HTTP chunked) reserves as it grows. A body that
// does not fit is streamed without a copy: the buffer gives up, frees what it held, and the
// request can no longer be retried once its first byte was consumed.
// Thread affinity: the worker thread (one budget per worker, one buffer per request).
#pragma once

#include "s3ha/proxy/byte_budget.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace s3ha::proxy {

/// The per-worker byte budget that replay buffers reserve from.
class replay_budget : public byte_budget {
public:
    /// The budget of a worker: in-flight requests may hold this many times replay_buffer_size.
    static constexpr std::uint64_t k_budget_factor = 4;

    using byte_budget::byte_budget;
};

class replay_buffer {
public:
    /// A buffer that keeps nothing: intact() only while nothing was appended.
    replay_buffer() = default;
    /// max_size: routing.retries.replay_buffer_size; expected_size: the body length when known
    /// (Content-Length), nullopt for a body of unknown length.
    replay_buffer(replay_budget& budget, std::uint64_t max_size,
                  std::optional<std::uint64_t> expected_size);
    ~replay_buffer();
    replay_buffer(const replay_buffer&) = delete;
    replay_buffer& operator=(const replay_buffer&) = delete;
    replay_buffer(replay_buffer&& o) noexcept;
    replay_buffer& operator=(replay_buffer&& o) noexcept;

    /// Records the next bytes of the body: copied while the buffer still keeps the body, else
    /// only counted. Exceeding max_size or the budget makes the buffer give up for good.
    void append(std::string_view bytes);

    /// True while every byte appended so far is held (the body can be replayed).
    bool intact() const noexcept { return data_.size() == appended_; }
    /// The bytes held (the whole body received so far when intact()).
    std::string_view data() const noexcept { return data_; }
    /// Bytes appended so far (held or not).
    std::uint64_t appended() const noexcept { return appended_; }

private:
    void give_up() noexcept;

    replay_budget* budget_ = nullptr;
    std::uint64_t max_size_ = 0;
    std::uint64_t reserved_ = 0;
    std::uint64_t appended_ = 0;
    bool keeping_ = false;
    std::string data_;
};

} // namespace s3ha::proxy
