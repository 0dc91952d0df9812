// sigv4 signer: client auth removal, published S3 examples re-created, sign/verify round trips.
// [hdr] "Signature Calculations for the Authorization Header: Transferring Payload in a Single
//       Chunk (AWS Signature Version 4)",
//       https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
#include "sigv4_test_util.hpp"

#include "s3ha/core/errc.hpp"
#include "s3ha/crypto/sha256.hpp"
#include "s3ha/sigv4/signer.hpp"
#include "s3ha/sigv4/verifier.hpp"

#include <catch2/catch.hpp>

using namespace s3ha::sigv4;
using s3ha::errc;
using s3ha::sigv4::test::at;
using s3ha::sigv4::test::make_request;
using namespace std::chrono_literals;

namespace {

const signing_params example_params{"AKIAIOSFODNN7EXAMPLE",
                                    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1",
                                    "examplebucket.s3.amazonaws.com"};
const auto example_time = at("20130524T000000Z");

} // namespace

TEST_CASE("client auth removal leaves out the client's credentials only", "[unit][sigv4]") {
    // The query without the presigned parameters, as build_upstream_request writes the target.
    auto without_auth = [](std::string_view query) {
        std::string out("/b/k");
        const bool removed = append_query_without_client_auth(out, query);
        return std::pair{out, removed};
    };
    CHECK(without_auth(
              "X-Amz-Algorithm=AWS4-HMAC-SHA256&partNumber=1&X-Amz-Credential=AK%2F20130524%2F"
              "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=60&uploadId="
              "a%2Bb&X-Amz-SignedHeaders=host&X-Amz-Security-Token=tok&X-Amz-Signature=abc&flag") ==
          std::pair{std::string("/b/k?partNumber=1&uploadId=a%2Bb&flag"), true});
    CHECK(without_auth("X-Amz-Signature=1&X-Amz-Algorithm=x") ==
          std::pair{std::string("/b/k"), true});
    // Nothing removed: reported, so the caller keeps the query bytes as sent (the empty piece).
    CHECK(without_auth("list-type=2&prefix=a+b&&x=%2F").second == false);
    CHECK(without_auth("X-Amz-%53ignature=1&a=1") == std::pair{std::string("/b/k?a=1"), true});

    auto req = make_request("PUT", "/b/k",
                            {{"Host", "h"},
                             {"Authorization", "AWS4-HMAC-SHA256 Credential=x"},
                             {"X-Amz-Security-Token", "tok"},
                             {"x-amz-security-token", "tok2"},
                             {"x-amz-meta-a", "1"}});
    std::vector<std::string> removed;
    for (const auto& f : req)
        if (is_client_auth_header(f)) removed.emplace_back(f.name_string());
    CHECK(removed == std::vector<std::string>{"Authorization", "X-Amz-Security-Token",
                                              "x-amz-security-token"});
}

TEST_CASE("sign_request re-creates the S3 GET Bucket Lifecycle and List Objects examples",
          "[unit][sigv4]") {
    struct ex {
        const char* target;
        const char* sig;
    };
    for (const auto& e :
         {ex{"/?lifecycle", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"},
          ex{"/?max-keys=2&prefix=J",
             "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"}}) {
        DYNAMIC_SECTION(e.target) {
            auto req = make_request("GET", e.target, {{"Host", "proxy.local:8080"}});
            signing_key_cache keys;
            auto sig = sign_request(req, example_params, s3ha::crypto::empty_sha256_hex,
                                    example_time, keys);
            REQUIRE(sig);
            CHECK(*sig == e.sig);
            CHECK(req[s3ha::http::field::host] == "examplebucket.s3.amazonaws.com");
            CHECK(req["x-amz-date"] == "20130524T000000Z");
            CHECK(req["x-amz-content-sha256"] == s3ha::crypto::empty_sha256_hex);
            CHECK(req[s3ha::http::field::authorization] ==
                  "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
                  "aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                  "Signature=" +
                      std::string(e.sig));
        }
    }
}

TEST_CASE("sign_request output verifies with the same key and not with another", "[unit][sigv4]") {
    const signing_params a{"backend-key", "backend-secret-A", "eu-central-1", "10.0.0.5:9000"};
    const auto now = at("20240101T120000Z");
    const verifier right("eu-central-1", {{"backend-key", "backend-secret-A"}});
    const verifier wrong("eu-central-1", {{"backend-key", "backend-secret-B"}});

    struct payload_case {
        std::string value;
        payload_kind kind;
    };
    const std::string body_hash = s3ha::crypto::sha256_hex("hello");
    for (const auto& p :
         {payload_case{body_hash, payload_kind::sha256},
          payload_case{"UNSIGNED-PAYLOAD", payload_kind::unsigned_payload},
          payload_case{"STREAMING-AWS4-HMAC-SHA256-PAYLOAD", payload_kind::streaming_signed},
          payload_case{"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
                       payload_kind::streaming_signed_trailer},
          payload_case{"STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                       payload_kind::streaming_unsigned_trailer}}) {
        DYNAMIC_SECTION(p.value) {
            auto req =
                make_request("PUT", "/bucket/dir/a b+c%2Fd~e.txt?uploadId=x%2By&partNumber=3",
                             {{"Host", "s3ha.example"},
                              {"Content-Type", "text/plain"},
                              {"Content-MD5", "XUFAKrxLKna5cZ2REBfFkg=="},
                              {"Content-Length", "5"},
                              {"User-Agent", "aws-cli/2"},
                              {"x-amz-meta-Color", "  blue   green "},
                              {"x-amz-meta-colour", "red"},
                              {"X-Amz-Date", "19990101T000000Z"}});
            signing_key_cache keys;
            auto sig = sign_request(req, a, p.value, now, keys);
            REQUIRE(sig);
            CHECK(req["x-amz-date"] == "20240101T120000Z");
            CHECK(req.count("x-amz-date") == 1);
            CHECK(std::string(req[s3ha::http::field::authorization])
                      .find("SignedHeaders=content-md5;content-type;host;x-amz-content-sha256;"
                            "x-amz-date;x-amz-meta-color;x-amz-meta-colour,") != std::string::npos);

            signing_key_cache vkeys;
            auto v = right.verify(req, now + 1min, vkeys);
            REQUIRE(v);
            CHECK(v->signature == *sig);
            CHECK(v->payload == p.kind);
            CHECK(v->access_key == "backend-key");
            CHECK(wrong.verify(req, now, vkeys).error() == errc::signature_does_not_match);
        }
    }
}

TEST_CASE("a verified presigned request, stripped and re-signed, verifies upstream",
          "[unit][sigv4]") {
    // The S3 presigned example ([qry] https://docs.aws.amazon.com/AmazonS3/latest/API/
    // sigv4-query-string-auth.html) as a client would send it through the proxy.
    auto req = make_request(
        "GET",
        "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
        {{"Host", "examplebucket.s3.amazonaws.com"}});
    const verifier downstream(
        "us-east-1", {{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}});
    signing_key_cache keys;
    auto v = downstream.verify(req, example_time + 1h, keys);
    REQUIRE(v);

    std::string target("/test.txt");
    REQUIRE(
        append_query_without_client_auth(target, req.target().substr(req.target().find('?') + 1)));
    req.target(target);
    CHECK(req.target() == "/test.txt");
    const signing_params backend{"minio", "minio-secret", "us-east-1", "127.0.0.1:9000"};
    auto sig = sign_request(req, backend, v->payload_hash, example_time + 1h, keys);
    REQUIRE(sig);
    const verifier upstream("us-east-1", {{"minio", "minio-secret"}});
    auto u = upstream.verify(req, example_time + 1h, keys);
    REQUIRE(u);
    CHECK(u->kind == auth_kind::header);
    CHECK(u->payload == payload_kind::unsigned_payload);
}

TEST_CASE("sign_request refuses a target with a bad escape", "[unit][sigv4]") {
    auto req = make_request("GET", "/a%zz", {{"Host", "h"}});
    signing_key_cache keys;
    CHECK(sign_request(req, example_params, "UNSIGNED-PAYLOAD", example_time, keys).error() ==
          errc::invalid_uri);
}
