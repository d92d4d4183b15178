#include "config/command_line.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <optional>

namespace lanetcp {

namespace {

template <class T>
T parse_or_throw(const std::string& flag, const std::string& text, std::string_view example) {
    auto v = T::parse(text);
    if (!v) throw ConfigError(fmt::format("{} {}: not an address like {}", flag, text, example));
    return *v;
}

StaticArpEntry parse_static_arp(const std::string& text) {
    auto eq = text.find('=');
    if (eq == std::string::npos)
        throw ConfigError(fmt::format("--arp-static {}: expected IP=MAC, e.g. 10.9.0.1=02:00:00:00:00:01", text));
    return {parse_or_throw<wire::Ipv4Addr>("--arp-static", text.substr(0, eq), "10.9.0.1"),
            parse_or_throw<wire::MacAddr>("--arp-static", text.substr(eq + 1), "02:00:00:00:00:01")};
}

} // namespace

CommandLine parse_command_line(int argc, const char* const* argv, std::string_view description,
                               const std::function<void(CLI::App&)>& add_flags) {
    CommandLine out;
    out.eal_args.emplace_back(argc > 0 ? argv[0] : "lanetcp");

    int split = argc;
    for (int i = 1; i < argc; ++i) {
        if (std::string_view(argv[i]) == "--") {
            split = i;
            break;
        }
    }
    for (int i = 1; i < split; ++i) out.eal_args.emplace_back(argv[i]);
    bool eal_from_command_line = split > 1;

    CLI::App app{std::string(description), out.eal_args.front()};
    app.set_help_flag("-h,--help", "Print this help and exit");
    app.footer("Usage: " + out.eal_args.front() +
               " [EAL arguments] -- [flags]\n"
               "Example: " + out.eal_args.front() +
               " --no-huge -m 1024 --no-pci --vdev=net_af_packet0,iface=veth0 -- --ip 10.9.0.2/24");

    std::optional<std::string> config_file, ip, gateway, mac;
    std::optional<std::uint16_t> dpdk_port, mtu, port;
    std::optional<double> stats_interval, duration;
    std::vector<std::string> arp_static;
    std::optional<std::string> stats_json, trace_csv;
    std::optional<std::string> congestion_control;
    app.add_option("--config", config_file, "TOML configuration file (see config/)");
    app.add_option("--ip", ip, "Our address and prefix, e.g. 10.9.0.2/24");
    app.add_option("--gateway", gateway, "Default gateway, e.g. 10.9.0.1");
    app.add_option("--mac", mac, "Source MAC address (default: the port's)");
    app.add_option("--dpdk-port", dpdk_port, "DPDK port id to use (default 0)");
    app.add_option("--mtu", mtu, "MTU (default 1500)")->check(CLI::Range(576, 9000));
    app.add_option("--port", port, "TCP port to serve or connect to")->check(CLI::Range(1, 65535));
    app.add_option("--stats-interval", stats_interval, "Print counters every S seconds (0: on exit only)")
        ->check(CLI::Range(0.0, 86400.0));
    app.add_option("--duration", duration, "Stop after S seconds (0: run until SIGINT/SIGTERM)")
        ->check(CLI::Range(0.0, 365.0 * 86400));
    app.add_option("--stats-json", stats_json, "Write the final counters to FILE as JSON");
    app.add_option("--trace", trace_csv, "Record the congestion trace and write it to FILE as CSV at the end");
    app.add_option("--arp-static", arp_static, "Static ARP entry IP=MAC (repeatable)");
    app.add_option("--congestion-control", congestion_control,
                   "Congestion control for every connection: cubic (default), newreno or dctcp");
    if (add_flags) add_flags(app);

    if (split == argc) {
        // No `--`: EAL would take app flags as its own and fail obscurely.
        for (int i = 1; i < argc; ++i) {
            std::string_view a = argv[i];
            std::string_view name = a.substr(0, a.find('='));
            if (name.starts_with("--") && !app.get_options([&](const CLI::Option* o) {
                                                return o->check_lname(std::string(name.substr(2)));
                                            }).empty())
                throw ConfigError(fmt::format("{}: app flags go after `--` (EAL arguments first, then --, then flags)",
                                              a));
        }
    }

    std::vector<std::string> app_args;
    for (int i = argc - 1; i > split; --i) app_args.emplace_back(argv[i]); // CLI11 wants them reversed
    try {
        app.parse(app_args);
    } catch (const CLI::CallForHelp&) {
        throw HelpRequested{app.help()};
    } catch (const CLI::ParseError& e) {
        std::string what = e.what();
        if (split == argc && argc > 1)
            what += " (app flags go after `--`: EAL arguments first, then --, then flags)";
        throw ConfigError(what);
    }

    Config& c = out.config;
    if (config_file) load_config_file(*config_file, c);
    if (ip) c.interface.address = parse_or_throw<wire::Ipv4Prefix>("--ip", *ip, "10.9.0.2/24");
    if (gateway) c.interface.gateway = parse_or_throw<wire::Ipv4Addr>("--gateway", *gateway, "10.9.0.1");
    if (mac) c.interface.mac = parse_or_throw<wire::MacAddr>("--mac", *mac, "02:00:00:00:00:01");
    if (dpdk_port) c.interface.dpdk_port = *dpdk_port;
    if (mtu) c.interface.mtu = *mtu;
    if (port) c.app.port = *port;
    if (stats_interval) c.engine.stats_interval_s = *stats_interval;
    if (duration) c.engine.duration_s = *duration;
    if (stats_json) c.engine.stats_json = *stats_json;
    if (trace_csv) c.engine.trace_csv = *trace_csv;
    if (!c.engine.trace_csv.empty() && c.tcp.trace_rows == 0) c.tcp.trace_rows = EngineConfig::kDefaultTraceRows;
    for (const auto& s : arp_static) c.arp.static_entries.push_back(parse_static_arp(s));
    if (congestion_control)
        c.tcp.congestion_control = parse_congestion_control("--congestion-control", *congestion_control);

    if (!eal_from_command_line)
        for (const auto& a : c.eal.args) out.eal_args.push_back(a);
    return out;
}

} // namespace lanetcp
