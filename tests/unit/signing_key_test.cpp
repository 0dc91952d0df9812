#include "s3ha/crypto/encoding.hpp"
#include "s3ha/sigv4/signing_key.hpp"

#include <catch2/catch.hpp>

// Vector from the AWS General Reference "Examples of how to derive a signing key for Signature
// Version 4" (secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20120215, us-east-1, iam).
TEST_CASE("signing key derivation matches the AWS example", "[unit][sigv4]") {
    auto key = s3ha::sigv4::derive_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                               "20120215", "us-east-1", "iam");
    CHECK(s3ha::crypto::to_hex(key) ==
          "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}
