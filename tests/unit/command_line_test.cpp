#include "s3ha/server/command_line.hpp"

#include "s3ha/core/build_info.hpp"

#include <catch2/catch.hpp>

#include <regex>
#include <sstream>

using namespace s3ha;
using action = command_line::action;

TEST_CASE("command line parsing", "[unit][config][command_line]") {
    auto c = parse_command_line({"--config", "s3ha.yaml"});
    CHECK(c.error.empty());
    CHECK(c.what == action::run);
    CHECK(c.config_path == "s3ha.yaml");
    c = parse_command_line({"--check-config=x.yaml"});
    CHECK(c.error.empty());
    CHECK(c.what == action::check_config);
    CHECK(c.config_path == "x.yaml");
    CHECK(parse_command_line({"--version"}).what == action::version);
    CHECK(parse_command_line({"-h"}).what == action::help);
    CHECK(parse_command_line({"--help"}).what == action::help);

    CHECK(parse_command_line({}).error.find("no option") != std::string::npos);
    CHECK(parse_command_line({"--config"}).error == "option --config needs a FILE argument");
    CHECK(parse_command_line({"--config="}).error.find("non-empty") != std::string::npos);
    CHECK(parse_command_line({"--verbose"}).error == "unknown option --verbose");
    CHECK(parse_command_line({"file.yaml"}).error == "unexpected argument file.yaml");
    CHECK_FALSE(parse_command_line({"--config", "a", "--check-config", "b"}).error.empty());
    CHECK_FALSE(parse_command_line({"--config", "a", "--config", "b"}).error.empty());
    CHECK_FALSE(parse_command_line({"--version=1"}).error.empty());
}

TEST_CASE("command line execution", "[unit][config][command_line]") {
    std::ostringstream out, err;
    SECTION("usage errors exit 64 with the usage") {
        CHECK(execute_command_line(parse_command_line({"--bogus"}), "s3ha", out, err) == 64);
        CHECK(err.str().find("unknown option --bogus") != std::string::npos);
        CHECK(err.str().find("--check-config FILE") != std::string::npos);
    }
    SECTION("help lists every option") {
        CHECK(execute_command_line(parse_command_line({"--help"}), "s3ha", out, err) == 0);
        for (const char* opt : {"--config", "--check-config", "--version", "--help"}) {
            CHECK(out.str().find(opt) != std::string::npos);
        }
    }
    SECTION("version") {
        CHECK(execute_command_line(parse_command_line({"--version"}), "s3ha", out, err) == 0);
        CHECK(std::regex_match(out.str(),
                               std::regex(R"(s3ha \d+\.\d+\.\d+ \(commit [0-9a-z-]+\)\n)")));
        CHECK(out.str() == "s3ha " + std::string(s3ha::build_version()) + " (commit " +
                               std::string(s3ha::build_commit()) + ")\n");
    }
    SECTION("check-config of the example") {
        const std::string path = S3HA_SOURCE_DIR "/config/s3ha.example.yaml";
        CHECK(execute_command_line(parse_command_line({"--check-config", path}), "s3ha", out,
                                   err) == 0);
        CHECK(out.str() == path + ": configuration OK\n");
    }
    SECTION("check-config of a missing file") {
        CHECK(execute_command_line(parse_command_line({"--check-config", "/nonexistent.yaml"}),
                                   "s3ha", out, err) == 1);
        CHECK(err.str().find("/nonexistent.yaml: error: cannot read") != std::string::npos);
    }
}
