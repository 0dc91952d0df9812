// Helpers shared by the sigv4 unit tests (not a test file itself: no _test suffix).
#pragma once

#include "s3ha/core/net.hpp"
#include "s3ha/sigv4/canonical.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace s3ha::sigv4::test {

using header_list = std::vector<std::pair<std::string, std::string>>;

/// A request header as a parser would hand it over: method, raw target, fields in order
/// (repeated names allowed).
inline http::request_header<> make_request(std::string_view method, std::string_view target,
                                           const header_list& headers) {
    http::request_header<> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    for (const auto& [name, value] : headers)
        req.insert(name, value);
    return req;
}

/// The instant of an X-Amz-Date string (the test fails loudly on a typo).
inline std::chrono::system_clock::time_point at(std::string_view amz_date) {
    auto t = parse_amz_date(amz_date);
    return t ? *t : std::chrono::system_clock::time_point{};
}

} // namespace s3ha::sigv4::test
