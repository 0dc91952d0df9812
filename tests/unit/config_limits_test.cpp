// The request limits of issue 17: server.body_min_rate and server.max_aws_chunk_buffer_per_worker
// (loading, defaults, validation messages), and the example configuration documenting them.
#include "s3ha/config/loader.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace s3ha;

namespace {

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
    for (const auto& p : r.problems)
        out += format_problem("test.yaml", p) + "\n";
    return out;
}

config_problem single_problem(const std::string& yaml) {
    auto r = load_config_string(yaml, {});
    INFO(all_problems(r));
    REQUIRE(r.problems.size() == 1);
    CHECK_FALSE(r.cfg);
    return r.problems.front();
}

server_config loaded_server(const std::string& server_yaml) {
    auto r = load_config_string(server_yaml + k_minimal, {});
    INFO(all_problems(r));
    REQUIRE(r.ok());
    return r.cfg->server;
}

constexpr std::uint64_t k_mib = 1024 * 1024;

} // namespace

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
