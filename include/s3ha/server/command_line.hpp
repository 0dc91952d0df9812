// The s3ha command line: a pure parser plus the dispatcher main() calls. Exit statuses follow
// sysexits(3): 0 ok, 1 invalid configuration, 64 (EX_USAGE) bad command line.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace s3ha {

inline constexpr int k_exit_usage = 64;

/// What the command line asks for.
struct command_line {
    enum class action { run, check_config, version, help };

    action what = action::help;
    std::string config_path; ///< for run and check_config
    std::string error;       ///< non-empty when the command line is unusable
};

/// Parses the arguments after argv[0]. Accepts `--opt VALUE` and `--opt=VALUE`. Never throws.
command_line parse_command_line(const std::vector<std::string_view>& args);

/// The usage text listing every option.
std::string usage_text(std::string_view program);

/// Carries out cmd: prints to out/err and returns the process exit status. For action::run
/// with a valid configuration it calls run_server (server/run.hpp).
int execute_command_line(const command_line& cmd, std::string_view program, std::ostream& out,
                         std::ostream& err);

} // namespace s3ha
