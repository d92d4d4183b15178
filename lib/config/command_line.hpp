// The command line every app shares: `app [EAL args] -- [app flags]`.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace CLI {
class App;
}

namespace lanetcp {

struct CommandLine {
    std::vector<std::string> eal_args; // argv[0] first, then the EAL arguments to use
    Config config;
};

// Thrown for --help: the text is printed to stdout and the app exits 0.
struct HelpRequested {
    std::string text;
};

// Parses flags onto defaults, a --config file over those, and the remaining
// flags over the file. `add_flags` lets an app register its own options.
// Throws ConfigError on any mistake, HelpRequested for --help.
CommandLine parse_command_line(int argc, const char* const* argv, std::string_view description,
                               const std::function<void(CLI::App&)>& add_flags = {});

} // namespace lanetcp
