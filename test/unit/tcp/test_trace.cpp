// The congestion trace (cc_trace.hpp): the ring (order, wrap, dropped
// rows), the CSV, and rows from a real transfer between two layers.
#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "harness.hpp"
#include "tcp/cc_trace.hpp"

namespace lanetcp::tcp::test {
namespace {

constexpr std::uint16_t kTracePort = 80;

std::vector<TimeNs> drain_times(CcTrace& t) {
    std::vector<TimeNs> out;
    t.drain([&](const TraceRow& r) { out.push_back(r.time); });
    return out;
}

void put(CcTrace& t, TimeNs time) { t.next().time = time; }

std::vector<std::string> split(const std::string& line, char sep = ',') {
    std::vector<std::string> out;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, sep)) out.push_back(field);
    return out;
}

std::string csv_of(CcTrace& t, unsigned lcore) {
    char* buf = nullptr;
    std::size_t size = 0;
    std::FILE* f = open_memstream(&buf, &size);
    write_trace_csv(f, t, lcore, true);
    std::fclose(f);
    std::string s(buf, size);
    std::free(buf);
    return s;
}

TEST(CcTrace, OffByDefaultAndAllocatesNothing) {
    CcTrace t;
    EXPECT_FALSE(t.enabled());
    EXPECT_EQ(t.capacity(), 0u);
    EXPECT_EQ(TcpConfig{}.trace_rows, 0u);
    EXPECT_TRUE(drain_times(t).empty());
}

TEST(CcTrace, DrainsOldestFirstAndForgets) {
    CcTrace t(4);
    put(t, 1);
    put(t, 2);
    put(t, 3);
    EXPECT_EQ(t.pending(), 3u);
    EXPECT_EQ(drain_times(t), (std::vector<TimeNs>{1, 2, 3}));
    EXPECT_EQ(t.pending(), 0u);
    put(t, 4);
    put(t, 5); // wraps around the end of the array
    EXPECT_EQ(drain_times(t), (std::vector<TimeNs>{4, 5}));
    EXPECT_EQ(t.written(), 5u);
    EXPECT_EQ(t.dropped(), 0u);
}

TEST(CcTrace, FullRingOverwritesTheOldestAndCountsThem) {
    CcTrace t(4);
    for (TimeNs i = 1; i <= 10; ++i) put(t, i);
    EXPECT_EQ(t.written(), 10u);
    EXPECT_EQ(t.dropped(), 6u);
    EXPECT_EQ(t.pending(), 4u);
    EXPECT_EQ(drain_times(t), (std::vector<TimeNs>{7, 8, 9, 10}));
    // Draining made room: nothing more is dropped until it is full again.
    for (TimeNs i = 11; i <= 14; ++i) put(t, i);
    EXPECT_EQ(t.dropped(), 6u);
    put(t, 15);
    EXPECT_EQ(t.dropped(), 7u);
    EXPECT_EQ(drain_times(t), (std::vector<TimeNs>{12, 13, 14, 15}));
}

TEST(CcTrace, CsvHasTheHeaderAndOneLinePerRowWithEveryColumn) {
    CcTrace t(8);
    TraceRow& r = t.next();
    r.time = 123456789;
    r.tuple = FourTuple{kIpA, kIpB, 80, 40000};
    r.cwnd = 14480;
    r.ssthresh = 0xffffffffu;
    r.in_flight = 2896;
    r.srtt_us = 250;
    r.rttvar_us = 125;
    r.delivered = 100001;
    r.lost = 1448;
    r.retrans = 3;
    r.snd_wnd = 65535;
    r.rcv_wnd = 0;
    r.timeouts = 1;
    r.event = TraceEvent::rto;
    r.phase = 2;
    r.state = static_cast<std::uint8_t>(State::established);
    const std::string csv = csv_of(t, 7);
    const std::vector<std::string> lines = split(csv, '\n');
    ASSERT_EQ(lines.size(), 2u) << csv;
    EXPECT_EQ(lines[0], kTraceCsvHeader);
    EXPECT_EQ(lines[0],
              "time_ns,lcore,conn,event,state,phase,cwnd,ssthresh,in_flight,srtt_us,rttvar_us,delivered,lost,retrans,"
              "snd_wnd,rcv_wnd,timeouts");
    const std::vector<std::string> f = split(lines[1]);
    ASSERT_EQ(f.size(), split(lines[0]).size()) << lines[1];
    EXPECT_EQ(lines[1], "123456789,7,10.0.0.1:80-10.0.0.2:40000,rto,ESTABLISHED,loss,14480,4294967295,2896,250,125,"
                        "100001,1448,3,65535,0,1");
    // Drained: a second write has the header only.
    EXPECT_EQ(csv_of(t, 7), std::string(kTraceCsvHeader) + "\n");
}

TEST(CcTrace, EveryEventHasItsName) {
    EXPECT_STREQ(to_string(TraceEvent::ack), "ack");
    EXPECT_STREQ(to_string(TraceEvent::loss), "loss");
    EXPECT_STREQ(to_string(TraceEvent::rto), "rto");
    EXPECT_STREQ(to_string(TraceEvent::recovery_exit), "recovery_exit");
    EXPECT_STREQ(to_string(TraceEvent::ece), "ece");
    EXPECT_STREQ(to_string(TraceEvent::undo), "undo");
    EXPECT_STREQ(to_string(TraceEvent::tlp), "tlp");
    EXPECT_STREQ(to_string(TraceEvent::rack_timer), "rack_timer");
    EXPECT_STREQ(to_string(TraceEvent::persist), "persist");
}

// A bulk transfer from A to B; `drop_acks_from`..`drop_acks_to` (ms): every
// segment from B is lost then. Returns the rows A's layer recorded.
struct Transfer {
    std::vector<TraceRow> rows;
    std::uint32_t cwnd = 0, ssthresh = 0, retransmissions = 0;
    std::uint64_t received = 0;
    FourTuple tuple{};
    bool done = false;
};

Transfer transfer(std::uint32_t trace_rows, std::uint64_t bytes, TimeNs drop_from, TimeNs drop_to) {
    TcpConfig cfg = test_config();
    cfg.trace_rows = trace_rows;
    Transfer out;
    {
        Pair pair(cfg);
        Server server;
        App client;
        std::uint64_t calls = 0;
        pair.filter = [&](const SentSegment&, bool from_a) {
            if (++calls > 2000000) return Pair::Fate::drop; // a livelock guard
            if (!from_a && pair.now >= drop_from && pair.now < drop_to) return Pair::Fate::drop;
            return Pair::Fate::deliver;
        };
        server.configure = [](App& a) { a.keep_data = false; };
        client.keep_data = false;
        client.to_send = bytes;
        int err = 1;
        EXPECT_NE(pair.b.tcp->listen(kTracePort, &Server::on_accept, &server, &err), nullptr);
        client.conn = pair.a.tcp->connect(kIpB, kTracePort, &kAppHandler, &client, pair.now, &err);
        EXPECT_NE(client.conn, nullptr);
        client.pump();
        out.done = pair.run_until(
            [&] {
                return !server.apps.empty() && server.apps[0].received == bytes &&
                       client.conn->snd_una() == client.conn->snd_nxt();
            },
            600 * kSec);
        pair.flush();
        out.cwnd = client.conn->cwnd();
        out.ssthresh = client.conn->ssthresh();
        out.retransmissions = static_cast<std::uint32_t>(pair.a.counters.tcp_retransmitted_segments.get());
        out.tuple = client.conn->tuple();
        out.received = server.apps.empty() ? 0 : server.apps[0].received;
        pair.a.tcp->cc_trace().drain([&](const TraceRow& r) { out.rows.push_back(r); });
        EXPECT_EQ(pair.a.tcp->cc_trace().dropped(), 0u);
        client.conn->abort();
        pair.flush();
    }
    EXPECT_EQ(fake::live_buffers(), 0) << "packet buffers leaked";
    return out;
}

const TraceRow* last_of(const std::vector<TraceRow>& rows, const FourTuple& t) {
    for (auto it = rows.rbegin(); it != rows.rend(); ++it)
        if (it->tuple == t) return &*it;
    return nullptr;
}

TEST(CcTraceTwoLayers, RowsFollowTheTransferAndEndAtTheConnectionsCwnd) {
    constexpr std::uint64_t kBytes = 2 << 20;
    const Transfer t = transfer(1 << 16, kBytes, 0, 0);
    ASSERT_TRUE(t.done);
    EXPECT_EQ(t.received, kBytes);
    ASSERT_GT(t.rows.size(), 100u);
    const TraceRow* last = last_of(t.rows, t.tuple);
    ASSERT_NE(last, nullptr);
    EXPECT_EQ(last->cwnd, t.cwnd);
    EXPECT_EQ(last->ssthresh, t.ssthresh);
    EXPECT_EQ(last->event, TraceEvent::ack);
    EXPECT_EQ(last->in_flight, 0u);
    EXPECT_EQ(last->delivered, kBytes + 1); // the SYN and every byte
    // Time never goes back, delivered never shrinks, cwnd grew in slow start.
    for (std::size_t i = 1; i < t.rows.size(); ++i) {
        if (!(t.rows[i].tuple == t.tuple) || !(t.rows[i - 1].tuple == t.tuple)) continue;
        EXPECT_GE(t.rows[i].time, t.rows[i - 1].time) << i;
        EXPECT_GE(t.rows[i].delivered, t.rows[i - 1].delivered) << i;
    }
    EXPECT_GT(last->cwnd, 10u * t.rows.front().cwnd / 10);
    EXPECT_GT(last->srtt_us + 1, 0u);
}

TEST(CcTraceTwoLayers, TimeoutShowsAsAnRtoRowWithOneSegmentOfCwnd) {
    // Every ACK from 1 ms to 2 s is lost: A's tail loss probe and then its
    // retransmission timer fire; the rows say so.
    const Transfer t = transfer(1 << 16, 4 << 20, 1 * kMs, 2000 * kMs);
    ASSERT_TRUE(t.done);
    const TraceRow* rto = nullptr;
    bool tlp = false;
    for (const TraceRow& r : t.rows) {
        if (r.event == TraceEvent::tlp) tlp = true;
        if (r.event == TraceEvent::rto && rto == nullptr) rto = &r;
    }
    EXPECT_TRUE(tlp) << "no tail loss probe row";
    ASSERT_NE(rto, nullptr) << "no RTO row";
    EXPECT_EQ(rto->phase, 2u); // loss
    EXPECT_EQ(rto->timeouts, 1u);
    EXPECT_GE(rto->retrans, 1u);
    EXPECT_LE(rto->cwnd, 2u * kMss);
    EXPECT_GE(rto->time, 200 * kMs);
    const TraceRow* last = last_of(t.rows, t.tuple);
    ASSERT_NE(last, nullptr);
    EXPECT_EQ(last->cwnd, t.cwnd);
    EXPECT_EQ(last->retrans, t.retransmissions);
}

TEST(CcTraceTwoLayers, OffRecordsNothing) {
    const Transfer t = transfer(0, 256 << 10, 0, 0);
    ASSERT_TRUE(t.done);
    EXPECT_TRUE(t.rows.empty());
}

} // namespace
} // namespace lanetcp::tcp::test
