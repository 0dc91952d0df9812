#include "s3ha/proxy/upload_id.hpp"

#include "s3ha/core/errc.hpp"
#include "s3ha/crypto/encoding.hpp"
#include "s3ha/crypto/sha256.hpp"

namespace s3ha::proxy {

namespace {

constexpr std::string_view k_prefix = "s3ha1.";
constexpr std::size_t k_mac_bytes = 16;

std::string upload_id_mac(std::string_view secret, std::string_view name,
                          std::string_view original) {
    std::string msg;
    msg.reserve(16 + name.size() + original.size());
    msg.append("s3ha-upload-id\n").append(name).append("\n").append(original);
    const auto digest = crypto::hmac_sha256(secret, msg);
    return std::string(crypto::as_bytes(digest).substr(0, k_mac_bytes));
}

} // namespace

result<std::string> encode_upload_id(const backend_config& b, std::string_view original) {
    if (original.empty() || original.size() > k_max_original_upload_id) {
        return errc::invalid_argument;
    }
    std::string id(k_prefix);
    id.append(crypto::base64url_encode(b.name))
        .append(".")
        .append(crypto::base64url_encode(original))
        .append(".")
        .append(crypto::base64url_encode(upload_id_mac(b.secret_key, b.name, original)));
    return id;
}

result<decoded_upload_id> decode_upload_id(std::string_view id,
                                           std::span<const backend_config> backends) {
    if (id.size() > k_max_upload_id || !id.starts_with(k_prefix)) return errc::no_such_upload;
    id.remove_prefix(k_prefix.size());
    const auto dot1 = id.find('.');
    if (dot1 == std::string_view::npos) return errc::no_such_upload;
    const auto dot2 = id.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || id.find('.', dot2 + 1) != std::string_view::npos) {
        return errc::no_such_upload;
    }
    auto name = crypto::base64url_decode(id.substr(0, dot1));
    auto original = crypto::base64url_decode(id.substr(dot1 + 1, dot2 - dot1 - 1));
    auto mac = crypto::base64url_decode(id.substr(dot2 + 1));
    if (!name || !original || !mac || original->empty() ||
        original->size() > k_max_original_upload_id) {
        return errc::no_such_upload;
    }
    for (std::size_t i = 0; i < backends.size(); ++i) {
        const auto& b = backends[i];
        if (b.name != *name) continue;
        // The MAC is checked even when the length is off (constant_time_equal handles that).
        if (!crypto::constant_time_equal(upload_id_mac(b.secret_key, b.name, *original), *mac)) {
            return errc::no_such_upload;
        }
        return decoded_upload_id{i, std::move(*original)};
    }
    return errc::no_such_upload;
}

} // namespace s3ha::proxy
