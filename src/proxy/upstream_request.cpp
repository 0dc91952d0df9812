#include "s3ha/proxy/upstream_request.hpp"

#include "s3ha/core/errc.hpp"
#include "s3ha/core/strings.hpp"
#include "s3ha/proxy/hop_by_hop.hpp"
#include "s3ha/sigv4/signer.hpp"

#include <charconv>

namespace s3ha::proxy {

namespace {

constexpr std::string_view k_content_sha256 = "x-amz-content-sha256";
constexpr std::string_view k_decoded_length = "x-amz-decoded-content-length";
constexpr std::string_view k_trailer = "x-amz-trailer";
constexpr std::string_view k_unsigned_payload = "UNSIGNED-PAYLOAD";

std::optional<std::uint64_t> parse_u64(std::string_view s) {
    s = trim_ows(s);
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

bool is_streaming(sigv4::payload_kind k) {
    return k == sigv4::payload_kind::streaming_signed ||
           k == sigv4::payload_kind::streaming_signed_trailer ||
           k == sigv4::payload_kind::streaming_unsigned_trailer;
}

} // namespace

std::string remove_aws_chunked_coding(std::string_view content_encoding) {
    std::string out;
    while (!content_encoding.empty()) {
        auto comma = content_encoding.find(',');
        auto coding = trim_ows(content_encoding.substr(0, comma));
        if (!coding.empty() && !beast::iequals(coding, "aws-chunked")) {
            if (!out.empty()) out.append(",");
            out.append(coding);
        }
        if (comma == std::string_view::npos) break;
        content_encoding.remove_prefix(comma + 1);
    }
    return out;
}

result<upstream_request>
build_upstream_request(const downstream_request& down, const s3_address& address,
                       const sigv4::verified_request* auth, const upstream::backend& target,
                       std::string_view via_pseudonym, std::chrono::system_clock::time_point now,
                       sigv4::signing_key_cache& keys) {
    upstream_request up;
    auto& h = up.header;
    h.method_string(down.header.method_string());
    h.version(down.header.version());
    std::string path_style = address.path;
    if (!address.query.empty()) {
        const auto path_end = path_style.size();
        if (!sigv4::append_query_without_client_auth(path_style, address.query)) {
            path_style.resize(path_end); // nothing to remove: the query as it came
            path_style.push_back('?');
            path_style.append(address.query);
        }
    }
    h.target(path_style);

    // The downstream fields minus what is not forwarded: copying only the kept ones is cheaper
    // than copying all and erasing (a node allocation and tree insert per field).
    const hop_by_hop_filter hop_by_hop(down.header);
    for (const auto& f : down.header) {
        switch (f.name()) {
        case http::field::host:           // the backend's, set below
        case http::field::expect:         // s3ha answers 100-continue itself
        case http::field::content_length: // set again below from the body mode
            continue;
        default: break;
        }
        if (hop_by_hop.drops(f) || sigv4::is_client_auth_header(f)) continue;
        h.insert(f.name(), f.name_string(), f.value());
    }
    append_via(h, via_pseudonym);

    const bool has_body = down.chunked || down.content_length.value_or(0) > 0;
    up.mode = has_body ? body_mode::plain : body_mode::none;
    up.content_length = down.chunked ? std::nullopt : down.content_length;

    if (auth == nullptr) { // anonymous: forwarded unsigned, body as received
        h.set(http::field::host, target.host_header());
    } else {
        std::string payload_hash = auth->payload_hash;
        if (auth->payload == sigv4::payload_kind::unsigned_payload) {
            payload_hash = k_unsigned_payload;
        } else if (is_streaming(auth->payload)) {
            up.variant = sigv4::chunked_variant_from_content_sha256(auth->payload_hash);
            if (!up.variant) return errc::invalid_content_sha256;
            if (auto v = h.find(k_decoded_length); v != h.end()) {
                up.decoded_length = parse_u64(v->value());
                if (!up.decoded_length) return errc::invalid_argument;
            }
            if (auto t = h.find(k_trailer); t != h.end()) {
                if (*up.variant == sigv4::chunked_variant::signed_payload) {
                    return errc::invalid_argument;
                }
                up.trailer_checksum = crypto::checksum_algorithm_from_header(trim_ows(t->value()));
                if (!up.trailer_checksum) return errc::invalid_argument;
            }
            if (!has_body) return errc::incomplete_body;
            if (target.config().aws_chunked == aws_chunked_mode::forward) {
                up.mode = body_mode::chunked_forward;
            } else {
                if (!up.decoded_length) return errc::missing_content_length;
                up.mode = body_mode::chunked_decode;
                up.content_length = up.decoded_length;
                auto coding = remove_aws_chunked_coding(h[http::field::content_encoding]);
                if (coding.empty()) {
                    h.erase(http::field::content_encoding);
                } else {
                    h.set(http::field::content_encoding, coding);
                }
                h.erase(k_decoded_length);
                h.erase(k_trailer);
                h.erase("x-amz-sdk-checksum-algorithm");
                payload_hash = k_unsigned_payload;
            }
        }
        auto signature = sigv4::sign_request(h, target.signing(), payload_hash, now, keys);
        if (!signature) return signature.error();
        up.seed_signature = std::move(*signature);
        if (up.mode == body_mode::chunked_forward && sigv4::is_signed(*up.variant)) {
            const auto& p = target.signing();
            std::string amz_date(h["x-amz-date"]);
            std::string date = amz_date.substr(0, 8);
            up.chunk_signing = sigv4::chunk_signing_context{
                keys.get(p.access_key, p.secret_key, date, p.region, "s3"), amz_date,
                date + "/" + p.region + "/s3/aws4_request", up.seed_signature};
        }
    }

    if (up.content_length) {
        h.set(http::field::content_length, std::to_string(*up.content_length));
    } else if (up.mode != body_mode::none) {
        h.set(http::field::transfer_encoding, "chunked");
    }
    return up;
}

} // namespace s3ha::proxy
