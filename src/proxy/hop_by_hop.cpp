#include "s3ha/proxy/hop_by_hop.hpp"

#include "s3ha/core/strings.hpp"

#include <algorithm>
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

bool is_hop_by_hop(http::field f) {
    switch (f) {
    case http::field::connection:
    case http::field::proxy_connection:
    case http::field::keep_alive:
    case http::field::te:
    case http::field::trailer:
    case http::field::transfer_encoding:
    case http::field::upgrade:
    case http::field::proxy_authorization:
    case http::field::proxy_authenticate: return true;
    default: return false;
    }
}

} // namespace

void hop_by_hop_filter::add_connection_tokens(std::string_view value) {
    for_each_list_element(value, [&](std::string_view token) {
        // The usual value needs no copy: Keep-Alive is hop-by-hop anyway.
        if (!boost::beast::iequals(token, "keep-alive")) named_.emplace_back(token);
    });
}

bool hop_by_hop_filter::drops(http::field code, std::string_view name) const {
    return is_hop_by_hop(code) ||
           std::any_of(named_.begin(), named_.end(),
                       [&](const std::string& n) { return boost::beast::iequals(name, n); });
}

void strip_hop_by_hop(http::fields& fields) {
    const hop_by_hop_filter filter(fields);
    // One pass over the fields: cheaper than a tree lookup per name.
    for (auto it = fields.begin(); it != fields.end();) {
        it = filter.drops(*it) ? fields.erase(it) : std::next(it);
    }
}

bool via_contains(const http::fields& fields, std::string_view pseudonym) {
    bool found = false;
    for (const auto& f : fields) {
        if (f.name() != http::field::via) continue;
        // Each element is "protocol received-by [comment]".
        for_each_list_element(f.value(), [&](std::string_view element) {
            auto space = element.find(' ');
            if (space == std::string_view::npos) return;
            auto by = trim_ows(element.substr(space + 1));
            by = by.substr(0, by.find(' '));
            if (boost::beast::iequals(by, pseudonym)) found = true;
        });
    }
    return found;
}

} // namespace s3ha::proxy
