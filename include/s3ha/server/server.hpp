// The proxy process: logging set-up, the shared immutable state (verifier, backends, TLS
// context), the process-wide backend pool and its health checker (on its own thread), N workers
// on one SO_REUSEPORT address, the admin listener, and signal handling. SIGINT/SIGTERM stop
// the listeners, let in-flight requests finish for up to shutdown.drain_timeout, then exit 0.
// Thread affinity: run() blocks the calling (main) thread; workers have their own threads.
#pragma once

#include "s3ha/config/config.hpp"
#include "s3ha/upstream/pool.hpp"

#include <memory>

namespace s3ha {

class server {
public:
    /// Throws on start-up errors (unreadable TLS files, address in use...).
    explicit server(std::shared_ptr<const config> cfg);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Serves until SIGINT/SIGTERM, drains, returns the process exit status (0).
    int run();

    /// The process-wide backend pool every worker selects from (thread-safe).
    const std::shared_ptr<upstream::pool>& pool() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace s3ha
