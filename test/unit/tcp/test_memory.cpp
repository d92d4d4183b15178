// Memory a peer can make a connection hold, charged by what it pins
// (Chunk::truesize) and not by payload bytes: tiny segments copied into
// compact buffers (tcp_collapse), the out-of-order queue pruned from its far
// end (tcp_prune_ofo_queue), windows clamped under lcore memory pressure and
// data refused past the lcore's limit (tcp_mem), the send queue bounded by
// memory too, and a hole filling while the held-segment pool is empty.
#include <cerrno>

#include "harness.hpp"

namespace lanetcp::tcp::test {
namespace {

// What a received frame pins in the DPDK stack: a whole mbuf (2 KB of data
// room and the rte_mbuf), whatever it carries.
constexpr std::uint32_t kFrameTruesize = 2048 + 128;

// A segment from the peer whose payload sits in a whole mbuf.
InSegment frame(const FourTuple& t, SeqNum seq, SeqNum ack, std::string_view payload, std::uint16_t window = 65535) {
    InSegment s = fake::make_segment(t, seq, ack, tf::ack, window, payload);
    s.payload.truesize = kFrameTruesize;
    return s;
}

class Memory : public OneLayer {
protected:
    static TcpConfig cfg() {
        TcpConfig c = test_config();
        c.receive_buffer = 16 * 1024;
        c.send_buffer = 16 * 1024;
        return c;
    }
    Memory() : OneLayer(cfg()) {}

    // An accepted connection whose application keeps everything unconsumed.
    Connection* accept_hoarder() {
        server.configure = [](App& a) {
            a.consume = false;
            a.keep_data = false;
        };
        return accept_one();
    }
    void frame_in(SeqNum seq, std::string_view payload) { input(frame(tuple, seq, our_nxt, payload)); }
};

TEST_F(Memory, OneByteSegmentsFillTheBufferByMemoryNotByBytes) {
    Connection* c = accept_hoarder();
    ASSERT_NE(c, nullptr);
    const std::uint32_t limit = 2 * cfg().receive_buffer;
    // Far more one-byte segments than the buffer's memory holds, each sent
    // where the window still reaches: every one that is taken moves RCV.NXT.
    for (int i = 0; i < 20000; ++i) frame_in(c->rcv_nxt(), "x");
    // Copied into compact buffers rather than pinning an mbuf each...
    EXPECT_GT(counters().tcp_collapsed_segments.get(), 0u);
    EXPECT_LE(c->receive_memory(), limit + kFrameTruesize);
    // ... so the buffer filled by memory long before 16 KB of bytes arrived,
    // and what came after was refused and counted. (The window already
    // advertised is never taken back, RFC 9293 3.8.6.2.2.)
    const std::uint32_t got = static_cast<std::uint32_t>(wire::seq_diff(c->rcv_nxt(), peer_nxt));
    EXPECT_LT(got, cfg().receive_buffer / 2);
    EXPECT_GT(got, 32u) << "a tiny-segment sender still gets data through";
    EXPECT_GT(counters().dropped(Drop::tcp_rcv_memory), 19000u);
    // The buffers behind it: a few compact ones, not one per byte.
    EXPECT_LT(fake::live_buffers(), 40);
    // The lcore's total is this connection's.
    EXPECT_EQ(tcp().memory().allocated(), c->receive_memory());

    // Consuming gives it all back, and the window reopens.
    c->consumed(got);
    EXPECT_EQ(c->receive_memory(), 0u);
    EXPECT_EQ(tcp().memory().allocated(), 0u);
    EXPECT_GT(c->receive_window(), 0u);
}

TEST_F(Memory, OutOfOrderTinySegmentsAreBoundedThenPrunedForInOrderData) {
    Connection* c = accept_hoarder();
    ASSERT_NE(c, nullptr);
    const std::uint32_t limit = 2 * cfg().receive_buffer;
    // Spaced out so that none touch: each is its own held segment, as in an
    // out-of-order flood. The memory limit bites before the segment cap.
    for (std::uint32_t i = 0; i < 250; ++i) frame_in(peer_nxt + 2 + 2 * i, "y");
    const std::uint64_t held = counters().tcp_out_of_order_held.get();
    EXPECT_GT(held, 60u);
    EXPECT_LT(held, 250u);
    EXPECT_EQ(counters().dropped(Drop::tcp_rcv_memory), 250u - held);
    EXPECT_LE(c->receive_memory(), limit);
    EXPECT_GT(counters().tcp_collapsed_segments.get(), 0u);
    EXPECT_LT(fake::live_buffers(), 20) << "compact buffers, not one per segment";
    // In-order data comes first: held data goes from the far end to make
    // room for it (tcp_prune_ofo_queue), and what is left of the queue
    // still follows on.
    frame_in(peer_nxt, "a");
    EXPECT_EQ(c->rcv_nxt(), peer_nxt + 1);
    EXPECT_GT(counters().dropped(Drop::tcp_ofo_pruned), 0u);
    EXPECT_LE(c->receive_memory(), limit);
    frame_in(peer_nxt + 1, "b");
    EXPECT_EQ(c->rcv_nxt(), peer_nxt + 3) << "the held byte at +2 was kept and follows on";
    EXPECT_EQ(tcp().memory().allocated(), c->receive_memory());
}

TEST_F(Memory, SendQueueIsBoundedByMemoryWhenThePeerNeverOpensItsWindow) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    c->set_nodelay(true);
    peer(tf::ack, peer_nxt, our_nxt, {}, 0); // window closed
    sent();
    int queued = 0;
    for (int i = 0; i < 1000; ++i) {
        Chunk one = fake::make_chunk("q");
        one.truesize = kFrameTruesize; // an echo server's received mbuf, sent back
        const int rc = c->send(one);
        if (rc != 0) {
            EXPECT_EQ(rc, -EAGAIN);
            one.release();
            break;
        }
        ++queued;
    }
    // 16 bytes of payload, not 16 KB: the memory is what is full.
    EXPECT_LT(queued, 20);
    EXPECT_LE(c->send_memory(), 2 * cfg().send_buffer);
    EXPECT_EQ(c->send_space(), 2 * cfg().send_buffer - c->send_memory());
}

class LcoreMemory : public OneLayer {
protected:
    static constexpr std::uint64_t kPressure = 24 * 1024;
    static constexpr std::uint64_t kLimit = 32 * 1024;
    static TcpConfig cfg() {
        TcpConfig c = test_config();
        c.receive_buffer = 64 * 1024;
        c.memory_pressure = kPressure;
        c.memory_limit = kLimit;
        return c;
    }
    LcoreMemory() : OneLayer(cfg()) {}
};

TEST_F(LcoreMemory, PressureClampsWindowsAndTheLimitStopsHoarders) {
    server.configure = [](App& a) {
        a.consume = false;
        a.keep_data = false;
    };
    Connection* hoarder = accept_one();
    ASSERT_NE(hoarder, nullptr);
    const std::string big(1400, 'h');
    // Full-sized frames, unconsumed, until the lcore's limit stops them.
    for (int i = 0; i < 40; ++i) input(frame(tuple, hoarder->rcv_nxt(), our_nxt, big));
    EXPECT_TRUE(tcp().memory().under_pressure());
    EXPECT_LE(tcp().memory().allocated(), kLimit + kFrameTruesize);
    EXPECT_GT(counters().dropped(Drop::tcp_rcv_memory), 0u);
    sent();

    // Another connection: its window is clamped to a few segments, and it
    // still takes data (it holds nothing, so the limit lets one in).
    tuple.remote_port = kPeerPort + 1;
    const std::size_t apps = server.apps.size();
    peer(tf::syn, peer_isn, SeqNum{0});
    const SentSegment synack = only_one();
    peer(tf::ack, peer_isn + 1, synack.seq + 1);
    ASSERT_EQ(server.apps.size(), apps + 1);
    Connection* other = server.apps.back().conn;
    ASSERT_NE(other, nullptr);
    sent();
    input(frame(tuple, peer_isn + 1, synack.seq + 1, big));
    EXPECT_EQ(other->rcv_nxt(), peer_isn + 1 + 1400);
    EXPECT_LE(other->receive_window(), 4u * 1460);
}

class TinyHeldPool : public OneLayer {
protected:
    static TcpConfig cfg() {
        TcpConfig c = test_config();
        c.reassembly_segments = 2;
        return c;
    }
    TinyHeldPool() : OneLayer(cfg()) {}
};

// The crash of issue 10: a hole filling took a node for the released data
// before the reassembly queue gave one back, and found the pool empty.
TEST_F(TinyHeldPool, HoleFillsWithEveryHeldNodeInUse) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    peer(tf::ack, peer_nxt + 2, our_nxt, "c");
    peer(tf::ack, peer_nxt + 4, our_nxt, "e");
    EXPECT_EQ(tcp().held_segments().available(), 0u);
    peer(tf::ack, peer_nxt + 6, our_nxt, "g"); // no node: a counted drop
    EXPECT_EQ(counters().dropped(Drop::tcp_out_of_order), 1u);
    peer(tf::ack, peer_nxt + 3, our_nxt, "d");
    EXPECT_EQ(counters().dropped(Drop::tcp_out_of_order), 2u) << "still no node, 'd' waits for a resend";
    peer(tf::ack, peer_nxt, our_nxt, "ab");
    EXPECT_EQ(server.apps[0].data, "abc");
    peer(tf::ack, peer_nxt + 3, our_nxt, "defg");
    EXPECT_EQ(server.apps[0].data, "abcdefg");
    EXPECT_EQ(c->rcv_nxt(), peer_nxt + 7);
    EXPECT_EQ(tcp().held_segments().available(), 2u);
}

TEST_F(Memory, EverythingIsUnchargedWhenConnectionsEnd) {
    Connection* c = accept_hoarder();
    ASSERT_NE(c, nullptr);
    for (int i = 0; i < 50; ++i) frame_in(c->rcv_nxt(), "m");
    frame_in(c->rcv_nxt() + 5, "n"); // and one held out of order
    EXPECT_GT(tcp().memory().allocated(), 0u);
    c->abort();
    EXPECT_EQ(tcp().memory().allocated(), 0u);
}

} // namespace
} // namespace lanetcp::tcp::test
