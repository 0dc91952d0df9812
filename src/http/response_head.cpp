#include "s3ha/http/response_head.hpp"

#include <cstdint>
#include <limits>

namespace s3ha {

std::string_view response_head::reason() const noexcept {
    if (!reason_.empty()) return reason_;
    return http::obsolete_reason(http::int_to_status(status_));
}

bool response_head::views_within(std::string_view raw) const noexcept {
    // Compared as integers: the views may point anywhere (std::less would do for pointers too).
    const auto first = reinterpret_cast<std::uintptr_t>(raw.data());
    const auto last = first + raw.size();
    auto inside = [&](std::string_view v) {
        const auto p = reinterpret_cast<std::uintptr_t>(v.data());
        return v.empty() || (p >= first && p + v.size() <= last);
    };
    if (!inside(reason_)) return false;
    for (const auto& f : fields_) {
        if (!inside(f.name_text) || !inside(f.text)) return false;
    }
    return true;
}

void response_head::on_response_impl(int code, std::string_view reason, int version,
                                     error_code& ec) {
    status_ = static_cast<unsigned>(code);
    reason_ = reason;
    version_ = static_cast<unsigned>(version);
    ec = {};
}

void response_head::on_field_impl(http::field name, std::string_view name_string,
                                  std::string_view value, error_code& ec) {
    // The limits of Beast's basic_fields (16-bit offsets), which re-parses held, rewritten and
    // chunked responses from the same bytes: what it cannot take is refused here already.
    constexpr std::size_t k_max_size = std::numeric_limits<std::uint16_t>::max() - 2;
    if (name_string.size() > k_max_size || value.size() > k_max_size) {
        ec = http::error::header_limit;
        return;
    }
    fields_.push_back({name, name_string, value});
    ec = {};
}

void response_head::on_body_init_impl(const boost::optional<std::uint64_t>&, error_code& ec) {
    ec = http::error::bad_alloc; // never: the header is all this parser reads
}

std::size_t response_head::on_body_impl(std::string_view, error_code& ec) {
    ec = http::error::bad_alloc;
    return 0;
}

void response_head::on_chunk_header_impl(std::uint64_t, std::string_view, error_code& ec) {
    ec = http::error::bad_alloc;
}

std::size_t response_head::on_chunk_body_impl(std::uint64_t, std::string_view, error_code& ec) {
    ec = http::error::bad_alloc;
    return 0;
}

} // namespace s3ha
