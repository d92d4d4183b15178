// lanetcp-echo: the stack on one DPDK port, answering ARP and ICMP echo
// (ping) and serving TCP echo on --port (default 7) on every lcore.
//
//   lanetcp-echo [EAL args] -- --ip 10.9.0.2/24 [--gateway A] [--config F] ...
//
// Exit codes: 0 clean stop, 1 runtime failure, 2 bad arguments or config,
// 3 mbufs leaked at shutdown.

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

#include "config/command_line.hpp"
#include "stack/stack.hpp"
#include "stack/stats.hpp"
#include "echo/echo_service.hpp"

#include <memory>
#include <vector>

namespace {
constexpr const char* kName = "lanetcp-echo";
}

int main(int argc, char** argv) {
    using namespace lanetcp;
    CommandLine cl;
    try {
        cl = parse_command_line(argc, argv, "lanetcp-echo: TCP echo on --port, plus ARP and ping, on a DPDK port");
        validate(cl.config);
        // Find out now, not after the run, that the counters could not be saved.
        if (const auto& path = cl.config.engine.stats_json; !path.empty()) {
            std::FILE* f = std::fopen(path.c_str(), "w");
            if (f == nullptr) throw ConfigError(fmt::format("--stats-json {}: {}", path, std::strerror(errno)));
            std::fclose(f);
        }
    } catch (const HelpRequested& h) {
        std::fputs(h.text.c_str(), stdout);
        return 0;
    } catch (const ConfigError& e) {
        fmt::print(stderr, "{}: error: {}\n", kName, e.what());
        return 2;
    }

    int rc = 0;
    try {
        init_eal(cl.eal_args);
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}: error: {}\n", kName, e.what());
        return 1;
    }
    try {
        install_signal_handlers();
        Stack stack(cl.config);
        std::vector<std::unique_ptr<apps::EchoService>> services;
        stack.for_each_lcore([&](Lcore& lc) {
            services.push_back(std::make_unique<apps::EchoService>(lc, cl.config.app.port));
        });
        fmt::print("lanetcp-echo: TCP echo on port {}\n", cl.config.app.port);
        stack.run();
        services.clear();
        unsigned leaked = stack.shutdown();
        fmt::print("lanetcp: stopped; final counters\n{}", stack.format_stats());
        if (!cl.config.engine.stats_json.empty()) {
            std::FILE* f = std::fopen(cl.config.engine.stats_json.c_str(), "w");
            if (f == nullptr) throw std::runtime_error("cannot write " + cl.config.engine.stats_json);
            std::fputs(counters_json(stack.final_snapshot(), leaked).c_str(), f);
            std::fclose(f);
        }
        if (leaked != 0) {
            fmt::print(stderr, "{}: error: {} mbuf(s) not returned to their pool at shutdown\n", kName, leaked);
            rc = 3;
        } else {
            fmt::print("lanetcp: all mbufs returned to their pools\n");
        }
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}: error: {}\n", kName, e.what());
        rc = 1;
    }
    std::fflush(stdout);
    cleanup_eal();
    return rc;
}
