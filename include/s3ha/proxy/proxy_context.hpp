// The per-worker state every session and forwarder of that worker shares (shared-nothing: no
// field is touched by another thread, except the process-wide connection counter and the
// process-wide backend pool, which is thread-safe).
#pragma once

#include "s3ha/config/config.hpp"
#include "s3ha/core/any_stream.hpp"
#include "s3ha/proxy/byte_budget.hpp"
#include "s3ha/proxy/replay_buffer.hpp"
#include "s3ha/sigv4/signing_key_cache.hpp"
#include "s3ha/sigv4/verifier.hpp"
#include "s3ha/upstream/connection_pool.hpp"
#include "s3ha/upstream/pool.hpp"

#include <spdlog/logger.h>

namespace s3ha::metrics {
class proxy_metrics;
}

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

namespace s3ha::proxy {

/// A request id: the process prefix (8 upper-case hex digits), the worker (2) and the worker's
/// request counter (6, more once it passes 2^24), as fmt's "{:08X}{:02X}{:06X}" would write it.
std::string format_request_id(std::uint32_t prefix, unsigned worker, std::uint64_t counter);

struct proxy_context {
    std::shared_ptr<const config> cfg;
    std::shared_ptr<const sigv4::verifier> verifier; ///< immutable, shared by all workers
    sigv4::signing_key_cache keys;                   ///< this worker's
    upstream::connection_pool pool;                  ///< this worker's
    /// The process-wide backend pool (health, selection policy); shared by all workers.
    std::shared_ptr<upstream::pool> backend_pool;
    std::string via_pseudonym; ///< "s3ha-<id>", the same in every worker of the process
    std::shared_ptr<spdlog::logger> log;
    std::shared_ptr<spdlog::logger> access_log; ///< nullptr when logging.access_log is off
    unsigned worker_id = 0;
    std::uint32_t request_id_prefix = 0; ///< random per process
    std::uint64_t next_request = 0;
    std::uint64_t next_connection = 0;
    bool stopping = false; ///< draining: finish in-flight requests, keep no connection alive

    /// The open downstream connections, so a drain can close the idle ones at once.
    struct session_entry {
        any_stream* stream = nullptr;
        bool idle = false; ///< waiting for the next request (nothing in flight)
    };
    std::unordered_map<std::uint64_t, session_entry> sessions;
    /// What the replay buffers of this worker's in-flight requests may hold together
    /// (replay_buffer_size * replay_budget::k_budget_factor).
    replay_budget body_replay_budget;
    metrics::proxy_metrics* metrics = nullptr; ///< process-wide; nullptr in tests
    /// What the signed aws-chunked chunks this worker's in-flight requests hold until verified
    /// may total (server.max_aws_chunk_buffer_per_worker; aws_chunked_transform reserves).
    byte_budget chunk_buffer_budget;

    /// A new request id: 16 upper-case hex digits, unique per process run.
    std::string new_request_id();
    /// A new connection id for log lines, e.g. "w0c17".
    std::string new_connection_id();
};

} // namespace s3ha::proxy
