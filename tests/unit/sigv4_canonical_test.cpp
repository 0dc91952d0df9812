// Edge cases of the canonical-request building blocks (S3 rules: one encoding pass, no path
// normalisation; query '+' read as space as S3 and MinIO do).
// Rules: "Create a canonical request", https://docs.aws.amazon.com/IAM/latest/UserGuide/
// create-signed-request.html, and the S3 page
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html (UriEncode).
#include "sigv4_test_util.hpp"

#include "s3ha/sigv4/canonical.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace s3ha::sigv4;
using s3ha::sigv4::test::make_request;
using namespace std::chrono_literals;

TEST_CASE("uri_encode keeps only the unreserved set", "[unit][sigv4]") {
    CHECK(uri_encode("AZaz09-._~", true) == "AZaz09-._~");
    CHECK(uri_encode("a b+c/d", true) == "a%20b%2Bc%2Fd");
    CHECK(uri_encode("a b+c/d", false) == "a%20b%2Bc/d");
    CHECK(uri_encode("$&'()*,;=:@!", true) == "%24%26%27%28%29%2A%2C%3B%3D%3A%40%21");
    CHECK(uri_encode("\xE1\x88\xB4", true) == "%E1%88%B4"); // U+1234, byte-wise
    CHECK(uri_encode(std::string_view("\0\xff", 2), true) == "%00%FF");
    CHECK(uri_encode("%", true) == "%25");
    CHECK(uri_encode("", true).empty());
}

TEST_CASE("percent_decode accepts both hex cases and rejects bad escapes", "[unit][sigv4]") {
    CHECK(percent_decode("a%20b%2fc%2F", false) == "a b/c/");
    CHECK(percent_decode("a+b", false) == "a+b");
    CHECK(percent_decode("a+b", true) == "a b");
    CHECK(percent_decode("%E1%88%b4", false) == "\xE1\x88\xB4");
    CHECK_FALSE(percent_decode("%", false));
    CHECK_FALSE(percent_decode("%2", false));
    CHECK_FALSE(percent_decode("abc%", false));
    CHECK_FALSE(percent_decode("%zz", false));
    CHECK_FALSE(percent_decode("%2g", true));
}

TEST_CASE("query_name_is compares the name as S3 decodes it", "[unit][sigv4]") {
    CHECK(query_name_is("X-Amz-Date", "X-Amz-Date"));
    CHECK(query_name_is("X%2DAmz-Date", "X-Amz-Date"));
    CHECK(query_name_is("%58-Amz-Date", "X-Amz-Date"));
    CHECK(query_name_is("a+b", "a b"));
    CHECK(query_name_is("a%2Bb", "a+b"));
    CHECK_FALSE(query_name_is("a+b", "a+b")); // '+' is a space
    CHECK_FALSE(query_name_is("X-Amz-Dat", "X-Amz-Date"));
    CHECK_FALSE(query_name_is("X-Amz-Dates", "X-Amz-Date"));
    CHECK_FALSE(query_name_is("x-amz-date", "X-Amz-Date")); // case matters
    CHECK_FALSE(query_name_is("X%2DAmz-Dat", "X-Amz-Date"));
    CHECK_FALSE(query_name_is("X%2", "X-")); // a bad escape matches nothing
    CHECK(query_name_is("", ""));
}

TEST_CASE("split_target handles origin-form and absolute-form", "[unit][sigv4]") {
    auto p = split_target("/bucket/key?a=1&b");
    CHECK(p.path == "/bucket/key");
    CHECK(p.query == "a=1&b");
    p = split_target("http://host:9000/bucket/key?x=y");
    CHECK(p.path == "/bucket/key");
    CHECK(p.query == "x=y");
    p = split_target("HTTPS://host");
    CHECK(p.path.empty());
    CHECK(p.query.empty());
    p = split_target("http://host?list-type=2");
    CHECK(p.path.empty());
    CHECK(p.query == "list-type=2");
    p = split_target("/?");
    CHECK(p.path == "/");
    CHECK(p.query.empty());
    CHECK(canonical_uri(split_target("http://host").path) == "/");
}

TEST_CASE("canonical_uri: decoded once, encoded once, never normalised", "[unit][sigv4]") {
    CHECK(canonical_uri("") == "/");
    CHECK(canonical_uri("/") == "/");
    CHECK(canonical_uri("//") == "//");
    CHECK(canonical_uri("/a//b/") == "/a//b/");
    CHECK(canonical_uri("/./a") == "/./a");
    CHECK(canonical_uri("/a/../b") == "/a/../b");
    CHECK(canonical_uri("/a/b/..") == "/a/b/..");
    CHECK(canonical_uri("/a b") == "/a%20b");
    CHECK(canonical_uri("/a%20b") == "/a%20b");
    CHECK(canonical_uri("/a+b") == "/a%2Bb"); // '+' in a path is a plus
    CHECK(canonical_uri("/a%2Bb") == "/a%2Bb");
    CHECK(canonical_uri("/a~b") == "/a~b");
    CHECK(canonical_uri("/a%7Eb") == "/a~b");
    CHECK(canonical_uri("/a%2Fb") == "/a/b");     // %2F decoded, then '/' kept (as MinIO)
    CHECK(canonical_uri("/a%252F") == "/a%252F"); // one decoding pass only
    CHECK(canonical_uri("/\xE1\x88\xB4") == "/%E1%88%B4");
    CHECK(canonical_uri("/%e1%88%b4") == "/%E1%88%B4");
    CHECK(canonical_uri("/test$file.text") == "/test%24file.text");
    CHECK_FALSE(canonical_uri("/a%zz"));
    CHECK_FALSE(canonical_uri("/a%"));
}

TEST_CASE("canonical_query: decode, encode, sort", "[unit][sigv4]") {
    CHECK(canonical_query("") == "");
    CHECK(canonical_query("lifecycle") == "lifecycle=");
    CHECK(canonical_query("acl=") == "acl=");
    CHECK(canonical_query("b=2&a=1") == "a=1&b=2");
    CHECK(canonical_query("a=2&a=1&a=10") == "a=1&a=10&a=2"); // repeated keys: by value
    CHECK(canonical_query("B=1&a=1") == "B=1&a=1");           // byte order: upper first
    CHECK(canonical_query("prefix=a+b") == "prefix=a%20b");   // '+' is a space
    CHECK(canonical_query("prefix=a%2Bb") == "prefix=a%2Bb");
    CHECK(canonical_query("prefix=a b") == "prefix=a%20b");
    CHECK(canonical_query("prefix=a/b") == "prefix=a%2Fb"); // slash encoded in the query
    CHECK(canonical_query("prefix=a~b&x=%7E") == "prefix=a~b&x=~");
    CHECK(canonical_query("k=v=w") == "k=v%3Dw");
    CHECK(canonical_query("=v") == "=v");
    CHECK(canonical_query("a=1&&b=2&") == "a=1&b=2");
    CHECK(canonical_query("\xE1\x88\xB4=bar") == "%E1%88%B4=bar");
    CHECK(canonical_query("uploads&prefix=") == "prefix=&uploads=");
    CHECK(canonical_query("X-Amz-Signature=abc&b=1", true) == "b=1");
    CHECK(canonical_query("X-Amz-Signature=abc&b=1", false) == "X-Amz-Signature=abc&b=1");
    CHECK(canonical_query("X-Amz-Signature=abc&b=1&X-Amz-Signature=def", true) == "b=1");
    CHECK_FALSE(canonical_query("a=%zz"));
    CHECK_FALSE(canonical_query("%g0=1"));
    // Already canonical (what SDKs send) is kept as is; anything else is decoded and re-encoded.
    CHECK(canonical_query("c=a%2Fb%20c%E1%88%B4") == "c=a%2Fb%20c%E1%88%B4");
    CHECK(canonical_query("c=a%2fb") == "c=a%2Fb");
    CHECK(canonical_query("c=%41%7e") == "c=A~");
    CHECK(canonical_query("X%2DAmz-Signature=abc&b=1", true) == "b=1");
    CHECK_FALSE(canonical_query("c=a%2"));
    CHECK_FALSE(canonical_query("c=%"));
    CHECK_FALSE(canonical_query("c=%2G"));
}

TEST_CASE("canonical_query of one value is uri_encode(percent_decode(value))", "[unit][sigv4]") {
    // Every string of up to 4 characters over an alphabet with the interesting cases: escapes
    // in both hex cases, of reserved and unreserved bytes, '+', '/', ' ' and a truncated '%'.
    const std::string_view alphabet = "aZ-%2fF7E+/ ";
    std::vector<std::string> values{""};
    for (int len = 0; len < 4; ++len) {
        const auto n = values.size();
        for (std::size_t i = 0; i < n; ++i) {
            if (values[i].size() != static_cast<std::size_t>(len)) continue;
            for (char c : alphabet)
                values.push_back(values[i] + c);
        }
    }
    for (const auto& v : values) {
        auto decoded = percent_decode(v, true);
        auto got = canonical_query("k=" + v);
        INFO("value '" << v << "'");
        REQUIRE(got.has_value() == decoded.has_value());
        if (decoded) CHECK(*got == "k=" + uri_encode(*decoded, true));
    }
}

TEST_CASE("canonical header values are trimmed and inner blanks collapsed", "[unit][sigv4]") {
    auto canon = [](std::string_view v) {
        std::string out;
        append_canonical_header_value(out, v);
        return out;
    };
    CHECK(canon("  a   b  c ") == "a b c");
    CHECK(canon("\ta \t b\t") == "a b");
    CHECK(canon("\"a   b   c\"") == "\"a b c\"");
    CHECK(canon("") == "");
    CHECK(canon("   ") == "");
}

TEST_CASE("canonical_headers joins repeated headers in order and needs all signed ones",
          "[unit][sigv4]") {
    auto req = make_request("GET", "/",
                            {{"Host", "h"},
                             {"X-Multi", " one "},
                             {"x-amz-date", "20150830T123600Z"},
                             {"x-multi", "two  three"},
                             {"X-MULTI", ""}});
    std::vector<std::string_view> names{"host", "x-amz-date", "x-multi"};
    CHECK(canonical_headers(req, names) ==
          "host:h\nx-amz-date:20150830T123600Z\nx-multi:one,two three,\n");
    CHECK(signed_headers_string(names) == "host;x-amz-date;x-multi");
    std::vector<std::string_view> missing{"host", "range"};
    CHECK_FALSE(canonical_headers(req, missing));
}

TEST_CASE("amz dates format and parse", "[unit][sigv4]") {
    auto t = parse_amz_date("20130524T000000Z");
    REQUIRE(t);
    CHECK(format_amz_date(*t) == "20130524T000000Z");
    CHECK(format_amz_date(*t + 23h + 59min + 59s + 999ms) == "20130524T235959Z");
    CHECK(format_amz_date(*parse_amz_date("20240229T123456Z")) == "20240229T123456Z");
    CHECK_FALSE(parse_amz_date("20230229T000000Z"));
    CHECK_FALSE(parse_amz_date("20130524T240000Z"));
    CHECK_FALSE(parse_amz_date("20130524T006000Z"));
    CHECK_FALSE(parse_amz_date("20130524 000000Z"));
    CHECK_FALSE(parse_amz_date("20130524T000000"));
    CHECK_FALSE(parse_amz_date("2013052aT000000Z"));
    CHECK_FALSE(parse_amz_date("Fri, 24 May 2013 00:00:00 GMT"));
}
