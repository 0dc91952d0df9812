// The low-level HMAC-SHA256 in src/crypto/sha256.cpp against RFC 4231 (HMAC-SHA-256 test
// vectors, https://www.rfc-editor.org/rfc/rfc4231), including the key-longer-than-a-block path.
#include "s3ha/crypto/encoding.hpp"
#include "s3ha/crypto/sha256.hpp"

#include <catch2/catch.hpp>

using namespace s3ha::crypto;

TEST_CASE("hmac-sha256 RFC 4231 test cases 1, 6 and 7", "[unit][crypto]") {
    CHECK(to_hex(as_bytes(hmac_sha256(std::string(20, '\x0b'), "Hi There"))) ==
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    const std::string long_key(131, '\xaa');
    CHECK(to_hex(as_bytes(
              hmac_sha256(long_key, "Test Using Larger Than Block-Size Key - Hash Key First"))) ==
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    CHECK(to_hex(as_bytes(hmac_sha256(
              long_key, "This is a test using a larger than block-size key and a larger than "
                        "block-size data. The key needs to be hashed before being used by the "
                        "HMAC algorithm."))) ==
          "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
    // Exactly one block of key is used as is.
    CHECK(hmac_sha256(std::string(64, 'k'), "m") != hmac_sha256(std::string(63, 'k'), "m"));
}

TEST_CASE("sha256 one-shot agrees with the incremental hasher on multi-block input",
          "[unit][crypto]") {
    std::string data(1000, 'x');
    for (std::size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<char>(i * 7);
    sha256_hasher h;
    h.update(data.substr(0, 333));
    h.update(data.substr(333));
    CHECK(h.finish() == sha256(data));
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("hmac_sha256_key (precomputed pads) equals hmac_sha256 for every key length",
          "[unit][crypto]") {
    // RFC 4231 test case 2 ("Jefe"), then keys around the block size (64) and data around it.
    CHECK(to_hex(as_bytes(hmac_sha256_key("Jefe").mac("what do ya want for nothing?"))) ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    for (std::size_t key_len : {0u, 1u, 32u, 63u, 64u, 65u, 131u}) {
        std::string key(key_len, '\0');
        for (std::size_t i = 0; i < key_len; ++i)
            key[i] = static_cast<char>(i * 13 + 1);
        const hmac_sha256_key k(key);
        for (std::size_t data_len : {0u, 1u, 55u, 56u, 64u, 119u, 200u}) {
            const std::string data(data_len, static_cast<char>('a' + data_len % 26));
            INFO("key " << key_len << " data " << data_len);
            CHECK(k.mac(data) == hmac_sha256(key, data));
            CHECK(k.mac(data) == k.mac(data)); // the stored states are not used up
        }
    }
}
