// RFC 7323 (window scaling, timestamps, PAWS), RFC 2883 (D-SACK), RFC 5961 7
// (challenge-ACK rate limit), RFC 8985 7 (tail loss probe), the room SACK
// blocks take from a segment, and per-listener / per-connection options.
#include "harness.hpp"

namespace lanetcp::tcp::test {
namespace {

// What the peer's SYN offers.
struct Offer {
    bool sack = true;
    std::optional<std::uint8_t> wscale = 7;
    bool timestamps = true;
};

// A peer that offers what it is told to in its SYN, and keeps the
// timestamp state of its side: TSval it sends, and the TSval we last sent.
class Extensions : public OneLayer {
protected:
    explicit Extensions(const TcpConfig& cfg = test_config()) : OneLayer(cfg) {}

    // Passive open to ESTABLISHED; returns the SYN-ACK.
    SentSegment open() { return open(Offer{}); }
    SentSegment open(const Offer& offer) {
        if (listener == nullptr) {
            int err = 1;
            listener = tcp().listen(kPort, &Server::on_accept, &server, &err);
            EXPECT_EQ(err, 0);
            if (configure_listener) configure_listener(*listener);
        }
        InSegment syn = fake::make_segment(tuple, peer_isn, SeqNum{}, tf::syn, 65535);
        syn.options.mss = kMss;
        syn.options.sack_permitted = offer.sack;
        syn.options.window_scale = offer.wscale;
        if (offer.timestamps) syn.options.timestamps = wire::TcpTimestamps{peer_ts, 0};
        peer_wscale = offer.wscale.value_or(0);
        input(syn);
        const SentSegment synack = only_one();
        EXPECT_EQ(synack.flags, tf::syn | tf::ack);
        peer_nxt = peer_isn + 1;
        our_nxt = synack.seq + 1;
        if (synack.options.timestamps) our_ts = synack.options.timestamps->value;
        send(tf::ack, peer_nxt, our_nxt);
        expect_nothing_sent(__LINE__);
        EXPECT_EQ(server.apps.size(), 1u);
        return synack;
    }
    Connection* conn() { return server.apps.empty() ? nullptr : server.apps.front().conn; }

    // A segment from the peer carrying its timestamp (when `ts`), window
    // given in bytes and scaled for the wire by the shift the peer offered.
    void send(TcpFlags f, SeqNum seq, SeqNum ack, std::string_view payload = {}, std::uint32_t window = 65535u << 7,
              std::optional<std::uint32_t> tsval = std::nullopt, bool ts = true) {
        InSegment s = fake::make_segment(tuple, seq, ack, f, static_cast<std::uint16_t>(window >> peer_wscale), payload);
        if (ts) s.options.timestamps = wire::TcpTimestamps{tsval.value_or(peer_ts), our_ts};
        input(s);
    }

    std::function<void(Listener&)> configure_listener;
    std::uint32_t peer_ts = 5000;
    std::uint32_t our_ts = 0;
    std::uint8_t peer_wscale = 0;
};

// ------------------------------------------------------ window scaling

TEST_F(Extensions, WindowScaleNegotiatedBothWays) {
    const SentSegment synack = open();
    const std::uint8_t shift = window_scale_for(test_config().receive_buffer);
    ASSERT_TRUE(synack.options.window_scale.has_value()) << "the SYN offered it: the SYN-ACK answers";
    EXPECT_EQ(*synack.options.window_scale, shift);
    EXPECT_EQ(synack.window, 65535) << "RFC 7323 2.2: a SYN-ACK's window is not scaled";
    Connection* c = conn();
    ASSERT_NE(c, nullptr);
    EXPECT_TRUE(c->window_scaling());
    EXPECT_EQ(c->send_window_scale(), 7);
    EXPECT_EQ(c->send_window(), 65535u << 7) << "the peer's ACK window, scaled by its shift";

    // Our windows go out in units of 2^shift and cover the whole buffer.
    send(tf::ack | tf::psh, peer_nxt, our_nxt, "hello");
    peer_nxt += 5;
    at(now + 40 * kMs); // delayed ACK
    const SentSegment ack = only_one();
    EXPECT_EQ(ack.ack, peer_nxt);
    EXPECT_EQ(static_cast<std::uint32_t>(ack.window) << shift, test_config().receive_buffer)
        << "window field " << ack.window;
    EXPECT_GT(c->receive_window(), 65535u);

    // A small scaled window from the peer limits what we send.
    send(tf::ack, peer_nxt, our_nxt, {}, 3000);
    EXPECT_EQ(c->send_window(), 3000u >> 7 << 7);
    ASSERT_EQ(c->send(fake::make_chunk(std::string(10000, 'x'))), 0);
    std::uint32_t bytes = 0;
    for (const auto& s : sent()) bytes += static_cast<std::uint32_t>(s.payload.size());
    // Two full segments; the 48 bytes left of the window wait (sender SWS
    // avoidance) rather than go as a runt.
    EXPECT_EQ(bytes, 2u * c->mss()) << "the peer's window in bytes, not in units";
}

TEST_F(Extensions, NoWindowScaleWithoutThePeersOffer) {
    Offer offer;
    offer.wscale = std::nullopt;
    const SentSegment synack = open(offer);
    EXPECT_FALSE(synack.options.window_scale.has_value()) << "RFC 7323 2.2: only if the SYN carried it";
    Connection* c = conn();
    ASSERT_NE(c, nullptr);
    EXPECT_FALSE(c->window_scaling());
    send(tf::ack | tf::psh, peer_nxt, our_nxt, "x", 65535);
    peer_nxt += 1;
    at(now + 40 * kMs);
    const SentSegment ack = only_one();
    EXPECT_LE(ack.window, 65535);
    EXPECT_LE(c->receive_window(), 65535u) << "the buffer is cut to what 16 bits express";
}

class ExtensionsOff : public Extensions {
protected:
    static TcpConfig config() {
        TcpConfig c = test_config();
        c.window_scale = false;
        c.timestamps = false;
        c.sack = false;
        return c;
    }
    ExtensionsOff() : Extensions(config()) {}
};

TEST_F(ExtensionsOff, SwitchedOffNothingIsOfferedOrAccepted) {
    const SentSegment synack = open();
    EXPECT_FALSE(synack.options.window_scale.has_value());
    EXPECT_FALSE(synack.options.timestamps.has_value());
    EXPECT_FALSE(synack.options.sack_permitted);
    EXPECT_EQ(conn()->mss(), kMss) << "no room kept for timestamps";
    int err = 1;
    Connection* c = tcp().connect(kIpB, 9999, &kAppHandler, &client, now, &err);
    ASSERT_NE(c, nullptr);
    const SentSegment syn = only_one();
    EXPECT_EQ(syn.flags, tf::syn);
    EXPECT_FALSE(syn.options.window_scale.has_value());
    EXPECT_FALSE(syn.options.timestamps.has_value());
    EXPECT_FALSE(syn.options.sack_permitted);
    c->abort();
}

// ---------------------------------------------------------- timestamps

TEST_F(Extensions, TimestampsOnEverySegmentWithTheRecentValueEchoed) {
    const SentSegment synack = open();
    ASSERT_TRUE(synack.options.timestamps.has_value());
    EXPECT_EQ(synack.options.timestamps->echo_reply, peer_ts) << "RFC 7323 3.2: the SYN-ACK echoes the SYN's TSval";
    Connection* c = conn();
    ASSERT_NE(c, nullptr);
    EXPECT_TRUE(c->timestamps());
    EXPECT_EQ(c->mss(), kMss - 12) << "room for the 12 option bytes on every segment";

    peer_ts = 6000;
    send(tf::ack | tf::psh, peer_nxt, our_nxt, "abc");
    peer_nxt += 3;
    ASSERT_EQ(c->send(fake::make_chunk(std::string(5000, 'y'))), 0);
    // (The first is a window update: the buffer is larger than the 64 KB
    // a SYN-ACK can offer, and reading "abc" announced the rest.)
    auto s = sent();
    std::erase_if(s, [](const SentSegment& seg) { return seg.payload.empty(); });
    ASSERT_EQ(s.size(), 4u);
    for (const auto& seg : s) {
        ASSERT_TRUE(seg.options.timestamps.has_value());
        EXPECT_EQ(seg.options.timestamps->echo_reply, 6000u);
        EXPECT_LE(seg.payload.size(), kMss - 12u);
    }
    // TSval is a millisecond clock.
    const std::uint32_t t0 = s[0].options.timestamps->value;
    at(now + 10 * kMs);
    send(tf::ack, peer_nxt, our_nxt + 5000);
    at(now + 240 * kMs);
    (void)sent();
    send(tf::ack | tf::psh, peer_nxt, our_nxt + 5000, "d");
    peer_nxt += 1;
    at(now + 40 * kMs);
    const SentSegment later = only_one();
    ASSERT_TRUE(later.options.timestamps.has_value());
    EXPECT_EQ(later.options.timestamps->value - t0, 290u);
}

TEST_F(Extensions, PawsDropsAnOldTimestampAndAcks) {
    open();
    Connection* c = conn();
    ASSERT_NE(c, nullptr);
    peer_ts = 9000;
    send(tf::ack | tf::psh, peer_nxt, our_nxt, "new");
    peer_nxt += 3;
    at(now + 40 * kMs);
    (void)sent();
    // An old duplicate carrying data at RCV.NXT, with an older timestamp.
    send(tf::ack | tf::psh, peer_nxt, our_nxt, "old", 65535u << 7, 8999);
    const SentSegment ack = only_one();
    EXPECT_EQ(ack.flags, tf::ack);
    EXPECT_EQ(ack.ack, peer_nxt) << "the data was not taken";
    EXPECT_EQ(counters().drops[static_cast<std::size_t>(Drop::tcp_paws)].get(), 1u);
    EXPECT_EQ(server.apps[0].received, 3u);
    // Wrap-around: a TSval just past 2^31 ahead is older, not newer.
    send(tf::ack | tf::psh, peer_nxt, our_nxt, "wrp", 65535u << 7, 9000u + 0x80000001u);
    (void)sent();
    EXPECT_EQ(counters().drops[static_cast<std::size_t>(Drop::tcp_paws)].get(), 2u);
    // A RST is taken whatever its timestamp (RFC 7323 5.3).
    send(tf::rst, peer_nxt, our_nxt, {}, 0, 1);
    EXPECT_EQ(server.apps[0].closed, 1);
    EXPECT_EQ(server.apps[0].error, ECONNRESET);
}

TEST_F(Extensions, PawsLetsAReorderedDuplicateAckThrough) {
    open();
    Connection* c = conn();
    ASSERT_NE(c, nullptr);
    peer_ts = 9000;
    send(tf::ack | tf::psh, peer_nxt, our_nxt, "new");
    peer_nxt += 3;
    at(now + 40 * kMs);
    (void)sent();
    // A pure duplicate ACK, older timestamp, nothing changed: Linux's
    // tcp_disordered_ack lets it through (no drop, no answering ACK).
    send(tf::ack, peer_nxt, our_nxt, {}, 65535u << 7, 8990);
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(counters().drops[static_cast<std::size_t>(Drop::tcp_paws)].get(), 0u);
    // The same but changing the window: not harmless, dropped.
    send(tf::ack, peer_nxt, our_nxt, {}, 1000u << 7, 8990);
    EXPECT_EQ(only_one().flags, tf::ack);
    EXPECT_EQ(counters().drops[static_cast<std::size_t>(Drop::tcp_paws)].get(), 1u);
    EXPECT_EQ(c->send_window(), 65535u << 7);
    c->abort();
}

TEST_F(Extensions, PawsForgetsTsRecentAfter24DaysIdle) {
    open();
    peer_ts = 9000;
    send(tf::ack | tf::psh, peer_nxt, our_nxt, "a");
    peer_nxt += 1;
    at(now + 25LL * 24 * 3600 * kSec);
    (void)sent();
    // The peer's clock wrapped meanwhile: its TSval looks old but is taken.
    send(tf::ack | tf::psh, peer_nxt, our_nxt, "b", 65535u << 7, 10);
    EXPECT_EQ(counters().drops[static_cast<std::size_t>(Drop::tcp_paws)].get(), 0u);
    EXPECT_EQ(server.apps[0].received, 2u);
    conn()->abort();
}

TEST_F(Extensions, TsRecentOnlyFromSegmentsAtTheLeftEdge) {
    open();
    // Out of order, ahead of a hole, with a newer timestamp: not recorded
    // (RFC 7323 4.3), so our echo still carries the older one.
    send(tf::ack | tf::psh, peer_nxt + 100, our_nxt, "late", 65535u << 7, 7000);
    const SentSegment dup = only_one();
    ASSERT_TRUE(dup.options.timestamps.has_value());
    EXPECT_EQ(dup.options.timestamps->echo_reply, peer_ts);
    send(tf::ack | tf::psh, peer_nxt, our_nxt, std::string(100, 'f'), 65535u << 7, 6000);
    const SentSegment ack = only_one();
    ASSERT_TRUE(ack.options.timestamps.has_value());
    EXPECT_EQ(ack.options.timestamps->echo_reply, 6000u) << "the segment that filled the hole sets it";
    EXPECT_EQ(ack.ack, peer_nxt + 104);
    conn()->abort();
}

class ExtensionsNoProbe : public Extensions {
protected:
    static TcpConfig config() {
        TcpConfig c = test_config();
        c.loss_probes = false;
        return c;
    }
    ExtensionsNoProbe() : Extensions(config()) {}
};

TEST_F(ExtensionsNoProbe, RttSampledFromTheEchoAcrossARetransmission) {
    open();
    Connection* c = conn();
    ASSERT_NE(c, nullptr);
    ASSERT_EQ(c->send(fake::make_chunk("q")), 0);
    const SentSegment first = only_one();
    at(c->retransmit_deadline());
    const SentSegment again = only_one();
    ASSERT_TRUE(again.options.timestamps.has_value());
    EXPECT_EQ(counters().tcp_timeouts.get(), 1u);
    EXPECT_GT(c->rto(), 200 * kMs) << "backed off";
    // The ACK echoes the retransmission's TSval, 30 ms later: a valid
    // sample despite Karn (RFC 7323 4.1); the backoff ends with the ACK.
    const TimeNs srtt_before = c->rtt().srtt();
    at(now + 30 * kMs);
    our_ts = again.options.timestamps->value;
    send(tf::ack, peer_nxt, our_nxt + 1);
    EXPECT_NE(c->rtt().srtt(), srtt_before) << "sampled";
    EXPECT_EQ(c->rtt().srtt(), (7 * srtt_before + 30 * kMs) / 8) << "from the echo: 30 ms";
    EXPECT_EQ(c->rto(), c->rtt().rto()) << "backoff over";
    (void)first;
}

// ------------------------------------------------------------- D-SACK

TEST_F(Extensions, DuplicateDataReportedWithADsackBlock) {
    open();
    send(tf::ack | tf::psh, peer_nxt, our_nxt, std::string(1000, 'a'));
    at(now + 40 * kMs);
    (void)sent();
    // The same segment again: our ACK was lost, the peer resent it.
    send(tf::ack | tf::psh, peer_nxt, our_nxt, std::string(1000, 'a'));
    const SentSegment ack = only_one();
    ASSERT_EQ(ack.options.sack_block_count, 1u);
    EXPECT_EQ(ack.options.sack_blocks[0], (wire::SackBlock{peer_nxt, peer_nxt + 1000})) << "RFC 2883 4.1.1";
    EXPECT_EQ(counters().tcp_dsacks_sent.get(), 1u);
    // Only once: the next ACK has no SACK option.
    send(tf::ack | tf::psh, peer_nxt + 1000, our_nxt, "b");
    at(now + 40 * kMs);
    EXPECT_EQ(only_one().options.sack_block_count, 0u);
    conn()->abort();
}

TEST_F(Extensions, PartlyDuplicateSegmentReportsTheOldPart) {
    open();
    send(tf::ack | tf::psh, peer_nxt, our_nxt, std::string(1000, 'a'));
    at(now + 40 * kMs);
    (void)sent();
    send(tf::ack | tf::psh, peer_nxt + 500, our_nxt, std::string(1000, 'a'));
    const SentSegment ack = only_one();
    ASSERT_GE(ack.options.sack_block_count, 1u);
    EXPECT_EQ(ack.options.sack_blocks[0], (wire::SackBlock{peer_nxt + 500, peer_nxt + 1000})) << "RFC 2883 4.1.2";
    EXPECT_EQ(ack.ack, peer_nxt + 1500);
    conn()->abort();
}

TEST_F(ExtensionsOff, NoDsackWithoutSack) {
    open();
    send(tf::ack | tf::psh, peer_nxt, our_nxt, std::string(100, 'a'), 65535, std::nullopt, false);
    at(now + 40 * kMs);
    (void)sent();
    send(tf::ack | tf::psh, peer_nxt, our_nxt, std::string(100, 'a'), 65535, std::nullopt, false);
    EXPECT_EQ(only_one().options.sack_block_count, 0u);
    EXPECT_EQ(counters().tcp_dsacks_sent.get(), 0u);
    conn()->abort();
}

// ------------------------------------------ SACK blocks take segment room

TEST_F(Extensions, DataSegmentsShrinkToLeaveRoomForSackBlocks) {
    open();
    Connection* c = conn();
    ASSERT_NE(c, nullptr);
    // A hole in what we receive: every segment we send reports it.
    send(tf::ack | tf::psh, peer_nxt + 1000, our_nxt, std::string(500, 'h'));
    (void)sent();
    ASSERT_EQ(c->send(fake::make_chunk(std::string(3 * kMss, 'z'))), 0);
    const auto s = sent();
    ASSERT_FALSE(s.empty());
    for (const auto& seg : s) {
        ASSERT_EQ(seg.options.sack_block_count, 1u);
        const std::size_t options = wire::tcp_options_length(seg.options);
        EXPECT_LE(seg.payload.size() + options, kMss) << "a full segment must still fit the MTU";
    }
    EXPECT_EQ(s[0].payload.size(), kMss - 12u - 12u) << "timestamps 12, one SACK block 12";
    c->abort();
}

// -------------------------------------------- challenge-ACK rate limit

class ChallengeLimit : public Extensions {
protected:
    static TcpConfig config() {
        TcpConfig c = test_config();
        // A budget of exactly 1 (drawn from [1, 1]); no per-connection
        // limit, so that one connection reaches the lcore's budget.
        c.challenge_ack_limit = 1;
        c.invalid_ratelimit = 0;
        return c;
    }
    ChallengeLimit() : Extensions(config()) {}
};

TEST_F(ChallengeLimit, AtMostTheLimitPerSecond) {
    open();
    for (int i = 0; i < 3; ++i) send(tf::rst, peer_nxt + 10, our_nxt); // in window, not exact
    EXPECT_EQ(sent().size(), 1u) << "RFC 5961 7: the second and third are not answered";
    EXPECT_EQ(counters().tcp_challenge_acks.get(), 1u);
    EXPECT_EQ(counters().tcp_challenge_acks_limited.get(), 2u);
    send(tf::syn, peer_nxt, our_nxt); // a SYN shares the budget
    EXPECT_EQ(sent().size(), 0u);
    at(now + kSec);
    send(tf::rst, peer_nxt + 10, our_nxt);
    EXPECT_EQ(sent().size(), 1u) << "a new second, a new budget";
    EXPECT_EQ(conn()->state(), State::established);
    conn()->abort();
}

// ------------------------------------------------------ tail loss probe

TEST_F(Extensions, TailLossProbeStartsRecoveryInsteadOfTheRto) {
    open();
    Connection* c = conn();
    ASSERT_NE(c, nullptr);
    // An RTT sample of 20 ms.
    ASSERT_EQ(c->send(fake::make_chunk("s")), 0);
    (void)sent();
    at(now + 20 * kMs);
    send(tf::ack, peer_nxt, our_nxt + 1);
    our_nxt += 1;
    ASSERT_TRUE(c->rtt().has_sample());
    // Four segments; the last three are lost, so no duplicate ACKs come.
    ASSERT_EQ(c->send(fake::make_chunk(std::string(4 * c->mss(), 'p'))), 0);
    ASSERT_EQ(sent().size(), 4u);
    const SeqNum base = our_nxt;
    const std::uint32_t m = c->mss();
    const TimeNs pto = c->retransmit_deadline() - now;
    EXPECT_LT(pto, c->rto()) << "a probe timeout, not the RTO";
    EXPECT_EQ(pto, 2 * c->rtt().srtt() + 2 * kMs) << "2 SRTT and two timer ticks (Linux's TCP_TIMEOUT_MIN)";
    send(tf::ack, peer_nxt, base + m); // the first arrives
    (void)sent();
    at(c->retransmit_deadline() + kMs); // the wheel fires within a 1 ms tick after the deadline
    const SentSegment probe = only_one();
    EXPECT_EQ(probe.seq, base + 3 * m) << "RFC 8985 7.3: nothing new to send, so the last segment again";
    EXPECT_EQ(counters().tcp_loss_probes.get(), 1u);
    EXPECT_EQ(counters().tcp_timeouts.get(), 0u);
    // Its SACK, a round trip later, shows what is missing below it:
    // recovery, at once. (Sooner than the minimum RTT, RACK would take the
    // SACK for the original's: RFC 8985 6.2 step 2.)
    at(now + 20 * kMs);
    InSegment sack = fake::make_segment(tuple, peer_nxt, base + m, tf::ack, 65535 >> 0, {});
    sack.window = static_cast<std::uint16_t>(65535);
    sack.options.timestamps = wire::TcpTimestamps{peer_ts, our_ts};
    sack.options.sack_block_count = 1;
    sack.options.sack_blocks[0] = {base + 3 * m, base + 4 * m};
    input(sack);
    const auto resent = sent();
    ASSERT_GE(resent.size(), 1u);
    EXPECT_EQ(resent[0].seq, base + m);
    EXPECT_EQ(counters().tcp_timeouts.get(), 0u);
    c->abort();
}

// ------------------------------------------------ congestion window cap

TEST_F(Extensions, CwndDoesNotGrowWhileApplicationLimited) {
    open();
    Connection* c = conn();
    ASSERT_NE(c, nullptr);
    const std::uint32_t initial = c->cwnd();
    // A hundred small request-sized writes, each acknowledged before the
    // next: never more than a sliver of the window out (RFC 7661).
    for (int i = 0; i < 100; ++i) {
        ASSERT_EQ(c->send(fake::make_chunk("ping")), 0);
        (void)sent();
        at(now + kMs);
        our_nxt += 4;
        send(tf::ack, peer_nxt, our_nxt);
    }
    EXPECT_EQ(c->cwnd(), initial);
    // A window's worth out: now ACKs grow it (slow start).
    ASSERT_EQ(c->send(fake::make_chunk(std::string(initial, 'w'))), 0);
    (void)sent();
    at(now + kMs);
    our_nxt += initial;
    send(tf::ack, peer_nxt, our_nxt);
    EXPECT_GT(c->cwnd(), initial);
    c->abort();
}

TEST(SendQueueCursor, PiecesStayRightAcrossConsume) {
    ChunkPool pool(16);
    SendQueue q;
    std::string all;
    for (int i = 0; i < 5; ++i) {
        const std::string part(100 + i, static_cast<char>('a' + i));
        all += part;
        ChunkNode* n = pool.get();
        n->chunk = fake::make_chunk(part);
        q.push_back(*n);
    }
    const auto read = [&](std::uint32_t offset, std::uint32_t length) {
        std::string out;
        q.for_each_piece(offset, length, [&](const std::uint8_t* d, std::uint32_t len, PacketBuffer*) {
            out.append(reinterpret_cast<const char*>(d), len);
        });
        return out;
    };
    std::uint32_t front = 0;
    EXPECT_EQ(read(250, 100), all.substr(250, 100)); // cursor in the third chunk
    q.consume(50, pool);                              // cursor past the consumed bytes: kept
    front += 50;
    EXPECT_EQ(read(300 - front, 60), all.substr(300, 60));
    q.consume(230, pool); // the cursor's own chunk goes
    front += 230;
    EXPECT_EQ(read(0, 40), all.substr(front, 40));
    EXPECT_EQ(read(100, all.size() - front - 100), all.substr(front + 100));
    q.clear(pool);
    EXPECT_EQ(pool.available(), 16u);
}

// ------------------------------------------------------------ options

TEST_F(Extensions, ListenerOptionsApplyToWhatItAccepts) {
    configure_listener = [](Listener& l) {
        l.options.sack = false;
        l.options.timestamps = false;
        l.options.receive_buffer = 32768;
        l.options.nodelay = true;
    };
    const SentSegment synack = open();
    EXPECT_FALSE(synack.options.sack_permitted);
    EXPECT_FALSE(synack.options.timestamps.has_value());
    ASSERT_TRUE(synack.options.window_scale.has_value());
    EXPECT_EQ(*synack.options.window_scale, 0) << "32 KB needs no scaling, but the offer is answered";
    EXPECT_EQ(synack.window, 32768);
    Connection* c = conn();
    ASSERT_NE(c, nullptr);
    EXPECT_FALSE(c->sack());
    EXPECT_TRUE(c->options().nodelay);
    // Growing the buffer later opens the window as far as the shift allows.
    c->set_receive_buffer(1 << 20);
    EXPECT_EQ(only_one().window, 65535) << "window update; 16 bits with shift 0";
    c->abort();
}

TEST_F(Extensions, ListenerKeepaliveStartsAtEstablished) {
    configure_listener = [](Listener& l) {
        l.options.keepalive = true;
        l.options.keepalive_idle = 2 * kSec;
        l.options.keepalive_interval = kSec;
        l.options.keepalive_count = 2;
    };
    open();
    const TimeNs t0 = now;
    at(t0 + 2 * kSec - kMs);
    expect_nothing_sent(__LINE__);
    at(t0 + 2 * kSec);
    const SentSegment probe = only_one();
    EXPECT_EQ(probe.seq, our_nxt - 1) << "SND.UNA - 1";
    EXPECT_EQ(counters().tcp_keepalive_probes.get(), 1u);
    at(t0 + 3 * kSec);
    EXPECT_EQ(only_one().seq, our_nxt - 1);
    at(t0 + 4 * kSec);
    EXPECT_TRUE(only_one().flags.rst()) << "two unanswered: reset";
    EXPECT_EQ(server.apps[0].error, ETIMEDOUT);
}

TEST_F(Extensions, ConnectOptionsApplyToOneConnection) {
    ConnectionOptions o = ConnectionOptions::from(test_config());
    o.timestamps = false;
    o.window_scale = false;
    o.send_buffer = 10000;
    int err = 1;
    Connection* c = tcp().connect(kIpB, kPeerPort, &kAppHandler, &client, now, &err, 0, &o);
    ASSERT_NE(c, nullptr);
    const SentSegment syn = only_one();
    EXPECT_TRUE(syn.options.sack_permitted);
    EXPECT_FALSE(syn.options.timestamps.has_value());
    EXPECT_FALSE(syn.options.window_scale.has_value());
    EXPECT_EQ(c->send_space(), 10000u);
    c->abort();
}

} // namespace
} // namespace lanetcp::tcp::test
