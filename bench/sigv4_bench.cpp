// Micro-benchmarks of the SigV4 hot path: verifying a typical header-auth GET with a cached
// signing key, and signing a typical upstream request. Goal: verify < 2 us per request.
#include "s3ha/core/net.hpp"
#include "s3ha/crypto/sha256.hpp"
#include "s3ha/sigv4/canonical.hpp"
#include "s3ha/sigv4/signer.hpp"
#include "s3ha/sigv4/verifier.hpp"

#include <benchmark/benchmark.h>
#include <cstdlib>
#include <iostream>

namespace {

using namespace s3ha::sigv4;
namespace http = s3ha::http;

const auto now = *parse_amz_date("20240101T120000Z");
const signing_params client{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                            "us-east-1", "s3ha.example.com:8080"};

// What aws-cli sends for `aws s3api get-object`: about 8 headers.
http::request_header<> typical_get() {
    http::request_header<> req;
    req.method(http::verb::get);
    req.target("/my-bucket/photos/2024/01/holiday%20picture.jpg?versionId=3HL4kqtJlcpXroDTDmJ"
               "%2BrmSpXd3dIbrHY");
    req.version(11);
    req.set(http::field::host, "s3ha.example.com:8080");
    req.set(http::field::accept_encoding, "identity");
    req.set(http::field::user_agent, "aws-cli/2.9.19 Python/3.11.2 Linux/6.1.0 source/x86_64");
    req.set(http::field::range, "bytes=0-1048575");
    req.set("amz-sdk-invocation-id", "2a1f3b9e-6c1d-4c53-9f0e-3a7c2b6d9e10");
    req.set("amz-sdk-request", "attempt=1");
    return req;
}

http::request_header<> signed_typical_get() {
    auto req = typical_get();
    signing_key_cache keys;
    auto sig = sign_request(req, client, s3ha::crypto::empty_sha256_hex, now, keys);
    if (!sig) std::abort();
    return req;
}

// Times v.verify(req, at) with a warm signing-key cache, after checking that req verifies.
void time_verify(benchmark::State& state, const verifier& v, const http::request_header<>& req,
                 std::chrono::system_clock::time_point at) {
    signing_key_cache keys;
    if (!v.verify(req, at, keys)) {
        std::cerr << "benchmark request does not verify\n";
        std::abort();
    }
    for (auto _ : state) {
        auto r = v.verify(req, at, keys);
        benchmark::DoNotOptimize(r);
    }
}

void bm_verify_header_get(benchmark::State& state) {
    const verifier v("us-east-1",
                     {{client.access_key, client.secret_key}, {"OTHERKEY", "other-secret"}});
    time_verify(state, v, signed_typical_get(), now);
}
BENCHMARK(bm_verify_header_get);

// The presigned GET from the AWS documentation ("Authenticating Requests: Using Query
// Parameters", examplebucket/test.txt, secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY): what the
// data-path benchmark's clients send (a presigned URL and a Host header).
void bm_verify_presigned_get(benchmark::State& state) {
    http::request_header<> req;
    req.method(http::verb::get);
    req.target("/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
               "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
               "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
               "&X-Amz-Signature="
               "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    req.version(11);
    req.set(http::field::host, "examplebucket.s3.amazonaws.com");
    const verifier v("us-east-1", {{client.access_key, client.secret_key}});
    time_verify(state, v, req, *parse_amz_date("20130524T000500Z"));
}
BENCHMARK(bm_verify_presigned_get);

void bm_sign_upstream(benchmark::State& state) {
    const signing_params backend{"minio-admin", "minio-secret-key-0123456789", "us-east-1",
                                 "10.0.0.5:9000"};
    const auto base = typical_get();
    signing_key_cache keys;
    for (auto _ : state) {
        state.PauseTiming();
        auto req = base;
        state.ResumeTiming();
        auto sig = sign_request(req, backend, "UNSIGNED-PAYLOAD", now, keys);
        benchmark::DoNotOptimize(sig);
    }
}
BENCHMARK(bm_sign_upstream);

// The request copy included, without Pause/ResumeTiming noise (which costs ~100s of ns).
void bm_copy_and_sign_upstream(benchmark::State& state) {
    const signing_params backend{"minio-admin", "minio-secret-key-0123456789", "us-east-1",
                                 "10.0.0.5:9000"};
    const auto base = typical_get();
    signing_key_cache keys;
    for (auto _ : state) {
        auto req = base;
        auto sig = sign_request(req, backend, "UNSIGNED-PAYLOAD", now, keys);
        benchmark::DoNotOptimize(sig);
    }
}
BENCHMARK(bm_copy_and_sign_upstream);

void bm_copy_request_only(benchmark::State& state) {
    const auto base = typical_get();
    for (auto _ : state) {
        auto req = base;
        benchmark::DoNotOptimize(req);
    }
}
BENCHMARK(bm_copy_request_only);

void bm_hmac_sha256(benchmark::State& state) {
    const std::string key(32, 'k');
    const std::string msg(120, 'm');
    for (auto _ : state)
        benchmark::DoNotOptimize(s3ha::crypto::hmac_sha256(key, msg));
}
BENCHMARK(bm_hmac_sha256);

void bm_sha256_400(benchmark::State& state) {
    const std::string msg(400, 'm');
    for (auto _ : state)
        benchmark::DoNotOptimize(s3ha::crypto::sha256(msg));
}
BENCHMARK(bm_sha256_400);

} // namespace

BENCHMARK_MAIN();
