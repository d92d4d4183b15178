// lanetcp-bench: lanetcp against Linux's TCP on the same two cores, in one
// command. For each case (bulk, rr, rr64, crr, crr64, and bulk_loss1 and
// bulk_loss5: bulk with 1% / 5% random loss each way) it measures
//   lanetcp  two lanetcp stacks in this process over the in-memory wire,
//            the server stack polled on the second core, the client stack on
//            the first (lanetcp-perf --loopback's engine);
//   linux    lanetcp-perf-linux client and server in two network namespaces
//            joined by a veth pair, pinned with taskset to the same cores;
// and prints a table with the ratio lanetcp/linux. Needs root (namespaces,
// DPDK's runtime directory) and no NIC.
//
// Loss: lanetcp's in-memory wire loses packets through the impairment model
// (doc/impairment.md); Linux's veth through nftables, a rule on the input
// hook of each namespace dropping that share of TCP packets (not the output
// hook: there a drop is no loss, see NftLoss). --impair SPEC
// impairs lanetcp's wire in every case; its loss= (only) is mirrored on the
// Linux side the same way.
//
// Buffers: Linux sizes a connection's buffers by autotuning, its sender's up
// to tcp_wmem's maximum (4 MB by default); lanetcp's are fixed per
// connection (tcp.send_buffer, tcp.receive_buffer: limits, not allocations).
// Both stacks here get that ceiling, 4 MB, unless --buffer says otherwise:
// with the stack's default 256 KB and 64 KB segments only four are in
// flight, and under loss every lost retransmission is a timeout.
//
// Congestion control: both sides run the same algorithm, CUBIC unless
// --congestion-control says otherwise; Linux's is set with TCP_CONGESTION,
// since a namespace inherits the host's default, which may be another (a host
// running bbr made every earlier Linux figure a BBR figure).
//
//   lanetcp-bench [--seconds 5] [--json FILE] [--cores 0,1] [--mtu 65000] [--impair SPEC]
//                 [--congestion-control cubic|newreno|dctcp] [--linux-congestion-control NAME]
//                 [--buffer 4M] [--trace-dir DIR] [--counters]
//
// The in-memory wire has no MTU: --mtu sets both stacks' MTU and MSS, and
// the veth pair's MTU; the output says which. The default, 65000, lets the
// in-memory wire carry TSO/LRO-sized segments, as Linux's veth carries 64 KB
// GSO segments whatever its MTU.
//
// Exit codes: 0 every case ran to completion, 1 some did not, 2 bad arguments.

#include <fmt/format.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <rte_lcore.h>

#include "impair/spec.hpp"
#include "perf/loopback.hpp"
#include "perf/results.hpp"
#include "stack/stack.hpp"

extern char** environ;

namespace {

using namespace lanetcp;
using namespace lanetcp::perf;

constexpr const char* kName = "lanetcp-bench";

struct Case {
    std::string name;
    Mode mode;
    std::uint32_t connections;
    double loss_pct = 0; // random loss each way, both stacks
};

const std::vector<Case> kCases = {
    {"bulk", Mode::bulk, 1},           {"rr", Mode::rr, 1},     {"rr64", Mode::rr, 64},
    {"crr", Mode::crr, 1},             {"crr64", Mode::crr, 64}, {"bulk_loss1", Mode::bulk, 1, 1.0},
    {"bulk_loss5", Mode::bulk, 1, 5.0},
};



struct Figure {
    bool ran = false;
    bool complete = false;
    double value = 0;
    double p50_us = 0, p99_us = 0;
    std::uint32_t mss = 0;
};

// Runs argv; returns its pid (stdout to `out` when not empty), or -1.
pid_t spawn(const std::vector<std::string>& argv, const std::string& out = {}) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (!out.empty()) posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? pid : -1;
}

int wait_for(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run(const std::vector<std::string>& argv, bool quiet = false) {
    const pid_t pid = spawn(argv, quiet ? "/dev/null" : "");
    if (pid < 0) return 127;
    return wait_for(pid);
}

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& a : v) s += (s.empty() ? "" : " ") + a;
    return s;
}

// A share of the TCP packets each namespace receives dropped by nftables,
// for one case; the table goes again with this object. The input hook, not
// the output hook: a packet dropped on its sender's output hook never
// leaves, and its TCP learns so at once (the transmit fails and the segment
// simply goes again), so "loss" there costs the sender nothing. Dropped on
// the receiver's input hook it is lost on the wire, as on lanetcp's
// impaired wire.
class NftLoss {
public:
    NftLoss(std::vector<std::string> namespaces, double pct) : namespaces_(std::move(namespaces)) {
        if (pct <= 0) return;
        // numgen is an integer: parts per million give 0.0001% steps.
        const auto ppm = static_cast<long>(pct * 10000 + 0.5);
        for (const auto& ns : namespaces_) {
            const std::vector<std::vector<std::string>> cmds = {
                {"ip", "netns", "exec", ns, "nft", "add", "table", "inet", kTable},
                {"ip", "netns", "exec", ns, "nft", "add", "chain", "inet", kTable, "in",
                 "{ type filter hook input priority 0; }"},
                {"ip", "netns", "exec", ns, "nft", "add", "rule", "inet", kTable, "in", "meta", "l4proto", "tcp",
                 "numgen", "random", "mod", "1000000", "<", std::to_string(ppm), "drop"},
            };
            for (const auto& cmd : cmds)
                if (run(cmd) != 0) throw std::runtime_error("failed: " + join(cmd) + " (is nftables installed?)");
            active_ = true;
        }
    }
    ~NftLoss() {
        if (!active_) return;
        for (const auto& ns : namespaces_) run({"ip", "netns", "exec", ns, "nft", "delete", "table", "inet", kTable}, true);
    }
    NftLoss(const NftLoss&) = delete;
    NftLoss& operator=(const NftLoss&) = delete;

private:
    static constexpr const char* kTable = "ltbench_loss";
    std::vector<std::string> namespaces_;
    bool active_ = false;
};

// Two namespaces joined by a veth pair, removed again by the destructor.
class NetnsPair {
public:
    NetnsPair(std::uint16_t mtu) {
        const std::string tag = fmt::format("ltb{}", getpid());
        server_ns = tag + "s";
        client_ns = tag + "c";
        server_if = tag + "vs";
        client_if = tag + "vc";
        teardown();
        auto must = [&](const std::vector<std::string>& cmd) {
            if (run(cmd) != 0) throw std::runtime_error("failed: " + join(cmd));
        };
        must({"ip", "netns", "add", server_ns});
        must({"ip", "netns", "add", client_ns});
        must({"ip", "link", "add", server_if, "type", "veth", "peer", "name", client_if});
        must({"ip", "link", "set", server_if, "netns", server_ns});
        must({"ip", "link", "set", client_if, "netns", client_ns});
        must({"ip", "-n", server_ns, "addr", "add", std::string(kServerAddr) + "/24", "dev", server_if});
        must({"ip", "-n", client_ns, "addr", "add", std::string(kClientAddr) + "/24", "dev", client_if});
        must({"ip", "-n", server_ns, "link", "set", server_if, "mtu", std::to_string(mtu), "up"});
        must({"ip", "-n", client_ns, "link", "set", client_if, "mtu", std::to_string(mtu), "up"});
        must({"ip", "-n", server_ns, "link", "set", "lo", "up"});
        must({"ip", "-n", client_ns, "link", "set", "lo", "up"});
    }
    ~NetnsPair() { teardown(); }
    NetnsPair(const NetnsPair&) = delete;
    NetnsPair& operator=(const NetnsPair&) = delete;

    void teardown() {
        for (const auto& ns : {server_ns, client_ns})
            if (std::filesystem::exists("/run/netns/" + ns)) run({"ip", "netns", "del", ns}, true);
    }

    static constexpr const char* kServerAddr = "10.78.0.1";
    static constexpr const char* kClientAddr = "10.78.0.2";
    std::string server_ns, client_ns, server_if, client_if;
};

Figure from_results(const Results& r) {
    Figure f;
    f.ran = true;
    f.complete = r.complete;
    f.value = r.figure();
    f.p50_us = static_cast<double>(r.latency.quantile(0.5)) / 1000.0;
    f.p99_us = static_cast<double>(r.latency.quantile(0.99)) / 1000.0;
    f.mss = r.mss;
    return f;
}

std::string ratio_text(const Figure& a, const Figure& b) {
    if (!a.ran || !b.ran || b.value <= 0) return "-";
    return fmt::format("{:.2f}", a.value / b.value);
}

std::string figure_text(const Figure& f, Mode mode) {
    if (!f.ran) return "-";
    std::string s = mode == Mode::bulk ? fmt::format("{:.2f}", f.value) : fmt::format("{:.0f}", f.value);
    if (!f.complete) s += "!";
    return s;
}

std::string latency_text(const Figure& f, Mode mode) {
    if (!f.ran || mode == Mode::bulk) return "-";
    return fmt::format("{:.1f}/{:.1f}", f.p50_us, f.p99_us);
}

} // namespace

int main(int argc, char** argv) {
    double seconds = 5;
    std::string json_path, cores = "0,1", perf_linux, cases_text;
    std::uint16_t mtu = 65000;
    std::string request_size = "1", response_size = "1";
    bool skip_linux = false, skip_lanetcp = false, show_counters = false;
    std::string impair_text, cc_text = "cubic", linux_cc, trace_dir, buffer_text = "4M";
    CLI::App app{"lanetcp-bench: lanetcp (two stacks over the in-memory wire) against Linux TCP (veth between two "
                 "namespaces), on the same two cores",
                 kName};
    app.add_option("--seconds", seconds, "Seconds per case and stack (default 5)")->check(CLI::Range(0.2, 3600.0));
    app.add_option("--json", json_path, "Write [{case, unit, lanetcp, linux, ratio}, ...] to FILE");
    app.add_option("--cores", cores, "The two CPUs: client first, server second (default 0,1)");
    app.add_option("--mtu", mtu, "MTU of the in-memory wire and of the veth pair (default 65000: TSO-sized segments)")
        ->check(CLI::Range(576, 65000));
    app.add_option("--request-size", request_size, "rr, crr request bytes (default 1)");
    app.add_option("--response-size", response_size, "rr, crr response bytes (default 1)");
    app.add_option("--cases", cases_text,
                   "Comma-separated subset of bulk,rr,rr64,crr,crr64,bulk_loss1,bulk_loss5 (default all)");
    app.add_option("--impair", impair_text,
                   "Impair lanetcp's wire in every case (doc/impairment.md); its loss= is mirrored on Linux with "
                   "nftables");
    app.add_option("--congestion-control", cc_text, "lanetcp's congestion control: cubic (default), newreno or dctcp");
    app.add_option("--linux-congestion-control", linux_cc,
                   "Linux's (TCP_CONGESTION on both ends; default the same algorithm as lanetcp's: cubic, reno or "
                   "dctcp). Set, because a namespace inherits the host's default, which may be another (e.g. bbr)");
    app.add_option("--buffer", buffer_text,
                   "lanetcp's tcp.send_buffer and tcp.receive_buffer in every case (K/M suffixes; default 4M, the "
                   "ceiling Linux's autotuning gives its sender, tcp_wmem's maximum; the stack's own default is "
                   "256K)");
    app.add_option("--trace-dir", trace_dir,
                   "Write each case's lanetcp congestion trace (both stacks; doc/trace.md) to DIR/CASE.csv");
    app.add_option("--perf-linux", perf_linux, "lanetcp-perf-linux to run (default: next to this program)");
    app.add_flag("--skip-linux", skip_linux, "Measure lanetcp only");
    app.add_flag("--counters", show_counters, "Print both lanetcp stacks' counters after each case");
    app.add_flag("--skip-lanetcp", skip_lanetcp, "Measure Linux only");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    std::uint32_t req = 0, resp = 0;
    try {
        req = static_cast<std::uint32_t>(parse_size(request_size));
        resp = static_cast<std::uint32_t>(parse_size(response_size));
        if (req == 0 || resp == 0 || req > kMaxMessage || resp > kMaxMessage) throw std::invalid_argument("range");
    } catch (const std::exception&) {
        fmt::print(stderr, "{}: error: --request-size/--response-size: sizes from 1 to 1G\n", kName);
        return 2;
    }
    std::uint32_t buffer = 0;
    {
        std::uint64_t v = 0;
        try {
            v = parse_size(buffer_text);
        } catch (const std::exception&) {
        }
        if (v < 4096 || v > (1u << 30)) {
            fmt::print(stderr, "{}: error: --buffer {}: a size from 4K to 1G\n", kName, buffer_text);
            return 2;
        }
        buffer = static_cast<std::uint32_t>(v);
    }
    impair::Spec impairment;
    try {
        impairment = impair::parse_spec(impair_text);
    } catch (const impair::SpecError& e) {
        fmt::print(stderr, "{}: error: --impair: {}\n", kName, e.what());
        return 2;
    }
    {
        impair::Spec loss_only;
        loss_only.loss_pct = impairment.loss_pct;
        loss_only.seed = impairment.seed;
        if (!(impairment == loss_only))
            fmt::print("{}: note: --impair {}: only loss= is applied to Linux too\n", kName,
                       impair::to_string(impairment));
    }
    const std::optional<tcp::cc::Algorithm> cc = tcp::cc::parse_algorithm(cc_text);
    if (!cc) {
        fmt::print(stderr, "{}: error: --congestion-control {}: expected cubic, newreno or dctcp\n", kName, cc_text);
        return 2;
    }
    if (linux_cc.empty()) linux_cc = *cc == tcp::cc::Algorithm::newreno ? "reno" : std::string(tcp::cc::name(*cc));
    const auto comma = cores.find(',');
    if (comma == std::string::npos) {
        fmt::print(stderr, "{}: error: --cores {}: expected two CPUs like 0,1\n", kName, cores);
        return 2;
    }
    const std::string client_cpu = cores.substr(0, comma), server_cpu = cores.substr(comma + 1);
    std::vector<Case> cases;
    if (cases_text.empty()) {
        cases = kCases;
    } else {
        std::stringstream ss(cases_text);
        for (std::string item; std::getline(ss, item, ',');) {
            bool found = false;
            for (const auto& c : kCases)
                if (c.name == item) {
                    cases.push_back(c);
                    found = true;
                }
            if (!found) {
                fmt::print(stderr, "{}: error: --cases: unknown case '{}'\n", kName, item);
                return 2;
            }
        }
    }
    if (perf_linux.empty()) {
        std::error_code ec;
        perf_linux = (std::filesystem::read_symlink("/proc/self/exe", ec).parent_path() / "lanetcp-perf-linux").string();
    }
    if (!skip_linux && access(perf_linux.c_str(), X_OK) != 0) {
        fmt::print(stderr, "{}: error: {} not found (build it, or give --perf-linux)\n", kName, perf_linux);
        return 2;
    }
    if (geteuid() != 0) {
        fmt::print(stderr, "{}: error: needs root (network namespaces, DPDK runtime directory)\n", kName);
        return 2;
    }

    std::vector<Figure> lanetcp_figures(cases.size()), linux_figures(cases.size());
    std::string lanetcp_setup;
    install_signal_handlers();

    // ---- lanetcp: two stacks, one process ----
    if (!skip_lanetcp) {
        const std::string prefix = fmt::format("ltbench{}", getpid());
        try {
            init_eal({argv[0], "-l", cores, "--no-huge", "-m", "2048", "--no-pci", "--file-prefix", prefix,
                      "--log-level", "lib.eal:warning"});
        } catch (const std::exception& e) {
            fmt::print(stderr, "{}: error: {}\n", kName, e.what());
            return 1;
        }
        if (rte_lcore_count() < 2) fmt::print("{}: warning: one lcore: both stacks share it\n", kName);
        try {
            for (std::size_t i = 0; i < cases.size() && !stop_requested().load(); ++i) {
                const Case& c = cases[i];
                ClientOptions o;
                o.mode = c.mode;
                o.connections = c.connections;
                o.request_size = req;
                o.response_size = resp;
                o.seconds = seconds;
                LoopbackConfig lc;
                lc.mtu = mtu;
                if (mtu > 9000) lc.mbufs = 4095; // 64 KB each
                lc.hard_limit_s = seconds + 60;
                lc.congestion_control = *cc;
                lc.send_buffer = lc.receive_buffer = buffer;
                if (!trace_dir.empty()) {
                    std::filesystem::create_directories(trace_dir);
                    lc.trace_rows = EngineConfig::kDefaultTraceRows;
                    lc.trace_csv = (std::filesystem::path(trace_dir) / (c.name + ".csv")).string();
                }
                lc.impair = impairment;
                if (c.loss_pct > 0) lc.impair.loss_pct = c.loss_pct;
                fmt::print("== {} lanetcp: {} connection(s), {} s{}\n", c.name, c.connections, seconds,
                           lc.impair.active() ? ", impaired wire: " + impair::to_string(lc.impair) : "");
                std::fflush(stdout);
                const LoopbackOutcome out = run_loopback(o, lc);
                if (!lc.impair.active())
                    lanetcp_setup = fmt::format("{}; send and receive buffers {} KB", out.description, buffer / 1024);
                fmt::print("{}\n", format_summary(out.results));
                if (!out.impairment.empty()) fmt::print("{}\n", out.impairment);
                if (!out.trace_summary.empty()) fmt::print("{}\n", out.trace_summary);
                if (show_counters)
                    fmt::print("server stack counters:\n{}client stack counters:\n{}", out.server_counters,
                               out.client_counters);
                if (out.leaked_mbufs != 0) fmt::print("{}: warning: {} mbuf(s) leaked\n", kName, out.leaked_mbufs);
                lanetcp_figures[i] = from_results(out.results);
            }
        } catch (const std::exception& e) {
            fmt::print(stderr, "{}: error: lanetcp: {}\n", kName, e.what());
        }
        cleanup_eal();
        std::error_code ec;
        std::filesystem::remove_all("/var/run/dpdk/" + prefix, ec);
    }

    // ---- Linux: veth between two namespaces ----
    std::string linux_setup;
    if (!skip_linux && !stop_requested().load()) {
        try {
            NetnsPair ns(mtu);
            linux_setup = fmt::format("Linux TCP: lanetcp-perf-linux server in netns {} on CPU {}, client in {} on "
                                      "CPU {}, veth mtu {} (TSO/GSO/GRO as veth defaults), congestion control {}",
                                      ns.server_ns, server_cpu, ns.client_ns, client_cpu, mtu, linux_cc);
            const std::string server_out = fmt::format("/tmp/ltbench{}-server.out", getpid());
            const pid_t server = spawn({"ip", "netns", "exec", ns.server_ns, "taskset", "-c", server_cpu, perf_linux,
                                        "--server", "--quiet", "--congestion-control", linux_cc},
                                       server_out);
            if (server < 0) throw std::runtime_error("cannot start the Linux server");
            bool ready = false;
            for (int i = 0; i < 100 && !ready; ++i) {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
                std::ifstream f(server_out);
                std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
                ready = text.find("serving") != std::string::npos;
            }
            if (!ready) {
                kill(server, SIGTERM);
                wait_for(server);
                throw std::runtime_error("the Linux server did not come up");
            }
            for (std::size_t i = 0; i < cases.size() && !stop_requested().load(); ++i) {
                const Case& c = cases[i];
                const std::string json = fmt::format("/tmp/ltbench{}-{}.json", getpid(), c.name);
                const double loss = c.loss_pct > 0 ? c.loss_pct : impairment.loss_pct;
                fmt::print("== {} linux: {} connection(s), {} s{}\n", c.name, c.connections, seconds,
                           loss > 0 ? fmt::format(", nftables dropping {}% of TCP packets each way", loss) : "");
                std::fflush(stdout);
                NftLoss nft({ns.server_ns, ns.client_ns}, loss);
                const int rc = run({"ip", "netns", "exec", ns.client_ns, "taskset", "-c", client_cpu, perf_linux,
                                    "--client", NetnsPair::kServerAddr, "--mode", to_string(c.mode), "--connections",
                                    std::to_string(c.connections), "--request-size", std::to_string(req),
                                    "--response-size", std::to_string(resp), "--seconds", fmt::format("{}", seconds),
                                    "--json", json, "--congestion-control", linux_cc});
                try {
                    std::ifstream f(json);
                    const auto doc = nlohmann::json::parse(f);
                    Figure fig;
                    fig.ran = true;
                    fig.complete = rc == 0 && doc.at("complete").get<bool>();
                    fig.value = doc.at("value").get<double>();
                    if (doc.contains("latency_ns")) {
                        fig.p50_us = doc["latency_ns"].at("p50").get<double>() / 1000.0;
                        fig.p99_us = doc["latency_ns"].at("p99").get<double>() / 1000.0;
                    }
                    fig.mss = doc.value("mss", 0u);
                    linux_figures[i] = fig;
                } catch (const std::exception& e) {
                    fmt::print(stderr, "{}: error: {} linux: no result ({})\n", kName, c.name, e.what());
                }
                std::filesystem::remove(json);
            }
            kill(server, SIGTERM);
            wait_for(server);
            std::filesystem::remove(server_out);
        } catch (const std::exception& e) {
            fmt::print(stderr, "{}: error: linux: {}\n", kName, e.what());
        }
    }

    // ---- the table ----
    fmt::print("\nlanetcp-bench: {} s per case; request {} B, response {} B\n", seconds, req, resp);
    if (!lanetcp_setup.empty()) fmt::print("  lanetcp: {}\n", lanetcp_setup);
    if (!linux_setup.empty()) fmt::print("  linux:   {}\n", linux_setup);
    fmt::print("\n{:<10} {:<15} {:>12} {:>12} {:>7}  {:>17} {:>17}\n", "case", "unit", "lanetcp", "linux", "ratio",
               "lanetcp p50/p99us", "linux p50/p99us");
    nlohmann::json doc = nlohmann::json::array();
    bool all_ok = true;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const Case& c = cases[i];
        const Figure& a = lanetcp_figures[i];
        const Figure& b = linux_figures[i];
        Results unit_of;
        unit_of.mode = c.mode;
        fmt::print("{:<10} {:<15} {:>12} {:>12} {:>7}  {:>17} {:>17}\n", c.name, unit_of.unit(), figure_text(a, c.mode),
                   figure_text(b, c.mode), ratio_text(a, b), latency_text(a, c.mode), latency_text(b, c.mode));
        nlohmann::json row{{"case", c.name}, {"unit", unit_of.unit()}};
        row["lanetcp"] = a.ran ? nlohmann::json(a.value) : nlohmann::json(nullptr);
        row["linux"] = b.ran ? nlohmann::json(b.value) : nlohmann::json(nullptr);
        row["ratio"] = a.ran && b.ran && b.value > 0 ? nlohmann::json(a.value / b.value) : nlohmann::json(nullptr);
        row["connections"] = c.connections;
        {
            impair::Spec spec = impairment;
            if (c.loss_pct > 0) spec.loss_pct = c.loss_pct;
            if (spec.active()) row["lanetcp_impair"] = impair::to_string(spec);
            if (spec.loss_pct > 0) row["loss_percent"] = spec.loss_pct;
        }
        if (c.mode != Mode::bulk) {
            row["request_size"] = req;
            row["response_size"] = resp;
            if (a.ran) row["lanetcp_latency_us"] = {{"p50", a.p50_us}, {"p99", a.p99_us}};
            if (b.ran) row["linux_latency_us"] = {{"p50", b.p50_us}, {"p99", b.p99_us}};
        }
        if (a.ran) row["lanetcp_mss"] = a.mss;
        if (b.ran) row["linux_mss"] = b.mss;
        if (a.ran) row["lanetcp_congestion_control"] = std::string(tcp::cc::name(*cc));
        if (a.ran) row["lanetcp_buffer"] = buffer;
        if (b.ran) row["linux_congestion_control"] = linux_cc;
        row["complete"] = (a.ran || skip_lanetcp) && (b.ran || skip_linux) && (!a.ran || a.complete) &&
                          (!b.ran || b.complete);
        all_ok = all_ok && row["complete"].get<bool>();
        doc.push_back(row);
    }
    fmt::print("(! marks a run that did not complete cleanly; ratio = lanetcp / linux)\n");
    std::fflush(stdout);
    if (!json_path.empty() && !write_json(json_path, doc)) {
        fmt::print(stderr, "{}: error: cannot write {}: {}\n", kName, json_path, std::strerror(errno));
        return 1;
    }
    return all_ok ? 0 : 1;
}
