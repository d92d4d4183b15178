// Command-line pieces lanetcp-perf and lanetcp-perf-linux share.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "perf/results.hpp"

namespace lanetcp::perf {

struct CommonFlags {
    bool server = false;
    std::string client;            // address to connect to
    std::string mode = "bulk";
    std::uint32_t connections = 1;
    std::uint32_t streams = 0;
    std::string request_size = "1";
    std::string response_size = "1";
    double seconds = 10;
    std::string bytes;
    std::uint64_t transactions = 0;
    std::string json;
    bool quiet = false;
};

inline void add_common_flags(CLI::App& app, CommonFlags& f) {
    app.add_flag("--server", f.server, "Serve every mode until SIGINT/SIGTERM");
    app.add_option("--client", f.client, "Connect to this server address and measure");
    app.add_option("--mode", f.mode, "bulk (default), rr or crr")->check(CLI::IsMember({"bulk", "rr", "crr"}));
    app.add_option("--connections", f.connections, "Concurrent connections (per lcore on lanetcp; default 1)")
        ->check(CLI::Range(1, 65535));
    app.add_option("--streams", f.streams, "bulk: the same as --connections")->check(CLI::Range(1, 65535));
    app.add_option("--request-size", f.request_size, "rr, crr: request bytes (default 1; K/M suffixes)");
    app.add_option("--response-size", f.response_size, "rr, crr: response bytes (default 1)");
    app.add_option("--seconds", f.seconds, "Run this long unless --bytes/--transactions bound it (default 10)")
        ->check(CLI::Range(0.1, 86400.0));
    app.add_option("--bytes", f.bytes, "bulk: send exactly this many payload bytes in all (K/M/G suffixes)");
    app.add_option("--transactions", f.transactions, "rr, crr: complete exactly this many transactions in all");
    app.add_option("--json", f.json, "Write the final summary to FILE as JSON");
    app.add_flag("--quiet", f.quiet, "No progress lines");
}

// Throws std::invalid_argument with a one-line reason.
inline ClientOptions client_options(const CommonFlags& f) {
    ClientOptions o;
    o.mode = *parse_mode(f.mode);
    o.connections = f.streams != 0 ? f.streams : f.connections;
    auto size = [](const char* flag, const std::string& text) {
        std::uint64_t v = 0;
        try {
            v = parse_size(text);
        } catch (const std::exception&) {
            throw std::invalid_argument(std::string(flag) + " " + text + ": not a size like 64, 4K or 1M");
        }
        if (v == 0 || v > kMaxMessage) throw std::invalid_argument(std::string(flag) + " " + text + ": 1 to 1G");
        return static_cast<std::uint32_t>(v);
    };
    o.request_size = size("--request-size", f.request_size);
    o.response_size = size("--response-size", f.response_size);
    o.seconds = f.seconds;
    if (!f.bytes.empty()) {
        try {
            o.bytes = parse_size(f.bytes);
        } catch (const std::exception&) {
            throw std::invalid_argument("--bytes " + f.bytes + ": not a size like 1000, 64K, 100M or 2G");
        }
        if (o.mode != Mode::bulk) throw std::invalid_argument("--bytes is for --mode bulk");
    }
    o.transactions = f.transactions;
    if (o.transactions != 0 && o.mode == Mode::bulk) throw std::invalid_argument("--transactions is for rr and crr");
    o.quiet = f.quiet;
    return o;
}

} // namespace lanetcp::perf
