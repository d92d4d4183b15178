// lib/tcp on the no-copy platform (bench/common): connection lookup in a
// layer with 10k connections, the receive fast path (an in-order data
// segment into an ESTABLISHED connection, with the ACK decision and the
// delivery to the application), and the send path (send() of a chunk to
// segments handed to transmit(), and the ACK that frees them). The peer is
// played by hand; the clock is manual.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "pair.hpp"
#include "workloads.hpp"

namespace {

using namespace lanetcp;
using namespace lanetcp::tcp;
using bench::kIpA;
using bench::kIpB;
using bench::Node;
namespace tf = wire::tcpflag;

constexpr std::uint16_t kPort = 80;
constexpr std::uint16_t kPeerPort = 40000;
constexpr std::uint32_t kSegmentData = 1448; // MSS 1460 less 12 bytes of timestamps

TcpConfig config(std::uint32_t connections = 64) {
    TcpConfig c;
    c.max_connections = connections;
    c.chunk_pool = 4096;
    return c;
}

// ------------------------------------------------------------- lookup ----

void BM_TcpLookup(benchmark::State& state) {
    const bool hit = state.range(1) != 0;
    const auto n = static_cast<std::uint32_t>(state.range(0));
    Node node(kIpA, config(n + 16), 1);
    int err = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
        // Many clients, as a server sees them: remote address and port vary.
        const wire::Ipv4Addr remote{0x0a010000u + i / 16};
        if (node.tcp->connect(remote, static_cast<std::uint16_t>(443 + i % 16), nullptr, nullptr, 0, &err) == nullptr) {
            state.SkipWithError("connect failed");
            return;
        }
        node.out.clear();
    }
    std::vector<FourTuple> tuples;
    node.tcp->for_each_connection([&](const Connection& c) { tuples.push_back(c.tuple()); });
    std::shuffle(tuples.begin(), tuples.end(), std::mt19937{42});
    if (!hit)
        for (FourTuple& t : tuples) t.remote_port = static_cast<std::uint16_t>(t.remote_port + 1000);
    std::size_t i = 0;
    std::uint64_t found = 0;
    for (auto _ : state) {
        Connection* c = node.tcp->find(tuples[i]);
        found += c != nullptr;
        benchmark::DoNotOptimize(c);
        if (++i == tuples.size()) i = 0;
    }
    if (found != (hit ? static_cast<std::uint64_t>(state.iterations()) : 0u)) state.SkipWithError("wrong lookup result");
}
BENCHMARK(BM_TcpLookup)->ArgNames({"connections", "hit"})->Args({10000, 1})->Args({10000, 0})->Args({16, 1});

// --------------------------------------------------- established peer ----

using bench::kSinkHandler;
using bench::Sink;

struct Accepted {
    Connection* conn = nullptr;
    Sink sink;
};

void on_accept(Connection& c, void* user) {
    auto& a = *static_cast<Accepted*>(user);
    a.conn = &c;
    c.set_handler(&kSinkHandler, &a.sink);
}

// One layer (10.0.0.1:80) with a connection from 10.0.0.2:40000 accepted,
// set up the way Linux would open it (MSS 1460, SACK, timestamps, window
// scale 7); the benchmark plays the peer.
struct Established {
    Established() : node(kIpA, config(), 1) {
        int err = 0;
        node.tcp->listen(kPort, &on_accept, &accepted, &err);
        InSegment syn;
        syn.tuple = tuple;
        syn.seq = peer_nxt;
        syn.flags = tf::syn;
        syn.window = 65535;
        syn.options.mss = 1460;
        syn.options.sack_permitted = true;
        syn.options.window_scale = 7;
        syn.options.timestamps = wire::TcpTimestamps{peer_ts, 0};
        node.tcp->input(syn, now);
        peer_nxt = peer_nxt + 1;
        if (node.out.sent.size() != 1) return;
        const WireSegment synack = node.out.sent.front();
        node.out.clear();
        our_nxt = synack.seq + 1;
        if (synack.options.timestamps) our_ts = synack.options.timestamps->value;
        InSegment ack = segment(tf::ack);
        node.tcp->input(ack, now);
        node.out.clear();
    }

    InSegment segment(TcpFlags flags) const {
        InSegment s;
        s.tuple = tuple;
        s.seq = peer_nxt;
        s.ack = our_nxt;
        s.flags = flags;
        s.window = 2048; // << 7: 256 KiB
        s.options.timestamps = wire::TcpTimestamps{peer_ts, our_ts};
        return s;
    }
    bool ok() const { return accepted.conn != nullptr && accepted.conn->state() == State::established; }

    Node node;
    Accepted accepted;
    TimeNs now = kNsPerSec;
    FourTuple tuple{kIpA, kIpB, kPort, kPeerPort};
    SeqNum peer_nxt{1000000};
    SeqNum our_nxt{};
    std::uint32_t peer_ts = 5000;
    std::uint32_t our_ts = 0;
};

// ------------------------------------------------------- receive path ----

// One in-order full-size data segment (timestamps on) into an ESTABLISHED
// connection: demultiplexing, acceptability and PAWS checks, delivery to the
// application (which consumes it at once), and the ACK decision: every
// second segment is ACKed at once (then handed to transmit()), the other
// arms the delayed-ACK timer. Time moves 1 us per segment; the layer's
// timers are advanced as a poll loop would.
void BM_TcpReceiveInOrderSegment(benchmark::State& state) {
    Established e;
    if (!e.ok()) {
        state.SkipWithError("handshake failed");
        return;
    }
    PacketBuffer* frames = nocopy::immortal_buffer(2048);
    const auto len = static_cast<std::uint32_t>(state.range(0));
    const std::uint64_t tx_before = e.node.out.segments;
    for (auto _ : state) {
        InSegment s = e.segment(tf::ack | tf::psh);
        s.payload = nocopy::chunk_of(frames, 64, len);
        e.now += kNsPerUs;
        e.node.tcp->input(s, e.now);
        e.node.tcp->advance(e.now);
        e.peer_nxt = e.peer_nxt + len;
        e.node.out.clear();
    }
    if (e.accepted.sink.received != static_cast<std::uint64_t>(state.iterations()) * len) state.SkipWithError("data not delivered");
    state.SetBytesProcessed(static_cast<std::int64_t>(e.accepted.sink.received));
    state.counters["acks_per_segment"] =
        static_cast<double>(e.node.out.segments - tx_before) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_TcpReceiveInOrderSegment)->ArgName("bytes")->Arg(kSegmentData)->Arg(64);

// ---------------------------------------------------------- send path ----

// send() of a chunk of `bytes`: queued and cut into segments handed to
// transmit() (headers are the platform's: here a record of the fields and a
// reference to the payload), then the peer's one cumulative ACK for all of
// it, which frees the send queue, takes an RTT sample and grows cwnd. The
// connection is warmed up first so that cwnd does not limit.
//
// Every 1 GiB sent the connection is replaced by a fresh one (timer paused):
// lib/tcp grows cwnd in slow start on every ACK without bound (ssthresh
// starts at 2^32-1 and nothing checks that the sender is cwnd-limited), so
// after about 2^32 bytes acknowledged without a loss the 32-bit cwnd wraps
// to less than a segment and the connection stalls. See doc/performance.md.
void BM_TcpSendAndAck(benchmark::State& state) {
    const auto chunk = static_cast<std::uint32_t>(state.range(0));
    PacketBuffer* data = nocopy::immortal_buffer(chunk);
    std::unique_ptr<Established> e;
    std::uint64_t refused = 0;
    std::uint64_t segs = 0;
    std::uint64_t sent_on_connection = 0;
    auto round = [&] {
        Connection& c = *e->accepted.conn;
        Chunk ch = nocopy::chunk_of(data, 0, chunk);
        if (c.send(ch) != 0) {
            ch.release();
            ++refused;
        }
        e->now += 10 * kNsPerUs;
        if (!e->node.out.sent.empty()) {
            const WireSegment& last = e->node.out.sent.back();
            if (last.options.timestamps) e->our_ts = last.options.timestamps->value;
        }
        e->node.out.clear();
        e->our_nxt = c.snd_nxt();
        ++e->peer_ts;
        InSegment ack = e->segment(tf::ack);
        e->node.tcp->input(ack, e->now);
        e->node.tcp->advance(e->now);
        e->node.out.clear();
        sent_on_connection += chunk;
    };
    auto fresh_connection = [&] {
        if (e) segs += e->node.out.data_segments;
        e.reset();
        e = std::make_unique<Established>();
        sent_on_connection = 0;
        if (!e->ok()) return false;
        for (int i = 0; i < 2000; ++i) round(); // slow start to a cwnd that does not limit
        refused = 0;
        segs -= e->node.out.data_segments;
        return true;
    };
    if (!fresh_connection()) {
        state.SkipWithError("handshake failed");
        return;
    }
    for (auto _ : state) {
        round();
        if (sent_on_connection >= (1ull << 30)) {
            state.PauseTiming();
            const bool ok = fresh_connection();
            state.ResumeTiming();
            if (!ok) {
                state.SkipWithError("handshake failed");
                break;
            }
        }
    }
    segs += e->node.out.data_segments;
    if (refused != 0) state.SkipWithError("send() refused: cwnd or buffer limited");
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * chunk);
    state.counters["segments_per_send"] = static_cast<double>(segs) / static_cast<double>(state.iterations());
    state.counters["segments"] = benchmark::Counter(static_cast<double>(segs), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TcpSendAndAck)->ArgName("bytes")->Arg(kSegmentData)->Arg(16 * kSegmentData)->Arg(64);

} // namespace
