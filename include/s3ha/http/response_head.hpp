// A backend's response header parsed by Beast's basic_parser (same grammar, limits, framing and
// errors as http::response_parser) but kept as views into the read buffer instead of copied into
// a basic_fields container: one field node allocated, copied and inserted in a tree per field was
// ~3k instructions per proxied small GET (callgrind), for a header the fast path only reads once
// to write it back out. The views are valid until the buffer they point into is read into again.
// Responses that are held, rebuilt or chunked are re-parsed from the same bytes by
// http::response_parser (forwarder.cpp), so only the streamed fast path uses this.
// Thread affinity: none (a value).
#pragma once

#include "s3ha/core/net.hpp"

#include <boost/container/small_vector.hpp>

#include <span>

#include <string_view>

namespace s3ha {

/// One header field, with the accessors of a basic_fields element (name, name_string, value).
struct field_view {
    http::field code = http::field::unknown;
    std::string_view name_text;
    std::string_view text;

    http::field name() const noexcept { return code; }
    std::string_view name_string() const noexcept { return name_text; }
    std::string_view value() const noexcept { return text; }
};

class response_head final : public http::basic_parser<false> {
public:
    response_head() = default;

    unsigned result_int() const noexcept { return status_; }
    /// The received reason phrase, or the standard one when the backend sent none (as Beast's
    /// header::reason()).
    std::string_view reason() const noexcept;
    unsigned version() const noexcept { return version_; }
    /// In the order received; begin()/end() so the header rules iterate it like basic_fields.
    std::span<const field_view> fields() const noexcept { return {fields_.data(), fields_.size()}; }
    auto begin() const noexcept { return fields_.begin(); }
    auto end() const noexcept { return fields_.end(); }

    /// True when every view lies in `raw`, the header's bytes. Not so when Beast unfolded an
    /// obsolete line folding (RFC 9112 §5.2) into its own scratch buffer, gone after parsing:
    /// such a header must be re-parsed by http::response_parser.
    bool views_within(std::string_view raw) const noexcept;

private:
    void on_request_impl(http::verb, std::string_view, std::string_view, int,
                         error_code&) override {}
    void on_response_impl(int code, std::string_view reason, int version, error_code& ec) override;
    void on_field_impl(http::field name, std::string_view name_string, std::string_view value,
                       error_code& ec) override;
    void on_header_impl(error_code& ec) override { ec = {}; }
    // Only the header is parsed here: a body goes through length_body_reader or, re-parsed,
    // through http::response_parser. Reaching a body callback is a bug: refuse it.
    void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code& ec) override;
    std::size_t on_body_impl(std::string_view, error_code& ec) override;
    void on_chunk_header_impl(std::uint64_t, std::string_view, error_code& ec) override;
    std::size_t on_chunk_body_impl(std::uint64_t, std::string_view, error_code& ec) override;
    void on_finish_impl(error_code& ec) override { ec = {}; }

    unsigned status_ = 0;
    unsigned version_ = 11;
    std::string_view reason_;
    // Inline room for a usual backend response's fields: no allocation per response.
    boost::container::small_vector<field_view, 20> fields_;
};

} // namespace s3ha
