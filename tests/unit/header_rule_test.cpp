// The forwarding rule for headers a client did not sign (sigv4/header_rule.hpp, README
// "Authentication"): each list, each condition, and every header the real clients in the
// integration tests send unsigned.
#include "s3ha/sigv4/header_rule.hpp"

#include <catch2/catch.hpp>

using namespace s3ha::sigv4;
namespace http = s3ha::http;

TEST_CASE("header rule: unsigned headers a backend acts on are refused", "[unit][sigv4]") {
    for (const char* name : {"x-amz-copy-source", "X-Amz-Meta-A", "x-amz-server-side-encryption",
                             "x-amz-checksum-crc32", "x-minio-force-delete", "X-Minio-Extract",
                             "x-minio-source-mtime"}) {
        INFO(name);
        CHECK(classify_unsigned_header(name, http::verb::put, false) == unsigned_header::refuse);
        CHECK(classify_unsigned_header(name, http::verb::get, false) == unsigned_header::refuse);
    }
}

TEST_CASE("header rule: the allow-list goes upstream unsigned", "[unit][sigv4]") {
    for (const char* name :
         {"User-Agent", "accept", "Accept-Encoding", "Accept-Language", "Content-Type",
          "content-md5", "Content-Encoding", "Content-Language", "Content-Disposition",
          "Cache-Control", "Expires", "If-Match", "If-None-Match", "If-Modified-Since",
          "If-Unmodified-Since", "Origin", "Access-Control-Request-Method",
          "Access-Control-Request-Headers", "Via"}) {
        INFO(name);
        for (auto m : {http::verb::get, http::verb::head, http::verb::put, http::verb::post,
                       http::verb::delete_}) {
            CHECK(classify_unsigned_header(name, m, false) == unsigned_header::forward);
        }
    }
    // A byte range is meaningful on a read only.
    CHECK(classify_unsigned_header("Range", http::verb::get, false) == unsigned_header::forward);
    CHECK(classify_unsigned_header("range", http::verb::head, false) == unsigned_header::forward);
    CHECK(classify_unsigned_header("Range", http::verb::put, false) == unsigned_header::drop);
}

TEST_CASE("header rule: everything else is dropped", "[unit][sigv4]") {
    for (const char* name :
         {"X-Forwarded-For", "X-Forwarded-Proto", "Forwarded", "X-Real-IP", "X-Request-Id",
          "traceparent", "amz-sdk-invocation-id", "amz-sdk-request", "X-Amzn-Trace-Id", "Referer",
          "Cookie", "Date", "Pragma", "x-amzfoo", "x-minio", "content-typ", "content-types",
          "a-header-name-longer-than-every-name-on-the-allow-list"}) {
        INFO(name);
        CHECK(classify_unsigned_header(name, http::verb::put, false) == unsigned_header::drop);
    }
}

TEST_CASE("header rule: anonymous requests keep x-amz-*, never x-minio-*", "[unit][sigv4]") {
    CHECK(classify_unsigned_header("x-amz-acl", http::verb::put, true) == unsigned_header::forward);
    CHECK(classify_unsigned_header("x-minio-force-delete", http::verb::delete_, true) ==
          unsigned_header::refuse);
    http::fields f;
    f.set("x-amz-acl", "public-read");
    f.set(http::field::content_type, "text/plain");
    CHECK(find_refused_anonymous_header(f, http::verb::put).empty());
    f.set("X-Minio-Extract", "true");
    CHECK(find_refused_anonymous_header(f, http::verb::get) == "X-Minio-Extract");
}
