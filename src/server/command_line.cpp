#include "s3ha/server/command_line.hpp"

#include "s3ha/config/loader.hpp"
#include "s3ha/core/build_info.hpp"
#include "s3ha/server/run.hpp"

#include <ostream>
#include <utility>

namespace s3ha {

namespace {

command_line fail(std::string message) {
    command_line c;
    c.error = std::move(message);
    return c;
}

} // namespace

command_line parse_command_line(const std::vector<std::string_view>& args) {
    command_line c;
    bool have_action = false;
    auto set_action = [&](command_line::action a, std::string_view opt) {
        if (have_action && c.what != a) {
            c.error = "option " + std::string(opt) + " conflicts with an earlier option";
            return false;
        }
        have_action = true;
        c.what = a;
        return true;
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        std::string_view name = arg;
        std::string_view inline_value;
        bool has_inline = false;
        if (arg.rfind("--", 0) == 0) {
            if (auto eq = arg.find('='); eq != std::string_view::npos) {
                name = arg.substr(0, eq);
                inline_value = arg.substr(eq + 1);
                has_inline = true;
            }
        }
        if (name == "--help" || name == "-h" || name == "--version") {
            if (has_inline) {
                return fail("option " + std::string(name) + " takes no value");
            }
            auto a =
                name == "--version" ? command_line::action::version : command_line::action::help;
            if (!set_action(a, name)) {
                return fail(c.error);
            }
        } else if (name == "--config" || name == "--check-config") {
            auto a =
                name == "--config" ? command_line::action::run : command_line::action::check_config;
            if (!set_action(a, name)) {
                return fail(c.error);
            }
            std::string_view value;
            if (has_inline) {
                value = inline_value;
            } else if (i + 1 < args.size()) {
                value = args[++i];
            } else {
                return fail("option " + std::string(name) + " needs a FILE argument");
            }
            if (value.empty()) {
                return fail("option " + std::string(name) + " needs a non-empty FILE argument");
            }
            if (!c.config_path.empty()) {
                return fail("option " + std::string(name) + " given twice");
            }
            c.config_path = std::string(value);
        } else if (!arg.empty() && arg.front() == '-') {
            return fail("unknown option " + std::string(name));
        } else {
            return fail("unexpected argument " + std::string(arg));
        }
    }
    if (!have_action) {
        return fail("no option given; use --config FILE to run the proxy");
    }
    return c;
}

std::string usage_text(std::string_view program) {
    const std::string p(program);
    return "usage: " + p + " --config FILE\n" +       //
           "       " + p + " --check-config FILE\n" + //
           "       " + p +
           " --version | --help\n" //
           "\n"
           "S3-compatible reverse proxy: verifies clients' AWS SigV4 signatures, re-signs\n"
           "requests for MinIO backends and fails over between them.\n"
           "\n"
           "options:\n"
           "  --config FILE        load and validate FILE, then run the proxy\n"
           "  --check-config FILE  validate FILE, print every problem, and exit\n"
           "                       (0 = valid, 1 = invalid)\n"
           "  --version            print the version and the git commit, and exit\n"
           "  -h, --help           print this help, and exit\n"
           "\n"
           "exit status: 0 ok, 1 invalid configuration, 64 bad command line;\n"
           "see README.md (section Configuration) for the configuration reference.\n";
}

int execute_command_line(const command_line& cmd, std::string_view program, std::ostream& out,
                         std::ostream& err) {
    if (!cmd.error.empty()) {
        err << program << ": " << cmd.error << "\n\n" << usage_text(program);
        return k_exit_usage;
    }
    switch (cmd.what) {
    case command_line::action::help: out << usage_text(program); return 0;
    case command_line::action::version:
        out << "s3ha " << build_version() << " (commit " << build_commit() << ")\n";
        return 0;
    case command_line::action::check_config:
    case command_line::action::run: break;
    }
    auto loaded = load_config_file(cmd.config_path);
    if (!loaded.ok()) {
        for (const auto& p : loaded.problems) {
            err << format_problem(cmd.config_path, p) << "\n";
        }
        err << cmd.config_path << ": " << loaded.problems.size()
            << (loaded.problems.size() == 1 ? " problem" : " problems") << "\n";
        return 1;
    }
    if (cmd.what == command_line::action::check_config) {
        out << cmd.config_path << ": configuration OK\n";
        return 0;
    }
    return run_server(std::move(loaded.cfg), cmd.config_path);
}

} // namespace s3ha
