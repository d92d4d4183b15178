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
#include "workloads.hpp"

namespace lanetcp::bench {
namespace {

constexpr const char* kName = "lanetcp-insncount";
constexpr std::uint16_t kPort = 80;

// ---------------------------------------------------------------- bulk ----

struct BulkSender : BulkDriver<BulkSender> {
    tcp::PacketBuffer* data = nullptr;
    std::uint32_t write_size = 0;

    void pump() {
        while (conn != nullptr && queued < to_send) {
            std::uint64_t len = write_size;
            if (to_send - queued < len) len = to_send - queued;
            if (conn->send_space() < len) return; // on_writable brings us back
            tcp::Chunk c = tcp::nocopy::chunk_of(data, 0, static_cast<std::uint32_t>(len));
            if (conn->send(c) != 0) {
                c.release();
                return;
            }
            queued += len;
        }
    }
};


// ------------------------------------------------------------------ rr ----

struct RrSide : RrDriver<RrSide> {
    tcp::PacketBuffer* data = nullptr;

    void send_message() {
        tcp::Chunk c = tcp::nocopy::chunk_of(data, 0, kMessage);
        if (conn->send(c) != 0) {
            c.release();
            std::fprintf(stderr, "lanetcp-insncount: send refused\n");
            std::exit(1);
        }
    }
};

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
    sender.conn = p.a.tcp->connect(kIpB, kPort, &BulkSender::kHandler, &sender, p.now, &err);
    if (sender.conn == nullptr) return 1;
    if (!p.run_until([&] { return sink.received == sender.to_send; }, 3600 * kNsPerSec))
        return bulk_stalled(kName, sink.received);
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
    if (p.b.tcp->listen(kPort, &RrSide::accept, &server, &err) == nullptr) return 1;
    client.conn = p.a.tcp->connect(kIpB, kPort, &RrSide::kHandler, &client, p.now, &err);
    if (client.conn == nullptr) return 1;
    if (!p.run_until([&] { return client.transactions == n; }, 3600 * kNsPerSec))
        return rr_stalled(kName, client.transactions);
    print_result("rr", n, p, n * kMessage * 2, client.transactions, 0);
    return 0;
}

} // namespace
} // namespace lanetcp::bench

int main(int argc, char** argv) {
    using namespace lanetcp::bench;
    return workload_main(argc, argv, kName, [](const Workload& w) { return w.bulk ? run_bulk(w.n) : run_rr(w.n); });
}
