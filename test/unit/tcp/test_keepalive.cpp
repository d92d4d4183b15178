// Keepalive (RFC 9293 3.8.4) on one layer driven by the test: off by
// default, probes after the idle time, answered probes keep the connection,
// unanswered ones end it with a RST and ETIMEDOUT.
#include <gtest/gtest.h>

#include <cerrno>

#include "harness.hpp"

namespace lanetcp::tcp::test {
namespace {

namespace tf = wire::tcpflag;

TEST_F(OneLayer, KeepaliveIsOffByDefault) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    at(now + 3 * 3600 * kSec);
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(c->state(), State::established);
}

TEST_F(OneLayer, KeepaliveProbesAfterIdleAndAnswerKeepsTheConnection) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    const TimeNs start = now;
    c->set_keepalive(true, 10 * kSec, 1 * kSec, 3);
    at(start + 10 * kSec - kMs);
    expect_nothing_sent(__LINE__);
    at(start + 10 * kSec);
    // The probe: an ACK one byte before SND.UNA, no data.
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt - 1, peer_nxt, 0));
    EXPECT_EQ(counters().tcp_keepalive_probes.get(), 1u);
    // The peer answers: nothing more until the connection is idle again.
    peer(tf::ack, peer_nxt, our_nxt);
    at(start + 15 * kSec);
    expect_nothing_sent(__LINE__);
    at(start + 20 * kSec);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt - 1, peer_nxt, 0));
    EXPECT_EQ(c->state(), State::established);
}

TEST_F(OneLayer, KeepaliveWaitsForTheIdleTimeAfterData) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    const TimeNs start = now;
    c->set_keepalive(true, 10 * kSec, 1 * kSec, 3);
    at(start + 8 * kSec);
    peer(tf::ack, peer_nxt, our_nxt, "ping");
    peer_nxt += 4;
    at(start + 8 * kSec + 40 * kMs); // our delayed ACK
    only_one();
    at(start + 17 * kSec);
    expect_nothing_sent(__LINE__);
    at(start + 18 * kSec);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt - 1, peer_nxt, 0));
}

TEST_F(OneLayer, UnansweredKeepalivesResetAndTimeOut) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    const TimeNs start = now;
    c->set_keepalive(true, 10 * kSec, 1 * kSec, 3);
    for (int i = 0; i < 3; ++i) {
        at(start + 10 * kSec + i * kSec);
        EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt - 1, peer_nxt, 0)) << "probe " << i;
    }
    EXPECT_EQ(server.apps[0].closed, 0);
    at(start + 13 * kSec);
    auto seg = only_one();
    EXPECT_TRUE(seg.flags.rst()) << "the peer is told";
    EXPECT_EQ(server.apps[0].closed, 1);
    EXPECT_EQ(server.apps[0].error, ETIMEDOUT);
    EXPECT_EQ(tcp().connections(), 0u);
    EXPECT_EQ(counters().tcp_connections_timed_out.get(), 1u);
}

TEST_F(OneLayer, KeepaliveStepsAsideWhileDataIsOutstanding) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    const TimeNs start = now;
    c->set_keepalive(true, 10 * kSec, 1 * kSec, 3);
    // Unacknowledged data: the retransmit timer is in charge, not keepalive.
    ASSERT_EQ(c->send(fake::make_chunk("data")), 0);
    only_one();
    at(start + 10 * kSec);
    for (const auto& s : sent()) EXPECT_NE(s.seq, our_nxt - 1) << "no keepalive probe while data is outstanding";
    EXPECT_EQ(counters().tcp_keepalive_probes.get(), 0u);
}

TEST_F(OneLayer, KeepaliveCanBeTurnedOff) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    c->set_keepalive(true, 10 * kSec, 1 * kSec, 3);
    c->set_keepalive(false);
    at(now + 60 * kSec);
    expect_nothing_sent(__LINE__);
}

} // namespace
} // namespace lanetcp::tcp::test
