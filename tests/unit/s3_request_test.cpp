#include "s3ha/http/s3_request.hpp"

#include "s3ha/core/errc.hpp"

#include <catch2/catch.hpp>

using namespace s3ha;

namespace {
s3_address resolve(std::string_view host, std::string_view target,
                   const std::vector<std::string>& domains = {}) {
    auto r = resolve_s3_address(host, target, domains);
    REQUIRE(r.has_value());
    return *r;
}
s3_operation op(std::string_view method, std::string_view host, std::string_view target,
                bool copy = false) {
    return classify_s3_operation(method, resolve(host, target), copy);
}
} // namespace

TEST_CASE("path-style addresses keep the key exactly", "[unit][s3_request]") {
    auto a = resolve("127.0.0.1:9000", "/bucket/dir//a%20b%2Bc~?versionId=3");
    CHECK(a.bucket == "bucket");
    CHECK(a.key == "dir//a b+c~");
    CHECK(a.path == "/bucket/dir//a%20b%2Bc~");
    CHECK(a.query == "versionId=3");
    CHECK_FALSE(a.virtual_host);
    CHECK(resolve("h", "/").bucket.empty());
    CHECK(resolve("h", "/b").key.empty());
    CHECK(resolve("h", "/b/").key.empty());
    CHECK(resolve("h", "http://h:9000/b/k?x").key == "k");
    CHECK(resolve("h", "/b/%E2%82%AC").key == "\xE2\x82\xAC");
}

TEST_CASE("virtual-hosted addresses become path-style", "[unit][s3_request]") {
    std::vector<std::string> domains{"s3.example.com"};
    auto a = resolve("photos.s3.example.com:9000", "/2024/a%20b.jpg?x=1", domains);
    CHECK(a.virtual_host);
    CHECK(a.bucket == "photos");
    CHECK(a.key == "2024/a b.jpg");
    CHECK(a.path == "/photos/2024/a%20b.jpg");
    CHECK(a.query == "x=1");
    auto b = resolve("Photos.S3.Example.COM", "/", domains);
    CHECK(b.bucket == "Photos");
    CHECK(b.path == "/Photos");
    // The bare domain and other hosts are path-style.
    CHECK_FALSE(resolve("s3.example.com", "/b/k", domains).virtual_host);
    CHECK_FALSE(resolve("xs3.example.com", "/b/k", domains).virtual_host);
}

TEST_CASE("bad targets are rejected", "[unit][s3_request]") {
    CHECK_FALSE(resolve_s3_address("h", "*", {}).has_value());
    CHECK_FALSE(resolve_s3_address("h", "", {}).has_value());
    CHECK(resolve_s3_address("h", "*", {}).error() == errc::invalid_request);
    CHECK(resolve_s3_address("h", "/b/%zz", {}).error() == errc::invalid_uri);
}

TEST_CASE("S3 operations are classified from method, address and query", "[unit][s3_request]") {
    using o = s3_operation;
    CHECK(op("GET", "h", "/") == o::list_buckets);
    CHECK(op("PUT", "h", "/b") == o::create_bucket);
    CHECK(op("DELETE", "h", "/b") == o::delete_bucket);
    CHECK(op("HEAD", "h", "/b") == o::head_bucket);
    CHECK(op("GET", "h", "/b?prefix=a&delimiter=/") == o::list_objects);
    CHECK(op("GET", "h", "/b?list-type=2&prefix=a") == o::list_objects_v2);
    CHECK(op("GET", "h", "/b?uploads") == o::list_multipart_uploads);
    CHECK(op("GET", "h", "/b?location") == o::get_bucket_config);
    CHECK(op("POST", "h", "/b?delete") == o::delete_objects);
    CHECK(op("GET", "h", "/b/k") == o::get_object);
    CHECK(op("HEAD", "h", "/b/k") == o::head_object);
    CHECK(op("PUT", "h", "/b/k") == o::put_object);
    CHECK(op("PUT", "h", "/b/k", true) == o::copy_object);
    CHECK(op("DELETE", "h", "/b/k") == o::delete_object);
    CHECK(op("POST", "h", "/b/k?uploads") == o::create_multipart_upload);
    CHECK(op("PUT", "h", "/b/k?partNumber=1&uploadId=x") == o::upload_part);
    CHECK(op("PUT", "h", "/b/k?partNumber=1&uploadId=x", true) == o::upload_part_copy);
    CHECK(op("POST", "h", "/b/k?uploadId=x") == o::complete_multipart_upload);
    CHECK(op("DELETE", "h", "/b/k?uploadId=x") == o::abort_multipart_upload);
    CHECK(op("GET", "h", "/b/k?uploadId=x") == o::list_parts);
    CHECK(s3_operation_name(o::get_object) == "GetObject");
    CHECK(s3_operation_name(o::other) == "Other");
}

TEST_CASE("query parameters are found by exact name", "[unit][s3_request]") {
    CHECK(query_has("uploads", "uploads"));
    CHECK(query_has("a=1&uploads=", "uploads"));
    CHECK_FALSE(query_has("uploadsx=1", "uploads"));
    CHECK(query_value("uploadId=abc&partNumber=2", "partNumber") == std::string_view("2"));
    CHECK_FALSE(query_value("", "x").has_value());
}
