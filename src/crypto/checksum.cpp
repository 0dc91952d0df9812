#include "s3ha/crypto/checksum.hpp"

#include "s3ha/core/strings.hpp"
#include "s3ha/crypto/encoding.hpp"

#include <openssl/evp.h>

#include <array>
#include <zlib.h>

namespace s3ha::crypto {
namespace {

// Slicing-by-8 tables for a reflected CRC: table[0] is the classic byte-at-a-time table,
// table[k][b] is the CRC of byte b followed by k zero bytes. Built at compile time.
template <class T> using crc_tables = std::array<std::array<T, 256>, 8>;

template <class T> constexpr crc_tables<T> make_crc_tables(T reflected_poly) {
    crc_tables<T> t{};
    for (unsigned i = 0; i < 256; ++i) {
        T c = static_cast<T>(i);
        for (int k = 0; k < 8; ++k) {
            c = (c & 1U) != 0 ? static_cast<T>((c >> 1) ^ reflected_poly) : static_cast<T>(c >> 1);
        }
        t[0][i] = c;
    }
    for (unsigned i = 0; i < 256; ++i) {
        for (std::size_t s = 1; s < 8; ++s) {
            t[s][i] = static_cast<T>((t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xffU]);
        }
    }
    return t;
}

constexpr crc_tables<std::uint32_t> crc32c_tables = make_crc_tables<std::uint32_t>(0x82F63B78U);
constexpr crc_tables<std::uint64_t> crc64nvme_tables =
    make_crc_tables<std::uint64_t>(0x9A6C9329AC4BC9B5ULL);

// Raw (not pre/post-inverted) reflected CRC update, eight bytes per step.
template <class T> T crc_raw_update(const crc_tables<T>& t, T crc, std::string_view data) {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    std::size_t n = data.size();
    while (n >= 8) {
        // Assemble little-endian explicitly: portable, and compilers turn it into one load.
        std::uint64_t w = 0;
        for (int i = 7; i >= 0; --i) {
            w = (w << 8) | p[i];
        }
        w ^= static_cast<std::uint64_t>(crc);
        crc = static_cast<T>(t[7][w & 0xff] ^ t[6][(w >> 8) & 0xff] ^ t[5][(w >> 16) & 0xff] ^
                             t[4][(w >> 24) & 0xff] ^ t[3][(w >> 32) & 0xff] ^
                             t[2][(w >> 40) & 0xff] ^ t[1][(w >> 48) & 0xff] ^ t[0][w >> 56]);
        p += 8;
        n -= 8;
    }
    while (n-- > 0) {
        crc = static_cast<T>(t[0][(crc ^ *p++) & 0xffU] ^ (crc >> 8));
    }
    return crc;
}

const EVP_MD* evp_md(checksum_algorithm alg) {
    // Fetch once per process (the expensive part of OpenSSL 3's EVP API).
    static EVP_MD* sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
    static EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return alg == checksum_algorithm::sha1 ? sha1 : sha256;
}

struct algorithm_info {
    checksum_algorithm alg;
    std::string_view name;   // as in x-amz-sdk-checksum-algorithm
    std::string_view header; // x-amz-checksum-<name>
    std::size_t digest_size;
};

constexpr std::array<algorithm_info, 5> algorithms{{
    {checksum_algorithm::crc32, "crc32", "x-amz-checksum-crc32", 4},
    {checksum_algorithm::crc32c, "crc32c", "x-amz-checksum-crc32c", 4},
    {checksum_algorithm::crc64nvme, "crc64nvme", "x-amz-checksum-crc64nvme", 8},
    {checksum_algorithm::sha1, "sha1", "x-amz-checksum-sha1", 20},
    {checksum_algorithm::sha256, "sha256", "x-amz-checksum-sha256", 32},
}};

const algorithm_info& info(checksum_algorithm alg) {
    return algorithms[static_cast<std::size_t>(alg)];
}

} // namespace

std::optional<checksum_algorithm> checksum_algorithm_from_header(std::string_view header_name) {
    for (const auto& a : algorithms) {
        if (iequals(header_name, a.header)) {
            return a.alg;
        }
    }
    return std::nullopt;
}

std::optional<checksum_algorithm> checksum_algorithm_from_name(std::string_view name) {
    for (const auto& a : algorithms) {
        if (iequals(name, a.name)) {
            return a.alg;
        }
    }
    return std::nullopt;
}

std::string_view checksum_header_name(checksum_algorithm alg) noexcept {
    return info(alg).header;
}

std::size_t checksum_digest_size(checksum_algorithm alg) noexcept {
    return info(alg).digest_size;
}

std::size_t checksum_base64_size(checksum_algorithm alg) noexcept {
    return 4 * ((info(alg).digest_size + 2) / 3);
}

std::uint32_t crc32c_update(std::uint32_t crc, std::string_view data) noexcept {
    return ~crc_raw_update<std::uint32_t>(crc32c_tables, ~crc, data);
}

std::uint64_t crc64nvme_update(std::uint64_t crc, std::string_view data) noexcept {
    return ~crc_raw_update<std::uint64_t>(crc64nvme_tables, ~crc, data);
}

struct checksum::evp_state {
    struct deleter {
        void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
    };
    std::unique_ptr<EVP_MD_CTX, deleter> ctx{EVP_MD_CTX_new()};
};

checksum::checksum(checksum_algorithm alg) : alg_(alg) {
    if (alg_ == checksum_algorithm::sha1 || alg_ == checksum_algorithm::sha256) {
        evp_ = std::make_unique<evp_state>();
        EVP_DigestInit_ex2(evp_->ctx.get(), evp_md(alg_), nullptr);
    }
}
checksum::~checksum() = default;
checksum::checksum(checksum&&) noexcept = default;
checksum& checksum::operator=(checksum&&) noexcept = default;

void checksum::update(std::string_view data) {
    switch (alg_) {
    case checksum_algorithm::crc32:
        crc_ = crc32_z(static_cast<uLong>(crc_), reinterpret_cast<const Bytef*>(data.data()),
                       data.size());
        break;
    case checksum_algorithm::crc32c:
        crc_ = crc32c_update(static_cast<std::uint32_t>(crc_), data);
        break;
    case checksum_algorithm::crc64nvme: crc_ = crc64nvme_update(crc_, data); break;
    case checksum_algorithm::sha1:
    case checksum_algorithm::sha256:
        EVP_DigestUpdate(evp_->ctx.get(), data.data(), data.size());
        break;
    }
}

std::string checksum::finish() {
    std::string out;
    if (evp_) {
        std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
        unsigned int len = 0;
        EVP_DigestFinal_ex(evp_->ctx.get(), md.data(), &len);
        EVP_DigestInit_ex2(evp_->ctx.get(), evp_md(alg_), nullptr);
        out.assign(reinterpret_cast<const char*>(md.data()), len);
        return out;
    }
    const std::size_t size = checksum_digest_size(alg_);
    out.resize(size);
    for (std::size_t i = 0; i < size; ++i) { // big-endian, as S3 encodes CRCs
        out[i] = static_cast<char>((crc_ >> (8 * (size - 1 - i))) & 0xffU);
    }
    crc_ = 0;
    return out;
}

std::string checksum::finish_base64() {
    return base64_encode(finish());
}

} // namespace s3ha::crypto
