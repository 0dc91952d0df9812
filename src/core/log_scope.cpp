#include "s3ha/core/log_scope.hpp"

#include <fmt/format.h>

namespace s3ha {

std::string escape_for_log(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (u < 0x20 || u == 0x7f) {
            out += fmt::format("\\u{:04x}", u);
        } else {
            out.push_back(c);
        }
    }
    return out;
}

void log_scope::log(spdlog::level::level_enum lvl, std::string_view message) const {
    if (!should_log(lvl)) return;
    const auto req = req_.empty() ? std::string_view("-") : req_;
    if (json_) {
        logger_->log(lvl, R"("conn":"{}","req":"{}","msg":"{}")", conn_, req,
                     escape_for_log(message));
    } else {
        logger_->log(lvl, "conn={} req={} {}", conn_, req, escape_for_log(message));
    }
}

} // namespace s3ha
