// lanetcp-insncount: a fixed amount of TCP work between two lib/tcp layers in
// one process, for counting instructions under callgrind (bench/callgrind.py).
//
//   lanetcp-insncount bulk N   N MiB from A to B, one connection
//   lanetcp-insncount rr N     N request/response transactions of 64 bytes
//
// The layers run over the no-copy platform (bench/common) and an in-memory
// wire with a manual clock: no DPDK, no NIC, no IPv4 or Ethernet. What is
// counted is lib/tcp plus a thin driver. Prints one JSON object with the
// work done (segments, transactions), so the script can divide.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "pair.hpp"

namespace lanetcp::bench {
namespace {

using tcp::Chunk;
using tcp::Connection;
using tcp::ConnectionHandler;

constexpr std::uint16_t kPort = 80;

// ---------------------------------------------------------------- bulk ----

struct BulkSender {
    Connection* conn = nullptr;
    tcp::PacketBuffer* data = nullptr;
    std::uint32_t write_size = 0;
    std::uint64_t to_send = 0;
    std::uint64_t queued = 0;

    void pump() {
        while (conn != nullptr && queued < to_send) {
            std::uint64_t len = write_size;
            if (to_send - queued < len) len = to_send - queued;
            if (conn->send_space() < len) return; // on_writable brings us back
            Chunk c = tcp::nocopy::chunk_of(data, 0, static_cast<std::uint32_t>(len));
            if (conn->send(c) != 0) {
                c.release();
                return;
            }
            queued += len;
        }
    }
};

struct Sink {
    std::uint64_t received = 0;
    std::uint64_t deliveries = 0;
};

void sink_data(Connection& c, Chunk data, void* user) {
    auto& s = *static_cast<Sink*>(user);
    s.received += data.length;
    ++s.deliveries;
    const std::uint32_t len = data.length;
    data.release();
    c.consumed(len);
}

void sender_established(Connection&, void* user) { static_cast<BulkSender*>(user)->pump(); }
void sender_writable(Connection&, void* user) { static_cast<BulkSender*>(user)->pump(); }

const ConnectionHandler kSenderHandler{
    .on_established = &sender_established,
    .on_data = &sink_data, // never called: B sends nothing
    .on_peer_fin = nullptr,
    .on_writable = &sender_writable,
    .on_closed = nullptr,
};
const ConnectionHandler kSinkHandler{
    .on_established = nullptr,
    .on_data = &sink_data,
    .on_peer_fin = nullptr,
    .on_writable = nullptr,
    .on_closed = nullptr,
};

void accept_sink(Connection& c, void* user) { c.set_handler(&kSinkHandler, user); }

// ------------------------------------------------------------------ rr ----

constexpr std::uint32_t kMessage = 64;

struct RrSide {
    Connection* conn = nullptr;
    tcp::PacketBuffer* data = nullptr;
    bool client = false;
    std::uint64_t target = 0;       // client: transactions to run
    std::uint64_t transactions = 0; // client: completed; server: answered
    std::uint32_t partial = 0;      // bytes of the current message so far

    void send_message() {
        Chunk c = tcp::nocopy::chunk_of(data, 0, kMessage);
        if (conn->send(c) != 0) {
            c.release();
            std::fprintf(stderr, "lanetcp-insncount: send refused\n");
            std::exit(1);
        }
    }
};

void rr_established(Connection&, void* user) {
    auto& s = *static_cast<RrSide*>(user);
    if (s.client && s.target > 0) s.send_message();
}

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
    .on_established = &rr_established,
    .on_data = &rr_data,
    .on_peer_fin = nullptr,
    .on_writable = nullptr,
    .on_closed = nullptr,
};

void accept_rr(Connection& c, void* user) {
    auto& s = *static_cast<RrSide*>(user);
    s.conn = &c;
    c.set_handler(&kRrHandler, user);
}

// ---------------------------------------------------------------- main ----

void print_result(const char* mode, std::uint64_t n, const Pair& p, std::uint64_t bytes, std::uint64_t transactions,
                  std::uint64_t deliveries) {
    std::printf("{\"mode\": \"%s\", \"n\": %llu, \"bytes\": %llu, \"transactions\": %llu, "
                "\"segments_a_to_b\": %llu, \"data_segments\": %llu, \"segments\": %llu, "
                "\"a_tcp_rx_segments\": %llu, \"b_tcp_rx_segments\": %llu, "
                "\"a_tcp_tx_segments\": %llu, \"b_tcp_tx_segments\": %llu, "
                "\"a_data_segments_sent\": %llu, \"b_data_segments_sent\": %llu, "
                "\"deliveries_to_app\": %llu, \"payload_copies\": %llu, \"heap_buffers\": %llu}\n",
                mode, static_cast<unsigned long long>(n), static_cast<unsigned long long>(bytes),
                static_cast<unsigned long long>(transactions),
                static_cast<unsigned long long>(p.b.counters.tcp_rx_segments.get()),
                static_cast<unsigned long long>(p.data_delivered), static_cast<unsigned long long>(p.delivered),
                static_cast<unsigned long long>(p.a.counters.tcp_rx_segments.get()),
                static_cast<unsigned long long>(p.b.counters.tcp_rx_segments.get()),
                static_cast<unsigned long long>(p.a.counters.tcp_tx_segments.get()),
                static_cast<unsigned long long>(p.b.counters.tcp_tx_segments.get()),
                static_cast<unsigned long long>(p.a.out.data_segments),
                static_cast<unsigned long long>(p.b.out.data_segments),
                static_cast<unsigned long long>(deliveries),
                static_cast<unsigned long long>(tcp::nocopy::stats().payload_copies),
                static_cast<unsigned long long>(tcp::nocopy::stats().buffers_allocated));
}

TcpConfig config() {
    TcpConfig c;
    c.max_connections = 16;
    c.chunk_pool = 4096;
    return c;
}

int run_bulk(std::uint64_t mib) {
    Pair p(config());
    p.step = 10 * kNsPerUs; // per round of the wire (each side's batch delivered), timers run
    Sink sink;
    BulkSender sender;
    // Writes of whole segments (MSS 1460 less 12 bytes of timestamps) so
    // that a segment never spans two chunks and nothing is copied.
    sender.write_size = 1448 * 44;
    sender.data = tcp::nocopy::immortal_buffer(sender.write_size);
    sender.to_send = mib << 20;
    int err = 0;
    if (p.b.tcp->listen(kPort, &accept_sink, &sink, &err) == nullptr) return 1;
    sender.conn = p.a.tcp->connect(kIpB, kPort, &kSenderHandler, &sender, p.now, &err);
    if (sender.conn == nullptr) return 1;
    const bool ok = p.run_until([&] { return sink.received == sender.to_send; }, 3600 * kNsPerSec);
    if (!ok) {
        std::fprintf(stderr, "lanetcp-insncount: bulk transfer stalled at %llu bytes\n",
                     static_cast<unsigned long long>(sink.received));
        return 1;
    }
    print_result("bulk", mib, p, sink.received, 0, sink.deliveries);
    return 0;
}

int run_rr(std::uint64_t n) {
    TcpConfig cfg = config();
    cfg.nodelay = true;
    Pair p(cfg);
    p.step = 10 * kNsPerUs;
    RrSide server;
    RrSide client;
    server.data = tcp::nocopy::immortal_buffer(kMessage);
    client.data = server.data;
    client.client = true;
    client.target = n;
    int err = 0;
    if (p.b.tcp->listen(kPort, &accept_rr, &server, &err) == nullptr) return 1;
    client.conn = p.a.tcp->connect(kIpB, kPort, &kRrHandler, &client, p.now, &err);
    if (client.conn == nullptr) return 1;
    const bool ok = p.run_until([&] { return client.transactions == n; }, 3600 * kNsPerSec);
    if (!ok) {
        std::fprintf(stderr, "lanetcp-insncount: request/response stalled after %llu transactions\n",
                     static_cast<unsigned long long>(client.transactions));
        return 1;
    }
    print_result("rr", n, p, n * kMessage * 2, client.transactions, 0);
    return 0;
}

int usage() {
    std::fprintf(stderr, "usage: lanetcp-insncount bulk MIB | rr COUNT\n");
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
    if (std::strcmp(argv[1], "bulk") == 0) return run_bulk(n);
    if (std::strcmp(argv[1], "rr") == 0) return run_rr(n);
    return usage();
}
