// Application timers on the TCP layer's own wheel: TcpLayer::advance runs a
// CallbackTimer's handler instead of taking its owner for a connection, and
// the handler may act on a connection (here: close it) as any code outside a
// TCP callback may.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace lanetcp::tcp::test {
namespace {

namespace tf = wire::tcpflag;

// An application's per-connection deadline: closes the connection.
struct Deadline {
    Connection* conn = nullptr;
    CallbackTimer timer{&Deadline::expired, this};
    int fired = 0;
    TimeNs fired_at = 0;
    static void expired(CallbackTimer& t, TimeNs now) {
        auto& d = *t.owner_as<Deadline>();
        ++d.fired;
        d.fired_at = now;
        d.conn->close();
    }
};

TEST_F(OneLayer, AppTimerFiresOnTheLayersWheelAndMayCloseAConnection) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    Deadline d;
    d.conn = c;
    const TimeNs start = now;
    tcp().timers().arm(d.timer, start + 2 * kSec);
    at(start + 2 * kSec - kMs);
    EXPECT_EQ(d.fired, 0);
    expect_nothing_sent(__LINE__);
    at(start + 2 * kSec);
    EXPECT_EQ(d.fired, 1);
    EXPECT_EQ(d.fired_at, start + 2 * kSec);
    // The close took effect at once: our FIN is on the wire.
    EXPECT_TRUE(is_segment(only_one(), tf::fin | tf::ack, our_nxt, peer_nxt, 0));
    EXPECT_EQ(c->state(), State::fin_wait_1);
    at(start + 10 * kSec);
    EXPECT_EQ(d.fired, 1) << "one shot";
}

TEST_F(OneLayer, AppTimersAndConnectionTimersShareTheWheel) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    Deadline d;
    d.conn = c;
    const TimeNs start = now;
    // Data from the peer arms the delayed ACK; the app timer is due later.
    tcp().timers().arm(d.timer, start + 1 * kSec);
    peer(tf::ack, peer_nxt, our_nxt, "x");
    peer_nxt += 1;
    at(start + 200 * kMs);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, peer_nxt, 0)) << "the connection's timer still fires";
    EXPECT_EQ(d.fired, 0);
    // Cancelled before it is due: never fires.
    tcp().timers().cancel(d.timer);
    at(start + 5 * kSec);
    EXPECT_EQ(d.fired, 0);
    EXPECT_EQ(c->state(), State::established);
}

} // namespace
} // namespace lanetcp::tcp::test
