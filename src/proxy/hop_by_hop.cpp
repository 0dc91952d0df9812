#include "s3ha/proxy/hop_by_hop.hpp"

#include "s3ha/core/strings.hpp"

#include <array>
#include <boost/beast/core/string.hpp>
#include <string>
#include <vector>

namespace s3ha::proxy {
namespace http = boost::beast::http;

namespace {

// Calls f(element) for each element of a comma-separated header list, trimmed, empty ones skipped.
template <class F> void for_each_list_element(std::string_view value, F&& f) {
    while (!value.empty()) {
        auto comma = value.find(',');
        auto element = trim_ows(value.substr(0, comma));
        if (!element.empty()) f(element);
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
}

} // namespace

void strip_hop_by_hop(http::fields& fields) {
    // Collect Connection tokens first: they name further headers to drop.
    std::vector<std::string> named;
    for (auto it = fields.find(http::field::connection);
         it != fields.end() && it->name() == http::field::connection; ++it) {
        for_each_list_element(it->value(),
                              [&](std::string_view token) { named.emplace_back(token); });
    }
    static constexpr std::array fixed = {
        http::field::connection,
        http::field::proxy_connection,
        http::field::keep_alive,
        http::field::te,
        http::field::trailer,
        http::field::transfer_encoding,
        http::field::upgrade,
        http::field::proxy_authorization,
        http::field::proxy_authenticate,
    };
    for (auto f : fixed)
        fields.erase(f);
    for (const auto& name : named)
        fields.erase(name);
}

bool via_contains(const http::fields& fields, std::string_view pseudonym) {
    bool found = false;
    for (auto it = fields.find(http::field::via);
         it != fields.end() && it->name() == http::field::via; ++it) {
        // Each element is "protocol received-by [comment]".
        for_each_list_element(it->value(), [&](std::string_view element) {
            auto space = element.find(' ');
            if (space == std::string_view::npos) return;
            auto by = trim_ows(element.substr(space + 1));
            by = by.substr(0, by.find(' '));
            if (boost::beast::iequals(by, pseudonym)) found = true;
        });
    }
    return found;
}

void append_via(http::fields& fields, std::string_view pseudonym) {
    std::string value = "1.1 ";
    value.append(pseudonym);
    fields.insert(http::field::via, value);
}

} // namespace s3ha::proxy
