#include "s3ha/sigv4/signing_key.hpp"
#include "s3ha/sigv4/signing_key_cache.hpp"

#include <catch2/catch.hpp>

using namespace s3ha::sigv4;

TEST_CASE("signing_key_cache derives, caches, follows a changed secret and stays bounded",
          "[unit][sigv4]") {
    signing_key_cache cache(3);
    const auto k1 = derive_signing_key("secret1", "20130524", "us-east-1", "s3");
    CHECK(cache.get("AK", "secret1", "20130524", "us-east-1", "s3") == k1);
    CHECK(cache.get("AK", "secret1", "20130524", "us-east-1", "s3") == k1);
    CHECK(cache.size() == 1);

    // A reload changed the secret: the cached key must not be served.
    const auto k2 = derive_signing_key("secret2", "20130524", "us-east-1", "s3");
    CHECK(cache.get("AK", "secret2", "20130524", "us-east-1", "s3") == k2);
    CHECK(cache.size() == 1);

    // Every part of the scope is part of the key.
    CHECK(cache.get("AK", "secret2", "20130525", "us-east-1", "s3") ==
          derive_signing_key("secret2", "20130525", "us-east-1", "s3"));
    CHECK(cache.get("AK", "secret2", "20130525", "eu-west-1", "s3") ==
          derive_signing_key("secret2", "20130525", "eu-west-1", "s3"));
    CHECK(cache.size() == 3);
    CHECK(cache.get("AK2", "secret2", "20130525", "eu-west-1", "s3") ==
          derive_signing_key("secret2", "20130525", "eu-west-1", "s3"));
    CHECK(cache.size() == 1); // cleared when full, then inserted
    CHECK(cache.get("AK", "secret1", "20130524", "us-east-1", "service") ==
          derive_signing_key("secret1", "20130524", "us-east-1", "service"));
}

TEST_CASE("signing_key_cache::hmac signs with the key get() returns, after a secret change too",
          "[unit][sigv4]") {
    signing_key_cache cache;
    for (std::string_view secret : {"secret1", "secret2"}) {
        const std::string key = cache.get("AK", secret, "20130524", "us-east-1", "s3");
        const auto& mac = cache.hmac("AK", secret, "20130524", "us-east-1", "s3");
        CHECK(mac.mac("string to sign") == s3ha::crypto::hmac_sha256(key, "string to sign"));
        CHECK(key == derive_signing_key(secret, "20130524", "us-east-1", "s3"));
    }
    CHECK(cache.size() == 1);
}
