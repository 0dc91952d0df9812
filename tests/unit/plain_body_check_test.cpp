#include "s3ha/core/errc.hpp"
#include "s3ha/crypto/sha256.hpp"
#include "s3ha/proxy/plain_body_check.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

using namespace s3ha;
using s3ha::proxy::plain_body_check;

namespace {

struct run_result {
    std::string out;                   // what went upstream
    error_code ec;                     // first error (feed or finish)
    bool complete_before_done = false; // the whole body went out before done(): must never be
};

// Feeds `body` in pieces of `piece` bytes through a buffer that is overwritten by every read,
// draining ready() after each feed and after finish(), as the forwarder does.
run_result run(plain_body_check& t, std::string_view body, std::size_t piece) {
    run_result r;
    std::string buffer(piece, '\0');
    auto drain = [&] {
        for (auto ready = t.ready(); !ready.empty(); ready = t.ready()) {
            r.out.append(ready);
            t.consume(ready.size());
        }
        if (!t.done() && r.out.size() == body.size() && !body.empty()) {
            r.complete_before_done = true;
        }
    };
    for (std::size_t pos = 0; pos < body.size(); pos += piece) {
        const auto part = body.substr(pos, piece);
        buffer.assign(part);
        r.ec = t.feed(buffer);
        if (r.ec) return r;
        drain();
        buffer.assign(buffer.size(), 'X'); // the next read overwrites the buffer
    }
    r.ec = t.finish();
    if (!r.ec) drain();
    return r;
}

std::string body_of(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i)
        s[i] = static_cast<char>('a' + i % 26);
    return s;
}

} // namespace

TEST_CASE("plain body, signed hash matches: all bytes go, the last only once verified",
          "[unit][proxy][plain]") {
    const auto body = body_of(200'000);
    for (std::size_t piece : {1UL, 7UL, 65'536UL, 200'000UL}) {
        plain_body_check known(body.size(), crypto::sha256_hex(body));
        auto r = run(known, body, piece);
        REQUIRE_FALSE(r.ec);
        CHECK(r.out == body);
        CHECK_FALSE(r.complete_before_done);
        CHECK(known.done());

        plain_body_check chunked(std::nullopt, crypto::sha256_hex(body)); // HTTP-chunked
        r = run(chunked, body, piece);
        REQUIRE_FALSE(r.ec);
        CHECK(r.out == body);
        CHECK_FALSE(r.complete_before_done);
    }
}

TEST_CASE("plain body, signed hash does not match: the last byte never goes",
          "[unit][proxy][plain]") {
    const auto body = body_of(100'000);
    auto other = body;
    other[50'000] ^= 1;
    for (std::size_t piece : {1UL, 4096UL, 100'000UL}) {
        for (auto length :
             {std::optional<std::uint64_t>(body.size()), std::optional<std::uint64_t>()}) {
            plain_body_check t(length, crypto::sha256_hex(other));
            auto r = run(t, body, piece);
            CHECK(r.ec == errc::content_sha256_mismatch);
            CHECK(r.out.size() == body.size() - 1); // the backend never sees the whole body
            CHECK(r.out == body.substr(0, body.size() - 1));
            CHECK_FALSE(t.done());
            CHECK(t.ready().empty());
            CHECK(t.finish() == errc::content_sha256_mismatch); // sticky
        }
    }
}

TEST_CASE("plain body, unsigned: passes through, nothing held back", "[unit][proxy][plain]") {
    const auto body = body_of(10'000);
    plain_body_check t(body.size(), std::nullopt);
    REQUIRE_FALSE(t.feed(std::string_view(body).substr(0, 9'000)));
    CHECK(t.ready().size() == 9'000);
    t.consume(9'000);
    REQUIRE_FALSE(t.feed(std::string_view(body).substr(9'000)));
    CHECK(t.ready().size() == 1'000); // unsigned: the end is not held back
    t.consume(1'000);
    REQUIRE_FALSE(t.finish());
    CHECK(t.done());
}

TEST_CASE("plain body: length checked", "[unit][proxy][plain]") {
    const auto body = body_of(1'000);
    SECTION("short body") {
        plain_body_check t(body.size() + 1, crypto::sha256_hex(body));
        auto r = run(t, body, 300);
        CHECK(r.ec == errc::incomplete_body);
        CHECK(r.out.size() < body.size() + 1);
    }
    SECTION("long body") {
        plain_body_check t(body.size() - 1, std::nullopt);
        auto r = run(t, body, 1'000);
        CHECK(r.ec == errc::invalid_request);
        CHECK(r.out.empty());
    }
    SECTION("empty body, hash of the empty string") {
        plain_body_check t(0, std::string(crypto::empty_sha256_hex));
        auto r = run(t, "", 10);
        CHECK_FALSE(r.ec);
        CHECK(t.done());
    }
}

TEST_CASE("plain body, HTTP-chunked and hashed: memory stays bounded, the last byte waits",
          "[unit][proxy][plain]") {
    // 4 MiB in 4 KiB pieces: the copy kept across feeds must stay at one piece plus the
    // held-back byte, never grow with the body (it kept the whole body before).
    constexpr std::size_t piece = 4096;
    const auto body = body_of(4 * 1024 * 1024 + 123);
    plain_body_check t(std::nullopt, crypto::sha256_hex(body));
    std::string out;
    std::string buffer(piece, '\0');
    std::size_t max_held = 0;
    for (std::size_t pos = 0; pos < body.size(); pos += piece) {
        buffer.assign(body.substr(pos, piece));
        REQUIRE_FALSE(t.feed(buffer));
        for (auto ready = t.ready(); !ready.empty(); ready = t.ready()) {
            out.append(ready);
            t.consume(ready.size());
        }
        buffer.assign(buffer.size(), 'X'); // the next read overwrites the buffer
        max_held = std::max(max_held, t.held_bytes());
        REQUIRE(out.size() == pos + std::min(piece, body.size() - pos) - 1); // all but one byte
    }
    CHECK(max_held <= piece + 1);
    CHECK_FALSE(t.done());
    CHECK(out == std::string_view(body).substr(0, body.size() - 1));
    REQUIRE_FALSE(t.finish());
    CHECK(t.done());
    for (auto ready = t.ready(); !ready.empty(); ready = t.ready()) {
        out.append(ready);
        t.consume(ready.size());
    }
    CHECK(out == body);
    CHECK(t.held_bytes() <= piece + 1);
}
