#include "s3ha/crypto/sha256.hpp"

#include "s3ha/crypto/encoding.hpp"

// The one-shot hashes and the HMAC use OpenSSL's low-level SHA-256 (deprecated in 3.0 in favour
// of EVP, but still shipped): on a SigV4 verification EVP's per-call dispatch and EVP_MAC_init
// key setup cost more than the hashing itself (HMAC 480 ns -> ~200 ns on a 120-byte message).
// The block function is the same (SHA-NI / AVX2 dispatch) either way.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <cstring>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

namespace s3ha::crypto {
namespace {

// The incremental hasher keeps EVP (its context is reused per hasher). Fetching an algorithm is
// the expensive part of OpenSSL 3's EVP API; do it once per process.
const EVP_MD* sha256_md() {
    static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return md;
}

struct md_ctx_deleter {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

} // namespace

// Not the SHA256() one-shot: in OpenSSL 3 it goes through EVP_Q_digest, which fetches the
// algorithm on every call.
sha256_digest sha256(std::string_view data) {
    sha256_digest out{};
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, data.data(), data.size());
    SHA256_Final(out.data(), &c);
    return out;
}

std::string sha256_hex(std::string_view data) {
    return to_hex(as_bytes(sha256(data)));
}

namespace {

constexpr std::size_t k_block = 64;

// RFC 2104: K padded with zeros to a block, or SHA-256(K) when longer than a block.
void block_key(std::string_view key, unsigned char (&k)[k_block]) {
    std::memset(k, 0, k_block);
    if (key.size() > k_block) {
        auto d = sha256(key);
        std::memcpy(k, d.data(), d.size());
    } else {
        std::memcpy(k, key.data(), key.size());
    }
}

// The SHA-256 state after hashing the block K xor pad.
void start_padded(SHA256_CTX& c, const unsigned char (&k)[k_block], unsigned char pad) {
    unsigned char block[k_block];
    for (std::size_t i = 0; i < k_block; ++i)
        block[i] = static_cast<unsigned char>(k[i] ^ pad);
    SHA256_Init(&c);
    SHA256_Update(&c, block, k_block);
    OPENSSL_cleanse(block, sizeof block);
}

constexpr unsigned char k_ipad = 0x36;
constexpr unsigned char k_opad = 0x5c;

// H(K xor opad, H(K xor ipad, data)) from the two started states, which it uses up (cleansed).
sha256_digest finish_hmac(SHA256_CTX& inner, SHA256_CTX& outer, std::string_view data) {
    sha256_digest inner_digest{};
    SHA256_Update(&inner, data.data(), data.size());
    SHA256_Final(inner_digest.data(), &inner);
    sha256_digest out{};
    SHA256_Update(&outer, inner_digest.data(), inner_digest.size());
    SHA256_Final(out.data(), &outer);
    OPENSSL_cleanse(&inner, sizeof inner);
    OPENSSL_cleanse(&outer, sizeof outer);
    return out;
}

} // namespace

// RFC 2104 HMAC over SHA-256 (block size 64).
sha256_digest hmac_sha256(std::string_view key, std::string_view data) {
    unsigned char k[k_block];
    block_key(key, k);
    SHA256_CTX inner;
    SHA256_CTX outer;
    start_padded(inner, k, k_ipad);
    start_padded(outer, k, k_opad);
    OPENSSL_cleanse(k, sizeof k);
    return finish_hmac(inner, outer, data);
}

static_assert(sizeof(SHA256_CTX) == 112 && alignof(SHA256_CTX) <= 8,
              "hmac_sha256_key stores SHA256_CTX values in 112 bytes");

hmac_sha256_key::hmac_sha256_key(std::string_view key) {
    unsigned char k[k_block];
    block_key(key, k);
    SHA256_CTX c;
    start_padded(c, k, k_ipad);
    std::memcpy(inner_.data(), &c, sizeof c);
    start_padded(c, k, k_opad);
    std::memcpy(outer_.data(), &c, sizeof c);
    OPENSSL_cleanse(&c, sizeof c);
    OPENSSL_cleanse(k, sizeof k);
}

sha256_digest hmac_sha256_key::mac(std::string_view data) const {
    SHA256_CTX inner;
    SHA256_CTX outer;
    std::memcpy(&inner, inner_.data(), sizeof inner);
    std::memcpy(&outer, outer_.data(), sizeof outer);
    return finish_hmac(inner, outer, data);
}

struct sha256_hasher::impl {
    std::unique_ptr<EVP_MD_CTX, md_ctx_deleter> ctx{EVP_MD_CTX_new()};
};

sha256_hasher::sha256_hasher() : impl_(std::make_unique<impl>()) {
    EVP_DigestInit_ex2(impl_->ctx.get(), sha256_md(), nullptr);
}
sha256_hasher::~sha256_hasher() = default;
sha256_hasher::sha256_hasher(sha256_hasher&&) noexcept = default;
sha256_hasher& sha256_hasher::operator=(sha256_hasher&&) noexcept = default;

void sha256_hasher::update(std::string_view data) {
    EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size());
}

sha256_digest sha256_hasher::finish() {
    sha256_digest out{};
    EVP_DigestFinal_ex(impl_->ctx.get(), out.data(), nullptr);
    EVP_DigestInit_ex2(impl_->ctx.get(), sha256_md(), nullptr);
    return out;
}

} // namespace s3ha::crypto
