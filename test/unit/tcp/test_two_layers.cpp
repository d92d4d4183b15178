// Two TcpLayers back to back over an in-memory wire: handshakes, bulk data
// both ways byte for byte (also with segments lost or reordered), half-close,
// closing from either side, and a refused connection.
#include <cerrno>
#include <set>
#include <utility>

#include "harness.hpp"

namespace lanetcp::tcp::test {
namespace {

constexpr std::uint16_t kPort = 80;
constexpr std::uint64_t kBulk = 10ull << 20; // 10 MiB each way

class TwoLayers : public testing::Test {
protected:
    void TearDown() override {
        pair.reset();
        EXPECT_EQ(fake::live_buffers(), 0) << "packet buffers leaked";
    }

    void listen_on_b() {
        int err = 1;
        listener = pair->b.tcp->listen(kPort, &Server::on_accept, &server, &err);
        ASSERT_NE(listener, nullptr);
    }
    Connection* connect_a() {
        int err = 1;
        Connection* c = pair->a.tcp->connect(kIpB, kPort, &kAppHandler, &client, pair->now, &err);
        EXPECT_EQ(err, 0);
        client.conn = c;
        return c;
    }
    bool run(const std::function<bool()>& done, TimeNs limit = 600 * kSec) {
        return pair->run_until(done, pair->now + limit);
    }
    std::size_t connections() { return pair->a.tcp->connections() + pair->b.tcp->connections(); }

    // Bulk streams both ways: the client sends with salt 1, the server with salt 2.
    void start_bulk(std::uint64_t n, bool shutdown_after) {
        server.configure = [n, shutdown_after](App& a) {
            a.keep_data = false;
            a.check_pattern = true;
            a.pattern_salt_in = 1;
            a.pattern_salt_out = 2;
            a.to_send = n;
            a.shutdown_when_sent = shutdown_after;
        };
        client.keep_data = false;
        client.check_pattern = true;
        client.pattern_salt_in = 2;
        client.pattern_salt_out = 1;
        client.to_send = n;
        client.shutdown_when_sent = shutdown_after;
        listen_on_b();
        connect_a();
    }
    void expect_bulk_done(std::uint64_t n) {
        ASSERT_EQ(server.apps.size(), 1u);
        const App& s = server.apps[0];
        EXPECT_EQ(client.received, n);
        EXPECT_EQ(s.received, n);
        EXPECT_EQ(client.pattern_errors, 0u);
        EXPECT_EQ(s.pattern_errors, 0u);
        EXPECT_EQ(client.peer_fin, 1);
        EXPECT_EQ(s.peer_fin, 1);
    }

    std::unique_ptr<Pair> pair = std::make_unique<Pair>();
    Server server;
    Listener* listener = nullptr;
    App client;
};

TEST_F(TwoLayers, HandshakeEstablishesBothSides) {
    listen_on_b();
    Connection* c = connect_a();
    ASSERT_NE(c, nullptr);
    pair->log_all = true;
    pair->flush();
    ASSERT_EQ(pair->log.size(), 3u);
    EXPECT_EQ(pair->log[0].flags, tf::syn);
    EXPECT_EQ(pair->log[1].flags, tf::syn | tf::ack);
    EXPECT_EQ(pair->log[2].flags, tf::ack);
    EXPECT_EQ(client.established, 1);
    ASSERT_EQ(server.apps.size(), 1u);
    Connection* s = server.apps[0].conn;
    EXPECT_EQ(c->state(), State::established);
    EXPECT_EQ(s->state(), State::established);
    EXPECT_EQ(s->tuple().remote_port, c->tuple().local_port);
    EXPECT_EQ(c->snd_nxt(), s->rcv_nxt());
    EXPECT_EQ(s->snd_nxt(), c->rcv_nxt());
    // RFC 7323 on both sides by default: timestamps take 12 bytes of each
    // segment, window scaling lets the receive buffer exceed 64 KB.
    EXPECT_TRUE(c->timestamps() && s->timestamps());
    EXPECT_EQ(c->mss(), kMss - 12);
    EXPECT_EQ(s->mss(), kMss - 12);
    EXPECT_TRUE(c->window_scaling() && s->window_scaling());
    EXPECT_EQ(c->send_window_scale(), s->receive_window_scale());
    EXPECT_EQ(s->receive_window_scale(), window_scale_for(test_config().receive_buffer));
    EXPECT_EQ(c->send_window(), 65535u) << "a SYN-ACK's window is never scaled (RFC 7323 2.2)";

    // And the other way round on the same layers.
    Server server_a;
    int err = 1;
    pair->a.tcp->listen(8080, &Server::on_accept, &server_a, &err);
    App client_b;
    Connection* cb = pair->b.tcp->connect(kIpA, 8080, &kAppHandler, &client_b, pair->now, &err);
    client_b.conn = cb;
    pair->flush();
    EXPECT_EQ(client_b.established, 1);
    EXPECT_EQ(server_a.apps.size(), 1u);
    EXPECT_EQ(connections(), 4u);
}

TEST_F(TwoLayers, LostSynAndSynAckAreRetransmitted) {
    int dropped_syn = 0, dropped_synack = 0;
    pair->filter = [&](const SentSegment& s, bool) {
        if (s.flags == tf::syn && dropped_syn++ == 0) return Pair::Fate::drop;
        if (s.flags == (tf::syn | tf::ack) && dropped_synack++ == 0) return Pair::Fate::drop;
        return Pair::Fate::deliver;
    };
    listen_on_b();
    connect_a();
    ASSERT_TRUE(run([&] { return client.established == 1 && server.apps.size() == 1; }));
    // SYN again at 1 s, its SYN-ACK lost, the SYN-ACK again 1 s after that.
    EXPECT_EQ(pair->now, 2 * kSec);
    EXPECT_EQ(pair->dropped, 2u);
}

TEST_F(TwoLayers, BulkBothWaysByteExact) {
    start_bulk(kBulk, true);
    ASSERT_TRUE(run([&] { return client.peer_fin == 1 && !server.apps.empty() && server.apps[0].peer_fin == 1; }));
    expect_bulk_done(kBulk);
    EXPECT_EQ(pair->a.counters.tcp_retransmitted_segments.get(), 0u);
    EXPECT_EQ(pair->b.counters.tcp_retransmitted_segments.get(), 0u);
    // Both sent their FIN: both finish, one through TIME_WAIT at least.
    ASSERT_TRUE(run([&] { return connections() == 0; }));
    EXPECT_EQ(client.closed, 1);
    EXPECT_EQ(client.error, 0);
    EXPECT_EQ(server.apps[0].closed, 1);
    EXPECT_EQ(server.apps[0].error, 0);
    EXPECT_LT(pair->now, 70 * kSec);
}

TEST_F(TwoLayers, BulkWithEveryFiftiethDataSegmentLostOnce) {
    std::set<std::pair<bool, std::uint32_t>> lost;
    std::uint64_t data_segments = 0;
    pair->filter = [&](const SentSegment& s, bool from_a) {
        if (s.payload.empty()) return Pair::Fate::deliver;
        if (++data_segments % 50 != 0) return Pair::Fate::deliver;
        return lost.insert({from_a, s.seq.raw()}).second ? Pair::Fate::drop : Pair::Fate::deliver;
    };
    start_bulk(kBulk, true);
    ASSERT_TRUE(run([&] { return client.peer_fin == 1 && !server.apps.empty() && server.apps[0].peer_fin == 1; }));
    expect_bulk_done(kBulk);
    EXPECT_GT(lost.size(), 100u);
    RecordProperty("simulated_ms", static_cast<int>(pair->now / kMs));
    RecordProperty("timeouts", static_cast<int>(pair->a.counters.tcp_timeouts.get() +
                                                pair->b.counters.tcp_timeouts.get()));
    EXPECT_GT(pair->a.counters.tcp_fast_retransmits.get(), 0u);
    EXPECT_GT(pair->b.counters.tcp_fast_retransmits.get(), 0u);
    ASSERT_TRUE(run([&] { return connections() == 0; }));
    EXPECT_EQ(client.error, 0);
}

TEST_F(TwoLayers, BulkWithSegmentsReordered) {
    std::uint64_t data_segments = 0;
    pair->filter = [&](const SentSegment& s, bool) {
        if (s.payload.empty()) return Pair::Fate::deliver;
        return ++data_segments % 37 == 0 ? Pair::Fate::delay : Pair::Fate::deliver;
    };
    start_bulk(2ull << 20, true);
    ASSERT_TRUE(run([&] { return client.peer_fin == 1 && !server.apps.empty() && server.apps[0].peer_fin == 1; }));
    expect_bulk_done(2ull << 20);
    EXPECT_GT(pair->delayed, 50u);
}

TEST_F(TwoLayers, BulkWithLostAcksAndALostFin) {
    std::uint64_t acks = 0;
    int fins = 0;
    pair->filter = [&](const SentSegment& s, bool) {
        if (s.flags.fin() && fins++ == 0) return Pair::Fate::drop;
        if (s.payload.empty() && !s.flags.syn() && ++acks % 7 == 0) return Pair::Fate::drop;
        return Pair::Fate::deliver;
    };
    start_bulk(1ull << 20, true);
    ASSERT_TRUE(run([&] { return client.peer_fin == 1 && !server.apps.empty() && server.apps[0].peer_fin == 1; }));
    expect_bulk_done(1ull << 20);
    ASSERT_TRUE(run([&] { return connections() == 0; }));
}

TEST_F(TwoLayers, HalfCloseLetsThePeerFinishSending) {
    server.configure = [](App& a) {
        a.keep_data = false;
        a.check_pattern = true;
        a.pattern_salt_in = 1;
    };
    client.to_send = 100000;
    client.pattern_salt_out = 1;
    client.shutdown_when_sent = true;
    listen_on_b();
    Connection* c = connect_a();
    ASSERT_TRUE(run([&] { return !server.apps.empty() && server.apps[0].peer_fin == 1; }));
    App& s = server.apps[0];
    EXPECT_EQ(s.received, 100000u);
    EXPECT_EQ(s.pattern_errors, 0u);
    EXPECT_EQ(c->state(), State::fin_wait_2);
    EXPECT_EQ(s.conn->state(), State::close_wait);

    // The server answers after the client's FIN, then closes.
    s.to_send = 50000;
    s.pattern_salt_out = 2;
    s.close_when_sent = true;
    client.keep_data = false;
    client.check_pattern = true;
    client.pattern_salt_in = 2;
    s.pump();
    ASSERT_TRUE(run([&] { return client.peer_fin == 1; }));
    EXPECT_EQ(client.received, 50000u);
    EXPECT_EQ(client.pattern_errors, 0u);
    EXPECT_EQ(client.closed, 1);
    EXPECT_EQ(client.error, 0);
    EXPECT_EQ(pair->b.tcp->connections(), 0u) << "LAST_ACK done";
    EXPECT_EQ(pair->a.tcp->connections(), 1u) << "TIME_WAIT";
    ASSERT_TRUE(run([&] { return connections() == 0; }));
}

TEST_F(TwoLayers, ClientClosesFirst) {
    server.configure = [](App& a) { a.close_on_peer_fin = true; };
    listen_on_b();
    Connection* c = connect_a();
    pair->flush();
    ASSERT_EQ(c->send(fake::make_chunk("request")), 0);
    client.conn = nullptr;
    c->close();
    pair->flush();
    EXPECT_EQ(server.apps[0].data, "request");
    EXPECT_EQ(server.apps[0].peer_fin, 1);
    EXPECT_EQ(pair->b.tcp->connections(), 0u);
    EXPECT_EQ(pair->a.tcp->connections(), 1u);
    EXPECT_EQ(c->state(), State::time_wait);
    ASSERT_TRUE(run([&] { return connections() == 0; }));
    EXPECT_EQ(pair->now, 60 * kSec);
    EXPECT_EQ(client.closed, 0);
}

TEST_F(TwoLayers, ServerClosesFirst) {
    client.close_on_peer_fin = true;
    server.configure = [](App& a) {
        a.to_send = 3000;
        a.close_when_sent = true;
    };
    listen_on_b();
    connect_a();
    pair->flush();
    EXPECT_EQ(client.received, 3000u);
    EXPECT_EQ(client.peer_fin, 1);
    EXPECT_EQ(pair->a.tcp->connections(), 0u);
    EXPECT_EQ(pair->b.tcp->connections(), 1u) << "TIME_WAIT on the side that closed first";
    ASSERT_TRUE(run([&] { return connections() == 0; }));
}

TEST_F(TwoLayers, SimultaneousClose) {
    listen_on_b();
    Connection* c = connect_a();
    pair->flush();
    Connection* s = server.apps[0].conn;
    client.conn = nullptr;
    server.apps[0].conn = nullptr;
    c->close();
    s->close();
    EXPECT_EQ(c->state(), State::fin_wait_1);
    EXPECT_EQ(s->state(), State::fin_wait_1);
    pair->flush();
    EXPECT_EQ(c->state(), State::time_wait);
    EXPECT_EQ(s->state(), State::time_wait);
    ASSERT_TRUE(run([&] { return connections() == 0; }));
}

TEST_F(TwoLayers, ResetByThePeerReachesTheApplication) {
    listen_on_b();
    connect_a();
    pair->flush();
    server.apps[0].conn->abort();
    pair->flush();
    EXPECT_EQ(client.closed, 1);
    EXPECT_EQ(client.error, ECONNRESET);
    EXPECT_EQ(connections(), 0u);
}

TEST_F(TwoLayers, DataToAClosedConnectionResetsTheSender) {
    listen_on_b();
    Connection* c = connect_a();
    pair->flush();
    Connection* s = server.apps[0].conn;
    server.apps[0].conn = nullptr;
    s->close(); // FIN is on its way, and data from the client crosses it
    auto fin = pair->b.out.take();
    ASSERT_EQ(fin.size(), 1u);
    ASSERT_EQ(c->send(fake::make_chunk("hello?")), 0);
    pair->flush();
    EXPECT_EQ(client.closed, 1);
    EXPECT_EQ(client.error, ECONNRESET);
    EXPECT_EQ(connections(), 0u);
}

TEST_F(TwoLayers, ConnectionRefused) {
    Connection* c = connect_a(); // nobody listens on B
    ASSERT_NE(c, nullptr);
    pair->flush();
    EXPECT_EQ(client.closed, 1);
    EXPECT_EQ(client.error, ECONNREFUSED);
    EXPECT_EQ(connections(), 0u);
}

} // namespace
} // namespace lanetcp::tcp::test
