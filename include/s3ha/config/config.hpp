// The s3ha configuration model: plain structs, filled and validated by config/loader.hpp.
// Nothing here knows about YAML. Every field holds its documented default (see
// README.md (section Configuration)), so a default-constructed struct is a valid starting point for
// tests. A loaded configuration is immutable and shared as std::shared_ptr<const config>.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace s3ha {

using std::chrono::milliseconds;

/// A `host:port` listen address; host is stored without IPv6 brackets. Port 0 = any free port.
struct listen_address {
    std::string host;
    std::uint16_t port = 0;

    /// "host:port", or "[host]:port" when host is an IPv6 literal.
    std::string to_string() const;
};

/// TLS of the downstream listener; enabled when cert_file is set (the loader requires both).
struct server_tls_config {
    std::string cert_file;
    std::string key_file;

    bool enabled() const { return !cert_file.empty(); }
};

struct server_config {
    listen_address listen{"0.0.0.0", 9000};
    unsigned workers = 0; ///< as configured; 0 = number of cores, see worker_count()
    std::string region = "us-east-1";
    std::vector<std::string> virtual_host_domains; ///< lower-cased host names
    std::uint64_t max_connections = 10000;
    std::uint64_t max_header_size = 64ULL * 1024;
    milliseconds header_read_timeout{10'000};
    milliseconds idle_timeout{60'000};
    milliseconds body_read_timeout{60'000};
    /// Minimum request body rate, bytes per second (0 = none): body_read_allowance.hpp.
    std::uint64_t body_min_rate = 1024;
    std::uint64_t max_aws_chunk_size = 16ULL * 1024 * 1024;
    /// What the signed aws-chunked chunks held until verified may total per worker; the loader
    /// raises the default to max_aws_chunk_size when that is larger.
    std::uint64_t max_aws_chunk_buffer_per_worker = 64ULL * 1024 * 1024;
    bool allow_anonymous = false;
    server_tls_config tls;

    /// workers, or std::thread::hardware_concurrency() (at least 1) when workers is 0.
    unsigned worker_count() const;
};

struct admin_config {
    listen_address listen{"127.0.0.1", 9001};
    std::string token; ///< resolved bearer token; empty = no authentication. Never log it.
};

/// One downstream credential: the access key a client signs with and its resolved secret.
struct credential_config {
    std::string access_key;
    std::string secret_key; ///< never log it
};

/// A backend endpoint URL, parsed: scheme is "http" or "https"; host has no IPv6 brackets.
struct endpoint_config {
    std::string scheme = "http";
    std::string host;
    std::uint16_t port = 80; ///< explicit port, or 80 / 443 by scheme

    bool is_https() const { return scheme == "https"; }
    /// The value of a Host header for this endpoint (port omitted when it is the default).
    std::string host_header() const;
    /// "scheme://host[:port]"
    std::string to_string() const;
};

enum class aws_chunked_mode {
    forward, ///< re-sign and forward the aws-chunked framing
    decode,  ///< decode and send a plain body (backends that reject aws-chunked)
};

enum class health_check_type { http, s3 };

struct backend_tls_config {
    std::string ca_file; ///< extra CA bundle; empty = system store
    bool verify = true;
    std::string server_name; ///< SNI and verified name; empty = endpoint host
};

struct health_check_config {
    health_check_type type = health_check_type::http;
    std::string path = "/minio/health/cluster"; ///< http only
    std::string method = "GET";                 ///< "GET" or "HEAD"; http only
    std::vector<unsigned> expected_statuses{200};
    std::string bucket; ///< s3 only: HEAD this bucket; empty = ListBuckets
    milliseconds interval{5'000};
    milliseconds jitter{500};    ///< random extra delay in [0, jitter]; jitter < interval
    milliseconds timeout{2'000}; ///< timeout < interval
    unsigned rise = 2;
    unsigned fall = 3;
    milliseconds max_backoff{60'000}; ///< >= interval
};

struct backend_config {
    std::string name; ///< unique, [A-Za-z0-9_.-]+, used as a metric label
    endpoint_config endpoint;
    std::string region = "us-east-1";
    std::string access_key;
    std::string secret_key; ///< never log it
    unsigned priority = 1;  ///< lower = preferred, 1..1000
    unsigned weight = 1;    ///< 1..1000
    aws_chunked_mode aws_chunked = aws_chunked_mode::forward;
    backend_tls_config tls;
    health_check_config health_check;
};

enum class routing_policy { failover, round_robin, random, least_requests, weighted };
enum class failback_mode { automatic, manual }; ///< YAML values `auto` and `manual`

struct retry_config {
    unsigned max_attempts = 3; ///< 1 = no retry
    milliseconds connect_timeout{2'000};
    milliseconds response_header_timeout{30'000};
    milliseconds idle_timeout{30'000};
    milliseconds try_timeout{60'000};
    std::uint64_t replay_buffer_size = 8ULL * 1024 * 1024; ///< 0 = never replay a body
    std::vector<unsigned> retry_statuses{502, 503, 504};
};

struct upstream_pool_config {
    unsigned max_idle_per_backend = 32; ///< per worker and backend
    milliseconds idle_timeout{30'000};
};

struct routing_config {
    routing_policy policy = routing_policy::failover;
    failback_mode failback = failback_mode::automatic;
    milliseconds failback_stable_period{30'000};
    bool try_unhealthy_when_all_down = false;
    bool read_fallback_on_404 = false;
    std::vector<unsigned> passive_failure_statuses{502, 503, 504};
    retry_config retries;
    upstream_pool_config upstream_pool;
};

enum class log_level { trace, debug, info, warn, error, critical, off };
enum class log_format { text, json };

struct logging_config {
    log_level level = log_level::info;
    log_format format = log_format::text;
    bool access_log = true;
};

struct shutdown_config {
    milliseconds drain_timeout{30'000};
};

/// The whole configuration. The loader guarantees: at least one credential and one backend,
/// unique access keys and backend names, and every range documented in README.md (section
/// Configuration).
struct config {
    server_config server;
    admin_config admin;
    std::vector<credential_config> credentials;
    std::vector<backend_config> backends;
    routing_config routing;
    logging_config logging;
    shutdown_config shutdown;
};

/// The YAML spelling of each enum value (e.g. failback_mode::automatic -> "auto").
std::string_view to_string(aws_chunked_mode v);
std::string_view to_string(health_check_type v);
std::string_view to_string(routing_policy v);
std::string_view to_string(failback_mode v);
std::string_view to_string(log_level v);
std::string_view to_string(log_format v);

} // namespace s3ha
