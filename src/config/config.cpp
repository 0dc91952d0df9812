#include "s3ha/config/config.hpp"

#include <thread>

namespace s3ha {

namespace {
std::string bracket_host(const std::string& host) {
    return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}
} // namespace

std::string listen_address::to_string() const {
    return bracket_host(host) + ":" + std::to_string(port);
}

unsigned server_config::worker_count() const {
    if (workers != 0) {
        return workers;
    }
    unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : n;
}

std::string endpoint_config::host_header() const {
    const bool default_port = (is_https() && port == 443) || (!is_https() && port == 80);
    return default_port ? bracket_host(host) : bracket_host(host) + ":" + std::to_string(port);
}

std::string endpoint_config::to_string() const {
    return scheme + "://" + host_header();
}

std::string_view to_string(aws_chunked_mode v) {
    return v == aws_chunked_mode::forward ? "forward" : "decode";
}

std::string_view to_string(health_check_type v) {
    return v == health_check_type::http ? "http" : "s3";
}

std::string_view to_string(routing_policy v) {
    switch (v) {
    case routing_policy::failover: return "failover";
    case routing_policy::round_robin: return "round_robin";
    case routing_policy::random: return "random";
    case routing_policy::least_requests: return "least_requests";
    case routing_policy::weighted: return "weighted";
    }
    return "?";
}

std::string_view to_string(failback_mode v) {
    return v == failback_mode::automatic ? "auto" : "manual";
}

std::string_view to_string(log_level v) {
    switch (v) {
    case log_level::trace: return "trace";
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
    case log_level::critical: return "critical";
    case log_level::off: return "off";
    }
    return "?";
}

std::string_view to_string(log_format v) {
    return v == log_format::text ? "text" : "json";
}

} // namespace s3ha
