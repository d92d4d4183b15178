// The life every lanetcp app shares once its flags are parsed: EAL up, the
// stack built, the app's own set-up, polling until told to stop, then an
// orderly shutdown that checks every mbuf came home, final counters (and
// --stats-json), and the exit code.
#pragma once

#include <functional>

#include "config/command_line.hpp"
#include "stack/stack.hpp"

namespace lanetcp {

struct AppHooks {
    // Before the lcores run: listen, connect, print what the app does.
    std::function<void(Stack&)> start;
    // After they stop, before shutdown: report, free app state. Returns the
    // app's exit code (0 unless it failed).
    std::function<int(Stack&)> finish;
};

// Parses the command line with `add_flags`; on a mistake prints one line and
// returns 2, on --help prints it and returns 0. Otherwise `ok` is true.
CommandLine parse_app_command_line(const char* name, int argc, char** argv, const char* description,
                                   const std::function<void(CLI::App&)>& add_flags, int& exit_code, bool& ok);

// Exit codes: the app's own, 1 when the stack failed, 3 when mbufs leaked.
int run_stack_app(const char* name, const CommandLine& cl, const AppHooks& hooks);

} // namespace lanetcp
