#include "s3ha/config/value_parsers.hpp"

#include <catch2/catch.hpp>

using namespace s3ha;
using namespace s3ha::config_values;
using namespace std::chrono_literals;

TEST_CASE("durations need a unit", "[unit][config]") {
    CHECK(*parse_duration("250ms").value == 250ms);
    CHECK(*parse_duration("5s").value == 5s);
    CHECK(*parse_duration("2m").value == 2min);
    CHECK(*parse_duration("1h").value == 1h);
    CHECK(*parse_duration("0s").value == 0ms);
    CHECK(*parse_duration("10 s").value == 10s);
    auto bare = parse_duration("5");
    CHECK_FALSE(bare.value);
    CHECK(bare.hint == "add a unit, e.g. 5s");
    CHECK_FALSE(parse_duration("5d").value);
    CHECK_FALSE(parse_duration("1.5s").value);
    CHECK_FALSE(parse_duration("-1s").value);
    CHECK_FALSE(parse_duration("s").value);
    CHECK_FALSE(parse_duration("").value);
    CHECK_FALSE(parse_duration("99999999999999999999h").value);
}

TEST_CASE("sizes are bytes or binary units", "[unit][config]") {
    CHECK(*parse_size("0").value == 0);
    CHECK(*parse_size("1048576").value == 1048576);
    CHECK(*parse_size("512B").value == 512);
    CHECK(*parse_size("64KiB").value == 65536);
    CHECK(*parse_size("16 MiB").value == 16u << 20);
    CHECK(*parse_size("2GiB").value == 2ULL << 30);
    CHECK_FALSE(parse_size("64KB").value);
    CHECK_FALSE(parse_size("1.5MiB").value);
    CHECK_FALSE(parse_size("MiB").value);
    CHECK_FALSE(parse_size("99999999999GiB").value);
}

TEST_CASE("listen addresses", "[unit][config]") {
    auto a = parse_listen_address("0.0.0.0:9000");
    REQUIRE(a.value);
    CHECK(a.value->host == "0.0.0.0");
    CHECK(a.value->port == 9000);
    auto v6 = parse_listen_address("[::1]:0");
    REQUIRE(v6.value);
    CHECK(v6.value->host == "::1");
    CHECK(v6.value->port == 0);
    CHECK(v6.value->to_string() == "[::1]:0");
    CHECK(parse_listen_address("Localhost:80").value->host == "localhost");
    CHECK_FALSE(parse_listen_address("0.0.0.0").value);
    CHECK_FALSE(parse_listen_address(":9000").value);
    CHECK_FALSE(parse_listen_address("::1:9000").value);
    CHECK_FALSE(parse_listen_address("[::1]9000").value);
    CHECK_FALSE(parse_listen_address("[::1:9000").value);
    CHECK_FALSE(parse_listen_address("host:65536").value);
    CHECK_FALSE(parse_listen_address("host:-1").value);
    CHECK_FALSE(parse_listen_address("ho st:1").value);
}

TEST_CASE("endpoint URLs", "[unit][config]") {
    auto e = parse_endpoint("http://127.0.0.1:9100");
    REQUIRE(e.value);
    CHECK(e.value->scheme == "http");
    CHECK(e.value->host == "127.0.0.1");
    CHECK(e.value->port == 9100);
    CHECK(e.value->to_string() == "http://127.0.0.1:9100");
    auto https = parse_endpoint("HTTPS://MinIO.example.com/");
    REQUIRE(https.value);
    CHECK(https.value->is_https());
    CHECK(https.value->host == "minio.example.com");
    CHECK(https.value->port == 443);
    CHECK(https.value->host_header() == "minio.example.com");
    CHECK(parse_endpoint("http://h").value->port == 80);
    auto v6 = parse_endpoint("http://[::1]:9000");
    REQUIRE(v6.value);
    CHECK(v6.value->host == "::1");
    CHECK(v6.value->host_header() == "[::1]:9000");
    CHECK_FALSE(parse_endpoint("http://h:0").value);
    CHECK_FALSE(parse_endpoint("http://h/path").value);
    CHECK_FALSE(parse_endpoint("http://h#frag").value);
    CHECK_FALSE(parse_endpoint("http://user@h").value);
    CHECK_FALSE(parse_endpoint("tcp://h:1").value);
    CHECK_FALSE(parse_endpoint("h:1").value);
}

TEST_CASE("edit distance counts a transposition once", "[unit][config]") {
    CHECK(edit_distance("listen", "listen") == 0);
    CHECK(edit_distance("listne", "listen") == 1);
    CHECK(edit_distance("timout", "timeout") == 1);
    CHECK(edit_distance("", "abc") == 3);
    CHECK(edit_distance("kitten", "sitting") == 3);
}
