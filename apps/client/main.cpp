// lanetcp-client: an active open from the command line. Connects to
// --connect ADDR on --port, sends --bytes of a fixed pattern (or --file), and
// checks the echo by SHA-256; or only sends, or only receives (--mode).
//
//   lanetcp-client [EAL args] -- --ip 10.9.0.2/24 --connect 10.9.0.1 --port 7 --bytes 100M
//
// Exit codes: 0 the transfer completed (and matched, in echo mode), 1 it did
// not (refused, reset, timed out, mismatch), 2 bad arguments, 3 mbufs leaked.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>

#include "client/client_session.hpp"
#include "stack/app_main.hpp"

namespace {

constexpr const char* kName = "lanetcp-client";

std::uint64_t parse_size(const std::string& text) {
    std::size_t used = 0;
    unsigned long long v = 0;
    try {
        v = std::stoull(text, &used);
    } catch (const std::exception&) {
        throw lanetcp::ConfigError(fmt::format("--bytes {}: not a size like 1000, 64K, 100M or 2G", text));
    }
    std::string suffix = text.substr(used);
    std::uint64_t mult = 1;
    if (suffix == "K" || suffix == "k") mult = 1ull << 10;
    else if (suffix == "M" || suffix == "m") mult = 1ull << 20;
    else if (suffix == "G" || suffix == "g") mult = 1ull << 30;
    else if (!suffix.empty()) throw lanetcp::ConfigError(fmt::format("--bytes {}: unknown suffix '{}'", text, suffix));
    return v * mult;
}

} // namespace

int main(int argc, char** argv) {
    using namespace lanetcp;
    std::string connect_to, bytes_text = "1M", mode_text = "echo", file_path;
    int exit_code = 0;
    bool ok = false;
    const CommandLine cl = parse_app_command_line(
        kName, argc, argv, "lanetcp-client: connect out, send bytes, check what comes back",
        [&](CLI::App& app) {
            app.add_option("--connect", connect_to, "Address to connect to")->required();
            app.add_option("--bytes", bytes_text, "How much to send: N, or with K/M/G (default 1M)");
            app.add_option("--mode", mode_text, "echo (default), send or receive");
            app.add_option("--file", file_path, "Send this file's bytes instead of the pattern");
        },
        exit_code, ok);
    if (!ok) return exit_code;

    apps::ClientOptions options;
    try {
        auto remote = wire::Ipv4Addr::parse(connect_to);
        if (!remote) throw ConfigError(fmt::format("--connect {}: not an IPv4 address", connect_to));
        options.remote = *remote;
        options.port = cl.config.app.port;
        options.bytes = parse_size(bytes_text);
        if (mode_text == "echo") options.mode = apps::ClientMode::echo;
        else if (mode_text == "send") options.mode = apps::ClientMode::send;
        else if (mode_text == "receive") options.mode = apps::ClientMode::receive;
        else throw ConfigError(fmt::format("--mode {}: expected echo, send or receive", mode_text));
        if (!file_path.empty()) {
            std::ifstream f(file_path, std::ios::binary);
            if (!f) throw ConfigError(fmt::format("--file {}: {}", file_path, std::strerror(errno)));
            options.file.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
            if (options.file.empty()) throw ConfigError(fmt::format("--file {}: empty", file_path));
        }
        if (sodium_init() < 0) throw ConfigError("libsodium initialisation failed");
    } catch (const ConfigError& e) {
        fmt::print(stderr, "{}: error: {}\n", kName, e.what());
        return 2;
    }

    std::unique_ptr<apps::ClientSession> session;
    return run_stack_app(
        kName, cl,
        {.start =
             [&](Stack& stack) {
                 // One session, on the first lcore.
                 stack.for_each_lcore([&](Lcore& lc) {
                     if (!session) session = std::make_unique<apps::ClientSession>(lc, options);
                 });
                 fmt::print("{}: connecting to {}:{}\n", kName, options.remote.to_string(), options.port);
                 std::fflush(stdout);
             },
         .finish =
             [&](Stack&) {
                 fmt::print("{}: {}\n", kName, session->summary());
                 int rc = 0;
                 if (!session->succeeded()) {
                     fmt::print(stderr, "{}: error: {}\n", kName,
                                session->done() ? session->outcome() : "stopped before the end");
                     rc = 1;
                 }
                 session.reset();
                 return rc;
             }});
}
