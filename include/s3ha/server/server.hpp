// The proxy process: logging set-up, the shared immutable state (verifier, backends, TLS
// context), the process-wide backend pool and its health checker (on its own thread), N workers
// on one SO_REUSEPORT address, the admin listener, and signal handling. SIGINT/SIGTERM stop
// the listeners, let in-flight requests finish for up to shutdown.drain_timeout, then exit 0.
// SIGHUP reloads the configuration file (see reload()).
// Thread affinity: run() blocks the calling (main) thread; workers have their own threads.
#pragma once

#include "s3ha/config/config.hpp"

#include <memory>
#include <string>

namespace s3ha {

class server {
public:
    /// Throws on start-up errors (unreadable TLS files, address in use...). config_path: the
    /// file SIGHUP reloads (empty: SIGHUP only logs that there is nothing to reload).
    explicit server(std::shared_ptr<const config> cfg, std::string config_path = {});
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Serves until SIGINT/SIGTERM, drains, returns the process exit status (0). SIGHUP calls
    /// reload().
    int run();

    /// Reloads the configuration file. A valid one takes effect for requests that start after
    /// it (credentials, backends, routing, health checks, limits, log level and format, access
    /// log, admin token) without closing any connection; what needs a restart (listen
    /// addresses, worker count, downstream TLS files) keeps its old value, with a warning. An
    /// invalid file is rejected: its problems are logged and the running configuration stays.
    /// Returns true when the new configuration was applied. Call from the run() thread.
    bool reload();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace s3ha
