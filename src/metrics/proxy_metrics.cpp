#include "s3ha/metrics/proxy_metrics.hpp"

#include "s3ha/core/errc.hpp"
#include "s3ha/http/s3_error.hpp"

#include <prometheus/text_serializer.h>

#include <algorithm>

namespace s3ha::metrics {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

constexpr std::array<std::string_view, 5> k_class_names{"2xx", "3xx", "4xx", "5xx", "none"};

std::size_t class_index(unsigned status) noexcept {
    if (status >= 200 && status < 600) return status / 100 - 2;
    return 4;
}

// Request durations span a HEAD (milliseconds) to a multi-GiB transfer (minutes).
std::vector<double> request_bounds() {
    return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};
}
// Time to a response header and health checks: LAN round trips up to the timeouts.
std::vector<double> latency_bounds() {
    return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

ClientMetric with_labels(std::initializer_list<std::pair<std::string_view, std::string_view>> l) {
    ClientMetric m;
    for (const auto& [k, v] : l)
        m.label.push_back({std::string(k), std::string(v)});
    return m;
}

MetricFamily family(std::string name, std::string help, MetricType type) {
    MetricFamily f;
    f.name = std::move(name);
    f.help = std::move(help);
    f.type = type;
    return f;
}

void add_histogram(MetricFamily& f, ClientMetric m, const histogram_set& h, std::size_t series) {
    const auto r = h.read(series);
    m.histogram.sample_count = r.count;
    m.histogram.sample_sum = r.sum;
    const auto& bounds = h.bounds();
    for (std::size_t i = 0; i < bounds.size(); ++i)
        m.histogram.bucket.push_back({r.cumulative[i], bounds[i]});
    m.histogram.bucket.push_back({r.count, std::numeric_limits<double>::infinity()});
    f.metric.push_back(std::move(m));
}

} // namespace

std::string_view to_string(retry_reason r) noexcept {
    switch (r) {
    case retry_reason::connect_failed: return "connect_failed";
    case retry_reason::timeout: return "timeout";
    case retry_reason::reset: return "reset";
    case retry_reason::stale_connection: return "stale_connection";
    case retry_reason::retry_status: return "retry_status";
    case retry_reason::not_found: return "not_found";
    case retry_reason::other: break;
    }
    return "other";
}

retry_reason retry_reason_of(std::string_view reason) noexcept {
    if (reason.starts_with("status_")) return retry_reason::retry_status;
    for (std::size_t i = 0; i < retry_reason_count; ++i) {
        if (reason == to_string(retry_reason(i))) return retry_reason(i);
    }
    return retry_reason::other;
}

std::string_view status_class(unsigned status) noexcept {
    return k_class_names[class_index(status)];
}

std::string_view rejection_reason(const error_code& ec) noexcept {
    if (ec.category() != s3ha_category()) return "internal";
    switch (static_cast<errc>(ec.value())) {
    case errc::access_denied:
    case errc::signature_does_not_match:
    case errc::invalid_access_key_id:
    case errc::request_time_too_skewed:
    case errc::request_expired:
    case errc::authorization_header_malformed:
    case errc::authorization_query_parameters_error:
    case errc::invalid_region:
    case errc::missing_security_header:
    case errc::unsupported_algorithm:
    case errc::invalid_content_sha256:
    case errc::expires_too_large:
    case errc::header_not_signed: return "auth";
    case errc::content_sha256_mismatch:
    case errc::chunk_signature_mismatch:
    case errc::chunk_bad_size:
    case errc::chunk_missing_crlf:
    case errc::chunk_bad_extension:
    case errc::chunk_too_large:
    case errc::chunk_trailing_data:
    case errc::chunk_bad_trailer:
    case errc::incomplete_body:
    case errc::decoded_length_mismatch:
    case errc::bad_digest: return "body";
    case errc::invalid_request:
    case errc::invalid_uri:
    case errc::invalid_argument:
    case errc::method_not_allowed:
    case errc::not_implemented:
    case errc::missing_content_length:
    case errc::no_such_upload:
    case errc::duplicate_signed_header:
    case errc::duplicate_query_parameter:
    case errc::semicolon_in_query:
    case errc::connection_names_end_to_end_header:
    case errc::transfer_encoding_on_http10:
    case errc::unsupported_transfer_encoding: return "invalid_request";
    case errc::request_header_too_large:
    case errc::request_timeout:
    case errc::too_many_connections:
    case errc::chunk_buffer_full: return "limit";
    case errc::loop_detected: return "loop";
    case errc::no_healthy_backend:
    case errc::upload_backend_down: return "no_healthy_backend";
    case errc::upstream_connect_failed:
    case errc::upstream_timeout:
    case errc::upstream_tls_failed:
    case errc::upstream_certificate_verify_failed:
    case errc::upstream_protocol_error:
    case errc::upload_ids_too_large:
    case errc::slow_down: return "upstream";
    case errc::internal_error: return "internal";
    default: break; // a value added since: classified by its section of errc.hpp below
    }
    const auto e = static_cast<errc>(ec.value());
    if (e > errc::no_healthy_backend && e < errc::internal_error) return "upstream";
    if (e > errc::content_sha256_mismatch && e < errc::invalid_request) return "body";
    if (e > errc::access_denied && e < errc::chunk_signature_mismatch) return "auth";
    if (e > errc::invalid_request && e < errc::no_healthy_backend) return "invalid_request";
    return "internal";
}

proxy_metrics::proxy_metrics(std::vector<std::string> backend_names, const build_identity& build,
                             std::size_t shards)
    : backend_names_(std::move(backend_names)), registry_(std::make_shared<prometheus::Registry>()),
      hot_(slot(backend_names_.size(), upstream_sent), shards),
      requests_((backend_names_.size() + 1) * k_operations * k_status_classes, shards),
      request_duration_(request_bounds(), (backend_names_.size() + 1) * k_operations, shards),
      first_byte_(latency_bounds(), backend_names_.size(), shards),
      check_duration_(latency_bounds(), backend_names_.size()) {
    auto& r = *registry_;
    prometheus::BuildGauge()
        .Name("s3ha_build_info")
        .Help("Build of the running s3ha (always 1)")
        .Register(r)
        .Add({{"version", build.version}, {"commit", build.commit}})
        .Set(1);
    downstream_connections_ = &prometheus::BuildGauge()
                                   .Name("s3ha_downstream_connections")
                                   .Help("Open client connections")
                                   .Register(r)
                                   .Add({});
    downstream_connections_total_ = &prometheus::BuildCounter()
                                         .Name("s3ha_downstream_connections_total")
                                         .Help("Client connections accepted")
                                         .Register(r)
                                         .Add({});
    auto& checks = prometheus::BuildCounter()
                       .Name("s3ha_health_checks_total")
                       .Help("Active health checks by backend and result")
                       .Register(r);
    for (const auto& name : backend_names_) {
        health_checks_.push_back({&checks.Add({{"backend", name}, {"result", "failure"}}),
                                  &checks.Add({{"backend", name}, {"result", "success"}})});
    }

    auto& retries = prometheus::BuildCounter()
                        .Name("s3ha_retries_total")
                        .Help("Extra attempts of requests by reason (same or another backend)")
                        .Register(r);
    for (std::size_t i = 0; i < retry_reason_count; ++i)
        retries_[i] = &retries.Add({{"reason", std::string(to_string(retry_reason(i)))}});

    auto& failovers = prometheus::BuildCounter()
                          .Name("s3ha_failovers_total")
                          .Help("Requests moved from one backend to another after a failed attempt")
                          .Register(r);
    const std::size_t n = backend_names_.size();
    failovers_.resize(n * n * retry_reason_count, nullptr);
    for (std::size_t from = 0; from < n; ++from) {
        for (std::size_t to = 0; to < n; ++to) {
            if (from == to) continue;
            for (std::size_t i = 0; i < retry_reason_count; ++i) {
                const auto reason = retry_reason(i);
                if (reason == retry_reason::stale_connection) continue; // same backend only
                failovers_[(from * n + to) * retry_reason_count + i] =
                    &failovers.Add({{"from", backend_names_[from]},
                                    {"to", backend_names_[to]},
                                    {"reason", std::string(to_string(reason))}});
            }
        }
    }

    auto& rejected = prometheus::BuildCounter()
                         .Name("s3ha_requests_rejected_total")
                         .Help("Requests s3ha answered with its own S3 error, by reason and S3 "
                               "error code")
                         .Register(r);
    static_assert(static_cast<std::size_t>(errc::internal_error) < k_errc_slots);
    for (std::size_t i = 0; i <= static_cast<std::size_t>(errc::internal_error); ++i) {
        // Slot 0 stands for errors of other categories (InternalError).
        const error_code ec = i == 0 ? make_error_code(boost::system::errc::io_error)
                                     : make_error_code(static_cast<errc>(i));
        const auto info = describe_error(ec);
        rejected_[i] = &rejected.Add(
            {{"reason", std::string(rejection_reason(ec))}, {"code", std::string(info.code)}});
    }
}

void proxy_metrics::request_finished(const request_sample& s) noexcept {
    const std::size_t backend = std::min(s.backend, no_backend());
    const std::size_t series = request_series(backend, s.operation);
    requests_.add(series * k_status_classes + class_index(s.status), 1);
    request_duration_.observe(series, std::chrono::duration<double>(s.duration).count());
    if (s.received_bytes != 0) hot_.add(k_downstream_received, std::int64_t(s.received_bytes));
    if (s.sent_bytes != 0) hot_.add(k_downstream_sent, std::int64_t(s.sent_bytes));
}

void proxy_metrics::rejected(const error_code& ec) noexcept {
    std::size_t slot = 0;
    if (ec.category() == s3ha_category() && ec.value() > 0 &&
        static_cast<std::size_t>(ec.value()) < k_errc_slots) {
        slot = static_cast<std::size_t>(ec.value());
    }
    if (rejected_[slot] == nullptr) slot = 0;
    rejected_[slot]->Increment();
}

void proxy_metrics::connection_opened() noexcept {
    downstream_connections_->Increment();
    downstream_connections_total_->Increment();
}

void proxy_metrics::connection_closed() noexcept {
    downstream_connections_->Decrement();
}

void proxy_metrics::upstream_first_byte(std::size_t backend,
                                        std::chrono::steady_clock::duration elapsed) noexcept {
    if (backend >= backend_names_.size()) return;
    first_byte_.observe(backend, std::chrono::duration<double>(elapsed).count());
}

void proxy_metrics::upstream_bytes(std::size_t backend, std::uint64_t sent,
                                   std::uint64_t received) noexcept {
    if (backend >= backend_names_.size()) return;
    if (sent != 0) hot_.add(slot(backend, upstream_sent), std::int64_t(sent));
    if (received != 0) hot_.add(slot(backend, upstream_received), std::int64_t(received));
}

void proxy_metrics::retry(retry_reason r) noexcept {
    retries_[static_cast<std::size_t>(r)]->Increment();
}

void proxy_metrics::failover(std::size_t from, std::size_t to, std::string_view reason) noexcept {
    const auto r = retry_reason_of(reason);
    retry(r);
    const std::size_t n = backend_names_.size();
    if (from >= n || to >= n) return;
    if (auto* c = failovers_[(from * n + to) * retry_reason_count + static_cast<std::size_t>(r)])
        c->Increment();
}

void proxy_metrics::upstream_connection_opened(std::size_t backend) noexcept {
    if (backend < backend_names_.size()) hot_.add(slot(backend, upstream_busy), 1);
}

void proxy_metrics::upstream_connection_parked(std::size_t backend) noexcept {
    if (backend >= backend_names_.size()) return;
    hot_.add(slot(backend, upstream_busy), -1);
    hot_.add(slot(backend, upstream_idle), 1);
}

void proxy_metrics::upstream_connection_reused(std::size_t backend) noexcept {
    if (backend >= backend_names_.size()) return;
    hot_.add(slot(backend, upstream_idle), -1);
    hot_.add(slot(backend, upstream_busy), 1);
}

void proxy_metrics::upstream_connection_closed(std::size_t backend, bool was_idle) noexcept {
    if (backend >= backend_names_.size()) return;
    hot_.add(slot(backend, was_idle ? upstream_idle : upstream_busy), -1);
}

void proxy_metrics::health_check(std::size_t backend, bool ok,
                                 std::chrono::milliseconds latency) noexcept {
    if (backend >= backend_names_.size()) return;
    health_checks_[backend][ok ? 1 : 0]->Increment();
    check_duration_.observe(backend, std::chrono::duration<double>(latency).count());
}

std::string proxy_metrics::serialize(const scrape_state& state) const {
    std::vector<MetricFamily> out = registry_->Collect();
    const std::size_t n = backend_names_.size();
    auto backend_label = [&](std::size_t b) -> std::string_view {
        return b < n ? std::string_view(backend_names_[b]) : std::string_view("none");
    };

    // The sharded counters and gauges, summed over the worker threads.
    auto scalar = [&](std::string name, std::string help, MetricType type, std::int64_t v) {
        auto f = family(std::move(name), std::move(help), type);
        ClientMetric m;
        (type == MetricType::Counter ? m.counter.value : m.gauge.value) = double(v);
        f.metric.push_back(std::move(m));
        out.push_back(std::move(f));
    };
    scalar("s3ha_requests_in_flight", "Downstream requests being handled", MetricType::Gauge,
           hot_.sum(k_in_flight));
    scalar("s3ha_downstream_received_bytes_total", "Request body bytes received from clients",
           MetricType::Counter, hot_.sum(k_downstream_received));
    scalar("s3ha_downstream_sent_bytes_total", "Response body bytes sent to clients",
           MetricType::Counter, hot_.sum(k_downstream_sent));
    auto up_sent = family("s3ha_upstream_sent_bytes_total", "Request body bytes sent to backends",
                          MetricType::Counter);
    auto up_received = family("s3ha_upstream_received_bytes_total",
                              "Response body bytes received from backends", MetricType::Counter);
    auto up_conns =
        family("s3ha_upstream_connections",
               "Upstream connections by state: idle (pooled) or busy (in use)", MetricType::Gauge);
    for (std::size_t b = 0; b < n; ++b) {
        auto m = with_labels({{"backend", backend_label(b)}});
        m.counter.value = double(hot_.sum(slot(b, upstream_sent)));
        up_sent.metric.push_back(m);
        m.counter.value = double(hot_.sum(slot(b, upstream_received)));
        up_received.metric.push_back(std::move(m));
        for (const auto s : {upstream_idle, upstream_busy}) {
            auto g = with_labels(
                {{"backend", backend_label(b)}, {"state", s == upstream_idle ? "idle" : "busy"}});
            g.gauge.value = double(hot_.sum(slot(b, s)));
            up_conns.metric.push_back(std::move(g));
        }
    }
    for (auto* f : {&up_sent, &up_received, &up_conns})
        out.push_back(std::move(*f));

    // Requests: only the combinations seen so far (the others are implicitly zero).
    auto requests = family("s3ha_requests_total",
                           "Downstream requests by backend (none: answered by s3ha before one "
                           "was chosen), S3 operation and status class",
                           MetricType::Counter);
    auto duration =
        family("s3ha_request_duration_seconds",
               "Time from the request header to the end of the response", MetricType::Histogram);
    for (std::size_t b = 0; b <= n; ++b) {
        for (std::size_t op = 0; op < k_operations; ++op) {
            const auto series = request_series(b, static_cast<s3_operation>(op));
            const auto name = s3_operation_name(static_cast<s3_operation>(op));
            for (std::size_t c = 0; c < k_status_classes; ++c) {
                const auto v = requests_.sum(series * k_status_classes + c);
                if (v == 0) continue;
                auto m = with_labels({{"backend", backend_label(b)},
                                      {"operation", name},
                                      {"status_class", k_class_names[c]}});
                m.counter.value = double(v);
                requests.metric.push_back(std::move(m));
            }
            if (request_duration_.read(series).count == 0) continue;
            add_histogram(duration,
                          with_labels({{"backend", backend_label(b)}, {"operation", name}}),
                          request_duration_, series);
        }
    }
    out.push_back(std::move(requests));
    out.push_back(std::move(duration));

    auto first_byte = family("s3ha_upstream_first_byte_seconds",
                             "Time from the start of an attempt (connection included) to the "
                             "backend's response header",
                             MetricType::Histogram);
    auto check_duration = family("s3ha_health_check_duration_seconds",
                                 "Duration of active health checks", MetricType::Histogram);
    for (std::size_t b = 0; b < n; ++b) {
        add_histogram(first_byte, with_labels({{"backend", backend_label(b)}}), first_byte_, b);
        add_histogram(check_duration, with_labels({{"backend", backend_label(b)}}), check_duration_,
                      b);
    }
    out.push_back(std::move(first_byte));
    out.push_back(std::move(check_duration));

    // Backend state from the pool snapshot.
    auto up =
        family("s3ha_backend_up", "1 when the backend is healthy (up), else 0", MetricType::Gauge);
    auto active = family("s3ha_backend_active",
                         "1 for the backend traffic goes to (failover policy; other policies: "
                         "every selectable backend), else 0",
                         MetricType::Gauge);
    auto drained =
        family("s3ha_backend_drained", "1 when an operator drained the backend", MetricType::Gauge);
    auto in_flight = family("s3ha_backend_in_flight_requests",
                            "Attempts in progress on the backend", MetricType::Gauge);
    auto fails =
        family("s3ha_backend_consecutive_failures",
               "Consecutive failed results (checks or requests) of the backend", MetricType::Gauge);
    auto successes = family("s3ha_backend_consecutive_successes",
                            "Consecutive successful results of the backend", MetricType::Gauge);
    auto since = family("s3ha_backend_state_since_timestamp_seconds",
                        "Unix time at which the backend's current state (up, down, unchecked) "
                        "began",
                        MetricType::Gauge);
    auto failures = family("s3ha_backend_failures_total",
                           "Failures counted against the backend's health, by kind (passive "
                           "request failures and failed active checks)",
                           MetricType::Counter);
    for (const auto& s : state.backends) {
        auto gauge = [&](MetricFamily& f, double v) {
            auto m = with_labels({{"backend", s.name}});
            m.gauge.value = v;
            f.metric.push_back(std::move(m));
        };
        const auto& v = s.state;
        gauge(up, v.up ? 1 : 0);
        gauge(active, s.active ? 1 : 0);
        gauge(drained, v.drained ? 1 : 0);
        gauge(in_flight, double(v.in_flight));
        gauge(fails, v.consecutive_failures);
        gauge(successes, v.consecutive_successes);
        const auto wall =
            state.wall_now - std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                 state.steady_now - v.since);
        gauge(since, std::chrono::duration<double>(wall.time_since_epoch()).count());
        for (std::size_t k = 0; k < v.failures.size(); ++k) {
            auto m = with_labels(
                {{"backend", s.name}, {"kind", upstream::to_string(upstream::failure_kind(k))}});
            m.counter.value = double(v.failures[k]);
            failures.metric.push_back(std::move(m));
        }
    }
    for (auto* f : {&up, &active, &drained, &in_flight, &fails, &successes, &since, &failures})
        out.push_back(std::move(*f));

    auto draining = family("s3ha_draining", "1 once shutdown began (SIGTERM/SIGINT), else 0",
                           MetricType::Gauge);
    auto m = ClientMetric{};
    m.gauge.value = state.draining ? 1 : 0;
    draining.metric.push_back(std::move(m));
    out.push_back(std::move(draining));

    return prometheus::TextSerializer().Serialize(out);
}

} // namespace s3ha::metrics
