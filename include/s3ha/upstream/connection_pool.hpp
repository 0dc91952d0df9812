// Per-worker keep-alive pool of upstream connections, one idle list per backend, bounded by
// routing.upstream_pool.max_idle_per_backend and aged out after upstream_pool.idle_timeout.
// Thread affinity: one pool per worker; every call on the worker's thread (shared-nothing, as
// nghttpx's per-worker connection pools).
#pragma once

#include "s3ha/config/config.hpp"
#include "s3ha/core/any_stream.hpp"
#include "s3ha/core/result.hpp"
#include "s3ha/upstream/backend.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

namespace s3ha::metrics {
class proxy_metrics;
}

namespace s3ha::upstream {

/// One connection to a backend, connected and (https) TLS-handshaken.
class connection {
public:
    connection(any_stream stream, const backend& target)
        : stream_(std::move(stream)), target_(&target) {
        // Room for a response header and a small object in one receive (Beast reads
        // max(512, free room) per call); larger bodies are received into the relay buffer.
        buffer_.reserve(k_buffer_size);
    }
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection(); // counts the close in s3ha_upstream_connections
    static constexpr std::size_t k_buffer_size = std::size_t{16} * 1024;

    any_stream& stream() noexcept { return stream_; }
    /// Read buffer of the upstream response parser (belongs to the connection: bytes the
    /// backend sent ahead stay with it).
    beast::flat_buffer& buffer() noexcept { return buffer_; }
    const backend& target() const noexcept { return *target_; }
    /// True when it came from the idle list (it may have been closed by the backend since).
    bool reused() const noexcept { return reused_; }

private:
    friend class connection_pool;
    any_stream stream_;
    const backend* target_;
    beast::flat_buffer buffer_;
    bool reused_ = false;
    std::chrono::steady_clock::time_point idle_since_{};
    metrics::proxy_metrics* metrics_ = nullptr; // set by the pool that opened it
    bool idle_ = false;                         // in the pool's idle list
    std::uint64_t generation_ = 0;              // the pool's generation when it was opened
};

class connection_pool {
public:
    connection_pool(executor ex, upstream_pool_config cfg, std::size_t backend_count);

    /// An idle connection to b, else a new one (resolve, connect and TLS handshake within
    /// connect_timeout). fresh_only skips the idle list (the retry after a pooled connection
    /// turned out dead). probe: an idle connection is taken only if a non-blocking MSG_PEEK
    /// shows the backend has not closed it; worth its system call only when a dead connection
    /// would cost more than a retry (a request body that may not be replayable). Without it,
    /// the caller retries a request that fails on a reused() connection. Errors: upstream_timeout
    /// (deadline), upstream_connect_failed, upstream_certificate_verify_failed, upstream_tls_failed
    /// (see upstream::connect).
    awaitable<result<std::unique_ptr<connection>>>
    acquire(const backend& b, std::chrono::milliseconds connect_timeout, bool fresh_only = false,
            bool probe = true);

    /// Returns a connection whose last exchange completed cleanly (request and response fully
    /// transferred, both sides keep-alive). Closed when the idle list is full.
    void release(std::unique_ptr<connection> c);

    std::size_t idle_count(const backend& b) const noexcept;
    /// Counts idle/busy connections in m (s3ha_upstream_connections); call before use.
    void set_metrics(metrics::proxy_metrics* m) noexcept { metrics_ = m; }
    /// Closes every idle connection (shutdown).
    void clear() noexcept;
    /// A configuration reload: closes every idle connection and starts over with a new backend
    /// list (backend_count), settings and metrics. Connections still in use were opened for the
    /// old backends: release() closes them instead of pooling them.
    void reset(upstream_pool_config cfg, std::size_t backend_count,
               metrics::proxy_metrics* m) noexcept;

private:
    executor ex_;
    upstream_pool_config cfg_;
    std::vector<std::deque<std::unique_ptr<connection>>> idle_;
    metrics::proxy_metrics* metrics_ = nullptr;
    std::uint64_t generation_ = 0; // bumped by reset()
};

} // namespace s3ha::upstream
