// Loading and validating the s3ha configuration (YAML). This is the only code that sees
// yaml-cpp: it fills the plain structs of config/config.hpp, resolves secrets (inline, from an
// environment variable or from a file) and reports *every* problem it finds at once, each with
// its 1-based line and column in the YAML text and a short hint. Secret values never appear
// in a problem. The functions are pure apart from reading secret/TLS files and the environment.
#pragma once

#include "s3ha/config/config.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace s3ha {

/// One configuration mistake. line/column are 1-based; 0 when the problem has no position
/// (e.g. the file cannot be read).
struct config_problem {
    std::size_t line = 0;
    std::size_t column = 0;
    std::string message;
    std::string hint; ///< may be empty
};

/// The outcome of a load: a configuration, or every problem found (sorted by position).
struct config_load_result {
    std::shared_ptr<const config> cfg; ///< set only when problems is empty
    std::vector<config_problem> problems;

    bool ok() const { return problems.empty(); }
};

/// Looks up an environment variable; std::nullopt when it is not set.
using env_lookup = std::function<std::optional<std::string>(const std::string&)>;

/// Parses and validates YAML text. env defaults (when empty) to ::getenv.
/// Relative secret and TLS file paths resolve against the current directory.
config_load_result load_config_string(const std::string& yaml, const env_lookup& env = {});

/// Reads the file at path and calls load_config_string; an unreadable file is one problem.
config_load_result load_config_file(const std::string& path, const env_lookup& env = {});

/// "FILE:LINE:COL: error: MESSAGE (hint: HINT)"; the position and the hint are left out when
/// absent.
std::string format_problem(std::string_view file, const config_problem& p);

} // namespace s3ha
