#include "s3ha/proxy/multipart_rewrite.hpp"

#include "s3ha/core/errc.hpp"
#include "s3ha/proxy/upload_id.hpp"
#include "s3ha/sigv4/canonical.hpp"

#include <pugixml.hpp>

#include <array>
#include <sstream>

namespace s3ha::proxy {

namespace {

constexpr std::string_view k_upload_id = "uploadId";
constexpr std::string_view k_upload_id_marker = "upload-id-marker";

// Parameter names are compared decoded, as the backend reads them (`upload%49d` is uploadId).
struct found_param {
    unsigned count = 0;
    std::string_view raw_value;
};

// `query` with the value of every `name` parameter replaced by `raw_value` (already encoded);
// everything else is kept byte for byte, in order.
std::string replace_param(std::string_view query, std::string_view name,
                          std::string_view raw_value) {
    std::string out;
    out.reserve(query.size() + raw_value.size());
    std::size_t pos = 0;
    while (pos <= query.size()) {
        auto amp = query.find('&', pos);
        if (amp == std::string_view::npos) amp = query.size();
        const std::string_view piece = query.substr(pos, amp - pos);
        if (pos != 0) out.push_back('&');
        if (sigv4::query_name_is(piece.substr(0, piece.find('=')), name)) {
            out.append(name).append("=").append(raw_value);
        } else {
            out.append(piece);
        }
        pos = amp + 1;
    }
    return out;
}

std::string_view local_name(std::string_view qualified) {
    const auto colon = qualified.find(':');
    return colon == std::string_view::npos ? qualified : qualified.substr(colon + 1);
}

} // namespace

bool rewrites_upload_ids(s3_operation op) noexcept {
    return op == s3_operation::create_multipart_upload ||
           op == s3_operation::list_multipart_uploads || op == s3_operation::list_parts;
}

bool accepts_pinned_request(const upstream::backend_state& s) noexcept {
    return !s.drained() && (s.up() || !s.checked());
}

result<upload_id_routing> translate_upload_ids(std::string_view raw_query,
                                               std::span<const backend_config> backends) {
    struct rule {
        std::string_view name;
        errc invalid;
    };
    constexpr std::array<rule, 2> rules{rule{k_upload_id, errc::no_such_upload},
                                        rule{k_upload_id_marker, errc::invalid_argument}};
    std::array<found_param, rules.size()> found;
    sigv4::for_each_query_param(raw_query, [&](std::string_view n, std::string_view v) {
        for (std::size_t i = 0; i < rules.size(); ++i) {
            if (sigv4::query_name_is(n, rules[i].name)) {
                ++found[i].count;
                found[i].raw_value = v; // a view into raw_query
            }
        }
        return true;
    });
    upload_id_routing r;
    for (std::size_t i = 0; i < rules.size(); ++i) {
        const rule& p = rules[i];
        const found_param& f = found[i];
        if (f.count == 0) continue;
        if (f.count > 1) return errc::invalid_argument;
        auto id = sigv4::percent_decode(f.raw_value, true);
        if (!id) return errc::invalid_uri;
        // An empty marker is the first page of a listing: nothing to translate.
        if (id->empty() && p.name == k_upload_id_marker) continue;
        auto decoded = decode_upload_id(*id, backends);
        if (!decoded) return p.invalid;
        if (r.pinned_backend && *r.pinned_backend != decoded->backend_index) {
            return errc::invalid_argument;
        }
        r.pinned_backend = decoded->backend_index;
        r.query = replace_param(r.query ? std::string_view(*r.query) : raw_query, p.name,
                                sigv4::uri_encode(decoded->original, true));
    }
    return r;
}

result<std::string> rewrite_upload_ids_xml(std::string_view body, const backend_config& b,
                                           bool require_upload_id) {
    pugi::xml_document doc;
    // parse_default decodes the predefined entities and character references; no DOCTYPE
    // processing (pugixml never expands custom entities).
    const auto parsed =
        doc.load_buffer(body.data(), body.size(), pugi::parse_default | pugi::parse_declaration,
                        pugi::encoding_utf8);
    if (!parsed || !doc.document_element()) return errc::upstream_protocol_error;

    bool found_upload_id = false;
    error_code failure;
    struct walker final : pugi::xml_tree_walker {
        const backend_config* b = nullptr;
        bool* found = nullptr;
        error_code* failure = nullptr;
        bool for_each(pugi::xml_node& node) override {
            if (node.type() != pugi::node_element) return true;
            const auto name = local_name(node.name());
            if (name != "UploadId" && name != "UploadIdMarker" && name != "NextUploadIdMarker") {
                return true;
            }
            auto text = node.text();
            const std::string_view original = text.get();
            if (original.empty()) return true;
            auto id = encode_upload_id(*b, original);
            if (!id) {
                *failure = id.error();
                return false;
            }
            text.set(id->c_str());
            if (name == "UploadId") *found = true;
            return true;
        }
    } w;
    w.b = &b;
    w.found = &found_upload_id;
    w.failure = &failure;
    doc.traverse(w);
    if (failure) return failure;
    if (require_upload_id && !found_upload_id) return errc::upstream_protocol_error;

    std::ostringstream out;
    doc.save(out, "", pugi::format_raw, pugi::encoding_utf8);
    return out.str();
}

} // namespace s3ha::proxy
