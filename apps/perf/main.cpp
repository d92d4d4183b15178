// lanetcp-perf: iperf3/netperf-like throughput and latency on the lanetcp
// stack. One server serves every mode; the client picks one:
//   bulk  N streams of payload, Gbit/s
//   rr    request/response on persistent connections, transactions/s and latency
//   crr   connect, request, response, close per transaction, connections/s
//
//   lanetcp-perf [EAL args] -- --ip 10.9.0.2/24 --server
//   lanetcp-perf [EAL args] -- --ip 10.9.0.3/24 --client 10.9.0.2 --mode rr --connections 8 --seconds 5
//   lanetcp-perf -l 0,1 --no-huge -m 1024 --no-pci -- --loopback --mode bulk --bytes 1G
//   lanetcp-perf -l 0,1 --no-huge -m 1024 --no-pci -- --loopback --impair loss=1%,delay=1ms
//
// --loopback runs both ends in this process: two stacks over the in-memory
// wire (no NIC, no --ip); --impair puts the impairment model of
// doc/impairment.md on both directions of that wire. The protocol is in apps/perf/README.md; Linux's
// counterpart is lanetcp-perf-linux.
//
// Exit codes: 0 the run completed as the protocol says, 1 it did not (or
// the stack failed), 2 bad arguments, 3 mbufs leaked.

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "impair/spec.hpp"
#include "perf/lanetcp_perf.hpp"
#include "perf/loopback.hpp"
#include "perf/options.hpp"
#include "perf/session.hpp"
#include "stack/app_main.hpp"
#include "stack/stack.hpp"

namespace {

using namespace lanetcp;
using namespace lanetcp::perf;

constexpr const char* kName = "lanetcp-perf";
constexpr std::uint16_t kDefaultPort = 5201;

bool flag_given(int argc, char** argv, std::string_view flag) {
    bool after = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--") after = true;
        else if (after && (a == flag || (a.starts_with(flag) && a.size() > flag.size() && a[flag.size()] == '=')))
            return true;
    }
    return false;
}

Results merge(const std::vector<Results>& parts) {
    Results r = parts.front();
    for (std::size_t i = 1; i < parts.size(); ++i) {
        const Results& p = parts[i];
        r.connections += p.connections;
        r.seconds = std::max(r.seconds, p.seconds);
        r.bytes += p.bytes;
        r.bytes_sent += p.bytes_sent;
        r.transactions += p.transactions;
        r.connections_opened += p.connections_opened;
        r.errors += p.errors;
        r.latency.merge(p.latency);
        r.complete = r.complete && p.complete;
        if (r.mss == 0) r.mss = p.mss;
    }
    return r;
}

// Prints progress once a second from the sums of `progress`, until `stop`.
class ProgressPrinter {
public:
    ProgressPrinter(Mode mode, std::vector<Progress*> sources, bool bytes_in)
        : mode_(mode), sources_(std::move(sources)), bytes_in_(bytes_in) {}
    void tick(double at, double interval) {
        std::uint64_t b = 0, t = 0;
        for (Progress* p : sources_) {
            b += p->bytes.load(std::memory_order_relaxed);
            t += p->transactions.load(std::memory_order_relaxed);
        }
        fmt::print("{}{}\n", format_progress(mode_, at, interval, b - bytes_, t - tx_), bytes_in_ ? " (received)" : "");
        std::fflush(stdout);
        bytes_ = b;
        tx_ = t;
    }

private:
    Mode mode_;
    std::vector<Progress*> sources_;
    bool bytes_in_;
    std::uint64_t bytes_ = 0, tx_ = 0;
};

int run_loopback_mode(const CommandLine& cl, const ClientOptions& options, const std::string& json_path, bool mtu_given,
                      bool port_given, bool show_counters, const impair::Spec& impairment) {
    try {
        init_eal(cl.eal_args);
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}: error: {}\n", kName, e.what());
        return 1;
    }
    install_signal_handlers();
    int rc = 0;
    try {
        LoopbackConfig lc;
        if (mtu_given) lc.mtu = cl.config.interface.mtu;
        if (port_given) lc.port = cl.config.app.port;
        lc.impair = impairment;
        lc.congestion_control = cl.config.tcp.congestion_control; // --congestion-control, tcp.congestion_control
        lc.ecn = cl.config.tcp.ecn;
        lc.send_buffer = cl.config.tcp.send_buffer;       // tcp.send_buffer (--config)
        lc.receive_buffer = cl.config.tcp.receive_buffer; // tcp.receive_buffer
        lc.trace_rows = cl.config.tcp.trace_rows;
        lc.trace_csv = cl.config.engine.trace_csv;
        const LoopbackOutcome out = run_loopback(options, lc);
        fmt::print("{}\n", format_summary(out.results));
        if (!out.impairment.empty()) fmt::print("{}\n", out.impairment);
        fmt::print("server: accepted {} connection(s), received {} bytes, answered {} request(s), {} bad header(s)\n",
                   out.server_connections, out.server_bytes, out.server_requests, out.server_bad_headers);
        if (!out.trace_summary.empty()) fmt::print("{}\n", out.trace_summary);
        if (show_counters)
            fmt::print("server stack counters:\n{}client stack counters:\n{}", out.server_counters, out.client_counters);
        nlohmann::json doc = to_json(out.results);
        doc["setup"] = out.description;
        doc["server"] = {{"connections", out.server_connections},
                         {"bytes", out.server_bytes},
                         {"requests", out.server_requests},
                         {"bad_headers", out.server_bad_headers}};
        doc["mbufs_leaked"] = out.leaked_mbufs;
        if (impairment.active()) doc["impair"] = impair::to_string(impairment);
        if (write_json_or_complain(kName, json_path, doc) != 0) rc = 1;
        if (!out.results.complete) {
            fmt::print(stderr, "{}: error: the run did not complete ({} error(s))\n", kName, out.results.errors);
            rc = 1;
        }
        if (out.leaked_mbufs != 0) {
            fmt::print(stderr, "{}: error: {} mbuf(s) not returned to their pools\n", kName, out.leaked_mbufs);
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

} // namespace

int main(int argc, char** argv) {
    CommonFlags flags;
    bool loopback = false;
    bool show_counters = false;
    std::string impair_text;
    impair::Spec impairment;
    CommandLine cl;
    try {
        cl = parse_command_line(argc, argv,
                                "lanetcp-perf: bulk throughput, request/response and connection rates on lanetcp",
                                [&](CLI::App& app) {
                                    add_common_flags(app, flags);
                                    app.add_flag("--loopback", loopback,
                                                 "Both ends in this process: two stacks over the in-memory wire");
                                    app.add_flag("--counters", show_counters,
                                                 "--loopback: print both stacks' counters at the end");
                                    app.add_option("--impair", impair_text,
                                                   "--loopback: impair both directions of the wire, e.g. "
                                                   "loss=1%,delay=5ms,rate=1gbit,queue=100 (doc/impairment.md)");
                                });
        const int roles = (flags.server ? 1 : 0) + (flags.client.empty() ? 0 : 1) + (loopback ? 1 : 0);
        if (roles != 1) throw ConfigError("give exactly one of --server, --client ADDR, --loopback");
        if (!loopback) validate(cl.config);
        if (!impair_text.empty()) {
            if (!loopback) throw ConfigError("--impair is for --loopback (the in-memory wire)");
            try {
                impairment = impair::parse_spec(impair_text);
            } catch (const impair::SpecError& e) {
                throw ConfigError(fmt::format("--impair: {}", e.what()));
            }
        }
        if (!cl.config.engine.stats_json.empty()) {
            std::FILE* f = std::fopen(cl.config.engine.stats_json.c_str(), "w");
            if (f == nullptr) throw ConfigError(fmt::format("--stats-json {}: {}", cl.config.engine.stats_json,
                                                            std::strerror(errno)));
            std::fclose(f);
        }
        if (const auto& path = cl.config.engine.trace_csv; !path.empty()) {
            std::FILE* f = std::fopen(path.c_str(), "w");
            if (f == nullptr) throw ConfigError(fmt::format("--trace {}: {}", path, std::strerror(errno)));
            std::fclose(f);
        }
    } catch (const HelpRequested& h) {
        std::fputs(h.text.c_str(), stdout);
        return 0;
    } catch (const ConfigError& e) {
        fmt::print(stderr, "{}: error: {}\n", kName, e.what());
        return 2;
    }
    const std::optional<ClientOptions> parsed_options = client_options_or_complain(kName, flags);
    if (!parsed_options) return 2;
    const ClientOptions& options = *parsed_options;
    const bool port_given = flag_given(argc, argv, "--port");
    const std::uint16_t port = port_given ? cl.config.app.port : kDefaultPort;

    if (loopback) return run_loopback_mode(cl, options, flags.json, flag_given(argc, argv, "--mtu"), port_given,
                                             show_counters, impairment);

    std::vector<std::unique_ptr<PerfServer>> servers;
    std::vector<std::unique_ptr<PerfClient>> clients;
    std::thread monitor;
    std::atomic<bool> monitor_stop{false};
    wire::Ipv4Addr remote{};
    if (!flags.server) {
        auto parsed = wire::Ipv4Addr::parse(flags.client);
        if (!parsed) {
            fmt::print(stderr, "{}: error: --client {}: not an IPv4 address\n", kName, flags.client);
            return 2;
        }
        remote = *parsed;
    }

    auto start = [&](Stack& stack) {
        std::vector<Progress*> sources;
        const auto lcores = static_cast<std::uint64_t>(stack.lcores().size());
        std::uint64_t index = 0;
        stack.for_each_lcore([&](Lcore& lc) {
            if (flags.server) {
                servers.push_back(std::make_unique<PerfServer>(lc, port));
                sources.push_back(&servers.back()->progress());
            } else {
                const std::uint64_t bytes = options.bytes / lcores + (index < options.bytes % lcores ? 1 : 0);
                const std::uint64_t tx = options.transactions / lcores + (index < options.transactions % lcores ? 1 : 0);
                clients.push_back(std::make_unique<PerfClient>(lc, remote, port, options, options.connections, bytes, tx));
                sources.push_back(&clients.back()->progress());
            }
            ++index;
        });
        if (flags.server) {
            fmt::print("{}: serving bulk, rr and crr on port {}\n", kName, port);
        } else {
            fmt::print("{}: {} to {}:{}, {} connection(s) per lcore on {} lcore(s)\n", kName, to_string(options.mode),
                       remote.to_string(), port, options.connections, lcores);
            if (options.mode == Mode::bulk && options.bytes != 0 && options.bytes < lcores * options.connections)
                fmt::print("{}: note: fewer bytes than connections; some stay idle\n", kName);
            for (auto& c : clients) c->start();
        }
        std::fflush(stdout);
        monitor = std::thread([&, sources, lcores] {
            ProgressPrinter printer(options.mode, sources, flags.server);
            const auto t0 = std::chrono::steady_clock::now();
            auto next = t0 + std::chrono::seconds(1);
            const double limit = options.seconds + 30;
            while (!monitor_stop.load()) {
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
                const auto now = std::chrono::steady_clock::now();
                const double at = std::chrono::duration<double>(now - t0).count();
                if (!flags.server) {
                    bool all = true;
                    for (auto& c : clients) all = all && c->done();
                    if (all || ((options.bytes == 0 && options.transactions == 0) && at > limit)) {
                        stop_requested().store(true);
                        break;
                    }
                }
                if (now >= next) {
                    if (!options.quiet) printer.tick(at, 1.0 + std::chrono::duration<double>(now - next).count());
                    next = now + std::chrono::seconds(1);
                }
            }
            (void)lcores;
        });
    };

    auto finish = [&](Stack&) {
        monitor_stop.store(true);
        if (monitor.joinable()) monitor.join();
        int rc = 0;
        if (flags.server) {
            std::uint64_t bytes = 0, requests = 0, conns = 0, bad = 0;
            for (auto& s : servers) {
                bytes += s->progress().bytes.load();
                requests += s->progress().transactions.load();
                conns += s->progress().connections.load();
                bad += s->bad_headers();
            }
            rc = report_server(kName, "lanetcp", conns, bytes, requests, bad, flags.json);
            servers.clear();
            return rc;
        }
        std::vector<Results> parts;
        for (auto& c : clients) parts.push_back(c->results());
        Results merged = merge(parts);
        merged.congestion_control = std::string(tcp::cc::name(cl.config.tcp.congestion_control));
        rc = report_client(kName, merged, flags.json);
        clients.clear();
        return rc;
    };

    const int rc = run_stack_app(kName, cl, {.start = start, .finish = finish});
    monitor_stop.store(true);
    if (monitor.joinable()) monitor.join();
    return rc;
}
