#include "s3ha/upstream/health_checker.hpp"

#include "s3ha/metrics/proxy_metrics.hpp"
#include "s3ha/sigv4/signer.hpp"
#include "s3ha/upstream/connect.hpp"

#include <algorithm>
#include <random>
#include <vector>

namespace s3ha::upstream {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// SHA-256 of the empty payload (the body of every check request).
constexpr std::string_view empty_sha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

milliseconds since(steady_clock::time_point start) {
    return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
}

// Builds the check request of b; false when it cannot be signed (never for a sane config).
bool build_request(const backend& b, http::request<http::empty_body>& req,
                   sigv4::signing_key_cache& keys) {
    const auto& hc = b.config().health_check;
    req.version(11);
    req.set(http::field::host, b.host_header());
    req.set(http::field::user_agent, "s3ha-health-check");
    req.set(http::field::connection, "close");
    if (hc.type == health_check_type::http) {
        req.method(hc.method == "HEAD" ? http::verb::head : http::verb::get);
        req.target(hc.path.empty() ? "/" : hc.path);
        return true;
    }
    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html and
    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html
    if (hc.bucket.empty()) {
        req.method(http::verb::get);
        req.target("/");
    } else {
        req.method(http::verb::head);
        req.target("/" + hc.bucket);
    }
    return sigv4::sign_request(req.base(), b.signing(), empty_sha256,
                               std::chrono::system_clock::now(), keys)
        .has_value();
}

bool healthy_status(const health_check_config& hc, unsigned status) {
    if (hc.type == health_check_type::s3) return status >= 200 && status < 300;
    return std::find(hc.expected_statuses.begin(), hc.expected_statuses.end(), status) !=
           hc.expected_statuses.end();
}

} // namespace

awaitable<check_result> run_health_check(executor ex, const backend& b) {
    const auto& hc = b.config().health_check;
    const auto start = steady_clock::now();
    const auto deadline = start + hc.timeout;
    auto remaining = [&] {
        return std::max(milliseconds(1),
                        std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now()));
    };

    sigv4::signing_key_cache keys(4);
    http::request<http::empty_body> req;
    if (!build_request(b, req, keys)) co_return check_result{false, since(start), "cannot sign"};

    auto stream = co_await connect(ex, b, hc.timeout);
    if (!stream) co_return check_result{false, since(start), stream.error().message()};
    auto& s = *stream;

    error_code ec;
    s.expires_after(remaining());
    co_await http::async_write(s, req, net::redirect_error(use_awaitable, ec));
    if (!ec) {
        beast::flat_buffer buffer;
        http::response_parser<http::empty_body> parser;
        parser.header_limit(16 * 1024);
        if (req.method() == http::verb::head) parser.skip(true);
        s.expires_after(remaining());
        co_await http::async_read_header(s, buffer, parser, net::redirect_error(use_awaitable, ec));
        if (!ec) {
            s.close();
            const auto status = parser.get().result_int();
            co_return check_result{healthy_status(hc, status), since(start),
                                   "status " + std::to_string(status)};
        }
    }
    s.close();
    co_return check_result{false, since(start),
                           ec == beast::error::timeout ? "timeout" : ec.message()};
}

struct health_checker::impl : std::enable_shared_from_this<impl> {
    impl(executor e, std::shared_ptr<pool> p, std::uint64_t seed, metrics::proxy_metrics* m)
        : ex(std::move(e)), pool_ref(std::move(p)), rng(seed), metrics(m) {}

    awaitable<void> loop(std::size_t index) {
        auto self = shared_from_this(); // the loop keeps the state alive
        const auto& b = *pool_ref->backends()[index];
        auto& timer = *timers[index];
        while (!stopped) {
            const auto r = co_await run_health_check(ex, b);
            if (stopped) break;
            pool_ref->record_check(index, r.ok, r.latency, r.detail);
            if (metrics != nullptr) metrics->health_check(index, r.ok, r.latency);
            timer.expires_after(pool_ref->state(index).next_check_delay(rng));
            error_code ec;
            co_await timer.async_wait(net::redirect_error(use_awaitable, ec));
        }
    }

    executor ex;
    std::shared_ptr<pool> pool_ref;
    std::mt19937_64 rng;
    metrics::proxy_metrics* metrics;
    std::vector<std::unique_ptr<steady_timer>> timers;
    bool stopped = false;
};

health_checker::health_checker(executor ex, std::shared_ptr<pool> p, std::uint64_t seed,
                               metrics::proxy_metrics* m)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(p), seed, m)) {
    for (std::size_t i = 0; i < impl_->pool_ref->backends().size(); ++i)
        impl_->timers.push_back(std::make_unique<steady_timer>(impl_->ex));
}

health_checker::~health_checker() {
    stop();
}

void health_checker::start() {
    for (std::size_t i = 0; i < impl_->timers.size(); ++i)
        net::co_spawn(impl_->ex, impl_->loop(i), net::detached);
}

void health_checker::stop() {
    net::post(impl_->ex, [self = impl_] {
        self->stopped = true;
        for (auto& t : self->timers)
            t->cancel();
    });
}

} // namespace s3ha::upstream
