// Closing (RFC 9293 3.6): from either side, simultaneous, half-close, lost
// FINs, TIME_WAIT; and resets (RFC 9293 3.10.7.1, RFC 5961): to closed
// ports, their acceptance, challenge ACKs, data after close, abort().
#include <cerrno>

#include "harness.hpp"

namespace lanetcp::tcp::test {
namespace {

constexpr TimeNs kTimeWait = 60 * kSec;

TEST_F(OneLayer, ActiveCloseFinWait1FinWait2TimeWaitThenFreed) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    App& app = server.apps[0];
    c->close();
    EXPECT_TRUE(is_segment(only_one(), tf::fin | tf::ack, our_nxt, peer_nxt, 0, 65535));
    EXPECT_EQ(c->state(), State::fin_wait_1);
    EXPECT_TRUE(c->retransmit_timer_armed());
    at(10 * kMs);
    peer(tf::ack, peer_nxt, our_nxt + 1);
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(c->state(), State::fin_wait_2);
    EXPECT_FALSE(c->retransmit_timer_armed());
    at(20 * kMs);
    peer(tf::fin | tf::ack, peer_nxt, our_nxt + 1);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt + 1, peer_nxt + 1, 0));
    EXPECT_EQ(c->state(), State::time_wait);
    EXPECT_EQ(tcp().connections(), 1u);
    at(20 * kMs + kTimeWait - kMs);
    EXPECT_EQ(tcp().connections(), 1u);
    at(20 * kMs + kTimeWait);
    EXPECT_EQ(tcp().connections(), 0u);
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(app.closed, 0) << "close() means no more callbacks";
    EXPECT_EQ(app.peer_fin, 0);
}

TEST_F(OneLayer, FinAndItsAckInOneSegmentGoStraightToTimeWait) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    c->close();
    only_one();
    peer(tf::fin | tf::ack, peer_nxt, our_nxt + 1);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt + 1, peer_nxt + 1, 0));
    EXPECT_EQ(c->state(), State::time_wait);
}

TEST_F(OneLayer, FinFollowsQueuedData) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    ASSERT_EQ(c->send(fake::make_chunk(std::string(3000, 'q'))), 0);
    c->close();
    auto s = sent();
    ASSERT_EQ(s.size(), 4u);
    EXPECT_TRUE(is_segment(s[2], tf::ack | tf::psh, our_nxt + 2920, peer_nxt, 80));
    EXPECT_TRUE(is_segment(s[3], tf::fin | tf::ack, our_nxt + 3000, peer_nxt, 0));
    peer(tf::ack, peer_nxt, our_nxt + 3000);
    EXPECT_EQ(c->state(), State::fin_wait_1);
    peer(tf::ack, peer_nxt, our_nxt + 3001);
    EXPECT_EQ(c->state(), State::fin_wait_2);
}

TEST_F(OneLayer, LostFinIsRetransmittedWithBackoff) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    c->close();
    const SentSegment fin = only_one();
    at(200 * kMs);
    EXPECT_TRUE(is_segment(only_one(), tf::fin | tf::ack, fin.seq, peer_nxt, 0));
    at(599 * kMs);
    expect_nothing_sent(__LINE__);
    at(600 * kMs);
    EXPECT_TRUE(is_segment(only_one(), tf::fin | tf::ack, fin.seq, peer_nxt, 0));
    peer(tf::ack, peer_nxt, fin.seq + 1);
    EXPECT_EQ(c->state(), State::fin_wait_2);
    EXPECT_FALSE(c->retransmit_timer_armed());
}

TEST_F(OneLayer, LostDataAndFinAreBothRetransmitted) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    ASSERT_EQ(c->send(fake::make_chunk("tail")), 0);
    c->close();
    EXPECT_EQ(sent().size(), 2u);
    at(200 * kMs);
    auto s = sent();
    ASSERT_EQ(s.size(), 2u) << "go-back-N: the data, and the FIN that needs no window";
    EXPECT_TRUE(is_segment(s[0], tf::ack | tf::psh, our_nxt, peer_nxt, 4));
    EXPECT_TRUE(is_segment(s[1], tf::fin | tf::ack, our_nxt + 4, peer_nxt, 0));
    peer(tf::ack, peer_nxt, our_nxt + 4);
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(c->state(), State::fin_wait_1);
    peer(tf::ack, peer_nxt, our_nxt + 5);
    EXPECT_EQ(c->state(), State::fin_wait_2);
}

TEST_F(OneLayer, RetransmittedFinInTimeWaitIsAckedAndRestartsTheWait) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    c->close();
    only_one();
    peer(tf::fin | tf::ack, peer_nxt, our_nxt + 1);
    only_one();
    ASSERT_EQ(c->state(), State::time_wait);
    at(10 * kSec);
    peer(tf::fin | tf::ack, peer_nxt, our_nxt + 1); // our ACK was lost
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt + 1, peer_nxt + 1, 0));
    at(kTimeWait + kMs);
    EXPECT_EQ(tcp().connections(), 1u) << "the wait restarted at 10 s";
    at(10 * kSec + kTimeWait);
    EXPECT_EQ(tcp().connections(), 0u);
}

TEST_F(OneLayer, NewSynEndsTimeWaitAndOpensANewConnection) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    c->close();
    only_one();
    peer(tf::fin | tf::ack, peer_nxt, our_nxt + 1);
    only_one();
    ASSERT_EQ(c->state(), State::time_wait);
    // An old SYN (not past RCV.NXT) only gets the ACK.
    input(fake::make_segment(tuple, peer_isn, SeqNum{}, tf::syn, 65535));
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt + 1, peer_nxt + 1, 0));
    // A new one: the TIME_WAIT goes, a new connection answers.
    at(kSec);
    InSegment syn = fake::make_segment(tuple, peer_nxt + 100000, SeqNum{}, tf::syn, 65535);
    syn.options.mss = kMss;
    input(syn);
    SentSegment synack = only_one();
    EXPECT_TRUE(is_segment(synack, tf::syn | tf::ack, our_nxt + 1 + 65535 + 2, peer_nxt + 100001, 0));
    EXPECT_EQ(tcp().connections(), 0u) << "the TIME_WAIT block is free";
    EXPECT_NE(tcp().find_request(tuple), nullptr) << "the new connection is half-open";
    peer(tf::ack, peer_nxt + 100001, synack.seq + 1);
    EXPECT_EQ(server.apps.size(), 2u);
}

TEST_F(OneLayer, OrphanInFinWait2IsFreedAfterTheTimeout) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    c->close();
    only_one();
    peer(tf::ack, peer_nxt, our_nxt + 1);
    EXPECT_EQ(c->state(), State::fin_wait_2);
    at(kTimeWait - kMs);
    EXPECT_EQ(tcp().connections(), 1u);
    at(kTimeWait);
    EXPECT_EQ(tcp().connections(), 0u);
    expect_nothing_sent(__LINE__);
}

TEST_F(OneLayer, HalfCloseStillReceivesUntilThePeersFin) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    App& app = server.apps[0];
    c->shutdown();
    EXPECT_TRUE(is_segment(only_one(), tf::fin | tf::ack, our_nxt, peer_nxt, 0));
    peer(tf::ack, peer_nxt, our_nxt + 1);
    EXPECT_EQ(c->state(), State::fin_wait_2);
    peer(tf::ack | tf::psh, peer_nxt, our_nxt + 1, "still talking");
    EXPECT_EQ(app.data, "still talking");
    at(40 * kMs);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt + 1, peer_nxt + 13, 0));
    peer_nxt += 13;
    peer(tf::fin | tf::ack, peer_nxt, our_nxt + 1, "bye");
    EXPECT_EQ(app.data, "still talkingbye");
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt + 1, peer_nxt + 4, 0));
    EXPECT_EQ(app.peer_fin, 1);
    EXPECT_EQ(app.closed, 1) << "the FIN exchange is over";
    EXPECT_EQ(app.error, 0);
    EXPECT_EQ(c->state(), State::time_wait);
    at(kTimeWait + 40 * kMs);
    EXPECT_EQ(tcp().connections(), 0u);
}

TEST_F(OneLayer, PassiveCloseCloseWaitLastAckClosed) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    App& app = server.apps[0];
    peer(tf::fin | tf::ack, peer_nxt, our_nxt);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, peer_nxt + 1, 0)) << "a FIN is acknowledged at once";
    EXPECT_EQ(c->state(), State::close_wait);
    EXPECT_EQ(app.peer_fin, 1);
    peer_nxt += 1;
    // Still allowed to send.
    ASSERT_EQ(c->send(fake::make_chunk("last words")), 0);
    EXPECT_TRUE(is_segment(only_one(), tf::ack | tf::psh, our_nxt, peer_nxt, 10));
    c->close();
    EXPECT_TRUE(is_segment(only_one(), tf::fin | tf::ack, our_nxt + 10, peer_nxt, 0));
    EXPECT_EQ(c->state(), State::last_ack);
    peer(tf::ack, peer_nxt, our_nxt + 11);
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(tcp().connections(), 0u);
    EXPECT_EQ(app.closed, 0);
}

TEST_F(OneLayer, PassiveCloseAfterShutdownReportsOnClosed) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    App& app = server.apps[0];
    peer(tf::fin | tf::ack, peer_nxt, our_nxt);
    only_one();
    c->shutdown();
    EXPECT_TRUE(is_segment(only_one(), tf::fin | tf::ack, our_nxt, peer_nxt + 1, 0));
    // The FIN is lost once.
    at(200 * kMs);
    EXPECT_TRUE(is_segment(only_one(), tf::fin | tf::ack, our_nxt, peer_nxt + 1, 0));
    peer(tf::ack, peer_nxt + 1, our_nxt + 1);
    EXPECT_EQ(app.closed, 1);
    EXPECT_EQ(app.error, 0);
    EXPECT_EQ(tcp().connections(), 0u);
}

TEST_F(OneLayer, SimultaneousCloseGoesThroughClosing) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    c->close();
    EXPECT_TRUE(is_segment(only_one(), tf::fin | tf::ack, our_nxt, peer_nxt, 0));
    peer(tf::fin | tf::ack, peer_nxt, our_nxt); // crossed: does not acknowledge our FIN
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt + 1, peer_nxt + 1, 0));
    EXPECT_EQ(c->state(), State::closing);
    peer(tf::ack, peer_nxt + 1, our_nxt + 1);
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(c->state(), State::time_wait);
    at(kTimeWait);
    EXPECT_EQ(tcp().connections(), 0u);
}

TEST_F(OneLayer, AbortSendsRstAndFreesAtOnce) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    ASSERT_EQ(c->send(fake::make_chunk("unsent?")), 0);
    sent();
    c->abort();
    EXPECT_TRUE(is_segment(only_one(), tf::rst | tf::ack, our_nxt + 7, peer_nxt, 0, 0));
    EXPECT_EQ(tcp().connections(), 0u);
    EXPECT_EQ(server.apps[0].closed, 0);
}

// ---- resets ----

TEST_F(OneLayer, SynToAClosedPortGetsRstAck) {
    peer(tf::syn, peer_isn, SeqNum{});
    EXPECT_TRUE(is_segment(only_one(), tf::rst | tf::ack, SeqNum{0}, peer_isn + 1, 0, 0));
    EXPECT_EQ(counters().dropped(Drop::tcp_no_listener), 1u);
    EXPECT_EQ(counters().tcp_resets_sent.get(), 1u);
    EXPECT_EQ(tcp().connections(), 0u);
}

TEST_F(OneLayer, SegmentsToAClosedPortGetRstPerRfc9293) {
    // With ACK: <SEQ=SEG.ACK><CTL=RST>.
    peer(tf::ack | tf::psh, SeqNum{500}, SeqNum{7777}, "data");
    EXPECT_TRUE(is_segment(only_one(), tf::rst, SeqNum{7777}, SeqNum{}, 0));
    // Without ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, FIN counted.
    peer(tf::fin, SeqNum{500}, SeqNum{}, "data");
    SentSegment s = only_one();
    EXPECT_TRUE(is_segment(s, tf::rst | tf::ack, SeqNum{0}, SeqNum{505}, 0));
    // A RST is never answered.
    peer(tf::rst, SeqNum{500}, SeqNum{});
    peer(tf::rst | tf::ack, SeqNum{500}, SeqNum{1});
    expect_nothing_sent(__LINE__);
}

TEST_F(OneLayer, AckToAListeningPortGetsRst) {
    int err = 1;
    listener = tcp().listen(kPort, &Server::on_accept, &server, &err);
    peer(tf::ack, SeqNum{500}, SeqNum{4242});
    EXPECT_TRUE(is_segment(only_one(), tf::rst, SeqNum{4242}, SeqNum{}, 0));
    peer(tf::rst, SeqNum{500}, SeqNum{});
    peer(tf::fin, SeqNum{500}, SeqNum{});
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(tcp().connections(), 0u);
    // SYN+FIN and SYN+RST are nonsense, dropped.
    peer(tf::syn | tf::fin, SeqNum{500}, SeqNum{});
    peer(tf::syn | tf::rst, SeqNum{500}, SeqNum{});
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(counters().dropped(Drop::tcp_bad_flags), 3u);
}

TEST_F(OneLayer, RstWithTheExactSequenceNumberResets) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    ASSERT_EQ(c->send(fake::make_chunk("pending")), 0);
    sent();
    peer(tf::rst, peer_nxt, SeqNum{});
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(server.apps[0].closed, 1);
    EXPECT_EQ(server.apps[0].error, ECONNRESET);
    EXPECT_EQ(tcp().connections(), 0u);
    EXPECT_EQ(counters().tcp_resets_received.get(), 1u);
}

TEST_F(OneLayer, RstInTheWindowButNotExactGetsAChallengeAck) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    peer(tf::rst, peer_nxt + 1000, SeqNum{});
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, peer_nxt, 0));
    EXPECT_EQ(c->state(), State::established);
    EXPECT_EQ(counters().tcp_challenge_acks.get(), 1u);
    // A RST with data starting before RCV.NXT is not exact either (half a
    // second later: one challenge ACK per connection per tcp_invalid_ratelimit).
    now += 500 * kMs;
    peer(tf::rst | tf::ack, peer_nxt - 2, our_nxt, "xyz");
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, peer_nxt, 0));
    EXPECT_EQ(c->state(), State::established);
    EXPECT_EQ(server.apps[0].closed, 0);
}

TEST_F(OneLayer, RstOutsideTheWindowIsIgnored) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    peer(tf::rst, peer_nxt + 70000, SeqNum{});
    peer(tf::rst, peer_nxt - 100000, SeqNum{});
    peer(tf::rst | tf::ack, peer_nxt - 1, our_nxt);
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(c->state(), State::established);
    EXPECT_EQ(counters().tcp_resets_received.get(), 0u);
}

TEST_F(OneLayer, SynInEstablishedGetsAChallengeAck) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    peer(tf::syn, peer_nxt + 5, SeqNum{});
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, peer_nxt, 0));
    EXPECT_EQ(counters().tcp_challenge_acks.get(), 1u);
    // The original SYN again (an old duplicate): only an ACK too (half a
    // second later: one challenge ACK per connection per tcp_invalid_ratelimit).
    now += 500 * kMs;
    InSegment syn = fake::make_segment(tuple, peer_isn, SeqNum{}, tf::syn, 65535);
    input(syn);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, peer_nxt, 0));
    EXPECT_EQ(c->state(), State::established);
    EXPECT_EQ(server.apps[0].closed, 0);
}

TEST_F(OneLayer, DataAfterCloseIsAnsweredWithRst) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    c->close();
    EXPECT_TRUE(is_segment(only_one(), tf::fin | tf::ack, our_nxt, peer_nxt, 0));
    // The peer had not seen our FIN yet: its ACK is our FIN's sequence number,
    // which the RST takes so that the peer accepts it (RFC 5961 3.2).
    peer(tf::ack | tf::psh, peer_nxt, our_nxt, "too late");
    EXPECT_TRUE(is_segment(only_one(), tf::rst, our_nxt, SeqNum{}, 0));
    EXPECT_EQ(tcp().connections(), 0u);
    EXPECT_EQ(counters().dropped(Drop::tcp_data_after_close), 1u);
    EXPECT_EQ(server.apps[0].closed, 0);
}

TEST_F(OneLayer, DataAfterCloseInFinWait2IsAnsweredWithRst) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    c->close();
    only_one();
    peer(tf::ack, peer_nxt, our_nxt + 1);
    ASSERT_EQ(c->state(), State::fin_wait_2);
    peer(tf::ack, peer_nxt, our_nxt + 1, "x");
    EXPECT_TRUE(is_segment(only_one(), tf::rst, our_nxt + 1, SeqNum{}, 0));
    EXPECT_EQ(tcp().connections(), 0u);
}

TEST_F(OneLayer, RstInTimeWaitEndsItQuietly) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    c->close();
    only_one();
    peer(tf::fin | tf::ack, peer_nxt, our_nxt + 1);
    only_one();
    peer(tf::rst, peer_nxt + 1, SeqNum{});
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(tcp().connections(), 0u);
    EXPECT_EQ(server.apps[0].closed, 0);
}

} // namespace
} // namespace lanetcp::tcp::test
