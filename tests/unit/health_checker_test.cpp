// The health checker against a tiny Beast HTTP server on 127.0.0.1:0 inside the test. It
// answers 200, 503 or 403 on demand, or reads the request and never answers: faults a real
// MinIO cannot produce on demand (it has no switch to turn its health endpoint 503, and
// "accepts but hangs" needs a stopped process), so they are simulated here.
#include "s3ha/upstream/health_checker.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

using namespace s3ha;
using namespace s3ha::upstream;
using namespace std::chrono_literals;

namespace {

struct fake_backend {
    explicit fake_backend(net::io_context& ioc)
        : acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0}) {
        net::co_spawn(ioc, accept_loop(), net::detached);
    }

    awaitable<void> accept_loop() {
        for (;;) {
            error_code ec;
            auto sock = co_await acceptor.async_accept(net::redirect_error(use_awaitable, ec));
            if (ec) co_return;
            net::co_spawn(acceptor.get_executor(), serve(std::move(sock)), net::detached);
        }
    }

    awaitable<void> serve(tcp_socket sock) {
        error_code ec;
        beast::flat_buffer buf;
        http::request<http::string_body> req;
        co_await http::async_read(sock, buf, req, net::redirect_error(use_awaitable, ec));
        if (ec) co_return;
        ++requests;
        last_method = std::string(req.method_string());
        last_target = std::string(req.target());
        last_authorization = std::string(req[http::field::authorization]);
        if (hang) {
            held.push_back(std::move(sock)); // never answers, never closes
            co_return;
        }
        http::response<http::string_body> res{static_cast<http::status>(status), 11};
        if (status != 204 && req.method() != http::verb::head) res.body() = "<health/>";
        res.prepare_payload();
        co_await http::async_write(sock, res, net::redirect_error(use_awaitable, ec));
    }

    std::uint16_t port() const { return acceptor.local_endpoint().port(); }
    void close() {
        error_code ec;
        acceptor.close(ec);
        held.clear();
    }

    tcp_acceptor acceptor;
    unsigned status = 200;
    bool hang = false;
    int requests = 0;
    std::string last_method, last_target, last_authorization;
    std::vector<tcp_socket> held;
};

std::shared_ptr<const backend> make_backend(std::uint16_t port, health_check_config hc) {
    backend_config c;
    c.name = "minio1";
    c.endpoint.host = "127.0.0.1";
    c.endpoint.port = port;
    c.access_key = "AKIDEXAMPLE";
    c.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    c.health_check = std::move(hc);
    return std::make_shared<const backend>(c, 0);
}

check_result check_once(net::io_context& ioc, const backend& b) {
    std::optional<check_result> out;
    net::co_spawn(
        ioc, [&]() -> awaitable<void> { out = co_await run_health_check(ioc.get_executor(), b); },
        net::detached);
    while (!out && ioc.run_one_for(5s) > 0) {
    }
    REQUIRE(out);
    return *out;
}

} // namespace

TEST_CASE("health check http: status in expected_statuses is healthy", "[unit][pool]") {
    net::io_context ioc;
    fake_backend server(ioc);
    health_check_config hc; // GET /minio/health/cluster, expects 200
    auto b = make_backend(server.port(), hc);

    auto r = check_once(ioc, *b);
    CHECK(r.ok);
    CHECK(r.detail == "status 200");
    CHECK(server.last_method == "GET");
    CHECK(server.last_target == "/minio/health/cluster");
    CHECK(server.last_authorization.empty());

    server.status = 503;
    r = check_once(ioc, *b);
    CHECK_FALSE(r.ok);
    CHECK(r.detail == "status 503");

    hc.method = "HEAD";
    hc.path = "/minio/health/live";
    hc.expected_statuses = {200, 204};
    server.status = 204;
    auto head = make_backend(server.port(), hc);
    r = check_once(ioc, *head);
    CHECK(r.ok);
    CHECK(server.last_method == "HEAD");
    CHECK(server.last_target == "/minio/health/live");
    server.close();
}

TEST_CASE("health check s3: signed HEAD bucket or ListBuckets, any 2xx", "[unit][pool]") {
    net::io_context ioc;
    fake_backend server(ioc);
    health_check_config hc;
    hc.type = health_check_type::s3;
    hc.bucket = "probe-bucket";
    auto b = make_backend(server.port(), hc);

    auto r = check_once(ioc, *b);
    CHECK(r.ok);
    CHECK(server.last_method == "HEAD");
    CHECK(server.last_target == "/probe-bucket");
    CHECK(server.last_authorization.rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 0) == 0);

    server.status = 403; // wrong credentials or clock skew: not healthy
    CHECK_FALSE(check_once(ioc, *b).ok);

    hc.bucket.clear();
    auto list = make_backend(server.port(), hc);
    server.status = 200;
    r = check_once(ioc, *list);
    CHECK(r.ok);
    CHECK(server.last_method == "GET");
    CHECK(server.last_target == "/");
    server.close();
}

TEST_CASE("health check: a backend that hangs or refuses is unhealthy", "[unit][pool]") {
    net::io_context ioc;
    fake_backend server(ioc);
    health_check_config hc;
    hc.timeout = 200ms;
    auto b = make_backend(server.port(), hc);
    server.hang = true;
    auto r = check_once(ioc, *b);
    CHECK_FALSE(r.ok);
    CHECK(r.detail == "timeout");
    CHECK(r.latency >= 150ms);
    CHECK(server.requests == 1);

    const auto port = server.port();
    server.close(); // nothing listens on the port any more
    auto refused = make_backend(port, hc);
    r = check_once(ioc, *refused);
    CHECK_FALSE(r.ok);
}

TEST_CASE("health_checker: loops take a backend up and down, and stop", "[unit][pool]") {
    net::io_context ioc;
    fake_backend server(ioc);
    health_check_config hc;
    hc.interval = 20ms;
    hc.jitter = 5ms;
    hc.timeout = 500ms;
    hc.max_backoff = 40ms;
    hc.rise = 2;
    hc.fall = 2;
    auto p = std::make_shared<pool>(std::vector{make_backend(server.port(), hc)}, routing_config{},
                                    nullptr, false, 1);
    health_checker checker(ioc.get_executor(), p, 1);
    checker.start();

    auto run_until = [&](auto pred) {
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (!pred() && std::chrono::steady_clock::now() < deadline)
            ioc.run_one_for(50ms);
        return pred();
    };
    CHECK(run_until([&] { return p->state(0).up(); }));
    CHECK(p->select(0, {}) != nullptr);

    server.status = 503;
    CHECK(run_until([&] { return p->state(0).checked() && !p->state(0).up(); }));
    CHECK(p->select(0, {}) == nullptr);
    CHECK(p->snapshot()[0].state.last_check_detail == "status 503");

    server.status = 200;
    CHECK(run_until([&] { return p->state(0).up(); }));

    checker.stop();
    server.close();
    ioc.run_for(2s); // everything ends: run() returns once no work is left
    CHECK(ioc.stopped());
}
