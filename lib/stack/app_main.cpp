#include "stack/app_main.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <vector>

#include "stack/stats.hpp"
#include "stack/trace_file.hpp"

namespace lanetcp {

CommandLine parse_app_command_line(const char* name, int argc, char** argv, const char* description,
                                   const std::function<void(CLI::App&)>& add_flags, int& exit_code, bool& ok) {
    ok = false;
    try {
        CommandLine cl = parse_command_line(argc, argv, description, add_flags);
        validate(cl.config);
        // Find out now, not after the run, that the counters could not be saved.
        if (const auto& path = cl.config.engine.stats_json; !path.empty()) {
            std::FILE* f = std::fopen(path.c_str(), "w");
            if (f == nullptr) throw ConfigError(fmt::format("--stats-json {}: {}", path, std::strerror(errno)));
            std::fclose(f);
        }
        if (const auto& path = cl.config.engine.trace_csv; !path.empty()) {
            std::FILE* f = std::fopen(path.c_str(), "w");
            if (f == nullptr) throw ConfigError(fmt::format("--trace {}: {}", path, std::strerror(errno)));
            std::fclose(f);
        }
        ok = true;
        exit_code = 0;
        return cl;
    } catch (const HelpRequested& h) {
        std::fputs(h.text.c_str(), stdout);
        exit_code = 0;
    } catch (const ConfigError& e) {
        fmt::print(stderr, "{}: error: {}\n", name, e.what());
        exit_code = 2;
    }
    return {};
}

int run_stack_app(const char* name, const CommandLine& cl, const AppHooks& hooks) {
    try {
        init_eal(cl.eal_args);
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}: error: {}\n", name, e.what());
        return 1;
    }
    int rc = 0;
    try {
        install_signal_handlers();
        Stack stack(cl.config);
        if (hooks.start) hooks.start(stack);
        stack.run();
        if (hooks.finish) rc = hooks.finish(stack);
        if (const auto& path = cl.config.engine.trace_csv; !path.empty()) {
            std::vector<Lcore*> lcores;
            stack.for_each_lcore([&](Lcore& lc) { lcores.push_back(&lc); });
            fmt::print("{}\n", describe_trace_file(path, write_trace_file(path, lcores)));
        }
        const unsigned leaked = stack.shutdown();
        fmt::print("lanetcp: stopped; final counters\n{}", stack.format_stats());
        if (const auto& path = cl.config.engine.stats_json; !path.empty()) {
            std::FILE* f = std::fopen(path.c_str(), "w");
            if (f == nullptr) throw std::runtime_error(fmt::format("cannot write {}", path));
            std::fputs(counters_json(stack.final_snapshot(), leaked).c_str(), f);
            std::fclose(f);
        }
        if (leaked != 0) {
            fmt::print(stderr, "{}: error: {} mbuf(s) not returned to their pool at shutdown\n", name, leaked);
            rc = 3;
        } else {
            fmt::print("lanetcp: all mbufs returned to their pools\n");
        }
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}: error: {}\n", name, e.what());
        rc = 1;
    }
    std::fflush(stdout);
    cleanup_eal();
    return rc;
}

} // namespace lanetcp
