#include "s3ha/server/worker.hpp"

#include "s3ha/core/log_scope.hpp"
#include "s3ha/metrics/sharded.hpp"

#include <exception>

namespace s3ha {

worker::worker(unsigned id, const shared& s)
    : ctx_{s.cfg,
           s.verifier,
           sigv4::signing_key_cache{},
           upstream::connection_pool(ioc_.get_executor(), s.cfg->routing.upstream_pool,
                                     s.backends.size()),
           s.backend_pool,
           s.via_pseudonym,
           s.log,
           s.access_log,
           id,
           s.request_id_prefix,
           0,
           0,
           false,
           {},
           proxy::replay_budget(s.cfg->routing.retries.replay_buffer_size *
                                proxy::replay_budget::k_budget_factor)},
      server_tls_(s.server_tls), connections_(*s.connections) {
    ctx_.metrics = s.metrics;
    ctx_.chunk_buffer_budget.set_limit(s.cfg->server.max_aws_chunk_buffer_per_worker);
    ctx_.pool.set_metrics(s.metrics);
}

worker::~worker() {
    force_stop();
    join();
}

net::ip::tcp::endpoint worker::bind(const net::ip::tcp::endpoint& ep) {
    tcp_acceptor acceptor(ioc_);
    acceptor.open(ep.protocol());
    acceptor.set_option(net::socket_base::reuse_address(true));
    int one = 1;
    if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
        throw boost::system::system_error(error_code(errno, boost::system::system_category()),
                                          "SO_REUSEPORT");
    }
    acceptor.bind(ep);
    acceptor.listen(net::socket_base::max_listen_connections);
    auto bound = acceptor.local_endpoint();
    listener_.emplace(ctx_, std::move(acceptor), server_tls_, connections_);
    return bound;
}

void worker::start(std::function<void()> done) {
    net::co_spawn(ioc_, listener_->run(), [this](const std::exception_ptr& e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            log_scope(ctx_.log.get(), ctx_.cfg->logging.format == log_format::json, "-", {})
                .error("accept loop ended by an exception: {}", x.what());
        }
    });
    thread_ = std::thread([this, done = std::move(done)] {
        metrics::set_thread_shard(ctx_.worker_id + 1); // shard 0: every other thread
        ioc_.run();
        if (done) done();
    });
}

void worker::stop() {
    net::post(ioc_, [this] {
        ctx_.stopping = true;
        if (listener_) listener_->stop();
        for (auto& [key, entry] : ctx_.sessions) {
            if (entry.idle && entry.stream != nullptr) entry.stream->close();
        }
        ctx_.pool.clear();
    });
}

void worker::reload(const shared& s) {
    net::post(ioc_, [this, s] {
        ctx_.cfg = s.cfg;
        ctx_.verifier = s.verifier;
        ctx_.backend_pool = s.backend_pool;
        ctx_.metrics = s.metrics;
        ctx_.access_log = s.access_log;
        // Chunks held now stay counted; new ones see the new limit.
        ctx_.chunk_buffer_budget.set_limit(s.cfg->server.max_aws_chunk_buffer_per_worker);
        ctx_.pool.reset(s.cfg->routing.upstream_pool, s.backends.size(), s.metrics);
    });
}

void worker::force_stop() {
    ioc_.stop();
}

void worker::join() {
    if (thread_.joinable()) thread_.join();
}

} // namespace s3ha
