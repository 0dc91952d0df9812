// One shared-nothing worker: its own io_context and thread, its own listener (SO_REUSEPORT on
// the common address), signing-key cache, upstream connection pool (the backend pool
// with its health state is process-wide and shared).
// Thread affinity: constructed and bound on the main thread; after start() everything but
// stop()/force_stop()/join() runs on the worker's own thread.
#pragma once

#include "s3ha/http/listener.hpp"
#include "s3ha/proxy/proxy_context.hpp"
#include "s3ha/upstream/backend.hpp"

#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace s3ha {

class worker {
public:
    struct shared {
        std::shared_ptr<const config> cfg;
        std::shared_ptr<const sigv4::verifier> verifier;
        std::vector<std::shared_ptr<const upstream::backend>> backends;
        std::shared_ptr<upstream::pool> backend_pool; ///< process-wide, thread-safe
        std::string via_pseudonym;
        std::uint32_t request_id_prefix = 0;
        std::shared_ptr<spdlog::logger> log;
        std::shared_ptr<spdlog::logger> access_log;
        net::ssl::context* server_tls = nullptr;
        std::atomic<std::uint64_t>* connections = nullptr;
        metrics::proxy_metrics* metrics = nullptr; ///< process-wide, outlives the workers
    };

    worker(unsigned id, const shared& s);
    ~worker();
    worker(const worker&) = delete;
    worker& operator=(const worker&) = delete;

    /// Opens this worker's listening socket on ep (SO_REUSEPORT, so every worker binds the same
    /// address; the kernel spreads connections). Returns the bound endpoint (port 0 resolved).
    /// Throws boost::system::system_error on failure (a start-up error).
    net::ip::tcp::endpoint bind(const net::ip::tcp::endpoint& ep);
    /// Starts the thread (accept loop and sessions). `done` is called on that thread when its
    /// io_context has run out of work (after stop() and the drain).
    void start(std::function<void()> done);
    /// Drain: stop accepting, close idle keep-alive connections and pooled upstream ones, let
    /// in-flight requests finish. Thread-safe (posted to the worker).
    void stop();
    /// A configuration reload: requests that start after it use s's configuration, verifier,
    /// backend pool, metrics and access log; the idle upstream connections are closed (they
    /// belong to the old backend list). Requests in flight finish with what they started with
    /// (the server keeps every generation alive). Thread-safe (posted to the worker).
    void reload(const shared& s);
    /// Ends everything at once (drain timeout). Thread-safe.
    void force_stop();
    void join();

private:
    /// One thread runs it; every socket of the worker is used only on that thread, so the
    /// reactor's per-socket locks are off (UNSAFE_IO). Posting to it from another thread (stop,
    /// reload) stays safe: the scheduler's own lock is kept.
    net::io_context ioc_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    proxy::proxy_context ctx_;
    std::optional<listener> listener_;
    net::ssl::context* server_tls_;
    std::atomic<std::uint64_t>& connections_;
    std::thread thread_;
};

} // namespace s3ha
