// lanetcp-insncount-stack: the same work as lanetcp-insncount, through the
// whole stack: two lanetcp Lcores (DPDK mbufs, Ethernet, ARP, IPv4, TCP,
// the tcp_api glue) joined by the in-memory wire (drivers/memwire), each on
// a manual clock, polled in turn from one thread. For callgrind
// (bench/callgrind.py --stack).
//
//   lanetcp-insncount-stack bulk N   N MiB from B to A, one connection
//   lanetcp-insncount-stack rr N     N request/response transactions of 64 bytes
//
// Unlike the lib/tcp-only driver, the application's bytes are copied into
// mbufs (api::send_bytes), as a real application's are, and the in-memory
// wire's rings are counted too. TCP checksums are not computed on this
// in-process wire (as on veth, or with a NIC's offload) unless
// LANETCP_CHECKSUMS=1. Prints one JSON object with the work done.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

#include "api/tcp_api.hpp"
#include "drivers/memwire.hpp"
#include "drivers/port.hpp"
#include "netif/mbuf_pool.hpp"
#include "stack/lcore.hpp"
#include "stack/stack.hpp"
#include "workloads.hpp"

namespace lanetcp::bench {
namespace {

constexpr const char* kName = "lanetcp-insncount-stack";
constexpr std::uint16_t kPort = 80;

struct Stacks {
    Stacks() : wire("icw") {
        pool = create_mbuf_pool("icw_pool", 8191, 0, 1500);
        port_a = start(wire.port_a());
        port_b = start(wire.port_b());
        a = make_lcore(port_a, "10.9.0.1/24");
        b = make_lcore(port_b, "10.9.0.2/24");
    }
    ~Stacks() {
        a->shutdown();
        b->shutdown();
        a.reset();
        b.reset();
        drivers::stop_port(port_a.port_id);
        drivers::stop_port(port_b.port_id);
        rte_mempool_free(pool);
    }
    drivers::PortInfo start(std::uint16_t port) {
        drivers::PortParams p;
        p.port_id = port;
        p.rx_pools = {pool};
        return drivers::start_port(p);
    }
    std::unique_ptr<Lcore> make_lcore(const drivers::PortInfo& port, const char* address) {
        Config c;
        c.interface.address = wire::Ipv4Prefix::parse(address);
        LcoreParams lp;
        lp.interface.port_id = port.port_id;
        lp.interface.mac = port.mac;
        lp.interface.address = *c.interface.address;
        // As the stack does for net_ring ports: no TCP checksums on a wire
        // that never leaves the process (like Linux's veth); LANETCP_CHECKSUMS=1
        // counts them as a port without offloads would.
        lp.interface.in_process_wire = port.in_process && std::getenv("LANETCP_CHECKSUMS") == nullptr;
        lp.pool = pool;
        lp.clock = Clock::manual(1 * kNsPerSec);
        return std::make_unique<Lcore>(lp, c);
    }
    // Polls both sides; when nothing moves, time goes on 1 ms so that
    // timers (delayed ACKs) fire. Each poll turn is 10 us of manual time.
    template <class Done>
    bool run_until(Done&& done, TimeNs limit = 3600 * kNsPerSec) {
        for (TimeNs t = 0; t < limit;) {
            if (done()) return true;
            const unsigned n = a->poll_once() + b->poll_once();
            const TimeNs step = n == 0 && wire.in_flight() == 0 ? kNsPerMs : 10 * kNsPerUs;
            a->clock().advance(step);
            b->clock().advance(step);
            t += step;
        }
        return false;
    }

    drivers::MemWire wire;
    rte_mempool* pool = nullptr;
    drivers::PortInfo port_a, port_b;
    std::unique_ptr<Lcore> a, b;
};

// ---------------------------------------------------------------- bulk ----

struct BulkSender : BulkDriver<BulkSender> {
    rte_mempool* pool = nullptr;
    std::vector<std::uint8_t> data = std::vector<std::uint8_t>(65536, 0x5a);
    void pump() {
        while (conn != nullptr && queued < to_send) {
            std::uint64_t len = data.size();
            if (to_send - queued < len) len = to_send - queued;
            const long n = api::send_bytes(*conn, pool, data.data(), len);
            if (n <= 0) return;
            queued += static_cast<std::uint64_t>(n);
        }
    }
};

// ------------------------------------------------------------------ rr ----

struct RrSide : RrDriver<RrSide> {
    rte_mempool* pool = nullptr;
    std::uint8_t message[kMessage] = {};
    void send_message() {
        if (api::send_bytes(*conn, pool, message, kMessage) != static_cast<long>(kMessage)) {
            std::fprintf(stderr, "lanetcp-insncount-stack: send refused\n");
            std::exit(1);
        }
    }
};

// ---------------------------------------------------------------- main ----

void print_result(const char* mode, std::uint64_t n, Stacks& s, std::uint64_t bytes, std::uint64_t transactions,
                  std::uint64_t data_segments) {
    auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
    const Counters& a = s.a->counters();
    const Counters& b = s.b->counters();
    std::printf("{\"mode\": \"%s\", \"n\": %llu, \"bytes\": %llu, \"transactions\": %llu, \"data_segments\": %llu, "
                "\"a_tcp_rx_segments\": %llu, \"b_tcp_rx_segments\": %llu, "
                "\"a_tcp_tx_segments\": %llu, \"b_tcp_tx_segments\": %llu, "
                "\"a_port_rx_packets\": %llu, \"b_port_rx_packets\": %llu, \"payload_copies\": 0}\n",
                mode, u(n), u(bytes), u(transactions), u(data_segments), u(a.tcp_rx_segments.get()),
                u(b.tcp_rx_segments.get()), u(a.tcp_tx_segments.get()), u(b.tcp_tx_segments.get()),
                u(a.port_rx_packets.get()), u(b.port_rx_packets.get()));
}

int run_bulk(std::uint64_t mib) {
    Stacks s;
    Sink sink;
    BulkSender sender;
    sender.pool = s.b->pool();
    sender.to_send = mib << 20;
    int err = 0;
    if (s.a->tcp().listen(kPort, &accept_sink, &sink, &err) == nullptr) return 1;
    sender.conn = s.b->tcp().connect(s.a->interface().address.addr, kPort, &BulkSender::kHandler, &sender,
                                     s.b->clock().now(), &err);
    if (sender.conn == nullptr) return 1;
    if (!s.run_until([&] { return sink.received == sender.to_send; })) return bulk_stalled(kName, sink.received);
    // B sends A the SYN, the handshake's ACK and data only.
    const std::uint64_t data_segments = s.a->counters().tcp_rx_segments.get() - 2;
    print_result("bulk", mib, s, sink.received, 0, data_segments);
    return 0;
}

int run_rr(std::uint64_t n) {
    Stacks s;
    RrSide server;
    RrSide client;
    server.pool = s.a->pool();
    client.pool = s.b->pool();
    client.client = true;
    client.target = n;
    int err = 0;
    if (s.a->tcp().listen(kPort, &RrSide::accept, &server, &err) == nullptr) return 1;
    tcp::ConnectionOptions opts = tcp::ConnectionOptions::from(s.b->tcp().config());
    opts.nodelay = true;
    client.conn = s.b->tcp().connect(s.a->interface().address.addr, kPort, &RrSide::kHandler, &client,
                                     s.b->clock().now(), &err, 0, &opts);
    if (client.conn == nullptr) return 1;
    if (!s.run_until([&] { return client.transactions == n; })) return rr_stalled(kName, client.transactions);
    print_result("rr", n, s, n * kMessage * 2, client.transactions, 2 * n);
    return 0;
}

} // namespace
} // namespace lanetcp::bench

int main(int argc, char** argv) {
    using namespace lanetcp::bench;
    return workload_main(argc, argv, kName, [](const Workload& w) {
        const std::string prefix = "lt_insncount_" + std::to_string(::getpid());
        lanetcp::init_eal({"lanetcp-insncount-stack", "--no-huge", "-m", "256", "--no-pci", "-l", "0", "--log-level",
                           "lib.eal:error", "--file-prefix", prefix, "--no-telemetry"});
        int rc = 0;
        try {
            rc = w.bulk ? run_bulk(w.n) : run_rr(w.n);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "%s: %s\n", kName, e.what());
            rc = 1;
        }
        lanetcp::cleanup_eal();
        return rc;
    });
}
