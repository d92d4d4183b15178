// Everything an app is told at start: from built-in defaults, then a TOML
// file (--config), then command-line flags after `--`, each overriding the
// one before. No DPDK here: EAL arguments are passed through as strings.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "arp/arp_cache.hpp"
#include "tcp/tcp_config.hpp"
#include "wire/addr.hpp"

namespace lanetcp {

// A user's mistake in configuration: printed as one line, exit code 2.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct StaticArpEntry {
    wire::Ipv4Addr ip{};
    wire::MacAddr mac{};
};

struct InterfaceConfig {
    std::optional<wire::Ipv4Prefix> address; // required before the stack starts
    std::optional<wire::Ipv4Addr> gateway;
    std::optional<wire::MacAddr> mac;        // default: the port's own MAC
    std::uint16_t dpdk_port = 0;
    std::uint16_t mtu = 1500;
};

struct ArpConfig {
    arp::ArpParams params{};
    bool gratuitous = true; // announce our address when the port comes up
    std::vector<StaticArpEntry> static_entries;
};

struct EngineConfig {
    std::uint16_t burst = 32;
    // Each connection may hold its receive window (256 KB) and its send
    // buffer (256 KB) in mbufs: 8191 ran out at about 20 busy connections.
    std::uint32_t mbufs_per_lcore = 32767;
    std::uint16_t rx_descriptors = 1024;
    std::uint16_t tx_descriptors = 1024;
    double stats_interval_s = 0;  // 0: print only on exit
    double duration_s = 0;        // 0: run until SIGINT/SIGTERM
    std::string stats_json;       // file to write final counters to as JSON
    // File to write the congestion trace to as CSV at the end (doc/trace.md);
    // with tcp.trace_rows 0, the stack gives each lcore kDefaultTraceRows.
    std::string trace_csv;
    static constexpr std::uint32_t kDefaultTraceRows = 1u << 20;
};

struct AppConfig {
    std::uint16_t port = 7;       // the TCP port an app serves or connects to
};

struct EalConfig {
    // Used only when the command line has no EAL arguments before `--`.
    std::vector<std::string> args;
};

struct Config {
    InterfaceConfig interface;
    ArpConfig arp;
    tcp::TcpConfig tcp;
    EngineConfig engine;
    AppConfig app;
    EalConfig eal;
};

// Reads a TOML file over `config`. Throws ConfigError naming the file, the key
// and what is wrong (unknown keys included).
void load_config_file(const std::string& path, Config& config);

// Same, from TOML text; `origin` names it in errors.
void load_config_text(std::string_view text, const std::string& origin, Config& config);

// Checks what every app needs before DPDK starts; throws ConfigError.
void validate(const Config& config);

// A congestion-control module by name ("cubic"); otherwise throws ConfigError
// "`what`: unknown algorithm ...; expected one of ..." .
tcp::cc::Algorithm parse_congestion_control(std::string_view what, std::string_view text);

} // namespace lanetcp
