// Opening a connection, both ways (RFC 9293 3.5 and 3.10.7.2-3), with the
// retransmission of SYN and SYN-ACK (RFC 6298 5.5, Linux's syn_retries and
// synack_retries) and the listener's SYN backlog.
#include <cerrno>

#include "harness.hpp"

namespace lanetcp::tcp::test {
namespace {

InSegment syn_from(const FourTuple& t, SeqNum isn, std::uint16_t mss = kMss) {
    InSegment s = fake::make_segment(t, isn, SeqNum{}, tf::syn, 65535);
    s.options.mss = mss;
    return s;
}

TEST_F(OneLayer, PassiveOpenSynAckThenAckEstablishesAndAccepts) {
    int err = 1;
    listener = tcp().listen(kPort, &Server::on_accept, &server, &err);
    ASSERT_NE(listener, nullptr);
    EXPECT_EQ(err, 0);

    input(syn_from(tuple, peer_isn));
    SentSegment synack = only_one();
    // Half-open: a request entry in the syncache, no control block yet.
    EXPECT_EQ(tcp().find(tuple), nullptr);
    const SynRequest* r = tcp().find_request(tuple);
    ASSERT_NE(r, nullptr);
    const SeqNum iss = r->iss;
    EXPECT_TRUE(is_segment(synack, tf::syn | tf::ack, iss, peer_isn + 1, 0, 65535));
    ASSERT_TRUE(synack.options.mss.has_value());
    EXPECT_EQ(*synack.options.mss, kMss);
    EXPECT_EQ(synack.tuple, tuple);
    EXPECT_EQ(listener->syn_received, 1u);
    EXPECT_TRUE(server.apps.empty()) << "on_accept only once established";
    EXPECT_EQ(tcp().connections(), 0u);
    EXPECT_EQ(tcp().half_open(), 1u);
    EXPECT_TRUE(r->timer.armed());

    now = 20 * kMs;
    peer(tf::ack, peer_isn + 1, iss + 1);
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(tcp().half_open(), 0u);
    Connection* c = tcp().find(tuple);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->iss(), iss);
    EXPECT_EQ(c->rtt().srtt(), 20 * kMs) << "the handshake's round trip, timed from the syncache's SYN-ACK";
    EXPECT_EQ(c->state(), State::established);
    ASSERT_EQ(server.apps.size(), 1u);
    EXPECT_EQ(server.apps[0].conn, c);
    EXPECT_EQ(server.apps[0].established, 0) << "on_established is for active opens";
    EXPECT_EQ(listener->syn_received, 0u);
    EXPECT_FALSE(c->retransmit_timer_armed()) << "nothing left to acknowledge";
    EXPECT_EQ(c->snd_una(), c->iss() + 1);
    EXPECT_EQ(c->rcv_nxt(), peer_isn + 1);
    EXPECT_EQ(c->mss(), kMss);
    EXPECT_EQ(c->cwnd(), 10u * kMss) << "RFC 6928 initial window, the SYN's ACK not counted";
    EXPECT_EQ(counters().tcp_passive_opens.get(), 1u);
    EXPECT_EQ(counters().tcp_established.get(), 1u);
}

TEST_F(OneLayer, IsnsDifferPerConnectionAndGrowWithTime) {
    int err = 1;
    listener = tcp().listen(kPort, &Server::on_accept, &server, &err);
    input(syn_from(tuple, peer_isn));
    const SeqNum isn1 = only_one().seq;
    FourTuple other = tuple;
    other.remote_port = kPeerPort + 1;
    input(syn_from(other, peer_isn));
    const SeqNum isn2 = only_one().seq;
    EXPECT_NE(isn1, isn2);

    // The same 4-tuple later (RFC 6528: M, the 4 us clock, moved on).
    ASSERT_NE(tcp().find_request(tuple), nullptr);
    peer(tf::rst, peer_isn + 1, SeqNum{}); // back to LISTEN
    EXPECT_EQ(tcp().find_request(tuple), nullptr);
    now = 4 * kSec;
    input(syn_from(tuple, peer_isn + 100000));
    const SeqNum isn3 = only_one().seq;
    EXPECT_EQ(static_cast<std::uint32_t>(wire::seq_diff(isn3, isn1)), 1'000'000u) << "4 s at one per 4 us";
}

TEST_F(OneLayer, SynAckRetransmittedWithBackoffThenGivenUp) {
    int err = 1;
    listener = tcp().listen(kPort, &Server::on_accept, &server, &err);
    input(syn_from(tuple, peer_isn));
    const SentSegment first = only_one();
    const TcpConfig& cfg = tcp().config();
    ASSERT_EQ(cfg.synack_retries, 5u);

    TimeNs deadline = 0;
    TimeNs rto = kSec; // RFC 6298 2.1 initial RTO
    for (std::uint32_t i = 0; i < cfg.synack_retries; ++i) {
        deadline += rto;
        at(deadline - kMs);
        expect_nothing_sent(__LINE__);
        at(deadline);
        EXPECT_TRUE(is_segment(only_one(), tf::syn | tf::ack, first.seq, peer_isn + 1, 0, 65535)) << "retry " << i;
        rto *= 2;
    }
    EXPECT_EQ(counters().tcp_retransmitted_segments.get(), 5u);
    deadline += rto; // 63 s, as Linux with tcp_synack_retries = 5
    EXPECT_EQ(deadline, 63 * kSec);
    at(deadline - kMs);
    EXPECT_EQ(tcp().half_open(), 1u);
    at(deadline);
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(tcp().half_open(), 0u);
    EXPECT_EQ(tcp().connections(), 0u);
    EXPECT_EQ(listener->syn_received, 0u);
    EXPECT_EQ(counters().tcp_connections_timed_out.get(), 1u);
    EXPECT_TRUE(server.apps.empty());
    EXPECT_EQ(tcp().free_connections(), tcp().config().max_connections);
}

TEST_F(OneLayer, RetransmittedSynInSynReceivedGetsTheSynAckAgain) {
    int err = 1;
    listener = tcp().listen(kPort, &Server::on_accept, &server, &err);
    input(syn_from(tuple, peer_isn));
    const SentSegment first = only_one();
    now = 500 * kMs;
    input(syn_from(tuple, peer_isn)); // our SYN-ACK was lost
    EXPECT_TRUE(is_segment(only_one(), tf::syn | tf::ack, first.seq, peer_isn + 1, 0, 65535));
    EXPECT_EQ(tcp().half_open(), 1u);
    EXPECT_EQ(listener->syn_received, 1u);
    peer(tf::ack, peer_isn + 1, first.seq + 1);
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(server.apps.size(), 1u);
}

TEST_F(OneLayer, AckWithWrongNumberInSynReceivedGetsRst) {
    int err = 1;
    listener = tcp().listen(kPort, &Server::on_accept, &server, &err);
    input(syn_from(tuple, peer_isn));
    const SentSegment synack = only_one();
    peer(tf::ack, peer_isn + 1, synack.seq + 7);
    EXPECT_TRUE(is_segment(only_one(), tf::rst, synack.seq + 7, SeqNum{}, 0));
    EXPECT_NE(tcp().find_request(tuple), nullptr) << "the half-open connection stays";
    peer(tf::ack, peer_isn + 1, synack.seq + 1);
    EXPECT_EQ(server.apps.size(), 1u);
}

TEST_F(OneLayer, RstInSynReceivedFreesTheHalfOpenConnection) {
    int err = 1;
    listener = tcp().listen(kPort, &Server::on_accept, &server, &err);
    input(syn_from(tuple, peer_isn));
    sent();
    peer(tf::rst, peer_isn + 1, SeqNum{});
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(tcp().half_open(), 0u);
    EXPECT_EQ(listener->syn_received, 0u);
}

TEST_F(OneLayer, SynWithDataOnlyAcknowledgesTheSyn) {
    int err = 1;
    listener = tcp().listen(kPort, &Server::on_accept, &server, &err);
    InSegment syn = syn_from(tuple, peer_isn);
    syn.payload = fake::make_chunk("early");
    input(syn);
    EXPECT_TRUE(is_segment(only_one(), tf::syn | tf::ack, tcp().find_request(tuple)->iss, peer_isn + 1, 0));
}

TEST_F(OneLayer, ListenerRefusesWhenOnAcceptSetsNoHandler) {
    server.refuse = true;
    int err = 1;
    listener = tcp().listen(kPort, &Server::on_accept, &server, &err);
    input(syn_from(tuple, peer_isn));
    const SentSegment synack = only_one();
    peer(tf::ack, peer_isn + 1, synack.seq + 1);
    EXPECT_TRUE(is_segment(only_one(), tf::rst | tf::ack, synack.seq + 1, peer_isn + 1, 0));
    EXPECT_EQ(tcp().connections(), 0u);
}

TEST_F(OneLayer, ListenTwiceOnOnePortFails) {
    int err = 1;
    listener = tcp().listen(kPort, &Server::on_accept, &server, &err);
    EXPECT_EQ(err, 0);
    EXPECT_EQ(tcp().listen(kPort, &Server::on_accept, &server, &err), nullptr);
    EXPECT_EQ(err, -EADDRINUSE);
}

TEST_F(OneLayer, UnlistenResetsHalfOpenConnections) {
    int err = 1;
    listener = tcp().listen(kPort, &Server::on_accept, &server, &err);
    input(syn_from(tuple, peer_isn));
    const SentSegment synack = only_one();
    tcp().unlisten(listener);
    listener = nullptr;
    EXPECT_TRUE(is_segment(only_one(), tf::rst | tf::ack, synack.seq + 1, peer_isn + 1, 0));
    EXPECT_EQ(tcp().half_open(), 0u);
    input(syn_from(tuple, peer_isn));
    EXPECT_TRUE(is_segment(only_one(), tf::rst | tf::ack, SeqNum{0}, peer_isn + 1, 0)) << "port closed now";
}

class SmallBacklog : public OneLayer {
protected:
    static TcpConfig cfg() {
        TcpConfig c = test_config();
        c.syn_backlog = 2;
        c.syncookies = false;
        return c;
    }
    SmallBacklog() : OneLayer(cfg()) {}
};

TEST_F(SmallBacklog, WithoutCookiesSynBeyondTheBacklogIsDroppedAndCounted) {
    int err = 1;
    listener = tcp().listen(kPort, &Server::on_accept, &server, &err);
    FourTuple t[3] = {tuple, tuple, tuple};
    for (int i = 0; i < 3; ++i) t[i].remote_port = static_cast<std::uint16_t>(kPeerPort + i);
    input(syn_from(t[0], peer_isn));
    const SentSegment synack0 = only_one();
    input(syn_from(t[1], peer_isn));
    only_one();
    input(syn_from(t[2], peer_isn));
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(counters().dropped(Drop::tcp_syn_backlog_full), 1u);
    EXPECT_EQ(listener->syn_received, 2u);
    EXPECT_EQ(tcp().half_open(), 2u);

    // One completes: room for another.
    input(fake::make_segment(t[0], peer_isn + 1, synack0.seq + 1, tf::ack, 65535));
    EXPECT_EQ(listener->syn_received, 1u);
    input(syn_from(t[2], peer_isn));
    EXPECT_EQ(only_one().flags, tf::syn | tf::ack);
    EXPECT_EQ(listener->syn_received, 2u);
    EXPECT_EQ(tcp().half_open(), 2u);
    EXPECT_EQ(tcp().connections(), 1u);
}

// ---- active open ----

TEST_F(OneLayer, ActiveOpenSendsSynAndCompletesOnSynAck) {
    int err = 1;
    Connection* c = tcp().connect(kIpB, kPeerPort, &kAppHandler, &client, now, &err);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(err, 0);
    client.conn = c;
    tuple = c->tuple();
    EXPECT_GE(tuple.local_port, tcp().config().ephemeral_first);
    EXPECT_LE(tuple.local_port, tcp().config().ephemeral_last);
    EXPECT_EQ(tuple.remote_port, kPeerPort);
    EXPECT_EQ(c->state(), State::syn_sent);

    const SentSegment syn = only_one();
    EXPECT_TRUE(is_segment(syn, tf::syn, c->iss(), SeqNum{}, 0, 65535));
    ASSERT_TRUE(syn.options.mss.has_value());
    EXPECT_EQ(*syn.options.mss, kMss);
    EXPECT_EQ(syn.ack, SeqNum{0});

    now = 30 * kMs;
    InSegment synack = fake::make_segment(tuple, peer_isn, c->iss() + 1, tf::syn | tf::ack, 32000);
    synack.options.mss = 1000;
    input(synack);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, c->iss() + 1, peer_isn + 1, 0, 65535));
    EXPECT_EQ(c->state(), State::established);
    EXPECT_EQ(client.established, 1);
    EXPECT_EQ(c->mss(), 1000u);
    EXPECT_EQ(c->send_window(), 32000u);
    EXPECT_EQ(c->cwnd(), 10u * 1000u);
    EXPECT_FALSE(c->retransmit_timer_armed());
    EXPECT_TRUE(c->rtt().has_sample());
    EXPECT_EQ(c->rtt().srtt(), 30 * kMs);
    EXPECT_EQ(counters().tcp_active_opens.get(), 1u);
}

TEST_F(OneLayer, DataQueuedInSynSentLeavesWithTheHandshake) {
    int err = 1;
    Connection* c = tcp().connect(kIpB, kPeerPort, &kAppHandler, &client, now, &err);
    client.conn = c;
    tuple = c->tuple();
    only_one();
    EXPECT_EQ(c->send(fake::make_chunk("hello")), 0);
    expect_nothing_sent(__LINE__);
    input(fake::make_segment(tuple, peer_isn, c->iss() + 1, tf::syn | tf::ack, 65535));
    auto s = sent();
    ASSERT_EQ(s.size(), 1u) << "the data carries the handshake's ACK";
    EXPECT_TRUE(is_segment(s[0], tf::ack | tf::psh, c->iss() + 1, peer_isn + 1, 5));
    EXPECT_EQ(s[0].payload, "hello");
}

TEST_F(OneLayer, SynRetransmittedWithBackoffThenEtimedout) {
    int err = 1;
    Connection* c = tcp().connect(kIpB, kPeerPort, &kAppHandler, &client, now, &err);
    client.conn = c;
    const SentSegment syn = only_one();
    const std::uint32_t retries = tcp().config().syn_retries;
    ASSERT_EQ(retries, 6u);
    TimeNs deadline = 0;
    TimeNs rto = kSec;
    for (std::uint32_t i = 0; i < retries; ++i) {
        deadline += rto;
        EXPECT_EQ(c->retransmit_deadline(), deadline);
        at(deadline - kMs);
        expect_nothing_sent(__LINE__);
        at(deadline);
        EXPECT_TRUE(is_segment(only_one(), tf::syn, syn.seq, SeqNum{}, 0)) << "retry " << i;
        rto *= 2;
    }
    deadline += rto;
    EXPECT_EQ(deadline, 127 * kSec); // Linux with tcp_syn_retries = 6
    at(deadline - kMs);
    EXPECT_EQ(client.closed, 0);
    at(deadline);
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(client.closed, 1);
    EXPECT_EQ(client.error, ETIMEDOUT);
    EXPECT_EQ(tcp().connections(), 0u);
    EXPECT_EQ(counters().tcp_connections_timed_out.get(), 1u);
}

TEST_F(OneLayer, SynAckAfterRetransmittedSynGivesNoRttSample) {
    int err = 1;
    Connection* c = tcp().connect(kIpB, kPeerPort, &kAppHandler, &client, now, &err);
    client.conn = c;
    tuple = c->tuple();
    only_one();
    at(kSec);
    only_one();
    now = kSec + 10 * kMs;
    input(fake::make_segment(tuple, peer_isn, c->iss() + 1, tf::syn | tf::ack, 65535));
    EXPECT_EQ(c->state(), State::established);
    EXPECT_FALSE(c->rtt().has_sample()) << "Karn: the SYN was sent twice";
    EXPECT_EQ(c->rto(), 3 * kSec) << "RFC 6298 5.7: data starts with 3 s after a SYN timed out";
}

TEST_F(OneLayer, RstAckToSynIsConnectionRefused) {
    int err = 1;
    Connection* c = tcp().connect(kIpB, kPeerPort, &kAppHandler, &client, now, &err);
    client.conn = c;
    tuple = c->tuple();
    const SentSegment syn = only_one();
    // RST without ACK: not acceptable in SYN_SENT (RFC 9293 3.10.7.3).
    peer(tf::rst, SeqNum{0}, SeqNum{});
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(client.closed, 0);
    // RST+ACK with a wrong ACK: ignored too.
    peer(tf::rst | tf::ack, SeqNum{0}, syn.seq + 2);
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(client.closed, 0);
    peer(tf::rst | tf::ack, SeqNum{0}, syn.seq + 1);
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(client.closed, 1);
    EXPECT_EQ(client.error, ECONNREFUSED);
    EXPECT_EQ(tcp().connections(), 0u);
    EXPECT_EQ(counters().tcp_connections_refused.get(), 1u);
}

TEST_F(OneLayer, SynAckWithBadAckGetsRstAndConnectionWaits) {
    int err = 1;
    Connection* c = tcp().connect(kIpB, kPeerPort, &kAppHandler, &client, now, &err);
    client.conn = c;
    tuple = c->tuple();
    const SentSegment syn = only_one();
    peer(tf::syn | tf::ack, peer_isn, syn.seq + 5);
    EXPECT_TRUE(is_segment(only_one(), tf::rst, syn.seq + 5, SeqNum{}, 0));
    peer(tf::syn | tf::ack, peer_isn, syn.seq); // SEG.ACK =< ISS
    EXPECT_TRUE(is_segment(only_one(), tf::rst, syn.seq, SeqNum{}, 0));
    EXPECT_EQ(c->state(), State::syn_sent);
    EXPECT_EQ(client.closed, 0);
    EXPECT_EQ(counters().dropped(Drop::tcp_bad_ack), 2u);
    // The real one still completes the handshake.
    peer(tf::syn | tf::ack, peer_isn, syn.seq + 1);
    EXPECT_EQ(c->state(), State::established);
    EXPECT_EQ(client.established, 1);
}

TEST_F(OneLayer, SimultaneousOpen) {
    int err = 1;
    Connection* c = tcp().connect(kIpB, kPeerPort, &kAppHandler, &client, now, &err, 5000);
    client.conn = c;
    tuple = c->tuple();
    EXPECT_EQ(tuple.local_port, 5000);
    const SentSegment syn = only_one();
    InSegment their_syn = fake::make_segment(tuple, peer_isn, SeqNum{}, tf::syn, 65535);
    their_syn.options.mss = kMss;
    input(their_syn);
    EXPECT_TRUE(is_segment(only_one(), tf::syn | tf::ack, syn.seq, peer_isn + 1, 0));
    EXPECT_EQ(c->state(), State::syn_received);
    peer(tf::syn | tf::ack, peer_isn, syn.seq + 1); // their SYN-ACK: the SYN is old, the ACK is new
    sent();
    peer(tf::ack, peer_isn + 1, syn.seq + 1);
    EXPECT_EQ(c->state(), State::established);
    EXPECT_EQ(client.established, 1);
}

TEST_F(OneLayer, ConnectOnATakenTupleFails) {
    int err = 1;
    Connection* c = tcp().connect(kIpB, kPeerPort, &kAppHandler, &client, now, &err, 5000);
    ASSERT_NE(c, nullptr);
    client.conn = c;
    App other;
    EXPECT_EQ(tcp().connect(kIpB, kPeerPort, &kAppHandler, &other, now, &err, 5000), nullptr);
    EXPECT_EQ(err, -EADDRINUSE);
    // Ephemeral ports: each connect gets a different one.
    Connection* d = tcp().connect(kIpB, kPeerPort, &kAppHandler, &other, now, &err);
    ASSERT_NE(d, nullptr);
    other.conn = d;
    EXPECT_NE(d->tuple().local_port, c->tuple().local_port);
    c->close();
    d->close();
    EXPECT_EQ(tcp().connections(), 0u);
}

} // namespace
} // namespace lanetcp::tcp::test
