#include "s3ha/admin/admin_router.hpp"

#include <catch2/catch.hpp>

using namespace s3ha;
using namespace s3ha::admin;
using namespace std::chrono_literals;

namespace {

struct fixture {
    upstream::steady_time t{std::chrono::hours(1)};
    std::shared_ptr<upstream::pool> pool;
    std::shared_ptr<metrics::proxy_metrics> metrics;

    fixture() {
        std::vector<std::shared_ptr<const upstream::backend>> backends;
        for (unsigned i = 0; i < 2; ++i) {
            backend_config c;
            c.name = "b" + std::to_string(i);
            c.endpoint.host = "127.0.0.1";
            c.endpoint.port = static_cast<std::uint16_t>(9000 + i);
            c.priority = i + 1;
            c.health_check.rise = 1;
            c.health_check.fall = 1;
            backends.push_back(std::make_shared<const upstream::backend>(c, i));
        }
        pool = std::make_shared<upstream::pool>(backends, routing_config{}, nullptr, false, 1,
                                                [this] { return t; });
        metrics = std::make_shared<metrics::proxy_metrics>(
            std::vector<std::string>{"b0", "b1"}, metrics::build_identity{"0.1.0", "test"});
    }
};

http::request<http::string_body> req(http::verb v, std::string target,
                                     std::string_view bearer = {}) {
    http::request<http::string_body> r{v, target, 11};
    if (!bearer.empty()) r.set(http::field::authorization, "Bearer " + std::string(bearer));
    return r;
}

nlohmann::json body_json(const http::response<http::string_body>& res) {
    return nlohmann::json::parse(res.body());
}

} // namespace

TEST_CASE("admin: health endpoints and readiness", "[unit][admin]") {
    fixture f;
    admin_router r("", f.pool, f.metrics);
    CHECK(r.handle(req(http::verb::get, "/health")).result() == http::status::ok);
    CHECK(r.handle(req(http::verb::head, "/health/live")).result() == http::status::ok);
    CHECK(r.handle(req(http::verb::post, "/health/live")).result() ==
          http::status::method_not_allowed);
    // No backend checked yet: not ready.
    CHECK(r.handle(req(http::verb::get, "/health/ready")).result() ==
          http::status::service_unavailable);
    f.pool->record_check(1, true, 2ms, "status 200");
    CHECK(r.handle(req(http::verb::get, "/health/ready")).result() == http::status::ok);
    // Drained: not usable.
    REQUIRE(f.pool->set_drained("b1", true));
    CHECK(r.handle(req(http::verb::get, "/health/ready")).result() ==
          http::status::service_unavailable);
    REQUIRE(f.pool->set_drained("b1", false));
    f.pool->record_check(1, false, 2ms, "status 503");
    CHECK(r.handle(req(http::verb::get, "/health/ready")).result() ==
          http::status::service_unavailable);
    f.pool->record_check(0, true, 2ms, "status 200");
    CHECK(r.handle(req(http::verb::get, "/health/ready")).result() == http::status::ok);
    r.set_draining();
    auto res = r.handle(req(http::verb::get, "/health/ready"));
    CHECK(res.result() == http::status::service_unavailable);
    CHECK(res.body() == "not ready: draining\n");
}

TEST_CASE("admin: backends JSON, drain, enable, failback", "[unit][admin]") {
    fixture f;
    admin_router r("", f.pool, f.metrics);
    f.pool->record_check(0, true, 7ms, "status 200");
    f.t += 5s;
    f.pool->report_failure(*f.pool->backends()[1], upstream::failure_kind::timeout);
    f.t += 2s;

    auto res = r.handle(req(http::verb::get, "/admin/backends"));
    REQUIRE(res.result() == http::status::ok);
    CHECK(res[http::field::content_type] == "application/json");
    auto j = body_json(res);
    REQUIRE(j["backends"].size() == 2);
    const auto& b0 = j["backends"][0];
    CHECK(b0["name"] == "b0");
    CHECK(b0["endpoint"] == "http://127.0.0.1:9000");
    CHECK(b0["state"] == "up");
    CHECK(b0["up"] == true);
    CHECK(b0["active"] == false); // no request selected it yet
    CHECK(b0["since_seconds"] == Approx(7.0));
    CHECK(b0["last_check"]["ok"] == true);
    CHECK(b0["last_check"]["latency_ms"] == 7);
    CHECK(b0["last_check"]["detail"] == "status 200");
    CHECK(b0["drained"] == false);
    CHECK(b0["in_flight"] == 0);
    const auto& b1 = j["backends"][1];
    CHECK(b1["state"] == "down");
    CHECK(b1["last_check"].is_null());
    CHECK(b1["consecutive_failures"] == 1);
    CHECK(b1["failures"]["timeout"] == 1);
    CHECK(b1["since_seconds"] == Approx(2.0));
    CHECK(b1["since"].get<std::string>().ends_with("Z"));

    res = r.handle(req(http::verb::post, "/admin/backends/b0/drain"));
    REQUIRE(res.result() == http::status::ok);
    CHECK(body_json(res) == nlohmann::json{{"backend", "b0"}, {"drained", true}});
    CHECK(f.pool->state(0).drained());
    CHECK(f.pool->select(0, {}) == nullptr); // b0 drained, b1 down
    res = r.handle(req(http::verb::post, "/admin/backends/b0/enable"));
    REQUIRE(res.result() == http::status::ok);
    CHECK_FALSE(f.pool->state(0).drained());
    CHECK(f.pool->select(0, {}) == f.pool->backends()[0].get());

    CHECK(r.handle(req(http::verb::post, "/admin/backends/nope/drain")).result() ==
          http::status::not_found);
    CHECK(r.handle(req(http::verb::get, "/admin/backends/b0/drain")).result() ==
          http::status::method_not_allowed);
    CHECK(r.handle(req(http::verb::get, "/admin/backends/b0/drain"))[http::field::allow] == "POST");
    CHECK(r.handle(req(http::verb::post, "/admin/backends/b0/explode")).result() ==
          http::status::not_found);
    CHECK(r.handle(req(http::verb::post, "/admin/backends")).result() ==
          http::status::method_not_allowed);
    CHECK(r.handle(req(http::verb::post, "/admin/failback")).result() == http::status::ok);
    CHECK(r.handle(req(http::verb::get, "/admin/failback")).result() ==
          http::status::method_not_allowed);
    CHECK(r.handle(req(http::verb::get, "/nothing")).result() == http::status::not_found);
}

TEST_CASE("admin: /metrics in text format 0.0.4 with the pool state", "[unit][admin]") {
    fixture f;
    admin_router r("", f.pool, f.metrics);
    f.pool->record_check(0, true, 1ms, "status 200");
    auto res = r.handle(req(http::verb::get, "/metrics?x=1"));
    REQUIRE(res.result() == http::status::ok);
    CHECK(res[http::field::content_type] == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(res.body().find("s3ha_backend_up{backend=\"b0\"} 1\n") != std::string::npos);
    CHECK(res.body().find("s3ha_backend_up{backend=\"b1\"} 0\n") != std::string::npos);
}

TEST_CASE("admin: bearer token on everything but the health endpoints", "[unit][admin]") {
    fixture f;
    admin_router r("s3cr3t-token", f.pool, f.metrics);
    for (const auto* path : {"/metrics", "/admin/backends", "/nothing"}) {
        INFO(path);
        auto res = r.handle(req(http::verb::get, path));
        CHECK(res.result() == http::status::unauthorized);
        CHECK(res[http::field::www_authenticate] == R"(Bearer realm="s3ha-admin")");
        CHECK(r.handle(req(http::verb::get, path, "wrong")).result() == http::status::unauthorized);
        CHECK(r.handle(req(http::verb::get, path, "s3cr3t-token-longer")).result() ==
              http::status::unauthorized);
    }
    CHECK(r.handle(req(http::verb::post, "/admin/backends/b0/drain", "s3cr3t")).result() ==
          http::status::unauthorized);
    CHECK_FALSE(f.pool->state(0).drained());
    CHECK(r.handle(req(http::verb::get, "/metrics", "s3cr3t-token")).result() == http::status::ok);
    CHECK(r.handle(req(http::verb::get, "/admin/backends", "s3cr3t-token")).result() ==
          http::status::ok);
    CHECK(r.handle(req(http::verb::post, "/admin/backends/b0/drain", "s3cr3t-token")).result() ==
          http::status::ok);
    CHECK(f.pool->state(0).drained());
    // Health endpoints stay open (probes carry no token).
    CHECK(r.handle(req(http::verb::get, "/health")).result() == http::status::ok);
    CHECK(r.handle(req(http::verb::get, "/health/live")).result() == http::status::ok);
    CHECK(r.handle(req(http::verb::get, "/health/ready")).result() ==
          http::status::service_unavailable);
    // The scheme is case-insensitive (RFC 9110 §11.1).
    auto lower = req(http::verb::get, "/metrics");
    lower.set(http::field::authorization, "bearer s3cr3t-token");
    CHECK(r.handle(lower).result() == http::status::ok);
}

TEST_CASE("admin: rfc3339", "[unit][admin]") {
    CHECK(rfc3339(std::chrono::system_clock::time_point(1'700'000'000'123ms)) ==
          "2023-11-14T22:13:20.123Z");
}

TEST_CASE("admin: a name that is not UTF-8 gets the usual 404 JSON, never a throw",
          "[unit][admin]") {
    fixture f;
    admin_router r("", f.pool, f.metrics);
    for (const std::string name : {"\xff", "%FF", "b0\xc3", "\xed\xa0\x80"}) {
        INFO(name);
        for (const auto* action : {"drain", "enable"}) {
            std::string failure;
            http::response<http::string_body> res;
            REQUIRE_NOTHROW(
                res = r.handle(req(http::verb::post, "/admin/backends/" + name + "/" + action),
                               &failure));
            CHECK(failure.empty());
            CHECK(res.result() == http::status::not_found);
            CHECK(res[http::field::content_type] == "application/json");
            auto j = body_json(res); // valid JSON (and UTF-8: parse() checks it)
            const auto error = j["error"].get<std::string>();
            CHECK(error.starts_with("no backend named "));
            if (name != "%FF") CHECK(error.find("\xef\xbf\xbd") != std::string::npos); // U+FFFD
        }
    }
    CHECK_FALSE(f.pool->state(0).drained());
    CHECK_FALSE(f.pool->state(1).drained());
    // A health check detail that is not UTF-8 (it can quote a backend) does not break the list.
    f.pool->record_check(0, false, 3ms, "status 503: \xfe\xff");
    auto res = r.handle(req(http::verb::get, "/admin/backends"));
    REQUIRE(res.result() == http::status::ok);
    CHECK(body_json(res)["backends"][0]["last_check"]["detail"] ==
          "status 503: \xef\xbf\xbd\xef\xbf\xbd");
}

TEST_CASE("admin: an exception while answering becomes 500 {\"error\": \"internal error\"}",
          "[unit][admin]") {
    const auto get = req(http::verb::get, "/admin/backends");
    std::string failure;
    auto res = answer_or_internal_error(
        get, []() -> http::response<http::string_body> { throw std::runtime_error("boom"); },
        &failure);
    CHECK(res.result() == http::status::internal_server_error);
    CHECK(res[http::field::content_type] == "application/json");
    CHECK(body_json(res) == nlohmann::json{{"error", "internal error"}});
    CHECK(failure == "boom");
    CHECK(res.keep_alive());

    failure.clear();
    res = answer_or_internal_error(
        get, []() -> http::response<http::string_body> { throw 42; }, &failure);
    CHECK(res.result() == http::status::internal_server_error);
    CHECK(failure == "unknown exception");

    // nlohmann's own type_error 316, as invalid UTF-8 made dump() throw before.
    failure.clear();
    res = answer_or_internal_error(
        get,
        []() -> http::response<http::string_body> {
            http::response<http::string_body> r{http::status::ok, 11};
            r.body() = nlohmann::json{{"x", "\xff"}}.dump();
            return r;
        },
        &failure);
    CHECK(res.result() == http::status::internal_server_error);
    CHECK(failure.find("316") != std::string::npos);
    // What the admin writes instead: replaced, never thrown.
    CHECK(admin_json_text(nlohmann::json{{"x", "\xff"}}) == "{\n  \"x\": \"\xef\xbf\xbd\"\n}\n");
}
