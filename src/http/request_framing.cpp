#include "s3ha/http/request_framing.hpp"

#include "s3ha/core/strings.hpp"

namespace s3ha {
namespace {

bool is_hop_by_hop_token(std::string_view token) {
    for (std::string_view name : {"close", "keep-alive", "te", "trailer", "upgrade",
                                  "transfer-encoding", "http2-settings"}) {
        if (equals_lower(token, name)) return true;
    }
    return starts_with_lower(token, "proxy-");
}

} // namespace

framing_refusal check_request_framing(const http::request_header<>& req) {
    unsigned transfer_codings = 0;
    for (const auto& f : req) {
        if (f.name() == http::field::transfer_encoding) {
            if (req.version() < 11) {
                return {errc::transfer_encoding_on_http10, f.name_string(), true};
            }
            // Exactly one field holding exactly `chunked`: `gzip, chunked` or a second field
            // would apply a coding s3ha does not remove.
            if (++transfer_codings > 1 || !iequals(trim_ows(f.value()), "chunked")) {
                return {errc::unsupported_transfer_encoding, f.name_string(), true};
            }
        } else if (f.name() == http::field::connection) {
            std::string_view list = f.value();
            while (!list.empty()) {
                const auto comma = list.find(',');
                const auto token = trim_ows(list.substr(0, comma));
                if (!token.empty() && !is_hop_by_hop_token(token)) {
                    return {errc::connection_names_end_to_end_header, token, false};
                }
                if (comma == std::string_view::npos) break;
                list.remove_prefix(comma + 1);
            }
        }
    }
    return {};
}

} // namespace s3ha
