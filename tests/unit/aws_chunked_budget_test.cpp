// Memory of the aws-chunked path (issue 17): the transform keeps only what is not sent yet, and
// the signed chunks held until verified reserve from the worker's chunk budget
// (server.max_aws_chunk_buffer_per_worker): admitted whole before their first byte, or refused
// with 503 SlowDown; every reservation is given back on success, error and destruction.
#include "chunk_test_support.hpp"

#include "s3ha/core/errc.hpp"
#include "s3ha/proxy/aws_chunked_transform.hpp"
#include "s3ha/proxy/byte_budget.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

using namespace s3ha;
using namespace s3ha::test;
using s3ha::proxy::aws_chunked_transform;
using s3ha::proxy::body_mode;
using s3ha::proxy::byte_budget;
using s3ha::proxy::upstream_request;
using s3ha::sigv4::chunked_variant;

namespace {

constexpr std::size_t k_max_chunk = std::size_t{4} << 20;

upstream_request plan(body_mode mode, chunked_variant v, std::uint64_t decoded_length) {
    upstream_request up;
    up.mode = mode;
    up.variant = v;
    up.decoded_length = decoded_length;
    if (mode == body_mode::chunked_forward && sigv4::is_signed(v)) {
        up.chunk_signing = backend_context();
    }
    return up;
}

std::string payload_of(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i)
        s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    return s;
}

std::vector<std::size_t> sizes_of(std::size_t total, std::size_t chunk) {
    std::vector<std::size_t> sizes;
    for (std::size_t left = total; left > 0; left -= std::min(left, chunk))
        sizes.push_back(std::min(left, chunk));
    return sizes;
}

// Drains ready() into out, as the forwarder's flush does.
void drain(aws_chunked_transform& t, std::string& out) {
    for (auto ready = t.ready(); !ready.empty(); ready = t.ready()) {
        out.append(ready);
        t.consume(ready.size());
    }
}

} // namespace

TEST_CASE("aws-chunked transform: storage stays bounded over a long body, output complete",
          "[unit][proxy][chunked][budget]") {
    // 4 MiB of 8 KiB signed chunks, fed in 64 KiB pieces: what the transform keeps between
    // pieces must stay about one piece, never grow with the body (it kept the whole output).
    const auto payload = payload_of(std::size_t{4} << 20);
    const auto body = encode_signed(chunked_variant::signed_payload, aws_context(), payload,
                                    sizes_of(payload.size(), 8192));
    constexpr std::size_t piece = 65536;
    for (auto mode : {body_mode::chunked_decode, body_mode::chunked_forward}) {
        aws_chunked_transform t(plan(mode, chunked_variant::signed_payload, payload.size()),
                                aws_context(), k_max_chunk);
        std::string out;
        std::size_t max_kept = 0;
        for (std::size_t pos = 0; pos < body.size(); pos += piece) {
            REQUIRE_FALSE(t.feed(std::string_view(body).substr(pos, piece)));
            drain(t, out);
            max_kept = std::max(max_kept, t.buffered());
            // Everything sent but the held-back byte (none once the end is verified).
            CHECK(t.buffered() == (t.done() ? 0U : 1U));
        }
        CHECK(max_kept <= 1);
        CHECK(t.buffer_capacity() <= 4 * piece); // not the 4 MiB body
        REQUIRE_FALSE(t.finish());
        drain(t, out);
        CHECK(t.done());
        if (mode == body_mode::chunked_decode) {
            CHECK(out == payload);
        } else {
            CHECK(out.size() == body.size()); // same framing, new signatures
            sigv4::chunk_decoder backend(chunked_variant::signed_payload, backend_context(),
                                         std::nullopt, payload.size(), k_max_chunk);
            auto d = decode_with(backend, out, whole());
            CHECK_FALSE(d.finish_ec);
            CHECK(d.sink.data == payload);
        }
    }

    SECTION("unsigned passthrough too") {
        const auto unsigned_body = encode_unsigned(payload, sizes_of(payload.size(), 8192), "");
        aws_chunked_transform t(plan(body_mode::chunked_forward,
                                     chunked_variant::unsigned_payload_trailer, payload.size()),
                                std::nullopt, k_max_chunk);
        std::string out;
        for (std::size_t pos = 0; pos < unsigned_body.size(); pos += piece) {
            REQUIRE_FALSE(t.feed(std::string_view(unsigned_body).substr(pos, piece)));
            drain(t, out);
            CHECK(t.buffered() == (t.done() ? 0U : 1U));
        }
        REQUIRE_FALSE(t.finish());
        drain(t, out);
        CHECK(out == unsigned_body);
    }
}

TEST_CASE("aws-chunked transform: a large verified chunk's copy is given back once sent",
          "[unit][proxy][chunked][budget]") {
    const auto payload = payload_of(std::size_t{3} << 20);
    const auto body = encode_signed(chunked_variant::signed_payload, aws_context(), payload,
                                    {std::size_t{3} << 20});
    byte_budget budget(k_max_chunk);
    aws_chunked_transform t(
        plan(body_mode::chunked_decode, chunked_variant::signed_payload, payload.size()),
        aws_context(), k_max_chunk, &budget);
    std::string out;
    const std::size_t header = body.find("\r\n") + 2;
    REQUIRE_FALSE(t.feed(std::string_view(body).substr(0, header + 1000)));
    CHECK(t.reserved() == payload.size()); // admitted whole at its size line
    CHECK(budget.held() == payload.size());
    const std::size_t chunk_end = header + payload.size() + 2; // data and its CRLF
    REQUIRE_FALSE(t.feed(std::string_view(body).substr(header + 1000, chunk_end - header - 1000)));
    // The chunk is verified and released: its reservation is given back at once ...
    CHECK(t.reserved() == 0);
    CHECK(budget.held() == 0);
    CHECK(t.buffered() == payload.size());
    drain(t, out);
    // ... and its copy once it is sent (the held-back byte aside).
    CHECK(t.buffered() == 1);
    CHECK(t.buffer_capacity() <= std::size_t{1} << 20);
    REQUIRE_FALSE(t.feed(std::string_view(body).substr(chunk_end)));
    REQUIRE_FALSE(t.finish());
    drain(t, out);
    CHECK(out == payload);
    CHECK(budget.held() == 0);
}

TEST_CASE("aws-chunked budget: reserved per held chunk, released on success",
          "[unit][proxy][chunked][budget]") {
    const auto payload = payload_of(100'000);
    const auto body = encode_signed(chunked_variant::signed_payload, aws_context(), payload,
                                    sizes_of(payload.size(), 16384));
    byte_budget budget(16384); // exactly one chunk
    std::uint64_t max_held = 0;
    {
        aws_chunked_transform t(
            plan(body_mode::chunked_decode, chunked_variant::signed_payload, payload.size()),
            aws_context(), 16384, &budget);
        std::string out;
        for (std::size_t pos = 0; pos < body.size(); pos += 1000) {
            REQUIRE_FALSE(t.feed(std::string_view(body).substr(pos, 1000)));
            max_held = std::max(max_held, budget.held());
            CHECK(budget.held() == t.reserved());
            drain(t, out);
        }
        REQUIRE_FALSE(t.finish());
        drain(t, out);
        CHECK(out == payload);
        CHECK(budget.held() == 0); // after the last chunk, before destruction
    }
    CHECK(max_held == 16384);
    CHECK(budget.held() == 0);
}

TEST_CASE("aws-chunked budget: a second request that needs a chunk buffer is refused",
          "[unit][proxy][chunked][budget]") {
    const auto payload = payload_of(40'000);
    const auto body = encode_signed(chunked_variant::signed_payload, aws_context(), payload,
                                    sizes_of(payload.size(), 32768));
    const std::size_t first_header = body.find("\r\n") + 2;
    byte_budget budget(32768);
    auto up = plan(body_mode::chunked_decode, chunked_variant::signed_payload, payload.size());

    aws_chunked_transform holder(up, aws_context(), 32768, &budget);
    REQUIRE_FALSE(holder.feed(std::string_view(body).substr(0, first_header + 5000)));
    CHECK(budget.held() == 32768); // the first chunk is being held

    {
        aws_chunked_transform other(up, aws_context(), 32768, &budget);
        CHECK(other.feed(std::string_view(body).substr(0, first_header + 10)) ==
              errc::chunk_buffer_full);
        CHECK(other.ready().empty());
        CHECK(other.reserved() == 0);
        CHECK(other.feed("x") == errc::chunk_buffer_full); // sticky
        CHECK(budget.held() == 32768);
    }
    CHECK(budget.held() == 32768);

    // The holder completes, byte-identical, and gives everything back.
    std::string out;
    REQUIRE_FALSE(holder.feed(std::string_view(body).substr(first_header + 5000)));
    drain(holder, out);
    REQUIRE_FALSE(holder.finish());
    drain(holder, out);
    CHECK(out == payload);
    CHECK(budget.held() == 0);

    // Room again: the next request is admitted.
    aws_chunked_transform again(up, aws_context(), 32768, &budget);
    CHECK_FALSE(again.feed(std::string_view(body).substr(0, first_header + 10)));
    CHECK(budget.held() == 32768);
}

TEST_CASE("aws-chunked budget: released on a failed chunk and on destruction mid-chunk",
          "[unit][proxy][chunked][budget]") {
    const auto payload = payload_of(50'000);
    auto body = encode_signed(chunked_variant::signed_payload, aws_context(), payload,
                              sizes_of(payload.size(), 20000));
    const std::size_t first_header = body.find("\r\n") + 2;
    byte_budget budget(20000);
    auto up = plan(body_mode::chunked_decode, chunked_variant::signed_payload, payload.size());

    SECTION("a tampered chunk") {
        body[first_header + 100] ^= 1;
        aws_chunked_transform t(up, aws_context(), 20000, &budget);
        REQUIRE_FALSE(t.feed(std::string_view(body).substr(0, first_header + 200)));
        CHECK(budget.held() == 20000);
        CHECK(t.feed(std::string_view(body).substr(first_header + 200)) ==
              errc::chunk_signature_mismatch);
        CHECK(budget.held() == 0); // at once, not only at destruction
        CHECK(t.ready().empty());
    }
    SECTION("a body that ends mid-chunk") {
        aws_chunked_transform t(up, aws_context(), 20000, &budget);
        REQUIRE_FALSE(t.feed(std::string_view(body).substr(0, first_header + 200)));
        CHECK(t.finish() == errc::incomplete_body);
        CHECK(budget.held() == 0);
    }
    SECTION("the request goes away mid-chunk") {
        {
            aws_chunked_transform t(up, aws_context(), 20000, &budget);
            REQUIRE_FALSE(t.feed(std::string_view(body).substr(0, first_header + 200)));
            CHECK(budget.held() == 20000);
        }
        CHECK(budget.held() == 0);
    }
    SECTION("unsigned chunks are streamed and reserve nothing") {
        const auto unsigned_body = encode_unsigned(payload, sizes_of(payload.size(), 20000), "");
        byte_budget none(0);
        aws_chunked_transform t(plan(body_mode::chunked_decode,
                                     chunked_variant::unsigned_payload_trailer, payload.size()),
                                std::nullopt, 20000, &none);
        std::string out;
        REQUIRE_FALSE(t.feed(unsigned_body));
        REQUIRE_FALSE(t.finish());
        drain(t, out);
        CHECK(out == payload);
    }
}

TEST_CASE("chunk_decoder: on_chunk_start can refuse a signed chunk before it is held",
          "[unit][sigv4][chunked][budget]") {
    struct refusing_sink final : sigv4::chunk_sink {
        std::string data;
        int ends = 0;
        std::vector<std::uint64_t> starts;
        void on_data(std::string_view d) override { data.append(d); }
        void on_chunk_end(std::size_t /*size*/, std::string_view /*sig*/) override {}
        void on_trailer(std::string_view /*name*/, std::string_view /*value*/) override {}
        void on_end() override { ++ends; }
        boost::system::error_code on_chunk_start(std::uint64_t size) override {
            starts.push_back(size);
            if (starts.size() == 2) return make_error_code(errc::chunk_buffer_full);
            return {};
        }
    };
    refusing_sink sink;
    sigv4::chunk_decoder d(chunked_variant::signed_payload, aws_context(), std::nullopt, 66560,
                           k_max_chunk);
    const auto body = aws_example_body(); // chunks of 65536 and 1024 bytes
    CHECK(d.feed(body, sink) == errc::chunk_buffer_full);
    CHECK(sink.starts == std::vector<std::uint64_t>{65536, 1024});
    CHECK(sink.data.size() == 65536); // the first chunk only
    CHECK(d.finish(sink) == errc::chunk_buffer_full);
    CHECK(sink.ends == 0);
}

TEST_CASE("byte_budget: reserve, release, a reload's new limit", "[unit][proxy][budget]") {
    byte_budget b(100);
    CHECK(b.try_reserve(100));
    CHECK_FALSE(b.try_reserve(1));
    b.set_limit(50); // held stays held
    CHECK(b.held() == 100);
    b.release(60);
    CHECK_FALSE(b.try_reserve(11));
    CHECK(b.try_reserve(10));
    b.release(1000); // never below zero
    CHECK(b.held() == 0);
    CHECK_FALSE(b.try_reserve(UINT64_MAX));
}
