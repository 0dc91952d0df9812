#include "s3ha/crypto/sha256.hpp"

#include "s3ha/crypto/encoding.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <stdexcept>

namespace s3ha::crypto {
namespace {

// Fetching an algorithm is the expensive part of OpenSSL 3's EVP API; do it once per process and
// keep one context per thread so a signature costs only the hashing itself.
const EVP_MD* sha256_md() {
    static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return md;
}

EVP_MAC* hmac_mac() {
    static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    return mac;
}

struct md_ctx_deleter {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct mac_ctx_deleter {
    void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};

EVP_MD_CTX* thread_md_ctx() {
    thread_local std::unique_ptr<EVP_MD_CTX, md_ctx_deleter> ctx(EVP_MD_CTX_new());
    return ctx.get();
}

EVP_MAC_CTX* thread_hmac_ctx() {
    thread_local std::unique_ptr<EVP_MAC_CTX, mac_ctx_deleter> ctx = [] {
        std::unique_ptr<EVP_MAC_CTX, mac_ctx_deleter> c(EVP_MAC_CTX_new(hmac_mac()));
        char digest[] = "SHA256";
        OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
        // Set the digest once; later EVP_MAC_init calls only change the key.
        if (!c || EVP_MAC_CTX_set_params(c.get(), params) != 1) {
            throw std::runtime_error("OpenSSL HMAC-SHA256 unavailable");
        }
        return c;
    }();
    return ctx.get();
}

} // namespace

sha256_digest sha256(std::string_view data) {
    sha256_digest out{};
    EVP_MD_CTX* c = thread_md_ctx();
    EVP_DigestInit_ex2(c, sha256_md(), nullptr);
    EVP_DigestUpdate(c, data.data(), data.size());
    EVP_DigestFinal_ex(c, out.data(), nullptr);
    return out;
}

std::string sha256_hex(std::string_view data) {
    return to_hex(as_bytes(sha256(data)));
}

sha256_digest hmac_sha256(std::string_view key, std::string_view data) {
    sha256_digest out{};
    EVP_MAC_CTX* c = thread_hmac_ctx();
    std::size_t len = 0;
    EVP_MAC_init(c, reinterpret_cast<const unsigned char*>(key.data()), key.size(), nullptr);
    EVP_MAC_update(c, reinterpret_cast<const unsigned char*>(data.data()), data.size());
    EVP_MAC_final(c, out.data(), &len, out.size());
    return out;
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
