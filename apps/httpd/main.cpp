// lanetcp-httpd: HTTP/1.1 (keep-alive, pipelining; GET and HEAD) on the
// lanetcp stack, on every lcore. Serves one fixed body of --response-size
// bytes for every path, or the files under --root, loaded into memory at
// start. Counters are printed at exit.
//
//   lanetcp-httpd [EAL args] -- --ip 10.9.0.2/24 [--port 80] [--response-size 128 | --root DIR]
//                 [--idle-timeout 60] [--header-timeout 20]
//
// Exit codes: 0 clean stop, 1 runtime failure, 2 bad arguments, config or
// --root, 3 mbufs leaked at shutdown.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "httpd/content.hpp"
#include "httpd/http_service.hpp"
#include "stack/app_main.hpp"

namespace {

constexpr const char* kName = "lanetcp-httpd";
constexpr std::uint16_t kDefaultPort = 80;
constexpr std::uint64_t kMaxResponseSize = 1ull << 30;
constexpr std::uint64_t kMaxRootBytes = 1ull << 30;

// Whether the TCP port was chosen, by --port or by app.port in --config: if
// not, HTTP's port replaces the shared default (echo's 7).
bool port_chosen(int argc, char** argv) {
    bool after_dashes = false;
    std::optional<std::string> config_file;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (!after_dashes) {
            after_dashes = a == "--";
            continue;
        }
        if (a == "--port" || a.starts_with("--port=")) return true;
        if (a == "--config" && i + 1 < argc) config_file = argv[i + 1];
        else if (a.starts_with("--config=")) config_file = std::string(a.substr(9));
    }
    if (!config_file) return false;
    lanetcp::Config probe;
    probe.app.port = 0;
    lanetcp::load_config_file(*config_file, probe); // already read once without error
    return probe.app.port != 0;
}

} // namespace

int main(int argc, char** argv) {
    using namespace lanetcp;
    std::uint64_t response_size = 128;
    double idle_timeout_s = 60;
    // A request head arrives in one segment from any real client; 20 s (as
    // Apache's mod_reqtimeout header=20) survives that segment being lost
    // four times (RTO 1+2+4+8 s) and holds a slowloris connection a third as
    // long as nginx's client_header_timeout of 60 s would.
    double header_timeout_s = 20;
    std::string root;
    int exit_code = 0;
    bool ok = false;
    CommandLine cl = parse_app_command_line(
        kName, argc, argv, "lanetcp-httpd: HTTP/1.1 server (GET, HEAD; keep-alive, pipelining) on a DPDK port",
        [&](CLI::App& app) {
            app.add_option("--response-size", response_size,
                           "Bytes of the fixed body every path answers (default 128)")
                ->check(CLI::Range(std::uint64_t{0}, kMaxResponseSize));
            app.add_option("--root", root, "Serve the files under DIR instead (loaded into memory at start)");
            app.add_option("--idle-timeout", idle_timeout_s,
                           "Close connections idle for S seconds (default 60; 0: never)")
                ->check(CLI::Range(0.0, 86400.0));
            app.add_option("--header-timeout", header_timeout_s,
                           "Answer 408 and close a connection that has not sent a complete request head S seconds "
                           "after starting it (default 20; 0: never)")
                ->check(CLI::Range(0.0, 86400.0));
        },
        exit_code, ok);
    if (!ok) return exit_code;

    std::optional<httpd::Content> content;
    try {
        if (!port_chosen(argc, argv)) cl.config.app.port = kDefaultPort;
        if (!root.empty()) {
            // Only one of the two can say what is served.
            for (int i = 1; i < argc; ++i)
                if (std::string_view(argv[i]).starts_with("--response-size"))
                    throw ConfigError("--root and --response-size: give one or the other");
        }
        content = root.empty() ? httpd::Content::fixed(response_size) : httpd::Content::directory(root, kMaxRootBytes);
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}: error: {}\n", kName, e.what());
        return 2;
    }

    std::vector<std::unique_ptr<httpd::HttpService>> services;
    const std::uint16_t port = cl.config.app.port;
    const httpd::HttpService::Timeouts timeouts{
        .idle = static_cast<TimeNs>(idle_timeout_s * static_cast<double>(kNsPerSec)),
        .header = static_cast<TimeNs>(header_timeout_s * static_cast<double>(kNsPerSec)),
    };
    return run_stack_app(
        kName, cl,
        {.start =
             [&](Stack& stack) {
                 stack.for_each_lcore(
                     [&](Lcore& lc) { services.push_back(std::make_unique<httpd::HttpService>(lc, port, *content, timeouts)); });
                 if (content->is_fixed())
                     fmt::print("{}: HTTP on port {}: {} bytes for every path\n", kName, port, content->total_bytes());
                 else
                     fmt::print("{}: HTTP on port {}: {} files, {} bytes from {}\n", kName, port, content->files(),
                                content->total_bytes(), root);
                 std::fflush(stdout);
             },
         .finish =
             [&](Stack&) {
                 httpd::HttpCounters total;
                 for (const auto& s : services) total.add(s->counters());
                 services.clear();
                 fmt::print("{}: final HTTP counters\n{}", kName, total.format());
                 return 0;
             }});
}
