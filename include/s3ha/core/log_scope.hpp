// Log lines that always carry the connection and request id, in the configured format: text
// ("conn=w0c3 req=... message") or JSON fields completing the logger's JSON-object pattern
// ("conn":"w0c3","req":"...","msg":"..."). Values are escaped, so a client-chosen path cannot
// forge a line or break the JSON. Never pass secrets, Authorization or signatures.
#pragma once

#include <spdlog/logger.h>

#include <string>
#include <string_view>
#include <utility>

namespace s3ha {

/// `s` with quotes, backslashes and control bytes escaped JSON-style (valid in both formats).
std::string escape_for_log(std::string_view s);

class log_scope {
public:
    log_scope(spdlog::logger* logger, bool json, std::string_view conn, std::string_view req)
        : logger_(logger), json_(json), conn_(conn), req_(req) {}

    void set_request(std::string_view req) { req_ = req; }
    bool should_log(spdlog::level::level_enum lvl) const {
        return logger_ != nullptr && logger_->should_log(lvl);
    }

    /// One line at lvl; message is plain text (escaped here).
    void log(spdlog::level::level_enum lvl, std::string_view message) const;

    template <class... Args> void info(fmt::format_string<Args...> f, Args&&... args) const {
        if (should_log(spdlog::level::info))
            log(spdlog::level::info, fmt::format(f, std::forward<Args>(args)...));
    }
    template <class... Args> void warn(fmt::format_string<Args...> f, Args&&... args) const {
        if (should_log(spdlog::level::warn))
            log(spdlog::level::warn, fmt::format(f, std::forward<Args>(args)...));
    }
    template <class... Args> void debug(fmt::format_string<Args...> f, Args&&... args) const {
        if (should_log(spdlog::level::debug))
            log(spdlog::level::debug, fmt::format(f, std::forward<Args>(args)...));
    }
    template <class... Args> void error(fmt::format_string<Args...> f, Args&&... args) const {
        if (should_log(spdlog::level::err))
            log(spdlog::level::err, fmt::format(f, std::forward<Args>(args)...));
    }

    bool json() const noexcept { return json_; }
    std::string_view conn() const noexcept { return conn_; }
    std::string_view req() const noexcept { return req_; }

private:
    spdlog::logger* logger_;
    bool json_;
    std::string_view conn_;
    std::string_view req_;
};

} // namespace s3ha
