// SYN floods (issue 10, RFC 4987): half-open connections are bounded request
// entries (syncache.hpp), and past the bounds a listener answers with SYN
// cookies (syncookie.hpp) that a legitimate client completes as usual.
#include "harness.hpp"

namespace lanetcp::tcp::test {
namespace {

class SynFlood : public OneLayer {
protected:
    static TcpConfig cfg(std::uint32_t backlog, std::uint32_t entries, bool cookies) {
        TcpConfig c = test_config();
        c.syn_backlog = backlog;
        c.syncache_entries = entries;
        c.syncookies = cookies;
        return c;
    }
    explicit SynFlood(const TcpConfig& c = cfg(4, 64, true)) : OneLayer(c) {}

    void SetUp() override {
        int err = 1;
        listener = tcp().listen(kPort, &Server::on_accept, &server, &err);
        ASSERT_NE(listener, nullptr);
    }
    FourTuple from_port(std::uint32_t i) const {
        FourTuple t = tuple;
        t.remote_port = static_cast<std::uint16_t>(10000 + i);
        return t;
    }
    // `n` SYNs whose SYN-ACKs nobody answers, from ports 10000 on.
    void flood(std::uint32_t n, std::uint32_t first = 0) {
        for (std::uint32_t i = first; i < first + n; ++i) {
            InSegment syn = fake::make_segment(from_port(i), SeqNum{i * 7919u}, SeqNum{}, tf::syn, 65535);
            syn.options.mss = kMss;
            input(syn);
        }
    }
    // A client's SYN with every option, on kPeerPort.
    InSegment full_syn(std::uint16_t mss = 1400, std::uint32_t tsval = 777) {
        InSegment syn = fake::make_segment(tuple, peer_isn, SeqNum{}, tf::syn, 65535);
        syn.options.mss = mss;
        syn.options.window_scale = 7;
        syn.options.sack_permitted = true;
        syn.options.timestamps = wire::TcpTimestamps{tsval, 0};
        return syn;
    }
};

TEST_F(SynFlood, SynsOverTheBacklogGetCookiesAndNoEntry) {
    flood(20);
    const auto out = sent();
    ASSERT_EQ(out.size(), 20u) << "every SYN is answered";
    for (const SentSegment& s : out) EXPECT_EQ(s.flags, tf::syn | tf::ack);
    EXPECT_EQ(tcp().half_open(), 4u) << "the backlog";
    EXPECT_EQ(listener->syn_received, 4u);
    EXPECT_EQ(tcp().connections(), 0u);
    EXPECT_EQ(counters().tcp_syncookies_sent.get(), 16u);
    EXPECT_EQ(counters().dropped(Drop::tcp_syn_backlog_full), 0u);
    // A cookie SYN-ACK is not retransmitted: nothing is kept to do it.
    at(1 * kSec);
    EXPECT_EQ(sent().size(), 4u) << "only the 4 entries' SYN-ACKs";
    at(3 * kSec);
    EXPECT_EQ(sent().size(), 4u);
}

TEST_F(SynFlood, ClientCompletesWithACookieAndGetsItsOptionsBack) {
    flood(4); // the backlog is full
    sent();
    now = 5 * kSec;
    input(full_syn(1400, 777));
    const SentSegment synack = only_one();
    EXPECT_EQ(counters().tcp_syncookies_sent.get(), 1u);
    EXPECT_EQ(tcp().find_request(tuple), nullptr) << "a cookie keeps nothing";
    EXPECT_EQ(synack.flags, tf::syn | tf::ack);
    EXPECT_EQ(synack.ack, peer_isn + 1);
    ASSERT_TRUE(synack.options.timestamps.has_value());
    EXPECT_EQ(synack.options.timestamps->echo_reply, 777u);
    EXPECT_TRUE(synack.options.sack_permitted);
    ASSERT_TRUE(synack.options.window_scale.has_value());

    now = 5 * kSec + 30 * kMs;
    InSegment ack = fake::make_segment(tuple, peer_isn + 1, synack.seq + 1, tf::ack, 1000, "hello");
    ack.options.timestamps = wire::TcpTimestamps{800, synack.options.timestamps->value};
    input(ack);
    ASSERT_EQ(server.apps.size(), 1u);
    Connection* c = tcp().find(tuple);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->state(), State::established);
    EXPECT_EQ(c->iss(), synack.seq);
    EXPECT_EQ(c->mss(), 1300 - 12) << "MSS class 1300 (1400 rounded down), less the timestamps";
    EXPECT_TRUE(c->window_scaling());
    EXPECT_EQ(c->send_window_scale(), 7);
    EXPECT_EQ(c->receive_window_scale(), *synack.options.window_scale);
    EXPECT_EQ(c->send_window(), 1000u << 7);
    EXPECT_TRUE(c->sack());
    EXPECT_TRUE(c->timestamps());
    EXPECT_EQ(server.apps[0].data, "hello") << "data on the cookie's ACK";
    EXPECT_EQ(counters().tcp_syncookies_accepted.get(), 1u);
    EXPECT_EQ(listener->syn_received, 4u) << "the flood's entries only";
    // Our next segment's TSval is not behind the SYN-ACK's (the cookie's bits
    // were taken from below the clock) and echoes the ACK's.
    const SentSegment a = only_one();
    ASSERT_TRUE(a.options.timestamps.has_value());
    EXPECT_GE(static_cast<std::int32_t>(a.options.timestamps->value - synack.options.timestamps->value), 0);
    EXPECT_EQ(a.options.timestamps->echo_reply, 800u);
}

TEST_F(SynFlood, WithoutTimestampsACookieKeepsOnlyTheMss) {
    flood(4);
    sent();
    InSegment syn = full_syn(1460);
    syn.options.timestamps.reset();
    input(syn);
    const SentSegment synack = only_one();
    EXPECT_FALSE(synack.options.sack_permitted) << "it could not be remembered";
    EXPECT_FALSE(synack.options.window_scale.has_value());
    EXPECT_FALSE(synack.options.timestamps.has_value());
    peer(tf::ack, peer_isn + 1, synack.seq + 1, {}, 4000);
    Connection* c = tcp().find(tuple);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->state(), State::established);
    EXPECT_EQ(c->mss(), 1460);
    EXPECT_FALSE(c->window_scaling());
    EXPECT_FALSE(c->sack());
    EXPECT_FALSE(c->timestamps());
    EXPECT_EQ(c->send_window(), 4000u);
}

TEST_F(SynFlood, ForgedCookieIsResetAndCounted) {
    flood(5);
    sent();
    peer(tf::ack, peer_isn + 1, SeqNum{0x12345678}); // no SYN-ACK ever had this ISS
    EXPECT_TRUE(is_segment(only_one(), tf::rst, SeqNum{0x12345678}, SeqNum{}, 0));
    EXPECT_EQ(counters().tcp_syncookies_failed.get(), 1u);
    EXPECT_EQ(counters().dropped(Drop::tcp_bad_syncookie), 1u);
    EXPECT_EQ(tcp().connections(), 0u);
    EXPECT_TRUE(server.apps.empty());
    // A SYN or RST to the listener is never taken for a cookie.
    peer(tf::rst | tf::ack, peer_isn + 1, SeqNum{0x12345678});
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(counters().tcp_syncookies_failed.get(), 1u);
}

TEST_F(SynFlood, CookieForAnotherTupleFails) {
    flood(4);
    sent();
    input(full_syn());
    const SentSegment synack = only_one();
    FourTuple other = tuple;
    other.remote_port = kPeerPort + 1;
    input(fake::make_segment(other, peer_isn + 1, synack.seq + 1, tf::ack, 1000));
    EXPECT_EQ(only_one().flags, tf::rst);
    EXPECT_EQ(counters().tcp_syncookies_failed.get(), 1u);
    EXPECT_EQ(tcp().connections(), 0u);
}

TEST_F(SynFlood, ExpiredCookieIsResetAndCounted) {
    flood(4);
    sent();
    input(full_syn());
    const SentSegment synack = only_one();
    // The flood goes on (cookies stay in use), the client answers too late.
    now = 2 * SynCookies::kSlot;
    flood(1, 100);
    sent();
    InSegment ack = fake::make_segment(tuple, peer_isn + 1, synack.seq + 1, tf::ack, 1000);
    ack.options.timestamps = wire::TcpTimestamps{900, synack.options.timestamps->value};
    input(ack);
    EXPECT_EQ(only_one().flags, tf::rst);
    EXPECT_EQ(counters().tcp_syncookies_failed.get(), 1u);
    EXPECT_EQ(counters().tcp_syncookies_accepted.get(), 0u);
    EXPECT_EQ(tcp().connections(), 0u);
}

TEST_F(SynFlood, AckToAListenerThatSentNoCookieIsAPlainReset) {
    peer(tf::ack, peer_isn + 1, SeqNum{42});
    EXPECT_TRUE(is_segment(only_one(), tf::rst, SeqNum{42}, SeqNum{}, 0));
    EXPECT_EQ(counters().dropped(Drop::tcp_no_listener), 1u);
    EXPECT_EQ(counters().tcp_syncookies_failed.get(), 0u);
}

TEST_F(SynFlood, FloodEntriesTimeOutAndTheBacklogFrees) {
    flood(10);
    sent();
    EXPECT_EQ(tcp().half_open(), 4u);
    // 1+2+4+8+16 s of retransmissions, then 32 s: given up at 63 s (synack_retries 5).
    for (TimeNs t : {1, 3, 7, 15, 31}) {
        at(t * kSec);
        EXPECT_EQ(sent().size(), 4u) << t;
    }
    at(63 * kSec - kMs);
    EXPECT_EQ(tcp().half_open(), 4u);
    at(63 * kSec);
    EXPECT_EQ(tcp().half_open(), 0u);
    EXPECT_EQ(listener->syn_received, 0u);
    EXPECT_EQ(counters().tcp_connections_timed_out.get(), 4u);
    sent();
    flood(1, 50);
    EXPECT_EQ(tcp().half_open(), 1u) << "an entry again";
}

class SmallSyncache : public SynFlood {
protected:
    SmallSyncache() : SynFlood(cfg(1000, 8, true)) {}
};

TEST_F(SmallSyncache, TheSyncacheNeverExceedsItsCapacity) {
    flood(300);
    EXPECT_EQ(tcp().half_open(), 8u);
    EXPECT_EQ(listener->syn_received, 8u);
    EXPECT_EQ(counters().tcp_syncookies_sent.get(), 292u);
    EXPECT_EQ(sent().size(), 300u);
    EXPECT_EQ(tcp().connections(), 0u);
}

class NoCookies : public SynFlood {
protected:
    NoCookies() : SynFlood(cfg(1000, 8, false)) {}
};

TEST_F(NoCookies, SynsPastTheSyncacheAreDroppedAndCounted) {
    flood(20);
    EXPECT_EQ(tcp().half_open(), 8u);
    EXPECT_EQ(sent().size(), 8u);
    EXPECT_EQ(counters().dropped(Drop::tcp_syn_backlog_full), 12u);
    EXPECT_EQ(counters().tcp_syncookies_sent.get(), 0u);
    // An ACK is never taken for a cookie.
    peer(tf::ack, peer_isn + 1, SeqNum{42});
    EXPECT_EQ(only_one().flags, tf::rst);
    EXPECT_EQ(counters().tcp_syncookies_failed.get(), 0u);
}

// Two whole layers: B's listener is flooded from addresses that never answer;
// A still connects and moves data.
TEST(SynFloodPair, LegitimateClientConnectsUnderAFlood) {
    TcpConfig cfg = test_config();
    cfg.syn_backlog = 16;
    Pair pair(cfg);
    Server server;
    int err = 1;
    Listener* l = pair.b.tcp->listen(80, &Server::on_accept, &server, &err);
    ASSERT_NE(l, nullptr);
    for (std::uint32_t i = 0; i < 5000; ++i) {
        const FourTuple spoofed{kIpB, wire::Ipv4Addr{0x0b000000 + i}, 80, static_cast<std::uint16_t>(1024 + i % 60000)};
        InSegment syn = fake::make_segment(spoofed, SeqNum{i * 2654435761u}, SeqNum{}, tf::syn, 65535);
        syn.options.mss = kMss;
        syn.options.timestamps = wire::TcpTimestamps{i, 0};
        pair.b.tcp->input(syn, pair.now);
    }
    pair.b.out.take(); // the SYN-ACKs go nowhere
    EXPECT_EQ(pair.b.tcp->half_open(), 16u);
    EXPECT_EQ(pair.b.counters.tcp_syncookies_sent.get(), 5000u - 16u);

    App client;
    client.to_send = 100000;
    client.pump();
    Connection* c = pair.a.tcp->connect(kIpB, 80, &kAppHandler, &client, pair.now, &err);
    ASSERT_NE(c, nullptr);
    client.conn = c;
    client.pump();
    ASSERT_TRUE(pair.run_until([&] { return !server.apps.empty() && server.apps[0].received == 100000; },
                               pair.now + 2 * kSec));
    EXPECT_EQ(pair.b.counters.tcp_syncookies_accepted.get(), 1u);
    EXPECT_EQ(client.established, 1);
    EXPECT_TRUE(c->sack()) << "options back from the timestamp";
    EXPECT_TRUE(c->window_scaling());
    EXPECT_TRUE(server.apps[0].conn->window_scaling());
}

} // namespace
} // namespace lanetcp::tcp::test
