#include "s3ha/crypto/encoding.hpp"
#include "s3ha/crypto/sha256.hpp"

#include <catch2/catch.hpp>

using namespace s3ha::crypto;

// FIPS 180-2 / RFC 4231 vectors.
TEST_CASE("sha256 known answers", "[unit][crypto]") {
    CHECK(sha256_hex("") == empty_sha256_hex);
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha256_hasher h;
    h.update("a");
    h.update("bc");
    CHECK(to_hex(as_bytes(h.finish())) == sha256_hex("abc"));
    h.update("");
    CHECK(to_hex(as_bytes(h.finish())) == empty_sha256_hex); // finish() resets
}

TEST_CASE("hmac-sha256 RFC 4231 test case 2", "[unit][crypto]") {
    CHECK(to_hex(as_bytes(hmac_sha256("Jefe", "what do ya want for nothing?"))) ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("hex and base64 round trip and reject garbage", "[unit][crypto]") {
    CHECK(to_hex("\x01\xab") == "01ab");
    CHECK(from_hex("01AB") == std::string("\x01\xab"));
    CHECK_FALSE(from_hex("0g").has_value());
    CHECK_FALSE(from_hex("abc").has_value());
    CHECK(base64_encode("hello") == "aGVsbG8=");
    CHECK(base64_decode("aGVsbG8=") == std::string("hello"));
    CHECK(base64_decode("aGVsbA==") == std::string("hell"));
    CHECK_FALSE(base64_decode("aGVsbG8").has_value());
    CHECK_FALSE(base64_decode("aGV$bG8=").has_value());
    CHECK(constant_time_equal("abc", "abc"));
    CHECK_FALSE(constant_time_equal("abc", "abd"));
    CHECK_FALSE(constant_time_equal("abc", "ab"));
}

// RFC 4648 §10 vectors, in the unpadded url alphabet.
TEST_CASE("base64url round trip, RFC 4648 vectors, strict decoding", "[unit][crypto]") {
    CHECK(base64url_encode("") == "");
    CHECK(base64url_encode("f") == "Zg");
    CHECK(base64url_encode("fo") == "Zm8");
    CHECK(base64url_encode("foo") == "Zm9v");
    CHECK(base64url_encode("foob") == "Zm9vYg");
    CHECK(base64url_encode("fooba") == "Zm9vYmE");
    CHECK(base64url_encode("foobar") == "Zm9vYmFy");
    CHECK(base64url_encode("\xfb\xff\xfe") == "-__-"); // '+' '/' become '-' '_'
    CHECK(base64url_decode("-__-") == std::string("\xfb\xff\xfe"));
    CHECK(base64url_decode("") == std::string());
    CHECK(base64url_decode("Zm9vYg") == std::string("foob"));
    std::string all;
    for (int i = 0; i < 256; ++i)
        all.push_back(static_cast<char>(i));
    for (std::size_t n = 0; n <= all.size(); n += 7) {
        CHECK(base64url_decode(base64url_encode(all.substr(0, n))) == all.substr(0, n));
    }
    CHECK_FALSE(base64url_decode("Zm9vYg==").has_value()); // padding is not accepted
    CHECK_FALSE(base64url_decode("Zm9+").has_value());     // standard alphabet is not accepted
    CHECK_FALSE(base64url_decode("Zm9/").has_value());
    CHECK_FALSE(base64url_decode("Zm9vY").has_value()); // impossible length
    CHECK_FALSE(base64url_decode("Zh").has_value());    // non-canonical: unused bits set
    CHECK_FALSE(base64url_decode("Zm9.").has_value());
}
