// The admin endpoint (admin.listen), minimal until the admin issue lands: GET/HEAD /health
// answers 200 "OK" while the proxy serves; every other path is 404. Runs on its own thread so
// a busy data path never delays a liveness probe.
#pragma once

#include "s3ha/config/config.hpp"
#include "s3ha/core/net.hpp"
#include "s3ha/upstream/pool.hpp"

#include <memory>
#include <thread>

namespace s3ha::admin {

class admin_listener {
public:
    /// Binds admin.listen at once (throws on failure: a start-up error). backends: the
    /// process-wide pool the backend endpoints report on and act upon (may be nullptr in tests).
    admin_listener(std::shared_ptr<const config> cfg, std::shared_ptr<upstream::pool> backends);
    ~admin_listener();
    admin_listener(const admin_listener&) = delete;
    admin_listener& operator=(const admin_listener&) = delete;

    void start();
    /// Closes the listener and joins the thread.
    void stop();
    net::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

private:
    net::awaitable<void> accept_loop();
    net::awaitable<void> serve(net::ip::tcp::socket socket);

    std::shared_ptr<const config> cfg_;
    std::shared_ptr<upstream::pool> backends_;
    net::io_context ioc_{1};
    net::ip::tcp::acceptor acceptor_;
    std::thread thread_;
};

} // namespace s3ha::admin
