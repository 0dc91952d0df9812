#include "s3ha/proxy/hop_by_hop.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace http = boost::beast::http;
using namespace s3ha::proxy;

TEST_CASE("hop-by-hop headers and Connection-named headers are removed", "[unit][proxy]") {
    http::fields f;
    f.set(http::field::connection, "keep-alive, X-Private-Hop");
    f.set(http::field::keep_alive, "timeout=5");
    f.set(http::field::transfer_encoding, "chunked");
    f.set(http::field::upgrade, "h2c");
    f.set(http::field::te, "trailers");
    f.set(http::field::proxy_authorization, "Basic x");
    f.set("X-Private-Hop", "1");
    f.set("x-amz-meta-keep", "yes");
    f.set(http::field::content_type, "text/plain");
    f.set(http::field::content_length, "5");
    strip_hop_by_hop(f);
    CHECK(f.count(http::field::connection) == 0);
    CHECK(f.count(http::field::keep_alive) == 0);
    CHECK(f.count(http::field::transfer_encoding) == 0);
    CHECK(f.count(http::field::upgrade) == 0);
    CHECK(f.count(http::field::te) == 0);
    CHECK(f.count(http::field::proxy_authorization) == 0);
    CHECK(f.count("x-private-hop") == 0);
    CHECK(f["x-amz-meta-keep"] == "yes");
    CHECK(f[http::field::content_type] == "text/plain");
    CHECK(f[http::field::content_length] == "5");
}

TEST_CASE("Connection: keep-alive and close name their headers too", "[unit][proxy]") {
    http::fields f;
    f.set(http::field::connection, "Keep-Alive");
    f.set(http::field::keep_alive, "timeout=5");
    f.set("Close", "1"); // RFC 9110 §18.4: reserved, as it would clash with the close option
    f.set("x-amz-meta-keep", "yes");
    hop_by_hop_filter filter(f);
    CHECK(filter.drops(*f.find(http::field::keep_alive)));
    CHECK_FALSE(filter.drops(*f.find("Close")));
    CHECK_FALSE(filter.drops(*f.find("x-amz-meta-keep")));
    f.set(http::field::connection, "close");
    CHECK(hop_by_hop_filter(f).drops(*f.find("Close")));
}

TEST_CASE("stripping keeps the other headers, repeats included, in order", "[unit][proxy]") {
    http::fields f;
    f.insert("X-A", "1");
    f.insert(http::field::proxy_connection, "keep-alive");
    f.insert(http::field::connection, "x-hop");
    f.insert("X-Hop", "1");
    f.insert("X-A", "2");
    f.insert(http::field::trailer, "x-amz-checksum-crc32");
    f.insert("x-hop", "2");
    f.insert(http::field::proxy_authenticate, "Basic");
    f.insert(http::field::connection, "close");
    f.insert("X-B", "3");
    strip_hop_by_hop(f);
    std::vector<std::string> left;
    for (const auto& field : f)
        left.push_back(std::string(field.name_string()) + "=" + std::string(field.value()));
    CHECK(left == std::vector<std::string>{"X-A=1", "X-A=2", "X-B=3"});
}

TEST_CASE("Via loop detection finds our own pseudonym only", "[unit][proxy]") {
    http::fields f;
    CHECK_FALSE(via_contains(f, "s3ha-a"));
    f.insert(http::field::via, "1.0 fred, 1.1 p.example.net (Apache/1.1)");
    CHECK_FALSE(via_contains(f, "s3ha-a"));
    CHECK_FALSE(via_contains(f, "s3ha"));     // a prefix is not a match
    f.insert(http::field::via, "1.1 s3ha-a"); // what an upstream request of s3ha-a carries
    CHECK(via_contains(f, "s3ha-a"));
    CHECK(via_contains(f, "S3HA-A"));
    CHECK(f.count(http::field::via) == 2);
    http::fields g;
    g.insert(http::field::via, "1.1 other, 1.1 s3ha-a (s3ha/0.1)");
    CHECK(via_contains(g, "s3ha-a"));
}
