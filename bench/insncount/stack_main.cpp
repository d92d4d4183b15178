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

namespace lanetcp::bench {
namespace {

using tcp::Chunk;
using tcp::Connection;
using tcp::ConnectionHandler;

constexpr std::uint16_t kPort = 80;
constexpr std::uint32_t kMessage = 64;

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

struct BulkSender {
    Connection* conn = nullptr;
    rte_mempool* pool = nullptr;
    std::vector<std::uint8_t> data = std::vector<std::uint8_t>(65536, 0x5a);
    std::uint64_t to_send = 0;
    std::uint64_t queued = 0;
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

struct Sink {
    std::uint64_t received = 0;
};

void sink_data(Connection& c, Chunk data, void* user) {
    static_cast<Sink*>(user)->received += data.length;
    const std::uint32_t len = data.length;
    data.release();
    c.consumed(len);
}

const ConnectionHandler kSenderHandler{
    .on_established = [](Connection&, void* u) { static_cast<BulkSender*>(u)->pump(); },
    .on_data = &sink_data,
    .on_peer_fin = nullptr,
    .on_writable = [](Connection&, void* u) { static_cast<BulkSender*>(u)->pump(); },
    .on_closed = nullptr,
};
const ConnectionHandler kSinkHandler{
    .on_established = nullptr,
    .on_data = &sink_data,
    .on_peer_fin = nullptr,
    .on_writable = nullptr,
    .on_closed = nullptr,
};

// ------------------------------------------------------------------ rr ----

struct RrSide {
    Connection* conn = nullptr;
    rte_mempool* pool = nullptr;
    bool client = false;
    std::uint64_t target = 0;
    std::uint64_t transactions = 0;
    std::uint32_t partial = 0;
    std::uint8_t message[kMessage] = {};
    void send_message() {
        if (api::send_bytes(*conn, pool, message, kMessage) != static_cast<long>(kMessage)) {
            std::fprintf(stderr, "lanetcp-insncount-stack: send refused\n");
            std::exit(1);
        }
    }
};

void rr_data(Connection& c, Chunk data, void* user) {
    auto& s = *static_cast<RrSide*>(user);
    s.partial += data.length;
    const std::uint32_t len = data.length;
    data.release();
    c.consumed(len);
    while (s.partial >= kMessage) {
        s.partial -= kMessage;
        ++s.transactions;
        if (!s.client || s.transactions < s.target) s.send_message();
    }
}

const ConnectionHandler kRrHandler{
    .on_established =
        [](Connection&, void* u) {
            auto& s = *static_cast<RrSide*>(u);
            if (s.client && s.target > 0) s.send_message();
        },
    .on_data = &rr_data,
    .on_peer_fin = nullptr,
    .on_writable = nullptr,
    .on_closed = nullptr,
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
    if (s.a->tcp().listen(kPort, [](Connection& c, void* u) { c.set_handler(&kSinkHandler, u); }, &sink, &err) ==
        nullptr)
        return 1;
    sender.conn = s.b->tcp().connect(s.a->interface().address.addr, kPort, &kSenderHandler, &sender,
                                     s.b->clock().now(), &err);
    if (sender.conn == nullptr) return 1;
    if (!s.run_until([&] { return sink.received == sender.to_send; })) {
        std::fprintf(stderr, "lanetcp-insncount-stack: bulk transfer stalled at %llu bytes\n",
                     static_cast<unsigned long long>(sink.received));
        return 1;
    }
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
    auto accept = [](Connection& c, void* u) {
        static_cast<RrSide*>(u)->conn = &c;
        c.set_handler(&kRrHandler, u);
    };
    if (s.a->tcp().listen(kPort, accept, &server, &err) == nullptr) return 1;
    tcp::ConnectionOptions opts = tcp::ConnectionOptions::from(s.b->tcp().config());
    opts.nodelay = true;
    client.conn = s.b->tcp().connect(s.a->interface().address.addr, kPort, &kRrHandler, &client,
                                     s.b->clock().now(), &err, 0, &opts);
    if (client.conn == nullptr) return 1;
    if (!s.run_until([&] { return client.transactions == n; })) {
        std::fprintf(stderr, "lanetcp-insncount-stack: request/response stalled after %llu transactions\n",
                     static_cast<unsigned long long>(client.transactions));
        return 1;
    }
    print_result("rr", n, s, n * kMessage * 2, client.transactions, 2 * n);
    return 0;
}

int usage() {
    std::fprintf(stderr, "usage: lanetcp-insncount-stack bulk MIB | rr COUNT\n");
    return 2;
}

} // namespace
} // namespace lanetcp::bench

int main(int argc, char** argv) {
    using namespace lanetcp::bench;
    if (argc != 3) return usage();
    char* end = nullptr;
    const unsigned long long n = std::strtoull(argv[2], &end, 10);
    if (end == argv[2] || *end != '\0') return usage();
    const bool bulk = std::strcmp(argv[1], "bulk") == 0;
    if (!bulk && std::strcmp(argv[1], "rr") != 0) return usage();
    const std::string prefix = "lt_insncount_" + std::to_string(::getpid());
    lanetcp::init_eal({"lanetcp-insncount-stack", "--no-huge", "-m", "256", "--no-pci", "-l", "0", "--log-level",
                       "lib.eal:error", "--file-prefix", prefix, "--no-telemetry"});
    int rc = 0;
    try {
        rc = bulk ? run_bulk(n) : run_rr(n);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "lanetcp-insncount-stack: %s\n", e.what());
        rc = 1;
    }
    lanetcp::cleanup_eal();
    return rc;
}
