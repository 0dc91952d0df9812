// s3ha entry point: command line only; everything else lives in s3ha_core.
#include "s3ha/server/command_line.hpp"

#include <exception>
#include <iostream>
#include <string_view>
#include <vector>

int main(int argc, char** argv) {
    const std::string_view program = argc > 0 ? std::string_view(argv[0]) : "s3ha";
    try {
        std::vector<std::string_view> args(argv + (argc > 0 ? 1 : 0), argv + argc);
        auto cmd = s3ha::parse_command_line(args);
        return s3ha::execute_command_line(cmd, program, std::cout, std::cerr);
    } catch (const std::exception& e) {
        std::cerr << program << ": fatal: " << e.what() << "\n";
        return 1;
    }
}
