#include "perf/loopback.hpp"

#include <fmt/format.h>

#include <atomic>
#include <cstdio>
#include <memory>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "drivers/memwire.hpp"
#include "drivers/port.hpp"
#include "netif/mbuf_pool.hpp"
#include "perf/lanetcp_perf.hpp"
#include "stack/lcore.hpp"
#include "stack/stack.hpp"
#include "stack/stats.hpp"
#include "stack/trace_file.hpp"

namespace lanetcp::perf {

namespace {

struct ServerLoop {
    Lcore* lcore = nullptr;
    std::atomic<bool> stop{false};
};

int poll_server(void* arg) {
    auto* loop = static_cast<ServerLoop*>(arg);
    while (!loop->stop.load(std::memory_order_relaxed)) loop->lcore->poll_once();
    return 0;
}

Config stack_config(const char* address, const LoopbackConfig& lc) {
    Config c;
    c.interface.address = wire::Ipv4Prefix::parse(address);
    c.interface.mtu = lc.mtu;
    c.tcp.mss = static_cast<std::uint16_t>(lc.mtu - 40);
    c.tcp.time_wait = lc.time_wait;
    c.tcp.max_connections = lc.max_connections;
    c.tcp.ephemeral_first = 1024;
    c.tcp.ephemeral_last = 65535;
    c.tcp.congestion_control = lc.congestion_control;
    c.tcp.ecn = lc.ecn;
    if (lc.send_buffer != 0) c.tcp.send_buffer = lc.send_buffer;
    if (lc.receive_buffer != 0) c.tcp.receive_buffer = lc.receive_buffer;
    c.tcp.trace_rows = lc.trace_rows;
    return c;
}

} // namespace

LoopbackOutcome run_loopback(const ClientOptions& options, const LoopbackConfig& lc) {
    static int instance = 0;
    const std::string name = fmt::format("ltpf{}", instance++);
    Config server_config = stack_config("10.77.0.1/24", lc);
    Config client_config = stack_config("10.77.0.2/24", lc);

    const unsigned main_lcore = rte_get_main_lcore();
    const unsigned worker = rte_get_next_lcore(main_lcore, 1, 0);
    const bool two_lcores = worker < RTE_MAX_LCORE;

    auto wire = std::make_unique<drivers::MemWire>(name, 1, 8192, static_cast<int>(rte_socket_id()));
    rte_mempool* server_pool = create_mbuf_pool(name + "_s", lc.mbufs, static_cast<int>(rte_socket_id()), lc.mtu);
    rte_mempool* client_pool = create_mbuf_pool(name + "_c", lc.mbufs, static_cast<int>(rte_socket_id()), lc.mtu);

    auto start = [&](std::uint16_t port, rte_mempool* pool) {
        drivers::PortParams p;
        p.port_id = port;
        p.mtu = lc.mtu;
        p.rx_pools = {pool};
        drivers::PortInfo info = drivers::start_port(p);
        info.mtu = lc.mtu; // the ring PMD cannot set an MTU, and needs none
        return info;
    };
    drivers::PortInfo server_port = start(wire->port_a(), server_pool);
    drivers::PortInfo client_port = start(wire->port_b(), client_pool);
    if (lc.impair.active()) {
        // A corrupted frame must meet a checksum check, as on a real wire.
        if (lc.impair.corrupt_pct > 0) server_port.in_process = client_port.in_process = false;
        impair::Spec server_to_client = lc.impair;
        server_to_client.seed = lc.impair.seed + 0x9e3779b97f4a7c15ull;
        // Port A is the server's: what it sends goes a to b.
        wire->impair(server_to_client, lc.impair);
    }

    // Static ARP both ways: the first burst of SYNs (crr64) would otherwise
    // overflow the queue of packets waiting for the ARP reply.
    server_config.arp.static_entries.push_back({client_config.interface.address->addr, client_port.mac});
    client_config.arp.static_entries.push_back({server_config.interface.address->addr, server_port.mac});
    server_config.arp.gratuitous = false;
    client_config.arp.gratuitous = false;

    auto make_lcore = [&](const drivers::PortInfo& port, rte_mempool* pool, const Config& config, unsigned id) {
        LcoreParams p;
        p.lcore_id = id;
        p.interface = interface_of(port, 0);
        p.interface.address = *config.interface.address;
        p.pool = pool;
        p.clock = Clock::tsc(rte_get_tsc_hz());
        return std::make_unique<Lcore>(p, config);
    };
    auto server_lcore = make_lcore(server_port, server_pool, server_config, two_lcores ? worker : main_lcore);
    auto client_lcore = make_lcore(client_port, client_pool, client_config, main_lcore);

    LoopbackOutcome out;
    auto server = std::make_unique<PerfServer>(*server_lcore, lc.port);
    auto client = std::make_unique<PerfClient>(*client_lcore, server_config.interface.address->addr, lc.port, options,
                                               options.connections, options.bytes, options.transactions);
    out.description = fmt::format(
        "two lanetcp stacks over the in-memory wire: server on lcore {}, client on lcore {}; mtu {}, mss {}, "
        "tcp checksums {}, {}",
        two_lcores ? worker : main_lcore, main_lcore, lc.mtu, lc.mtu - 40,
        server_port.in_process   ? "none (an in-process wire, as veth)"
        : server_port.tx_tcp_checksum ? "offloaded (none computed)"
                                      : "computed in software",
        server_port.multi_segment_tx ? "payload sent by reference (chained mbufs)" : "payload copied into each frame");
    if (wire->impaired()) out.description += fmt::format("; impaired wire, each way: {}", impair::to_string(lc.impair));
    if (!options.quiet) fmt::print("{}\n", out.description);

    ServerLoop loop;
    loop.lcore = server_lcore.get();
    if (two_lcores && rte_eal_remote_launch(poll_server, &loop, worker) != 0)
        throw std::runtime_error(fmt::format("cannot launch lcore {}", worker));

    Clock& clock = client_lcore->clock();
    const TimeNs t0 = clock.now();
    const auto hard_limit = static_cast<TimeNs>(lc.hard_limit_s * kNsPerSec);
    TimeNs next_progress = t0 + kNsPerSec;
    std::uint64_t last_bytes = 0, last_tx = 0;
    client->start();
    for (unsigned turn = 0;; ++turn) {
        client_lcore->poll_once();
        if (!two_lcores) server_lcore->poll_once();
        if ((turn & 63) != 0) continue;
        const TimeNs now = clock.now();
        client->tick(now);
        if (client->done()) break;
        if (stop_requested().load(std::memory_order_relaxed) || now - t0 > hard_limit) break;
        if (now >= next_progress) {
            const std::uint64_t b = client->progress().bytes.load(std::memory_order_relaxed);
            const std::uint64_t t = client->progress().transactions.load(std::memory_order_relaxed);
            if (!options.quiet) {
                fmt::print("{}\n", format_progress(options.mode, static_cast<double>(now - t0) / kNsPerSec,
                                                   1.0 + static_cast<double>(now - next_progress) / kNsPerSec,
                                                   b - last_bytes, t - last_tx));
                std::fflush(stdout);
            }
            last_bytes = b;
            last_tx = t;
            next_progress = now + kNsPerSec;
        }
    }
    // Let the closing handshakes finish before the server stops.
    const TimeNs settle_until = clock.now() + 20 * kNsPerMs;
    while (clock.now() < settle_until) {
        client_lcore->poll_once();
        if (!two_lcores) server_lcore->poll_once();
    }
    loop.stop.store(true, std::memory_order_relaxed);
    if (two_lcores) rte_eal_wait_lcore(worker);

    out.results = client->results();
    out.results.congestion_control = std::string(tcp::cc::name(lc.congestion_control));
    out.server_bytes = server->progress().bytes.load();
    out.server_requests = server->progress().transactions.load();
    out.server_connections = server->progress().connections.load();
    out.server_bad_headers = server->bad_headers();

    client.reset();
    server.reset();
    auto counters = [](const Lcore& l) {
        CounterSnapshot s;
        s.accumulate(l.counters());
        return format_counters(s);
    };
    for (int i = 0; i < 1000; ++i) {
        const unsigned n = client_lcore->poll_once() + server_lcore->poll_once();
        if (n == 0 && wire->in_flight() == 0) break;
    }
    out.server_counters = counters(*server_lcore);
    out.client_counters = counters(*client_lcore);
    if (wire->impaired()) {
        out.impairment = fmt::format("impaired wire: client to server: {}; server to client: {}",
                                     impair::to_string(wire->impair_stats(false)),
                                     impair::to_string(wire->impair_stats(true)));
    }
    if (!lc.trace_csv.empty())
        out.trace_summary =
            describe_trace_file(lc.trace_csv, write_trace_file(lc.trace_csv, {server_lcore.get(), client_lcore.get()}));
    client_lcore.reset();
    server_lcore.reset();
    // Before the ports go: the rx callbacks must not outlive them.
    wire->unimpair();
    drivers::stop_port(server_port.port_id);
    drivers::stop_port(client_port.port_id);
    wire.reset();
    out.leaked_mbufs = mbufs_in_use(server_pool) + mbufs_in_use(client_pool);
    rte_mempool_free(server_pool);
    rte_mempool_free(client_pool);
    return out;
}

} // namespace lanetcp::perf
