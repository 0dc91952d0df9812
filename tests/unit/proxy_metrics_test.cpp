#include "s3ha/core/errc.hpp"
#include "s3ha/metrics/histogram_set.hpp"
#include "s3ha/metrics/proxy_metrics.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

using namespace s3ha;
using namespace s3ha::metrics;
using namespace std::chrono_literals;

namespace {

// "name{labels} value" lines of the exposition text, keyed by everything before the value.
std::map<std::string, double> samples(const std::string& text) {
    std::map<std::string, double> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        const auto sp = line.rfind(' ');
        out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
    }
    return out;
}

std::vector<upstream::backend_snapshot> two_backends() {
    std::vector<upstream::backend_snapshot> s(2);
    s[0].name = "primary";
    s[0].state.checked = true;
    s[0].state.up = false;
    s[0].state.consecutive_failures = 3;
    s[0].state.failures[static_cast<std::size_t>(upstream::failure_kind::connect_failed)] = 2;
    s[1].name = "secondary";
    s[1].state.checked = true;
    s[1].state.up = true;
    s[1].active = true;
    s[1].state.in_flight = 4;
    return s;
}

std::string scrape(const proxy_metrics& m, std::span<const upstream::backend_snapshot> b,
                   bool draining = false) {
    scrape_state st;
    st.backends = b;
    st.steady_now = upstream::steady_time(100s);
    st.wall_now = std::chrono::system_clock::time_point(1'000'000s);
    st.draining = draining;
    return m.serialize(st);
}

} // namespace

TEST_CASE("histogram_set: le buckets, cumulative reading, sum", "[unit][metrics]") {
    histogram_set h({0.1, 1, 10}, 2);
    h.observe(0, 0.1); // on the bound: le 0.1
    h.observe(0, 0.5);
    h.observe(0, 100); // +Inf only
    h.observe(1, 2);
    const auto r = h.read(0);
    CHECK(r.cumulative == std::vector<std::uint64_t>{1, 2, 2, 3});
    CHECK(r.count == 3);
    CHECK(r.sum == Approx(100.6));
    CHECK(h.read(1).cumulative == std::vector<std::uint64_t>{0, 0, 1, 1});
    CHECK_THROWS(histogram_set({1, 1}, 1));
}

TEST_CASE("metrics: status classes and rejection reasons are bounded", "[unit][metrics]") {
    CHECK(status_class(200) == "2xx");
    CHECK(status_class(304) == "3xx");
    CHECK(status_class(404) == "4xx");
    CHECK(status_class(503) == "5xx");
    CHECK(status_class(0) == "none");
    CHECK(status_class(100) == "none");
    CHECK(rejection_reason(make_error_code(errc::signature_does_not_match)) == "auth");
    CHECK(rejection_reason(make_error_code(errc::no_healthy_backend)) == "no_healthy_backend");
    CHECK(rejection_reason(make_error_code(errc::too_many_connections)) == "limit");
    CHECK(rejection_reason(make_error_code(errc::bad_digest)) == "body");
    CHECK(rejection_reason(make_error_code(boost::system::errc::io_error)) == "internal");
    CHECK(retry_reason_of("connect_failed") == retry_reason::connect_failed);
    CHECK(retry_reason_of("timeout") == retry_reason::timeout);
    CHECK(retry_reason_of("reset") == retry_reason::reset);
    CHECK(retry_reason_of("status_502") == retry_reason::retry_status);
    CHECK(retry_reason_of("not_found") == retry_reason::not_found);
    CHECK(retry_reason_of("something new") == retry_reason::other);
}

TEST_CASE("metrics: names follow the Prometheus conventions", "[unit][metrics]") {
    proxy_metrics m({"primary", "secondary"}, {"0.1.0", "abc123"});
    m.request_finished({0, s3_operation::get_object, 200, 10ms, 0, 5});
    m.health_check(0, true, 3ms);
    const auto b = two_backends();
    const auto text = scrape(m, b);
    const std::regex type_line(R"(# TYPE (\S+) (counter|gauge|histogram))");
    std::istringstream in(text);
    std::map<std::string, std::string> types;
    for (std::string line; std::getline(in, line);) {
        std::smatch mm;
        if (std::regex_match(line, mm, type_line)) types[mm[1]] = mm[2];
    }
    REQUIRE(types.size() >= 25);
    for (const auto& [name, type] : types) {
        INFO(name);
        CHECK(std::regex_match(name, std::regex("s3ha_[a-z0-9_]+")));
        CHECK(text.find("# HELP " + name + " ") != std::string::npos);
        const bool total = name.ends_with("_total");
        CHECK(total == (type == "counter"));
        if (type == "histogram") CHECK(name.ends_with("_seconds"));
    }
    CHECK(types["s3ha_requests_total"] == "counter");
    CHECK(types["s3ha_backend_up"] == "gauge");
    CHECK(types["s3ha_request_duration_seconds"] == "histogram");
}

TEST_CASE("metrics: a controlled sequence gives exact values", "[unit][metrics]") {
    proxy_metrics m({"primary", "secondary"}, {"0.1.0", "abc123"});
    {
        const proxy_metrics::in_flight g(&m);
        CHECK(samples(scrape(m, {}))["s3ha_requests_in_flight"] == 1);
    }
    m.request_finished({0, s3_operation::put_object, 200, 20ms, 1000, 0});
    m.request_finished({1, s3_operation::get_object, 200, 2ms, 0, 1000});
    m.request_finished({1, s3_operation::get_object, 404, 1ms, 0, 300});
    m.request_finished({m.no_backend(), s3_operation::get_object, 403, 1ms, 0, 0});
    m.rejected(make_error_code(errc::signature_does_not_match));
    m.rejected(make_error_code(errc::no_healthy_backend));
    m.rejected(make_error_code(errc::no_healthy_backend));
    m.upstream_bytes(0, 1000, 0);
    m.upstream_bytes(1, 0, 1300);
    m.upstream_first_byte(1, 4ms);
    m.failover(0, 1, "connect_failed");
    m.failover(0, 0, "connect_failed"); // a retry, but not a failover
    m.failover(1, 0, "status_503");
    m.retry(retry_reason::stale_connection);
    m.connection_opened();
    m.connection_opened();
    m.connection_closed();
    m.upstream_connection_opened(1);
    m.upstream_connection_parked(1);
    m.upstream_connection_opened(1);
    m.health_check(0, false, 500ms);
    m.health_check(1, true, 2ms);

    const auto b = two_backends();
    auto s = samples(scrape(m, b, true));
    CHECK(s["s3ha_requests_in_flight"] == 0);
    CHECK(s[R"(s3ha_requests_total{backend="primary",operation="PutObject",status_class="2xx"})"] ==
          1);
    CHECK(
        s[R"(s3ha_requests_total{backend="secondary",operation="GetObject",status_class="2xx"})"] ==
        1);
    CHECK(
        s[R"(s3ha_requests_total{backend="secondary",operation="GetObject",status_class="4xx"})"] ==
        1);
    CHECK(s[R"(s3ha_requests_total{backend="none",operation="GetObject",status_class="4xx"})"] ==
          1);
    CHECK(
        s.count(
            R"(s3ha_requests_total{backend="primary",operation="GetObject",status_class="2xx"})") ==
        0);
    CHECK(s[R"(s3ha_request_duration_seconds_count{backend="secondary",operation="GetObject"})"] ==
          2);
    CHECK(
        s[R"(s3ha_request_duration_seconds_bucket{backend="secondary",operation="GetObject",le="0.005"})"] ==
        2);
    CHECK(
        s[R"(s3ha_request_duration_seconds_bucket{backend="primary",operation="PutObject",le="0.01"})"] ==
        0);
    CHECK(
        s[R"(s3ha_request_duration_seconds_bucket{backend="primary",operation="PutObject",le="0.025"})"] ==
        1);
    CHECK(s["s3ha_downstream_received_bytes_total"] == 1000);
    CHECK(s["s3ha_downstream_sent_bytes_total"] == 1300);
    CHECK(s[R"(s3ha_upstream_sent_bytes_total{backend="primary"})"] == 1000);
    CHECK(s[R"(s3ha_upstream_received_bytes_total{backend="secondary"})"] == 1300);
    CHECK(s[R"(s3ha_upstream_first_byte_seconds_count{backend="secondary"})"] == 1);
    CHECK(s[R"(s3ha_upstream_first_byte_seconds_count{backend="primary"})"] == 0);
    CHECK(s[R"(s3ha_requests_rejected_total{code="SignatureDoesNotMatch",reason="auth"})"] == 1);
    CHECK(
        s[R"(s3ha_requests_rejected_total{code="ServiceUnavailable",reason="no_healthy_backend"})"] ==
        2);
    CHECK(s[R"(s3ha_requests_rejected_total{code="SlowDown",reason="limit"})"] == 0);
    CHECK(s[R"(s3ha_retries_total{reason="connect_failed"})"] == 2);
    CHECK(s[R"(s3ha_retries_total{reason="retry_status"})"] == 1);
    CHECK(s[R"(s3ha_retries_total{reason="stale_connection"})"] == 1);
    CHECK(s[R"(s3ha_failovers_total{from="secondary",reason="retry_status",to="primary"})"] == 1);
    CHECK(s[R"(s3ha_retries_total{reason="timeout"})"] == 0);
    CHECK(s[R"(s3ha_failovers_total{from="primary",reason="connect_failed",to="secondary"})"] == 1);
    CHECK(s[R"(s3ha_failovers_total{from="secondary",reason="connect_failed",to="primary"})"] == 0);
    CHECK(s["s3ha_downstream_connections"] == 1);
    CHECK(s["s3ha_downstream_connections_total"] == 2);
    CHECK(s[R"(s3ha_upstream_connections{backend="secondary",state="idle"})"] == 1);
    CHECK(s[R"(s3ha_upstream_connections{backend="secondary",state="busy"})"] == 1);
    CHECK(s[R"(s3ha_health_checks_total{backend="primary",result="failure"})"] == 1);
    CHECK(s[R"(s3ha_health_checks_total{backend="secondary",result="success"})"] == 1);
    CHECK(s[R"(s3ha_health_check_duration_seconds_sum{backend="primary"})"] == Approx(0.5));
    CHECK(s[R"(s3ha_backend_up{backend="primary"})"] == 0);
    CHECK(s[R"(s3ha_backend_up{backend="secondary"})"] == 1);
    CHECK(s[R"(s3ha_backend_active{backend="secondary"})"] == 1);
    CHECK(s[R"(s3ha_backend_active{backend="primary"})"] == 0);
    CHECK(s[R"(s3ha_backend_in_flight_requests{backend="secondary"})"] == 4);
    CHECK(s[R"(s3ha_backend_consecutive_failures{backend="primary"})"] == 3);
    CHECK(s[R"(s3ha_backend_failures_total{backend="primary",kind="connect_failed"})"] == 2);
    // since = 0 on the steady clock, now = 100 s: 100 s before the wall clock's 1e6 s.
    CHECK(s[R"(s3ha_backend_state_since_timestamp_seconds{backend="primary"})"] == Approx(999'900));
    CHECK(s["s3ha_draining"] == 1);
    CHECK(s[R"(s3ha_build_info{commit="abc123",version="0.1.0"})"] == 1);
}

TEST_CASE("metrics: updates from worker threads on their shards are all counted",
          "[unit][metrics]") {
    proxy_metrics m({"primary"}, {"0.1.0", "abc123"}, 3);
    std::vector<std::thread> workers;
    for (std::size_t w = 0; w < 2; ++w) {
        workers.emplace_back([&m, w] {
            set_thread_shard(w + 1);
            for (int i = 0; i < 1000; ++i) {
                const proxy_metrics::in_flight g(&m);
                m.upstream_connection_opened(0);
                m.request_finished({0, s3_operation::get_object, 200, 1ms, 0, 10});
                m.upstream_bytes(0, 0, 10);
                m.upstream_connection_parked(0);
                m.upstream_connection_reused(0);
                m.upstream_connection_closed(0, false);
            }
        });
    }
    for (auto& t : workers)
        t.join();
    m.upstream_connection_opened(0); // this thread: shard 0
    auto s = samples(scrape(m, {}));
    CHECK(s[R"(s3ha_requests_total{backend="primary",operation="GetObject",status_class="2xx"})"] ==
          2000);
    CHECK(s[R"(s3ha_request_duration_seconds_count{backend="primary",operation="GetObject"})"] ==
          2000);
    CHECK(s["s3ha_downstream_sent_bytes_total"] == 20000);
    CHECK(s[R"(s3ha_upstream_received_bytes_total{backend="primary"})"] == 20000);
    CHECK(s["s3ha_requests_in_flight"] == 0);
    CHECK(s[R"(s3ha_upstream_connections{backend="primary",state="busy"})"] == 1);
    CHECK(s[R"(s3ha_upstream_connections{backend="primary",state="idle"})"] == 0);
}
