#include "s3ha/crypto/checksum.hpp"
#include "s3ha/crypto/encoding.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <string>

using s3ha::crypto::checksum;
using s3ha::crypto::checksum_algorithm;

namespace {

std::string one_shot_hex(checksum_algorithm alg, std::string_view data) {
    checksum c(alg);
    c.update(data);
    return s3ha::crypto::to_hex(c.finish());
}

std::string one_shot_b64(checksum_algorithm alg, std::string_view data) {
    checksum c(alg);
    c.update(data);
    return c.finish_base64();
}

} // namespace

// The "check" values of the CRC catalogue (CRC of the ASCII string "123456789"):
// CRC-32/ISO-HDLC cbf43926, CRC-32/ISCSI (CRC32C) e3069283, CRC-64/NVME ae8b14860a799888.
// https://reveng.sourceforge.io/crc-catalogue/all.htm
TEST_CASE("checksum: CRC check values of \"123456789\"", "[unit][checksum]") {
    CHECK(one_shot_hex(checksum_algorithm::crc32, "123456789") == "cbf43926");
    CHECK(one_shot_hex(checksum_algorithm::crc32c, "123456789") == "e3069283");
    CHECK(one_shot_hex(checksum_algorithm::crc64nvme, "123456789") == "ae8b14860a799888");
    CHECK(s3ha::crypto::crc32c_update(0, "123456789") == 0xe3069283U);
    CHECK(s3ha::crypto::crc64nvme_update(0, "123456789") == 0xae8b14860a799888ULL);
}

TEST_CASE("checksum: base64 of the big-endian digest, as x-amz-checksum-* carries it",
          "[unit][checksum]") {
    CHECK(one_shot_b64(checksum_algorithm::crc32, "123456789") == "y/Q5Jg==");
    CHECK(one_shot_b64(checksum_algorithm::crc32c, "123456789") == "4waSgw==");
    CHECK(one_shot_b64(checksum_algorithm::crc64nvme, "123456789") == "rosUhgp5mIg=");
    CHECK(one_shot_b64(checksum_algorithm::sha1, "123456789") == "98O8HYCOBHMq32eZZczDTKeuNEE=");
    CHECK(one_shot_b64(checksum_algorithm::sha256, "123456789") ==
          "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=");
}

// The AWS trailing-header example (66560 'a's sent with x-amz-checksum-crc32c:sOO8/Q==).
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
TEST_CASE("checksum: CRC32C of the AWS trailer example object", "[unit][checksum]") {
    CHECK(one_shot_b64(checksum_algorithm::crc32c, std::string(66560, 'a')) == "sOO8/Q==");
}

TEST_CASE("checksum: FIPS 180 SHA vectors and the empty input", "[unit][checksum]") {
    CHECK(one_shot_hex(checksum_algorithm::sha1, "abc") ==
          "a9993e364706816aba3e25717850c26c9cd0d89d");
    CHECK(one_shot_hex(checksum_algorithm::sha256, "abc") ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(one_shot_hex(checksum_algorithm::crc32, "") == "00000000");
    CHECK(one_shot_hex(checksum_algorithm::crc32c, "") == "00000000");
    CHECK(one_shot_hex(checksum_algorithm::crc64nvme, "") == "0000000000000000");
    CHECK(one_shot_hex(checksum_algorithm::sha256, "") ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("checksum: fed in pieces equals one shot, and finish() resets", "[unit][checksum]") {
    std::mt19937 rng(20240524);
    std::string data(10000, '\0');
    for (auto& ch : data) {
        ch = static_cast<char>(rng() & 0xff);
    }
    for (auto alg :
         {checksum_algorithm::crc32, checksum_algorithm::crc32c, checksum_algorithm::crc64nvme,
          checksum_algorithm::sha1, checksum_algorithm::sha256}) {
        const std::string expected = one_shot_hex(alg, data);
        checksum c(alg);
        // Byte at a time (exercises the bytewise tail of slicing-by-8) ...
        for (char ch : data) {
            c.update(std::string_view(&ch, 1));
        }
        CHECK(s3ha::crypto::to_hex(c.finish()) == expected);
        // ... random pieces, reusing the same object after finish().
        std::size_t pos = 0;
        while (pos < data.size()) {
            std::size_t n = std::min<std::size_t>(rng() % 37, data.size() - pos);
            c.update(std::string_view(data).substr(pos, n));
            pos += n;
        }
        CHECK(s3ha::crypto::to_hex(c.finish()) == expected);
        CHECK(c.finish().size() == s3ha::crypto::checksum_digest_size(alg));
        CHECK(c.finish_base64().size() == s3ha::crypto::checksum_base64_size(alg));
    }
}

TEST_CASE("checksum: algorithm names", "[unit][checksum]") {
    using s3ha::crypto::checksum_algorithm_from_header;
    CHECK(checksum_algorithm_from_header("x-amz-checksum-crc32") == checksum_algorithm::crc32);
    CHECK(checksum_algorithm_from_header("X-Amz-Checksum-CRC32C") == checksum_algorithm::crc32c);
    CHECK(checksum_algorithm_from_header("x-amz-checksum-crc64nvme") ==
          checksum_algorithm::crc64nvme);
    CHECK(checksum_algorithm_from_header("x-amz-checksum-sha1") == checksum_algorithm::sha1);
    CHECK(checksum_algorithm_from_header("x-amz-checksum-sha256") == checksum_algorithm::sha256);
    CHECK_FALSE(checksum_algorithm_from_header("x-amz-checksum-md5"));
    CHECK_FALSE(checksum_algorithm_from_header("x-amz-checksum-crc32 "));
    CHECK_FALSE(checksum_algorithm_from_header("x-amz-checksum-"));
    CHECK_FALSE(checksum_algorithm_from_header(""));
    CHECK(s3ha::crypto::checksum_algorithm_from_name("CRC64NVME") == checksum_algorithm::crc64nvme);
    CHECK_FALSE(s3ha::crypto::checksum_algorithm_from_name("crc16"));
    CHECK(s3ha::crypto::checksum_header_name(checksum_algorithm::sha256) ==
          "x-amz-checksum-sha256");
}
