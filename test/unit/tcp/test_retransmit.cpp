// Loss recovery on one connection: the retransmission timer (RFC 6298,
// Linux's bounds and tcp_retries2), fast retransmit and NewReno recovery
// (RFC 5681 3.2, RFC 6582), and the persist timer of a zero window
// (RFC 9293 3.8.6.1, Linux's tcp_probe_timer).
#include <cerrno>

#include "harness.hpp"

namespace lanetcp::tcp::test {
namespace {

std::string bytes(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 23);
    return s;
}

TEST_F(OneLayer, RtoIsThreeSecondsAfterASynAckTimeoutAndDoubles) {
    int err = 1;
    listener = tcp().listen(kPort, &Server::on_accept, &server, &err);
    InSegment syn = fake::make_segment(tuple, peer_isn, SeqNum{}, tf::syn, 65535);
    syn.options.mss = kMss;
    input(syn);
    const SentSegment synack = only_one();
    at(kSec);
    only_one(); // SYN-ACK again: Karn's rule, no sample from this handshake
    now = kSec + 20 * kMs;
    peer(tf::ack, peer_isn + 1, synack.seq + 1);
    Connection* c = server.apps.at(0).conn;
    ASSERT_NE(c, nullptr);
    EXPECT_FALSE(c->rtt().has_sample());
    EXPECT_EQ(c->rto(), 3 * kSec) << "RFC 6298 5.7 (Linux's TCP_TIMEOUT_FALLBACK)";

    const TimeNs t0 = now;
    ASSERT_EQ(c->send(fake::make_chunk("data")), 0);
    const SentSegment first = only_one();
    EXPECT_EQ(c->retransmit_deadline(), t0 + 3 * kSec);
    at(t0 + 3 * kSec - kMs);
    expect_nothing_sent(__LINE__);
    at(t0 + 3 * kSec);
    SentSegment again = only_one();
    EXPECT_TRUE(is_segment(again, tf::ack | tf::psh, first.seq, peer_isn + 1, 4));
    EXPECT_EQ(again.payload, "data");
    EXPECT_EQ(c->retransmit_deadline(), t0 + 9 * kSec);
    at(t0 + 9 * kSec);
    EXPECT_TRUE(is_segment(only_one(), tf::ack | tf::psh, first.seq, peer_isn + 1, 4));
    EXPECT_EQ(c->retransmit_deadline(), t0 + 21 * kSec);
    EXPECT_EQ(counters().tcp_timeouts.get(), 3u); // with the SYN-ACK's
}

TEST_F(OneLayer, RtoHasA200msFloorAndTimerStopsWhenAllIsAcked) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    EXPECT_TRUE(c->rtt().has_sample()); // the handshake, 0 ms
    EXPECT_EQ(c->rto(), 200 * kMs);

    ASSERT_EQ(c->send(fake::make_chunk(bytes(3000))), 0);
    EXPECT_EQ(sent().size(), 3u);
    EXPECT_EQ(c->retransmit_deadline(), 200 * kMs);
    // A partial ACK restarts the timer from now (RFC 6298 5.3).
    at(50 * kMs);
    peer(tf::ack, peer_nxt, our_nxt + 1460);
    EXPECT_TRUE(c->retransmit_timer_armed());
    EXPECT_EQ(c->retransmit_deadline(), 50 * kMs + c->rto());
    EXPECT_EQ(c->rto(), 200 * kMs) << "srtt 50 ms + 4 * 25 ms, under the floor";
    at(60 * kMs);
    peer(tf::ack, peer_nxt, our_nxt + 3000);
    EXPECT_FALSE(c->retransmit_timer_armed()) << "RFC 6298 5.2";
    at(10 * kSec);
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(c->retransmissions(), 0u);
}

TEST_F(OneLayer, TimeoutRetransmitsOneSegmentThenGoesBackN) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    ASSERT_EQ(c->set_congestion_control(cc::Algorithm::newreno), 0); // the arithmetic below is NewReno's
    ASSERT_EQ(c->send(fake::make_chunk(bytes(10 * 1460))), 0);
    EXPECT_EQ(sent().size(), 10u);
    at(200 * kMs);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, peer_nxt, 1460));
    EXPECT_EQ(c->cwnd(), 1460u) << "RFC 5681 loss window";
    EXPECT_EQ(c->ssthresh(), 5u * 1460u) << "half the flight";
    EXPECT_EQ(c->rto(), 400 * kMs);
    // Its ACK: slow start again from SND.UNA, two segments now.
    at(250 * kMs);
    peer(tf::ack, peer_nxt, our_nxt + 1460);
    auto s = sent();
    ASSERT_EQ(s.size(), 2u);
    EXPECT_TRUE(is_segment(s[0], tf::ack, our_nxt + 1460, peer_nxt, 1460));
    EXPECT_TRUE(is_segment(s[1], tf::ack, our_nxt + 2920, peer_nxt, 1460));
    EXPECT_EQ(c->retransmissions(), 0u) << "an ACK of new data ends the timeout series";
    EXPECT_EQ(c->rto(), 400 * kMs) << "Karn: the ACK of a resent segment is no sample; the backoff stays";
    EXPECT_EQ(counters().tcp_retransmitted_segments.get(), 3u);
    // All of it acknowledged (every segment was sent twice: no sample),
    // then new data, sent once: its ACK is a measurement and ends the backoff.
    at(260 * kMs);
    peer(tf::ack, peer_nxt, our_nxt + 10 * 1460);
    (void)sent();
    EXPECT_EQ(c->rto(), 400 * kMs);
    ASSERT_EQ(c->send(fake::make_chunk("x")), 0);
    (void)sent();
    at(270 * kMs);
    peer(tf::ack, peer_nxt, our_nxt + 10 * 1460 + 1);
    EXPECT_EQ(c->rto(), 200 * kMs) << "backoff cleared by a valid measurement";
}

class FewRetries : public OneLayer {
protected:
    static TcpConfig cfg() {
        TcpConfig c = test_config();
        c.retries2 = 3;
        return c;
    }
    FewRetries() : OneLayer(cfg()) {}
};

TEST_F(FewRetries, DataNeverAcknowledgedTimesOutAfterRetries2) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    App& app = server.apps[0];
    ASSERT_EQ(c->send(fake::make_chunk("lost")), 0);
    only_one();
    TimeNs t = 0;
    for (int i = 0; i < 3; ++i) {
        t += (200 * kMs) << i;
        at(t);
        EXPECT_TRUE(is_segment(only_one(), tf::ack | tf::psh, our_nxt, peer_nxt, 4)) << i;
    }
    t += 1600 * kMs;
    at(t - kMs);
    EXPECT_EQ(app.closed, 0);
    at(t);
    expect_nothing_sent(__LINE__); // tcp_write_err: no RST
    EXPECT_EQ(app.closed, 1);
    EXPECT_EQ(app.error, ETIMEDOUT);
    EXPECT_EQ(tcp().connections(), 0u);
    EXPECT_EQ(counters().tcp_connections_timed_out.get(), 1u);
}

TEST_F(OneLayer, DataNeverAcknowledgedTimesOutAfterFifteenRetries) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    App& app = server.apps[0];
    ASSERT_EQ(tcp().config().retries2, 15u);
    ASSERT_EQ(c->send(fake::make_chunk("lost")), 0);
    only_one();
    TimeNs t = 0;
    for (int i = 0; i < 15; ++i) {
        const TimeNs rto = std::min<TimeNs>((200 * kMs) << i, 120 * kSec);
        t += rto;
        EXPECT_EQ(c->retransmit_deadline(), t) << i;
        at(t - kMs);
        expect_nothing_sent(__LINE__);
        at(t);
        EXPECT_TRUE(is_segment(only_one(), tf::ack | tf::psh, our_nxt, peer_nxt, 4)) << i;
        ASSERT_EQ(app.closed, 0);
    }
    t += 120 * kSec;
    at(t);
    EXPECT_EQ(app.closed, 1);
    EXPECT_EQ(app.error, ETIMEDOUT);
    EXPECT_EQ(t, 924'600 * kMs) << "Linux's 924.6 s for tcp_retries2 = 15";
    EXPECT_EQ(tcp().connections(), 0u);
}

TEST_F(OneLayer, ThirdDuplicateAckTriggersFastRetransmitAndNewRenoRecovery) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    ASSERT_EQ(c->set_congestion_control(cc::Algorithm::newreno), 0); // the arithmetic below is NewReno's
    ASSERT_EQ(c->send(fake::make_chunk(bytes(10 * 1460))), 0);
    ASSERT_EQ(sent().size(), 10u);
    const SeqNum hole = our_nxt + 1460; // segment 2 lost, 3 and 4 arrived
    peer(tf::ack, peer_nxt, hole);
    expect_nothing_sent(__LINE__);
    peer(tf::ack, peer_nxt, hole); // duplicates 1 and 2
    peer(tf::ack, peer_nxt, hole);
    expect_nothing_sent(__LINE__);
    // Not duplicates (RFC 5681 2): a window update, a segment with data.
    peer(tf::ack, peer_nxt, hole, {}, 60000);
    expect_nothing_sent(__LINE__);
    peer(tf::ack, peer_nxt, hole, "x", 60000);
    EXPECT_EQ(sent().size(), 0u); // its ACK is delayed
    peer_nxt += 1;
    peer(tf::ack, peer_nxt, hole, {}, 60000); // the third duplicate
    SentSegment rexmit = only_one();
    EXPECT_TRUE(is_segment(rexmit, tf::ack, hole, peer_nxt, 1460));
    EXPECT_EQ(rexmit.payload, bytes(10 * 1460).substr(1460, 1460));
    EXPECT_EQ(counters().tcp_fast_retransmits.get(), 1u);
    EXPECT_EQ(c->ssthresh(), 9u * 1460u / 2);
    EXPECT_EQ(c->cwnd(), 9u * 1460u / 2 + 3 * 1460u);
    EXPECT_FALSE(c->retransmit_timer_armed() && c->retransmissions() > 0);

    // A partial ACK (up to the next hole at segment 5): resend it at once.
    peer(tf::ack, peer_nxt, our_nxt + 4 * 1460, {}, 60000);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt + 4 * 1460, peer_nxt, 1460));
    EXPECT_EQ(counters().tcp_fast_retransmits.get(), 2u);
    // The full ACK ends recovery with cwnd deflated.
    peer(tf::ack, peer_nxt, our_nxt + 10 * 1460, {}, 60000);
    EXPECT_EQ(c->cwnd(), 2u * 1460u) << "RFC 6582 3.2 (3): min(ssthresh, max(flight, MSS) + MSS)";
    EXPECT_FALSE(c->retransmit_timer_armed());
}

// ---- zero window ----

TEST_F(OneLayer, ZeroWindowIsProbedWithBackoffForAsLongAsThePeerAnswers) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    peer(tf::ack, peer_nxt, our_nxt, {}, 0);
    EXPECT_EQ(c->send_window(), 0u);
    ASSERT_EQ(c->send(fake::make_chunk("waiting")), 0);
    expect_nothing_sent(__LINE__);
    EXPECT_TRUE(c->persist_timer_armed());
    EXPECT_FALSE(c->retransmit_timer_armed());

    TimeNs t = 0;
    for (int i = 0; i < 20; ++i) { // more than tcp_retries2
        const TimeNs interval = std::min<TimeNs>((200 * kMs) << i, 120 * kSec);
        t += interval;
        at(t - kMs);
        expect_nothing_sent(__LINE__);
        at(t);
        // Linux's probe: SND.UNA - 1, no data, so the peer must answer.
        EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt - 1, peer_nxt, 0)) << "probe " << i;
        peer(tf::ack, peer_nxt, our_nxt, {}, 0);
        expect_nothing_sent(__LINE__);
        ASSERT_EQ(tcp().connections(), 1u) << "the peer answers: never give up";
    }
    // The window opens: the data goes at once and the probing stops.
    at(t + 5 * kMs);
    peer(tf::ack, peer_nxt, our_nxt, {}, 65535);
    SentSegment s = only_one();
    EXPECT_TRUE(is_segment(s, tf::ack | tf::psh, our_nxt, peer_nxt, 7));
    EXPECT_EQ(s.payload, "waiting");
    EXPECT_FALSE(c->persist_timer_armed());
    EXPECT_TRUE(c->retransmit_timer_armed());
    EXPECT_EQ(server.apps[0].closed, 0);
}

TEST_F(OneLayer, ProbeAnswerWithAnOpenWindowReleasesTheData) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    peer(tf::ack, peer_nxt, our_nxt, {}, 0);
    ASSERT_EQ(c->send(fake::make_chunk(bytes(2000))), 0);
    at(200 * kMs);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt - 1, peer_nxt, 0));
    // The window update was lost; the answer to the probe carries it.
    peer(tf::ack, peer_nxt, our_nxt, {}, 30000);
    auto s = sent();
    ASSERT_EQ(s.size(), 2u);
    EXPECT_TRUE(is_segment(s[0], tf::ack, our_nxt, peer_nxt, 1460));
    EXPECT_TRUE(is_segment(s[1], tf::ack | tf::psh, our_nxt + 1460, peer_nxt, 540));
}

TEST_F(OneLayer, SmallWindowIsFilledByThePersistTimer) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    peer(tf::ack, peer_nxt, our_nxt, {}, 65535);
    peer(tf::ack, peer_nxt, our_nxt, {}, 100); // the peer's buffer filled up
    ASSERT_EQ(c->send(fake::make_chunk(bytes(1000))), 0);
    expect_nothing_sent(__LINE__); // SWS avoidance: 100 is less than half the largest window
    EXPECT_TRUE(c->persist_timer_armed());
    at(200 * kMs);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, peer_nxt, 100));
}

TEST_F(FewRetries, ZeroWindowProbesWithoutAnswerTimeOut) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    peer(tf::ack, peer_nxt, our_nxt, {}, 0);
    ASSERT_EQ(c->send(fake::make_chunk("x")), 0);
    TimeNs t = 0;
    for (int i = 0; i < 3; ++i) {
        t += (200 * kMs) << i;
        at(t);
        EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt - 1, peer_nxt, 0));
    }
    t += 1600 * kMs;
    at(t);
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(server.apps[0].closed, 1);
    EXPECT_EQ(server.apps[0].error, ETIMEDOUT);
    EXPECT_EQ(tcp().connections(), 0u);
}

} // namespace
} // namespace lanetcp::tcp::test
