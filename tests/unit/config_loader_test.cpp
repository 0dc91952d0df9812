#include "s3ha/config/loader.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <unistd.h>

using namespace s3ha;
using namespace std::chrono_literals;

namespace {

// The smallest valid configuration; tests append to or edit it.
const std::string k_minimal = R"(credentials:
  - access_key: AKCLIENT
    secret_key: client-secret
backends:
  - name: minio-a
    endpoint: http://127.0.0.1:9100
    access_key: minioadmin
    secret_key: backend-secret
)";

std::string all_problems(const config_load_result& r) {
    std::string out;
    for (const auto& p : r.problems) {
        out += format_problem("test.yaml", p) + "\n";
    }
    return out;
}

/// The one problem whose message contains text (fails the test when none or several match).
config_problem problem_with(const config_load_result& r, const std::string& text) {
    INFO(all_problems(r));
    std::vector<config_problem> hits;
    for (const auto& p : r.problems) {
        if (p.message.find(text) != std::string::npos) {
            hits.push_back(p);
        }
    }
    REQUIRE(hits.size() == 1);
    return hits.front();
}

/// Loads yaml and returns its single problem.
config_problem single_problem(const std::string& yaml, const env_lookup& env = {}) {
    auto r = load_config_string(yaml, env);
    INFO(all_problems(r));
    REQUIRE(r.problems.size() == 1);
    CHECK_FALSE(r.cfg);
    return r.problems.front();
}

env_lookup fake_env(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) {
            return std::nullopt;
        }
        return it->second;
    };
}

/// A file in the temp directory, removed at scope exit.
struct temp_file {
    std::filesystem::path path;
    explicit temp_file(const std::string& content) {
        static int counter = 0;
        path = std::filesystem::temp_directory_path() /
               ("s3ha_config_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        std::ofstream(path, std::ios::binary) << content;
    }
    ~temp_file() { std::filesystem::remove(path); }
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;
};

server_config loaded_server(const std::string& server_yaml) {
    auto r = load_config_string(server_yaml + k_minimal, {});
    INFO(all_problems(r));
    REQUIRE(r.ok());
    return r.cfg->server;
}

constexpr std::uint64_t k_mib = 1024 * 1024;

} // namespace

TEST_CASE("the example configuration loads and documents the defaults", "[unit][config]") {
    auto r = load_config_file(S3HA_SOURCE_DIR "/config/s3ha.example.yaml");
    INFO(all_problems(r));
    REQUIRE(r.ok());
    REQUIRE(r.cfg);
    const config& c = *r.cfg;
    const config defaults;

    CHECK(c.server.listen.host == "0.0.0.0");
    CHECK(c.server.listen.port == 9000);
    CHECK(c.server.workers == 0);
    CHECK(c.server.worker_count() >= 1);
    CHECK(c.server.region == "us-east-1");
    CHECK(c.server.virtual_host_domains.empty());
    CHECK(c.server.max_connections == 10000);
    CHECK(c.server.max_header_size == 65536);
    CHECK(c.server.header_read_timeout == 10s);
    CHECK(c.server.idle_timeout == 60s);
    CHECK(c.server.body_read_timeout == 60s);
    CHECK(c.server.max_aws_chunk_size == 16u * 1024 * 1024);
    CHECK_FALSE(c.server.allow_anonymous);
    CHECK_FALSE(c.server.tls.enabled());
    CHECK(c.admin.listen.to_string() == "127.0.0.1:9001");
    CHECK(c.admin.token.empty());

    REQUIRE(c.credentials.size() == 1);
    CHECK(c.credentials[0].access_key == "AKIAS3HAEXAMPLE");
    CHECK(c.credentials[0].secret_key == "s3ha-example-secret-key-change-me");

    REQUIRE(c.backends.size() == 2);
    const backend_config& a = c.backends[0];
    CHECK(a.name == "minio-a");
    CHECK(a.endpoint.scheme == "http");
    CHECK(a.endpoint.host == "127.0.0.1");
    CHECK(a.endpoint.port == 9100);
    CHECK(a.endpoint.host_header() == "127.0.0.1:9100");
    CHECK(a.region == "us-east-1");
    CHECK(a.access_key == "minioadmin");
    CHECK(a.secret_key == "minioadmin");
    CHECK(a.priority == 1);
    CHECK(a.weight == 1);
    CHECK(a.aws_chunked == aws_chunked_mode::forward);
    CHECK(a.tls.ca_file.empty());
    CHECK(a.tls.verify);
    CHECK(a.tls.server_name.empty());
    CHECK(a.health_check.type == health_check_type::http);
    CHECK(a.health_check.path == "/minio/health/cluster");
    CHECK(a.health_check.method == "GET");
    CHECK(a.health_check.expected_statuses == std::vector<unsigned>{200});
    CHECK(a.health_check.interval == 5s);
    CHECK(a.health_check.jitter == 500ms);
    CHECK(a.health_check.timeout == 2s);
    CHECK(a.health_check.rise == 2);
    CHECK(a.health_check.fall == 3);
    CHECK(a.health_check.max_backoff == 60s);

    const backend_config& b = c.backends[1];
    CHECK(b.name == "minio-b");
    CHECK(b.endpoint.port == 9101);
    CHECK(b.priority == 2);
    CHECK(b.health_check.type == health_check_type::s3);
    CHECK(b.health_check.bucket.empty());

    CHECK(c.routing.policy == routing_policy::failover);
    CHECK(c.routing.failback == failback_mode::automatic);
    CHECK(c.routing.failback_stable_period == 30s);
    CHECK_FALSE(c.routing.try_unhealthy_when_all_down);
    CHECK_FALSE(c.routing.read_fallback_on_404);
    CHECK(c.routing.passive_failure_statuses == std::vector<unsigned>{502, 503, 504});
    CHECK(c.routing.retries.max_attempts == 3);
    CHECK(c.routing.retries.connect_timeout == 2s);
    CHECK(c.routing.retries.response_header_timeout == 30s);
    CHECK(c.routing.retries.idle_timeout == 30s);
    CHECK(c.routing.retries.try_timeout == 60s);
    CHECK(c.routing.retries.replay_buffer_size == 8u * 1024 * 1024);
    CHECK(c.routing.retries.retry_statuses == std::vector<unsigned>{502, 503, 504});
    CHECK(c.routing.upstream_pool.max_idle_per_backend == 32);
    CHECK(c.routing.upstream_pool.idle_timeout == 30s);
    CHECK(c.logging.level == log_level::info);
    CHECK(c.logging.format == log_format::text);
    CHECK(c.logging.access_log);
    CHECK(c.shutdown.drain_timeout == 30s);

    // The example states every default: the values equal a default-constructed config.
    CHECK(c.server.max_header_size == defaults.server.max_header_size);
    CHECK(c.routing.retries.try_timeout == defaults.routing.retries.try_timeout);
    CHECK(c.shutdown.drain_timeout == defaults.shutdown.drain_timeout);
}

TEST_CASE("a minimal configuration gets every default", "[unit][config]") {
    auto r = load_config_string(k_minimal);
    INFO(all_problems(r));
    REQUIRE(r.ok());
    const config& c = *r.cfg;
    CHECK(c.server.listen.to_string() == "0.0.0.0:9000");
    CHECK(c.server.region == "us-east-1");
    CHECK(c.server.max_connections == 10000);
    CHECK(c.server.header_read_timeout == 10s);
    CHECK(c.server.max_aws_chunk_size == 16u << 20);
    CHECK(c.admin.listen.to_string() == "127.0.0.1:9001");
    CHECK(c.admin.token.empty());
    REQUIRE(c.backends.size() == 1);
    const backend_config& b = c.backends[0];
    CHECK(b.region == "us-east-1");
    CHECK(b.priority == 1);
    CHECK(b.weight == 1);
    CHECK(b.aws_chunked == aws_chunked_mode::forward);
    CHECK(b.tls.verify);
    CHECK(b.health_check.type == health_check_type::http);
    CHECK(b.health_check.path == "/minio/health/cluster");
    CHECK(b.health_check.interval == 5s);
    CHECK(b.health_check.jitter == 500ms);
    CHECK(b.health_check.rise == 2);
    CHECK(b.health_check.fall == 3);
    CHECK(c.routing.policy == routing_policy::failover);
    CHECK(c.routing.retries.max_attempts == 3);
    CHECK(c.routing.retries.retry_statuses == std::vector<unsigned>{502, 503, 504});
    CHECK(c.routing.upstream_pool.max_idle_per_backend == 32);
    CHECK(c.logging.level == log_level::info);
    CHECK(c.shutdown.drain_timeout == 30s);
}

TEST_CASE("explicit values of every kind are parsed", "[unit][config]") {
    auto r = load_config_string(k_minimal + R"(    region: eu-west-1
    priority: 7
    weight: 1000
    aws_chunked: decode
    tls: {ca_file: "", verify: false, server_name: minio.internal}
    health_check:
      type: s3
      bucket: health-bucket
      interval: 1m
      jitter: 0ms
      timeout: 250ms
      max_backoff: 1h
server:
  listen: "[::1]:0"
  workers: 4
  virtual_host_domains: [S3.Example.com, s3.local]
  max_header_size: 1048576
  max_aws_chunk_size: 8 KiB
  allow_anonymous: true
routing:
  policy: weighted
  failback: manual
  failback_stable_period: 0s
  passive_failure_statuses: []
  retries: {max_attempts: 1, replay_buffer_size: 0}
logging: {level: debug, format: json, access_log: false}
)");
    INFO(all_problems(r));
    REQUIRE(r.ok());
    const config& c = *r.cfg;
    CHECK(c.server.listen.host == "::1");
    CHECK(c.server.listen.port == 0);
    CHECK(c.server.listen.to_string() == "[::1]:0");
    CHECK(c.server.worker_count() == 4);
    CHECK(c.server.virtual_host_domains == std::vector<std::string>{"s3.example.com", "s3.local"});
    CHECK(c.server.max_header_size == 1048576);
    CHECK(c.server.max_aws_chunk_size == 8192);
    CHECK(c.server.allow_anonymous);
    const backend_config& b = c.backends[0];
    CHECK(b.region == "eu-west-1");
    CHECK(b.priority == 7);
    CHECK(b.weight == 1000);
    CHECK(b.aws_chunked == aws_chunked_mode::decode);
    CHECK_FALSE(b.tls.verify);
    CHECK(b.tls.server_name == "minio.internal");
    CHECK(b.health_check.type == health_check_type::s3);
    CHECK(b.health_check.bucket == "health-bucket");
    CHECK(b.health_check.interval == 1min);
    CHECK(b.health_check.jitter == 0ms);
    CHECK(b.health_check.timeout == 250ms);
    CHECK(b.health_check.max_backoff == 1h);
    CHECK(c.routing.policy == routing_policy::weighted);
    CHECK(c.routing.failback == failback_mode::manual);
    CHECK(c.routing.failback_stable_period == 0ms);
    CHECK(c.routing.passive_failure_statuses.empty());
    CHECK(c.routing.retries.max_attempts == 1);
    CHECK(c.routing.retries.replay_buffer_size == 0);
    CHECK(c.logging.level == log_level::debug);
    CHECK(c.logging.format == log_format::json);
    CHECK_FALSE(c.logging.access_log);
    CHECK(to_string(c.routing.failback) == "manual");
    CHECK(to_string(routing_policy::least_requests) == "least_requests");
}

TEST_CASE("unknown keys are reported with a suggestion", "[unit][config]") {
    auto p = single_problem("server:\n  listne: 0.0.0.0:9000\n" + k_minimal);
    CHECK(p.line == 2);
    CHECK(p.column == 3);
    CHECK(p.message == "unknown key `listne` in `server`");
    CHECK(p.hint == "did you mean `listen`?");

    auto far = single_problem(k_minimal + "    helth_chek: {}\n");
    CHECK(far.line == 9);
    CHECK(far.hint == "did you mean `health_check`?");

    auto none = single_problem(k_minimal + "zzz: 1\n");
    CHECK(none.line == 9);
    CHECK(none.column == 1);
    CHECK(none.message == "unknown key `zzz` at the top level");
    CHECK(none.hint.find("valid keys here:") != std::string::npos);
    CHECK(none.hint.find("`routing`") != std::string::npos);
}

TEST_CASE("wrong value types are reported at the value", "[unit][config]") {
    SECTION("a map where a list is expected") {
        auto p = single_problem("server:\n  virtual_host_domains: {a: 1}\n" + k_minimal);
        CHECK(p.line == 2);
        CHECK(p.column == 25);
        CHECK(p.message.find("must be a list, got a map") != std::string::npos);
    }
    SECTION("a list where a map is expected") {
        auto p = single_problem(k_minimal + "routing:\n  retries: [1, 2]\n");
        CHECK(p.line == 10);
        CHECK(p.column == 12);
        CHECK(p.message == "`routing.retries` must be a map, got a list");
    }
    SECTION("a boolean where an integer is expected") {
        auto p = single_problem("server:\n  workers: true\n" + k_minimal);
        CHECK(p.line == 2);
        CHECK(p.column == 12);
        CHECK(p.message == "`server.workers` must be an integer, got `true`");
        CHECK(p.hint == "this is a boolean, not a number");
    }
    SECTION("yes is not a boolean") {
        auto p = single_problem("server:\n  allow_anonymous: yes\n" + k_minimal);
        CHECK(p.line == 2);
        CHECK(p.column == 20);
        CHECK(p.message == "`server.allow_anonymous` must be true or false, got `yes`");
        CHECK(p.hint == "write exactly `true` or `false`");
    }
    SECTION("a non-integer port") {
        auto p = single_problem("server:\n  listen: \"0.0.0.0:http\"\n" + k_minimal);
        CHECK(p.line == 2);
        CHECK(p.column == 11);
        CHECK(p.message == "`server.listen`: invalid port `http`");
    }
    SECTION("a listen address without a port") {
        auto p = single_problem("admin:\n  listen: localhost\n" + k_minimal);
        CHECK(p.message.find("missing port") != std::string::npos);
    }
    SECTION("a bare number as a duration") {
        auto p = single_problem(k_minimal + "shutdown:\n  drain_timeout: 30\n");
        CHECK(p.line == 10);
        CHECK(p.column == 18);
        CHECK(p.message == "`shutdown.drain_timeout`: duration `30` has no unit");
        CHECK(p.hint == "add a unit, e.g. 5s");
    }
    SECTION("a decimal size unit") {
        auto p = single_problem("server:\n  max_header_size: 64KB\n" + k_minimal);
        CHECK(p.line == 2);
        CHECK(p.message.find("unknown size unit `KB`") != std::string::npos);
        CHECK(p.hint.find("KiB") != std::string::npos);
    }
    SECTION("an empty value") {
        auto p = single_problem("server:\n  region:\n" + k_minimal);
        CHECK(p.line == 2);
        CHECK(p.column == 3); // no value node: the key
        CHECK(p.message == "`server.region` must be a string, got nothing");
    }
    SECTION("a list of statuses with a non-number") {
        auto p = single_problem(k_minimal + "routing:\n  retry_statuses: [502, x]\n");
        CHECK(p.message.find("retry_statuses") != std::string::npos);
        CHECK(p.line == 10);
    }
    SECTION("the whole document is not a map") {
        auto p = single_problem("- a\n- b\n");
        CHECK(p.line == 1);
        CHECK(p.message.find("must be a map of sections") != std::string::npos);
    }
}

TEST_CASE("bad enum values list the allowed ones", "[unit][config]") {
    auto p = single_problem(k_minimal + "routing:\n  policy: fastest\n");
    CHECK(p.line == 10);
    CHECK(p.column == 11);
    CHECK(p.message == "`routing.policy` has an invalid value `fastest`");
    CHECK(p.hint == "allowed values: `failover`, `round_robin`, `random`, `least_requests` or "
                    "`weighted`");

    auto m = single_problem(k_minimal + "    health_check: {method: POST}\n");
    CHECK(m.hint == "allowed values: `GET` or `HEAD`");
    auto l = single_problem(k_minimal + "logging: {level: verbose}\n");
    CHECK(l.hint.find("`critical`") != std::string::npos);
}

TEST_CASE("bad endpoint URLs are refused", "[unit][config]") {
    auto with_endpoint = [](const std::string& ep) {
        std::string yaml = k_minimal;
        yaml.replace(yaml.find("http://127.0.0.1:9100"), 21, ep);
        return single_problem(yaml);
    };
    auto p = with_endpoint("ftp://127.0.0.1:9100");
    CHECK(p.line == 6);
    CHECK(p.column == 15);
    CHECK(p.message == "`backends[0].endpoint`: unsupported URL scheme `ftp`");
    CHECK(with_endpoint("127.0.0.1:9100").message.find("is not a URL") != std::string::npos);
    CHECK(with_endpoint("http://127.0.0.1:9100/bucket").message.find("path") != std::string::npos);
    CHECK(with_endpoint("http://127.0.0.1:9100?x=1").message.find("query") != std::string::npos);
    CHECK(with_endpoint("http://u:p@127.0.0.1:9100").message.find("user info") !=
          std::string::npos);
    CHECK(with_endpoint("http://127.0.0.1:70000").message.find("invalid port") !=
          std::string::npos);
    CHECK(with_endpoint("http://").message.find("no host") != std::string::npos);
}

TEST_CASE("out-of-range numbers are reported", "[unit][config]") {
    auto p = single_problem(k_minimal + "    priority: 0\n");
    CHECK(p.line == 9);
    CHECK(p.column == 15);
    CHECK(p.message == "`backends[0].priority` must be between 1 and 1000, got 0");
    CHECK(single_problem(k_minimal + "    weight: -3\n").message.find("between 1 and 1000") !=
          std::string::npos);
    CHECK(single_problem(k_minimal + "    health_check: {expected_statuses: [200, 600]}\n")
              .message.find("between 100 and 599, got 600") != std::string::npos);
    CHECK(single_problem(k_minimal + "routing: {passive_failure_statuses: [404]}\n")
              .message.find("between 500 and 599") != std::string::npos);
    CHECK(single_problem(k_minimal + "routing: {retries: {max_attempts: 0}}\n")
              .message.find("max_attempts") != std::string::npos);
    CHECK(single_problem(k_minimal + "    health_check: {rise: 0}\n").message.find("rise") !=
          std::string::npos);
    CHECK(single_problem("server: {max_header_size: 2MiB}\n" + k_minimal)
              .message.find("between 1KiB and 1MiB") != std::string::npos);
    CHECK(single_problem("server: {header_read_timeout: 0s}\n" + k_minimal)
              .message.find("at least 1ms") != std::string::npos);
}

TEST_CASE("missing required keys point at the enclosing map", "[unit][config]") {
    SECTION("no credentials and no backends") {
        auto r = load_config_string("server:\n  workers: 2\n");
        REQUIRE(r.problems.size() == 2);
        auto c = problem_with(r, "missing required key `credentials`");
        CHECK(c.line == 1);
        CHECK(c.column == 1);
        problem_with(r, "missing required key `backends`");
    }
    SECTION("an empty document") {
        auto r = load_config_string("");
        CHECK(r.problems.size() == 2);
        CHECK_FALSE(r.cfg);
    }
    SECTION("an empty list") {
        auto p = single_problem("credentials: []\n" + k_minimal.substr(k_minimal.find("backends")));
        CHECK(p.line == 1);
        CHECK(p.column == 14);
        CHECK(p.message == "`credentials` must contain at least one credential");
    }
    SECTION("a backend without endpoint") {
        std::string yaml = k_minimal;
        yaml.erase(yaml.find("    endpoint"),
                   std::string("    endpoint: http://127.0.0.1:9100\n").size());
        auto p = single_problem(yaml);
        CHECK(p.line == 5);
        CHECK(p.column == 5);
        CHECK(p.message == "missing required key `backends[0].endpoint`");
    }
    SECTION("a credential without a secret") {
        std::string yaml = k_minimal;
        yaml.erase(yaml.find("    secret_key: client-secret\n"), 30);
        auto p = single_problem(yaml);
        CHECK(p.line == 2);
        CHECK(p.column == 5);
        CHECK(p.message == "missing required secret `credentials[0].secret_key`");
        CHECK(p.hint == "give one of `secret_key`, `secret_key_env` or `secret_key_file`");
    }
}

TEST_CASE("duplicates point at the second occurrence and name the first", "[unit][config]") {
    SECTION("backend names") {
        auto p = single_problem(k_minimal + R"(  - name: minio-a
    endpoint: http://127.0.0.1:9101
    access_key: k
    secret_key: s
)");
        CHECK(p.line == 9);
        CHECK(p.column == 11);
        CHECK(p.message == "duplicate backend name `minio-a` (first given at line 5, column 11)");
    }
    SECTION("access keys") {
        std::string yaml = k_minimal;
        yaml.insert(yaml.find("backends:"), "  - access_key: AKCLIENT\n    secret_key: other\n");
        auto p = single_problem(yaml);
        CHECK(p.line == 4);
        CHECK(p.column == 17);
        CHECK(p.message == "duplicate access key `AKCLIENT` (first given at line 2, column 17)");
    }
    SECTION("map keys") {
        auto p = single_problem("server:\n  workers: 1\n  workers: 2\n" + k_minimal);
        CHECK(p.line == 3);
        CHECK(p.column == 3);
        CHECK(p.message == "duplicate key `server.workers` (first given at line 2, column 3)");
    }
}

TEST_CASE("cross-field checks", "[unit][config]") {
    auto timeout = single_problem(k_minimal + "    health_check: {interval: 2s, timeout: 2s}\n");
    CHECK(timeout.line == 9);
    CHECK(timeout.column == 43);
    CHECK(timeout.message ==
          "`backends[0].health_check.timeout` (2s) must be less than `interval` (2s)");
    auto jitter = single_problem(k_minimal + "    health_check: {interval: 3s, jitter: 3s}\n");
    CHECK(jitter.message ==
          "`backends[0].health_check.jitter` (3s) must be less than `interval` (3s)");
    auto backoff =
        single_problem(k_minimal + "    health_check: {interval: 2m, max_backoff: 1m}\n");
    CHECK(backoff.message.find("must be at least `interval` (2m)") != std::string::npos);
    auto s3_only = single_problem(k_minimal + "    health_check: {type: s3, path: /x}\n");
    CHECK(s3_only.message == "`backends[0].health_check.path` applies only to type `http`");
    CHECK(single_problem(k_minimal + "    health_check: {path: minio/health}\n")
              .message.find("must start with `/`") != std::string::npos);

    temp_file cert("cert"), key("key");
    auto tls =
        single_problem("server:\n  tls:\n    key_file: " + key.path.string() + "\n" + k_minimal);
    CHECK(tls.line == 3);
    CHECK(tls.column == 5);
    CHECK(tls.message == "`server.tls.key_file` is set but `server.tls.cert_file` is not");

    auto both = load_config_string("server:\n  tls:\n    cert_file: " + cert.path.string() +
                                   "\n    key_file: " + key.path.string() + "\n" + k_minimal);
    INFO(all_problems(both));
    REQUIRE(both.ok());
    CHECK(both.cfg->server.tls.enabled());
    auto missing = single_problem("server:\n  tls: {cert_file: " + cert.path.string() +
                                  ", key_file: /nonexistent/s3ha/key.pem}\n" + k_minimal);
    CHECK(missing.message.find("cannot read `server.tls.key_file`") != std::string::npos);

    // Empty region and a weighted policy with default weights.
    auto region = single_problem("server: {region: \"\"}\n" + k_minimal);
    CHECK(region.message == "`server.region` must not be empty");
    CHECK(load_config_string(k_minimal + "routing: {policy: weighted}\n").ok());
}

TEST_CASE("secrets resolve from the environment and from files", "[unit][config]") {
    temp_file secret_file("file-secret\n");
    std::string yaml = k_minimal;
    yaml.replace(yaml.find("secret_key: client-secret"), 25, "secret_key_env: S3HA_TEST_SECRET");
    yaml.replace(yaml.find("secret_key: backend-secret"), 26,
                 "secret_key_file: " + secret_file.path.string());
    yaml += "admin:\n  token_env: S3HA_TEST_TOKEN\n";
    auto env = fake_env({{"S3HA_TEST_SECRET", "env-secret"}, {"S3HA_TEST_TOKEN", "tok"}});
    auto r = load_config_string(yaml, env);
    INFO(all_problems(r));
    REQUIRE(r.ok());
    CHECK(r.cfg->credentials[0].secret_key == "env-secret");
    CHECK(r.cfg->backends[0].secret_key == "file-secret"); // trailing newline stripped
    CHECK(r.cfg->admin.token == "tok");

    SECTION("an unset variable") {
        auto p = single_problem(yaml, fake_env({{"S3HA_TEST_TOKEN", "tok"}}));
        CHECK(p.line == 3);
        CHECK(p.column == 21);
        CHECK(p.message == "environment variable `S3HA_TEST_SECRET` (for "
                           "`credentials[0].secret_key_env`) is not set");
    }
    SECTION("an unreadable file") {
        std::string bad = yaml;
        bad.replace(bad.find(secret_file.path.string()), secret_file.path.string().size(),
                    "/nonexistent/s3ha/secret");
        auto p = single_problem(bad, env);
        CHECK(p.line == 8);
        CHECK(p.message.find("cannot read secret file `/nonexistent/s3ha/secret`") !=
              std::string::npos);
    }
    SECTION("two forms at once") {
        auto p = single_problem(yaml + "  token: inline\n", env);
        CHECK(p.line == 11);
        CHECK(p.column == 3);
        CHECK(p.message == "`admin.token` conflicts with `admin.token_env` (line 10, column 3)");
    }
    SECTION("an empty secret") {
        auto p =
            single_problem(yaml, fake_env({{"S3HA_TEST_SECRET", ""}, {"S3HA_TEST_TOKEN", "t"}}));
        CHECK(p.message == "secret `credentials[0].secret_key` is empty");
    }
    SECTION("the process environment is the default") {
        ::setenv("S3HA_TEST_SECRET", "from-getenv", 1);
        ::setenv("S3HA_TEST_TOKEN", "t", 1);
        auto real = load_config_string(yaml);
        ::unsetenv("S3HA_TEST_SECRET");
        ::unsetenv("S3HA_TEST_TOKEN");
        REQUIRE(real.ok());
        CHECK(real.cfg->credentials[0].secret_key == "from-getenv");
    }
}

TEST_CASE("secret values never appear in problems", "[unit][config]") {
    temp_file secret_file("FILESECRET-3\n");
    const std::string yaml = R"(admin:
  token: TOKENSECRET-1
  token_env: TOKEN_VAR
credentials:
  - access_key: AK
    secret_key: INLINESECRET-2
    secret_key_file: )" + secret_file.path.string() +
                             R"(
  - access_key: AK
    secret_key_env: SECRET_VAR
    secret_kye: TYPOSECRET-4
backends:
  - name: a
    endpoint: http://x
    access_key: k
    secret_key: {nested: MAPSECRET-5}
  - name: b
    endpoint: http://y
    access_key: k
    secret_key: [LISTSECRET-6]
)";
    auto r = load_config_string(
        yaml, fake_env({{"TOKEN_VAR", "ENVSECRET-7"}, {"SECRET_VAR", "ENVSECRET-8"}}));
    INFO(all_problems(r));
    CHECK(r.problems.size() >= 5);
    for (const auto& p : r.problems) {
        const std::string text = format_problem("f", p);
        CHECK(text.find("SECRET-") == std::string::npos);
    }
}

TEST_CASE("a configuration with many mistakes reports every one", "[unit][config]") {
    const std::string yaml = R"(server:
  listne: "0.0.0.0:9000"
  workers: yes
  header_read_timeout: 10
credentials:
  - access_key: AK1
    secret_key: s1
  - access_key: AK1
    secret_key: s2
backends:
  - name: minio-a
    endpoint: ftp://127.0.0.1:9100
    access_key: k
    secret_key: s
    priority: 0
    health_check:
      interval: 2s
      timeout: 3s
  - name: minio-a
    endpoint: http://127.0.0.1:9101
    secret_key: s
routing:
  policy: fastest
logging:
  level: verbose
)";
    auto r = load_config_string(yaml);
    INFO(all_problems(r));
    CHECK_FALSE(r.cfg);
    struct expected {
        const char* text;
        std::size_t line;
        std::size_t column;
    };
    const expected all[] = {
        {"unknown key `listne`", 2, 3},
        {"`server.workers` must be an integer", 3, 12},
        {"duration `10` has no unit", 4, 24},
        {"duplicate access key `AK1`", 8, 17},
        {"unsupported URL scheme `ftp`", 12, 15},
        {"`backends[0].priority` must be between 1 and 1000", 15, 15},
        {"`backends[0].health_check.timeout` (3s) must be less than", 18, 16},
        {"missing required key `backends[1].access_key`", 19, 5},
        {"duplicate backend name `minio-a`", 19, 11},
        {"`routing.policy` has an invalid value `fastest`", 23, 11},
        {"`logging.level` has an invalid value `verbose`", 25, 10},
    };
    CHECK(r.problems.size() == std::size(all));
    for (const auto& e : all) {
        auto p = problem_with(r, e.text);
        CHECK(p.line == e.line);
        CHECK(p.column == e.column);
    }
    // Problems come sorted by position.
    for (std::size_t i = 1; i < r.problems.size(); ++i) {
        CHECK(std::pair(r.problems[i - 1].line, r.problems[i - 1].column) <=
              std::pair(r.problems[i].line, r.problems[i].column));
    }
}

TEST_CASE("YAML syntax errors carry their position", "[unit][config]") {
    auto p = single_problem("server:\n  listen: [0.0.0.0\n");
    CHECK(p.line >= 2);
    CHECK(p.message.rfind("YAML syntax error: ", 0) == 0);
    auto q = single_problem("server:\n  listen: a: b\n");
    CHECK(q.line >= 2);
    auto bad_indent = single_problem("server:\n  workers: 1\n listen: x\n");
    CHECK(bad_indent.line == 3);
}

TEST_CASE("format_problem and unreadable files", "[unit][config]") {
    CHECK(format_problem("s3ha.yaml", {3, 7, "bad thing", "fix it"}) ==
          "s3ha.yaml:3:7: error: bad thing (hint: fix it)");
    CHECK(format_problem("s3ha.yaml", {3, 7, "bad thing", ""}) ==
          "s3ha.yaml:3:7: error: bad thing");
    CHECK(format_problem("s3ha.yaml", {0, 0, "unreadable", ""}) == "s3ha.yaml: error: unreadable");
    auto r = load_config_file("/nonexistent/s3ha.yaml");
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].line == 0);
    CHECK(r.problems[0].message.find("cannot read the configuration file") != std::string::npos);
}

TEST_CASE("an empty secret file path is refused", "[unit][config]") {
    auto p = single_problem(k_minimal + "admin:\n  token_file: \"\"\n");
    CHECK(p.line == 10);
    CHECK(p.column == 15);
    CHECK(p.message == "`admin.token_file` is an empty path");
}

// The request limits of issue 17: server.body_min_rate and
// server.max_aws_chunk_buffer_per_worker (defaults, ranges, validation messages).
TEST_CASE("server.body_min_rate: default, sizes, 0 = off, range", "[unit][config][limits]") {
    CHECK(loaded_server("").body_min_rate == 1024);
    CHECK(server_config{}.body_min_rate == 1024);
    CHECK(loaded_server("server: {body_min_rate: 0}\n").body_min_rate == 0);
    CHECK(loaded_server("server: {body_min_rate: 500}\n").body_min_rate == 500);
    CHECK(loaded_server("server: {body_min_rate: 64KiB}\n").body_min_rate == 64 * 1024);

    auto too_big = single_problem("server: {body_min_rate: 2GiB}\n" + k_minimal);
    CHECK(too_big.line == 1);
    CHECK(too_big.message == "`server.body_min_rate` must be between 0 and 1GiB, got `2GiB`");
    auto decimal_unit = single_problem("server: {body_min_rate: 1KB}\n" + k_minimal);
    CHECK(decimal_unit.message.find("`server.body_min_rate`") == 0);
    auto not_a_size = single_problem("server: {body_min_rate: fast}\n" + k_minimal);
    CHECK(not_a_size.message.find("`server.body_min_rate`") == 0);
    auto negative = single_problem("server: {body_min_rate: -1}\n" + k_minimal);
    CHECK(negative.message.find("`server.body_min_rate`") == 0);
}

TEST_CASE("server.max_aws_chunk_buffer_per_worker: default, raised default, at least one chunk",
          "[unit][config][limits]") {
    CHECK(loaded_server("").max_aws_chunk_buffer_per_worker == 64 * k_mib);
    CHECK(server_config{}.max_aws_chunk_buffer_per_worker == 64 * k_mib);
    // Not given: never below max_aws_chunk_size (a configuration valid before stays valid).
    CHECK(loaded_server("server: {max_aws_chunk_size: 256MiB}\n").max_aws_chunk_buffer_per_worker ==
          256 * k_mib);
    CHECK(loaded_server("server: {max_aws_chunk_size: 1MiB}\n").max_aws_chunk_buffer_per_worker ==
          64 * k_mib);
    CHECK(loaded_server("server: {max_aws_chunk_buffer_per_worker: 16MiB}\n")
              .max_aws_chunk_buffer_per_worker == 16 * k_mib); // == max_aws_chunk_size: allowed
    CHECK(loaded_server("server: {max_aws_chunk_size: 8KiB, max_aws_chunk_buffer_per_worker: "
                        "8KiB}\n")
              .max_aws_chunk_buffer_per_worker == 8 * 1024);

    auto small = single_problem("server:\n  max_aws_chunk_size: 32MiB\n"
                                "  max_aws_chunk_buffer_per_worker: 16MiB\n" +
                                k_minimal);
    CHECK(small.line == 3);
    CHECK(small.column == 36);
    CHECK(small.message == "`server.max_aws_chunk_buffer_per_worker` (16MiB) must be at least "
                           "`server.max_aws_chunk_size` (32MiB)");
    CHECK_FALSE(small.hint.empty());
    // Out of range: one problem, not a second one about max_aws_chunk_size.
    auto range = single_problem("server: {max_aws_chunk_buffer_per_worker: 4KiB}\n" + k_minimal);
    CHECK(range.message ==
          "`server.max_aws_chunk_buffer_per_worker` must be between 8KiB and 64GiB, got `4KiB`");
    auto huge = single_problem("server: {max_aws_chunk_buffer_per_worker: 65GiB}\n" + k_minimal);
    CHECK(huge.message.find("between 8KiB and 64GiB") != std::string::npos);
    auto typo = single_problem("server: {max_aws_chunk_buffer_per_workers: 1MiB}\n" + k_minimal);
    CHECK(typo.message.find("unknown key") != std::string::npos);
}

TEST_CASE("the example configuration documents the new limits' defaults",
          "[unit][config][limits]") {
    auto r = load_config_file(S3HA_SOURCE_DIR "/config/s3ha.example.yaml");
    INFO(all_problems(r));
    REQUIRE(r.ok());
    const server_config defaults;
    CHECK(r.cfg->server.body_min_rate == defaults.body_min_rate);
    CHECK(r.cfg->server.max_aws_chunk_buffer_per_worker ==
          defaults.max_aws_chunk_buffer_per_worker);
}
