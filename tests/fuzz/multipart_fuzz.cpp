// Fuzz target: multipart upload ids (proxy/upload_id.hpp) and their rewriting
// (proxy/multipart_rewrite.hpp). The input's last byte picks one of three parts.
//
// Oracles:
//  ids:       an id s3ha issues (encode_upload_id) decodes back to (its backend, the raw id), also
//             with the backends listed in another order; an original that is empty or over
//             k_max_original_upload_id is refused; the id is URI-unreserved (base64url and '.');
//             the same id checked against a backend with another secret key, and any changed
//             copy of it (bytes replaced, inserted or deleted), never decodes.
//  translate: translate_upload_ids on an arbitrary query, into which ids s3ha issued may be
//             spliced (raw or percent-encoded), never crashes; it pins a request only to the
//             backend of an id it issued, and the query it sends on carries only that id's
//             original; a query with no id issued for this input (the backends' keys are
//             derived from the input: see key_backends_for) is never pinned; the UploadPart query
//             (`partNumber=N&uploadId=<id>`) pins to the id's backend with the original
//             URI-encoded.
//  xml:       rewrite_upload_ids_xml on arbitrary text never crashes; when it succeeds the output
//             parses, has the same UploadId/UploadIdMarker/NextUploadIdMarker elements (by
//             local name, in document order), and each non-empty one holds an id that decodes to
//             the rewriting backend and the element's original text; a CreateMultipartUpload
//             result it accepts (require_upload_id) has a non-empty UploadId; an original over
//             the limit is refused.
#include "fuzz_check.hpp"

#include "s3ha/core/errc.hpp"
#include "s3ha/crypto/encoding.hpp"
#include "s3ha/crypto/sha256.hpp"
#include "s3ha/proxy/multipart_rewrite.hpp"
#include "s3ha/proxy/upload_id.hpp"
#include "s3ha/sigv4/canonical.hpp"

#include <fuzzer/FuzzedDataProvider.h>
#include <pugixml.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using s3ha::backend_config;
using s3ha::proxy::decode_upload_id;
using s3ha::proxy::encode_upload_id;
using s3ha::proxy::k_max_original_upload_id;

backend_config make_backend(std::string name, std::string secret) {
    backend_config b;
    b.name = std::move(name);
    b.secret_key = std::move(secret);
    return b;
}

// The backends of the current input. Their secret keys are derived from the input itself: an
// id is valid only under the keys of the input that issued it, so an id the fuzzer saw issued
// in an earlier run (ids are deterministic) and copied into this input cannot pass as one s3ha
// issued here; only a forged MAC could. Reproducers stay reproducible.
std::vector<backend_config>& backends() {
    static std::vector<backend_config> b{make_backend("minio-a", ""), make_backend("b", ""),
                                         make_backend("c.d_e", "")};
    return b;
}

void key_backends_for(std::string_view input) {
    const std::string salt =
        s3ha::crypto::to_hex(s3ha::crypto::as_bytes(s3ha::crypto::sha256(input)));
    for (auto& b : backends())
        b.secret_key = "secret-key-of-" + b.name + "-" + salt;
}

std::string issue(std::size_t backend, std::string_view original) {
    auto id = encode_upload_id(backends()[backend], original);
    S3HA_FUZZ_CHECK(id.has_value(), "encode_upload_id refused a valid original");
    return *id;
}

// ---- ids --------------------------------------------------------------------------------------

void fuzz_ids(FuzzedDataProvider& in) {
    const auto backend = in.ConsumeIntegralInRange<std::size_t>(0, backends().size() - 1);
    const std::string original = in.ConsumeRandomLengthString(k_max_original_upload_id + 16);
    const auto id = encode_upload_id(backends()[backend], original);
    if (original.empty() || original.size() > k_max_original_upload_id) {
        S3HA_FUZZ_CHECK(!id && id.error() == s3ha::errc::invalid_argument,
                        "an empty or too long original was wrapped");
        return;
    }
    S3HA_FUZZ_CHECK(id.has_value(), "encode_upload_id refused a valid original");
    for (char c : *id) {
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        S3HA_FUZZ_CHECK(unreserved, "an id that needs percent-encoding: " + *id);
    }

    const auto d = decode_upload_id(*id, backends());
    S3HA_FUZZ_CHECK(d && d->backend_index == backend && d->original == original,
                    "an issued id does not decode back: " + *id);

    // Another configuration order: found by name.
    const std::vector<backend_config> reversed(backends().rbegin(), backends().rend());
    const auto r = decode_upload_id(*id, reversed);
    S3HA_FUZZ_CHECK(r && r->backend_index == backends().size() - 1 - backend &&
                        r->original == original,
                    "an issued id does not decode in another backend order");

    // The same backend name with another key (a rotated secret, or another s3ha's).
    std::vector<backend_config> rotated = backends();
    rotated[backend].secret_key += "x";
    S3HA_FUZZ_CHECK(!decode_upload_id(*id, rotated), "an id decodes under another key");

    // Any changed copy is refused: each byte string has one base64url spelling, so a change
    // alters the name, the original or the MAC, and the MAC needs the key.
    std::string t = *id;
    const int changes = in.ConsumeIntegralInRange<int>(1, 3);
    for (int i = 0; i < changes && !t.empty(); ++i) {
        const auto pos = in.ConsumeIntegralInRange<std::size_t>(0, t.size() - 1);
        const auto byte = in.ConsumeIntegral<std::uint8_t>();
        switch (in.ConsumeIntegralInRange<int>(0, 2)) {
        case 0: t[pos] = static_cast<char>(t[pos] ^ (byte | 1U)); break;
        case 1: t.insert(pos, 1, static_cast<char>(byte)); break;
        default: t.erase(pos, 1); break;
        }
    }
    if (t != *id) {
        S3HA_FUZZ_CHECK(!decode_upload_id(t, backends()), "a tampered id decodes: " + t);
    }
}

// ---- translate --------------------------------------------------------------------------------

std::string percent_encode_all(std::string_view s) {
    static constexpr std::string_view hex = "0123456789ABCDEF";
    std::string out;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        out += '%';
        out += hex[u >> 4U];
        out += hex[u & 0xfU];
    }
    return out;
}

void fuzz_translate(FuzzedDataProvider& in) {
    struct issued {
        std::size_t backend;
        std::string original;
        std::string id;
    };
    std::vector<issued> ids;
    for (int i = in.ConsumeIntegralInRange<int>(0, 2); i > 0; --i) {
        const auto b = in.ConsumeIntegralInRange<std::size_t>(0, backends().size() - 1);
        std::string original = in.ConsumeRandomLengthString(64);
        if (original.empty()) original = "o";
        ids.push_back({b, original, issue(b, original)});
    }

    // The plain UploadPart query.
    if (!ids.empty()) {
        const auto part = std::to_string(in.ConsumeIntegralInRange<int>(1, 10000));
        const auto r = s3ha::proxy::translate_upload_ids(
            "partNumber=" + part + "&uploadId=" + ids[0].id, backends());
        S3HA_FUZZ_CHECK(r && r->pinned_backend == ids[0].backend && r->query &&
                            *r->query == "partNumber=" + part + "&uploadId=" +
                                             s3ha::sigv4::uri_encode(ids[0].original, true),
                        "UploadPart with an issued id is not routed to its backend");
    }

    // An arbitrary query; "@0" / "@1" are replaced by an issued id, "%0" / "%1" by the same
    // percent-encoded.
    const std::string tmpl = in.ConsumeRemainingBytesAsString();
    std::string query;
    bool spliced = false;
    for (std::size_t i = 0; i < tmpl.size(); ++i) {
        const bool marker = (tmpl[i] == '@' || tmpl[i] == '%') && i + 1 < tmpl.size() &&
                            (tmpl[i + 1] == '0' || tmpl[i + 1] == '1');
        const auto n = marker ? static_cast<std::size_t>(tmpl[i + 1] - '0') : ids.size();
        if (!marker || n >= ids.size()) {
            query += tmpl[i];
            continue;
        }
        query += tmpl[i] == '@' ? ids[n].id : percent_encode_all(ids[n].id);
        spliced = true;
        ++i;
    }
    const auto r = s3ha::proxy::translate_upload_ids(query, backends());
    if (!r) return;
    if (!r->pinned_backend) {
        S3HA_FUZZ_CHECK(!r->query, "a query rewritten without a pinned backend");
        return;
    }
    S3HA_FUZZ_CHECK(spliced, "pinned by an id s3ha did not issue: " + query);
    S3HA_FUZZ_CHECK(*r->pinned_backend < backends().size(), "pinned to no backend");
    S3HA_FUZZ_CHECK(r->query.has_value(), "pinned but the query still carries the s3ha id");
    // What goes upstream under the two names is the original of an id issued for that backend.
    s3ha::sigv4::for_each_query_param(*r->query, [&](std::string_view n, std::string_view v) {
        if (s3ha::sigv4::query_name_is(n, "uploadId") ||
            s3ha::sigv4::query_name_is(n, "upload-id-marker")) {
            const auto value = s3ha::sigv4::percent_decode(v, true);
            bool known = false;
            for (const auto& i : ids) {
                known = known || (value && i.backend == *r->pinned_backend && i.original == *value);
            }
            S3HA_FUZZ_CHECK(known || (value && value->empty()),
                            "upstream query carries an id s3ha did not issue: " + *r->query);
        }
        return true;
    });
}

// ---- xml --------------------------------------------------------------------------------------

bool is_id_element(std::string_view qualified) {
    const auto colon = qualified.find(':');
    const auto name = colon == std::string_view::npos ? qualified : qualified.substr(colon + 1);
    return name == "UploadId" || name == "UploadIdMarker" || name == "NextUploadIdMarker";
}

struct id_element {
    bool upload_id = false;
    std::string text;
};

// The id elements of a document, in document order (nullopt: not well-formed).
std::optional<std::vector<id_element>> id_elements(std::string_view xml) {
    pugi::xml_document doc;
    const auto parsed = doc.load_buffer(
        xml.data(), xml.size(), pugi::parse_default | pugi::parse_declaration, pugi::encoding_utf8);
    if (!parsed || !doc.document_element()) return std::nullopt;
    struct walker final : pugi::xml_tree_walker {
        std::vector<id_element> found;
        bool for_each(pugi::xml_node& node) override {
            if (node.type() == pugi::node_element && is_id_element(node.name())) {
                const std::string_view name = node.name();
                found.push_back({name == "UploadId" || name.ends_with(":UploadId"),
                                 std::string(node.text().get())});
            }
            return true;
        }
    } w;
    doc.traverse(w);
    return std::move(w.found);
}

void fuzz_xml(FuzzedDataProvider& in) {
    const auto backend = in.ConsumeIntegralInRange<std::size_t>(0, backends().size() - 1);
    const bool require = in.ConsumeBool();
    const std::string body = in.ConsumeRemainingBytesAsString();
    const auto r = s3ha::proxy::rewrite_upload_ids_xml(body, backends()[backend], require);
    const auto before = id_elements(body);
    if (!r) {
        S3HA_FUZZ_CHECK(r.error() == s3ha::errc::upstream_protocol_error ||
                            r.error() == s3ha::errc::invalid_argument,
                        "an undocumented error: " + r.error().message());
        return;
    }
    S3HA_FUZZ_CHECK(before.has_value(), "rewrote a document that does not parse");
    const auto after = id_elements(*r);
    S3HA_FUZZ_CHECK(after.has_value(), "the rewritten document does not parse");
    S3HA_FUZZ_CHECK(after->size() == before->size(), "id elements appeared or vanished");
    bool has_upload_id = false;
    for (std::size_t i = 0; i < before->size(); ++i) {
        const auto& b = (*before)[i];
        const auto& a = (*after)[i];
        S3HA_FUZZ_CHECK(b.text.size() <= k_max_original_upload_id, "a too long id was wrapped");
        if (b.text.empty()) {
            S3HA_FUZZ_CHECK(a.text.empty(), "an empty id was filled");
            continue;
        }
        has_upload_id = has_upload_id || b.upload_id;
        const auto d = decode_upload_id(a.text, backends());
        S3HA_FUZZ_CHECK(d && d->backend_index == backend && d->original == b.text,
                        "a rewritten id does not decode to its original: " + a.text);
    }
    S3HA_FUZZ_CHECK(!require || has_upload_id, "CreateMultipartUpload result without an id");
}

} // namespace

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's entry point
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    key_backends_for({reinterpret_cast<const char*>(data), size});
    FuzzedDataProvider in(data, size);
    switch (in.ConsumeIntegralInRange<int>(0, 2)) {
    case 0: fuzz_ids(in); break;
    case 1: fuzz_translate(in); break;
    default: fuzz_xml(in); break;
    }
    return 0;
}
