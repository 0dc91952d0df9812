#include "s3ha/proxy/upstream_request.hpp"

#include "s3ha/core/errc.hpp"
#include "s3ha/core/strings.hpp"
#include "s3ha/http/header_writer.hpp"
#include "s3ha/proxy/hop_by_hop.hpp"
#include "s3ha/sigv4/header_rule.hpp"
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

namespace {

// Per-thread list of the fields a signature covers: it allocates only while growing, and
// nothing suspends between filling and signing.
std::vector<sigv4::header_field>& thread_signed_fields() {
    thread_local std::vector<sigv4::header_field> fields;
    return fields;
}

// The header as it is written, line by line; the fields that the signature covers are noted
// as they go in (views of values that outlive the signing: the downstream header's and the
// caller's).
class header_text {
public:
    explicit header_text(std::string& out) : out_(out), covered_(thread_signed_fields()) {
        covered_.clear();
    }
    /// Appends a field; `sign`: the upstream signature covers it.
    void add(std::string_view name, std::string_view value, bool sign) {
        append_field(out_, name, value);
        if (sign) covered_.push_back({name, value});
    }
    std::span<sigv4::header_field> signed_fields() noexcept { return covered_; }

private:
    std::string& out_;
    std::vector<sigv4::header_field>& covered_;
};

} // namespace

result<upstream_request>
build_upstream_request(const downstream_request& down, const s3_address& address,
                       const sigv4::verified_request* auth, const upstream::backend& target,
                       std::string_view via_pseudonym, std::chrono::system_clock::time_point now,
                       sigv4::signing_key_cache& keys) {
    upstream_request up;
    const auto& dh = down.header;
    const bool has_body = down.chunked || down.content_length.value_or(0) > 0;
    up.mode = has_body ? body_mode::plain : body_mode::none;
    up.content_length = down.chunked ? std::nullopt : down.content_length;

    // The payload mode first: it decides which downstream fields go upstream.
    std::string_view payload_hash;
    bool decode = false;
    std::string content_coding; // decode: Content-Encoding without aws-chunked
    if (auth != nullptr) {
        payload_hash = auth->payload_hash;
        if (auth->payload == sigv4::payload_kind::unsigned_payload) {
            payload_hash = k_unsigned_payload;
        } else if (is_streaming(auth->payload)) {
            up.variant = sigv4::chunked_variant_from_content_sha256(auth->payload_hash);
            if (!up.variant) return errc::invalid_content_sha256;
            if (auto v = dh.find(k_decoded_length); v != dh.end()) {
                up.decoded_length = parse_u64(v->value());
                if (!up.decoded_length) return errc::invalid_argument;
            }
            if (auto t = dh.find(k_trailer); t != dh.end()) {
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
                decode = true;
                content_coding = remove_aws_chunked_coding(dh[http::field::content_encoding]);
                payload_hash = k_unsigned_payload;
            }
        }
    }

    // Request line: path-style target, the query without the client's authentication.
    std::string path_style = address.path;
    if (!address.query.empty()) {
        const auto path_end = path_style.size();
        if (!sigv4::append_query_without_client_auth(path_style, address.query)) {
            path_style.resize(path_end); // nothing to remove: the query as it came
            path_style.push_back('?');
            path_style.append(address.query);
        }
    }
    std::string& text = up.header;
    text.reserve(1024);
    // Always HTTP/1.1 with s3ha's own framing: an HTTP/1.0 request's keep-alive or body
    // conventions never reach the backend (check_request_framing refused Transfer-Encoding on it).
    text.append(dh.method_string()).append(" ").append(path_style).append(" HTTP/1.1\r\n");

    const bool signing = auth != nullptr;
    header_text fields(text);
    fields.add("Host", target.host_header(), signing);
    // The downstream fields: what the client signed, and unsigned what the forwarding rule lets
    // through (sigv4/header_rule.hpp); never what s3ha sets itself below.
    const hop_by_hop_filter hop_by_hop(dh);
    bool coding_done = false;
    std::string via_chain;
    for (const auto& f : dh) {
        const auto name = f.name_string();
        auto client_signed = [&] { return signing && auth->signs(name); };
        switch (f.name()) {
        case http::field::host:           // the backend's, above
        case http::field::expect:         // s3ha answers 100-continue itself
        case http::field::content_length: // set again below from the body mode
            continue;
        case http::field::via: // joined with this hop's entry, below
            via_chain.append(via_chain.empty() ? "" : ", ").append(trim_ows(f.value()));
            continue;
        case http::field::content_encoding:
            if (!decode) break;
            // Decoded: the first Content-Encoding without aws-chunked, in its place.
            if (!coding_done && !content_coding.empty())
                fields.add(name, content_coding, client_signed());
            coding_done = true;
            continue;
        default: break;
        }
        if (hop_by_hop.drops(f) || sigv4::is_client_auth_header(f)) continue;
        if (signing &&
            (beast::iequals(name, "x-amz-date") || beast::iequals(name, "x-amz-content-sha256"))) {
            continue; // the upstream signature's own, below
        }
        if (decode && (beast::iequals(name, k_decoded_length) || beast::iequals(name, k_trailer) ||
                       beast::iequals(name, "x-amz-sdk-checksum-algorithm"))) {
            continue; // s3ha verifies the chunks and the trailer checksum itself
        }
        const bool covered = client_signed();
        if (!covered) {
            switch (sigv4::classify_unsigned_header(name, dh.method(), !signing)) {
            case sigv4::unsigned_header::forward: break;
            case sigv4::unsigned_header::drop: continue;
            case sigv4::unsigned_header::refuse: return errc::header_not_signed; // checked before
            }
        }
        fields.add(name, f.value(), covered);
    }
    // One Via field: the chain so far, then this hop (RFC 9110 §7.6.3); signed when the client
    // signed its own Via (never two signed fields of one name: a backend reads only the first).
    via_chain.append(via_chain.empty() ? "1.1 " : ", 1.1 ").append(via_pseudonym);
    fields.add("Via", via_chain, signing && auth->signs("via"));
    if (up.content_length) {
        append_field(text, "Content-Length", std::to_string(*up.content_length));
    } else if (up.mode != body_mode::none) {
        append_field(text, "Transfer-Encoding", "chunked");
    }

    if (auth != nullptr) {
        const std::string amz_date = sigv4::format_amz_date(now);
        fields.add("X-Amz-Date", amz_date, true);
        fields.add("X-Amz-Content-Sha256", payload_hash, true);
        const auto& p = target.signing();
        text.append("Authorization: ");
        auto signature = sigv4::append_authorization(
            text, {dh.method_string(), path_style, fields.signed_fields(), payload_hash, amz_date},
            p, keys);
        if (!signature) return signature.error();
        text.append("\r\n");
        up.seed_signature.assign(signature->data(), signature->size());
        if (up.mode == body_mode::chunked_forward && sigv4::is_signed(*up.variant)) {
            std::string date = amz_date.substr(0, 8);
            up.chunk_signing = sigv4::chunk_signing_context{
                keys.get(p.access_key, p.secret_key, date, p.region, "s3"), amz_date,
                sigv4::credential_scope(date, p.region, "s3"), up.seed_signature};
        }
    }
    text.append("\r\n");
    return up;
}

} // namespace s3ha::proxy
