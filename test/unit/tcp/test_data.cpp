// Moving data on one established connection: segmentation at the MSS, the
// initial window and slow start (RFC 5681, RFC 6928), Nagle (RFC 896), the
// receive window (RFC 9293 3.8.6) and ACK generation (RFC 5681 4.2).
#include <cerrno>

#include "harness.hpp"

namespace lanetcp::tcp::test {
namespace {

std::string bytes(std::size_t n, char first = 'a') {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(first + i % 26);
    return s;
}

TEST_F(OneLayer, SendSplitsAtTheMssAndPushesTheLast) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    const std::string data = bytes(5000);
    ASSERT_EQ(c->send(fake::make_chunk(data)), 0);
    auto s = sent();
    ASSERT_EQ(s.size(), 4u);
    EXPECT_TRUE(is_segment(s[0], tf::ack, our_nxt, peer_nxt, 1460, 65535));
    EXPECT_TRUE(is_segment(s[1], tf::ack, our_nxt + 1460, peer_nxt, 1460, 65535));
    EXPECT_TRUE(is_segment(s[2], tf::ack, our_nxt + 2920, peer_nxt, 1460, 65535));
    EXPECT_TRUE(is_segment(s[3], tf::ack | tf::psh, our_nxt + 4380, peer_nxt, 620, 65535));
    EXPECT_EQ(s[0].payload + s[1].payload + s[2].payload + s[3].payload, data);
    EXPECT_EQ(c->bytes_in_flight(), 5000u);
    EXPECT_TRUE(c->retransmit_timer_armed());
    EXPECT_EQ(counters().tcp_tx_bytes.get(), 5000u);

    // Acknowledged data leaves the queue and the application hears of the space.
    peer(tf::ack, peer_nxt, our_nxt + 5000);
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(c->bytes_in_flight(), 0u);
    EXPECT_EQ(c->unsent_bytes(), 0u);
    EXPECT_EQ(c->send_space(), tcp().config().send_buffer);
    EXPECT_EQ(server.apps[0].writable, 1);
}

TEST_F(OneLayer, SegmentsSpanChunksAndUseThePeersSmallerMss) {
    Connection* c = accept_one(536);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->mss(), 536u);
    std::string all;
    for (int i = 0; i < 5; ++i) {
        const std::string piece = bytes(300, static_cast<char>('A' + i));
        all += piece;
        ASSERT_EQ(c->send(fake::make_chunk(piece)), 0);
    }
    // 300 bytes go at once (idle); the rest waits for Nagle until it makes full segments.
    auto s = sent();
    std::string got;
    for (auto& seg : s) got += seg.payload;
    ASSERT_GE(s.size(), 1u);
    EXPECT_EQ(s[0].payload.size(), 300u);
    for (std::size_t i = 1; i < s.size(); ++i) EXPECT_EQ(s[i].payload.size(), 536u);
    peer(tf::ack, peer_nxt, our_nxt + static_cast<std::uint32_t>(got.size()));
    for (auto& seg : sent()) got += seg.payload;
    EXPECT_EQ(got, all);
}

TEST_F(OneLayer, InitialWindowIsTenSegmentsAndSlowStartGrowsIt) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    ASSERT_EQ(c->send(fake::make_chunk(bytes(40 * 1460))), 0);
    auto s = sent();
    ASSERT_EQ(s.size(), 10u) << "RFC 6928: min(10*MSS, max(2*MSS, 14600))";
    for (std::size_t i = 0; i < s.size(); ++i)
        EXPECT_TRUE(is_segment(s[i], tf::ack, our_nxt + static_cast<std::uint32_t>(i * 1460), peer_nxt, 1460));
    EXPECT_EQ(c->cwnd(), 14600u);

    // One ACK for two segments: cwnd grows by 2 MSS (RFC 3465, L = 2), and
    // 4 new segments fit: 2 for the ACKed ones, 2 for the growth.
    peer(tf::ack, peer_nxt, our_nxt + 2920);
    EXPECT_EQ(c->cwnd(), 14600u + 2920u);
    s = sent();
    ASSERT_EQ(s.size(), 4u);
    EXPECT_TRUE(is_segment(s[0], tf::ack, our_nxt + 10 * 1460, peer_nxt, 1460));
    EXPECT_TRUE(is_segment(s[3], tf::ack, our_nxt + 13 * 1460, peer_nxt, 1460));

    // An ACK of one segment: +1 MSS, two more segments.
    peer(tf::ack, peer_nxt, our_nxt + 3 * 1460);
    EXPECT_EQ(c->cwnd(), 14600u + 3 * 1460u);
    EXPECT_EQ(sent().size(), 2u);
    EXPECT_EQ(c->bytes_in_flight(), 13u * 1460u);
}

TEST_F(OneLayer, PeerWindowLimitsWhatIsSent) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    peer(tf::ack, peer_nxt, our_nxt, {}, 4000);
    EXPECT_EQ(c->send_window(), 4000u);
    ASSERT_EQ(c->send(fake::make_chunk(bytes(10000))), 0);
    auto s = sent();
    ASSERT_EQ(s.size(), 2u) << "the 1080 bytes left of the window are less than half the largest window";
    EXPECT_EQ(s[0].payload.size() + s[1].payload.size(), 2920u);
    // The window slides with the ACK.
    peer(tf::ack, peer_nxt, our_nxt + 2920, {}, 4000);
    s = sent();
    ASSERT_EQ(s.size(), 2u);
    EXPECT_TRUE(is_segment(s[0], tf::ack, our_nxt + 2920, peer_nxt, 1460));
}

TEST_F(OneLayer, NagleHoldsASmallSegmentWhileDataIsInFlight) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    ASSERT_EQ(c->send(fake::make_chunk("first")), 0);
    EXPECT_TRUE(is_segment(only_one(), tf::ack | tf::psh, our_nxt, peer_nxt, 5)) << "idle: goes at once";
    ASSERT_EQ(c->send(fake::make_chunk("second")), 0);
    ASSERT_EQ(c->send(fake::make_chunk("third")), 0);
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(c->unsent_bytes(), 11u);
    // The ACK of "first" lets the rest go, coalesced into one segment.
    peer(tf::ack, peer_nxt, our_nxt + 5);
    SentSegment s = only_one();
    EXPECT_TRUE(is_segment(s, tf::ack | tf::psh, our_nxt + 5, peer_nxt, 11));
    EXPECT_EQ(s.payload, "secondthird");
}

TEST_F(OneLayer, NodelaySendsSmallSegmentsAtOnce) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    c->set_nodelay(true);
    ASSERT_EQ(c->send(fake::make_chunk("first")), 0);
    ASSERT_EQ(c->send(fake::make_chunk("second")), 0);
    auto s = sent();
    ASSERT_EQ(s.size(), 2u);
    EXPECT_TRUE(is_segment(s[0], tf::ack | tf::psh, our_nxt, peer_nxt, 5));
    EXPECT_TRUE(is_segment(s[1], tf::ack | tf::psh, our_nxt + 5, peer_nxt, 6));
    EXPECT_EQ(s[1].payload, "second");
}

TEST_F(OneLayer, SendBufferFullIsEagainAndOnWritableFollows) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    const std::uint32_t buf = tcp().config().send_buffer;
    ASSERT_EQ(c->send(fake::make_chunk(bytes(buf - 100))), 0);
    EXPECT_EQ(c->send_space(), 100u);
    Chunk big = fake::make_chunk(bytes(101));
    EXPECT_EQ(c->send(big), -EAGAIN);
    big.release(); // still ours
    sent();
    peer(tf::ack, peer_nxt, our_nxt + 1460);
    EXPECT_EQ(server.apps[0].writable, 1);
    EXPECT_EQ(c->send_space(), 1560u);
}

TEST_F(OneLayer, ReceiveDeliversExactBytesAndDelaysTheAck) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    App& app = server.apps[0];
    peer(tf::ack | tf::psh, peer_nxt, our_nxt, "hello world");
    EXPECT_EQ(app.data, "hello world");
    EXPECT_EQ(c->rcv_nxt(), peer_nxt + 11);
    expect_nothing_sent(__LINE__);
    EXPECT_TRUE(c->delayed_ack_armed());
    at(39 * kMs);
    expect_nothing_sent(__LINE__);
    at(40 * kMs); // TCP_DELACK_MIN
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, peer_nxt + 11, 0, 65535));
    EXPECT_FALSE(c->delayed_ack_armed());
    EXPECT_EQ(counters().tcp_rx_bytes.get(), 11u);
}

TEST_F(OneLayer, EverySecondFullSegmentIsAckedAtOnce) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    const std::string a = bytes(1460, 'a'), b = bytes(1460, 'b'), d = bytes(1460, 'c');
    peer(tf::ack, peer_nxt, our_nxt, a);
    expect_nothing_sent(__LINE__);
    peer(tf::ack, peer_nxt + 1460, our_nxt, b);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, peer_nxt + 2920, 0, 65535));
    EXPECT_FALSE(c->delayed_ack_armed());
    peer(tf::ack, peer_nxt + 2920, our_nxt, d);
    expect_nothing_sent(__LINE__);
    EXPECT_TRUE(c->delayed_ack_armed());
    EXPECT_EQ(server.apps[0].data, a + b + d);
}

TEST_F(OneLayer, DataWeSendCarriesTheOwedAck) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    peer(tf::ack, peer_nxt, our_nxt, "ping");
    expect_nothing_sent(__LINE__);
    ASSERT_EQ(c->send(fake::make_chunk("pong")), 0);
    EXPECT_TRUE(is_segment(only_one(), tf::ack | tf::psh, our_nxt, peer_nxt + 4, 4));
    EXPECT_FALSE(c->delayed_ack_armed());
    at(100 * kMs);
    expect_nothing_sent(__LINE__);
}

TEST_F(OneLayer, ReplyFromInsideOnDataGoesWithTheAck) {
    server.configure = [](App& a) {
        a.on_data_hook = [](App& self) { ASSERT_EQ(self.conn->send(fake::make_chunk("re:" + self.data)), 0); };
    };
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    peer(tf::ack | tf::psh, peer_nxt, our_nxt, "q");
    SentSegment s = only_one();
    EXPECT_TRUE(is_segment(s, tf::ack | tf::psh, our_nxt, peer_nxt + 1, 4));
    EXPECT_EQ(s.payload, "re:q");
}

TEST_F(OneLayer, WindowShrinksUntilConsumedThenAnUpdateReopensIt) {
    server.configure = [](App& a) { a.consume = false; };
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    App& app = server.apps[0];
    // 44 full segments and the rest: exactly the 65535-byte window.
    SeqNum seq = peer_nxt;
    std::uint32_t total = 0;
    int acks = 0;
    std::uint16_t last_window = 65535;
    while (total < 65535) {
        const std::uint32_t len = std::min<std::uint32_t>(1460, 65535 - total);
        peer(tf::ack, seq, our_nxt, bytes(len));
        seq += len;
        total += len;
        for (auto& s : sent()) {
            ++acks;
            EXPECT_TRUE(is_segment(s, tf::ack, our_nxt, seq, 0));
            EXPECT_EQ(s.window, 65535 - total) << "the right edge stays put while nothing is consumed";
            // Every second segment's ACK goes at once while half the buffer
            // is free; past that it is held (it would only shrink the
            // window), until the one that closes the window.
            EXPECT_TRUE(s.window >= 65535 / 2 || s.window < 1460) << "window " << s.window;
            last_window = s.window;
        }
    }
    // 11 while half the buffer was free, and the one that left less than a
    // segment (44 segments in, 1295 bytes free).
    EXPECT_EQ(acks, 12);
    EXPECT_EQ(last_window, 1295);
    at(40 * kMs); // the last, odd segment's delayed ACK
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, seq, 0, 0));
    EXPECT_EQ(app.unconsumed, 65535u);

    // More data does not fit: dropped, and the ACK says so.
    peer(tf::ack, seq, our_nxt, "x");
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, seq, 0, 0));
    EXPECT_EQ(app.received, 65535u);
    // A Linux-style zero-window probe (SND.UNA - 1, no data) gets the ACK too.
    peer(tf::ack, seq - 1, our_nxt);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, seq, 0, 0));

    // A little consumed: not worth an update (receiver SWS avoidance).
    c->consumed(1000);
    expect_nothing_sent(__LINE__);
    // A full MSS more: the window reopens at once.
    c->consumed(460);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, seq, 0, 1460));
    c->consumed(65535 - 1460);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, seq, 0, 65535));
    peer(tf::ack, seq, our_nxt, "more");
    EXPECT_EQ(app.received, 65539u);
}

TEST_F(OneLayer, OutOfOrderDataIsHeldUntilTheHoleFills) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    // Ahead of a hole: held, not delivered, and a duplicate ACK at once
    // (RFC 5681 4.2).
    const std::string first = bytes(1460, 'a');
    const std::string second = bytes(1460, 'n');
    peer(tf::ack, peer_nxt + 1460, our_nxt, second);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, peer_nxt, 0, 65535));
    EXPECT_EQ(counters().tcp_out_of_order_held.get(), 1u);
    EXPECT_EQ(counters().dropped(Drop::tcp_out_of_order), 0u);
    EXPECT_TRUE(server.apps[0].data.empty());
    // A FIN after the held data, also ahead of the hole: held too.
    peer(tf::ack | tf::fin, peer_nxt + 2920, our_nxt);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, peer_nxt, 0));
    EXPECT_EQ(c->state(), State::established);
    EXPECT_EQ(server.apps[0].peer_fin, 0);
    // A duplicate of the held segment changes nothing.
    peer(tf::ack, peer_nxt + 1460, our_nxt, second);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, peer_nxt, 0));
    // The hole fills: everything is delivered in order, the FIN taken, and
    // the ACK goes at once, covering it all.
    peer(tf::ack, peer_nxt, our_nxt, first);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, peer_nxt + 2921, 0));
    EXPECT_EQ(server.apps[0].data, first + second);
    EXPECT_EQ(server.apps[0].peer_fin, 1);
    EXPECT_EQ(c->state(), State::close_wait);
}

TEST_F(OneLayer, RetransmittedDataIsAckedAgainAndNotDeliveredTwice) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    peer(tf::ack, peer_nxt, our_nxt, "abcdef");
    at(40 * kMs);
    only_one();
    peer(tf::ack, peer_nxt, our_nxt, "abcdef"); // our ACK was lost
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, peer_nxt + 6, 0));
    // Overlapping: only the new part is delivered.
    peer(tf::ack, peer_nxt + 3, our_nxt, "defghi");
    EXPECT_EQ(server.apps[0].data, "abcdefghi");
    EXPECT_EQ(c->rcv_nxt(), peer_nxt + 9);
}

TEST_F(OneLayer, SegmentWithoutAckIsDropped) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    peer(tf::psh, peer_nxt, our_nxt, "data");
    expect_nothing_sent(__LINE__);
    EXPECT_TRUE(server.apps[0].data.empty());
    EXPECT_EQ(counters().dropped(Drop::tcp_bad_flags), 1u);
}

TEST_F(OneLayer, AckOfUnsentDataIsAnsweredAndIgnored) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    peer(tf::ack, peer_nxt, our_nxt + 100, "data");
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, peer_nxt, 0));
    EXPECT_TRUE(server.apps[0].data.empty()) << "RFC 9293 3.10.7.4: drop the segment";
    EXPECT_EQ(counters().dropped(Drop::tcp_bad_ack), 1u);
}

class WrappingPeer : public OneLayer {
protected:
    WrappingPeer() { peer_isn = SeqNum{0xffffff00u}; }
};

TEST_F(WrappingPeer, ReceiveAcrossTheSequenceNumberWrap) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    std::string all;
    for (int i = 0; i < 4; ++i) {
        const std::string piece = bytes(1000, static_cast<char>('a' + i));
        peer(tf::ack, peer_nxt, our_nxt, piece);
        peer_nxt += 1000;
        all += piece;
    }
    EXPECT_EQ(server.apps[0].data, all);
    EXPECT_EQ(c->rcv_nxt(), SeqNum{0xffffff01u + 4000});
    // More than one segment's worth unacknowledged is ACKed at once: after
    // the second and the fourth, the last across the wrap.
    const auto acks = sent();
    ASSERT_EQ(acks.size(), 2u);
    EXPECT_TRUE(is_segment(acks.back(), tf::ack, our_nxt, peer_nxt, 0, 65535));
    // An old segment from before the wrap is a duplicate, not new data.
    peer(tf::ack, SeqNum{0xffffff01u}, our_nxt, "zzzz");
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, peer_nxt, 0));
    EXPECT_EQ(server.apps[0].data, all);
}

class TinyChunkPool : public OneLayer {
protected:
    static TcpConfig cfg() {
        TcpConfig c = test_config();
        c.chunk_pool = 2;
        return c;
    }
    TinyChunkPool() : OneLayer(cfg()) {}
};

TEST_F(TinyChunkPool, SendIsEnobufsWhenTheChunkPoolIsEmpty) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    c->set_nodelay(true);
    ASSERT_EQ(c->send(fake::make_chunk("1")), 0);
    ASSERT_EQ(c->send(fake::make_chunk("2")), 0);
    Chunk third = fake::make_chunk("3");
    EXPECT_EQ(c->send(third), -ENOBUFS);
    EXPECT_EQ(third.length, 1u) << "still the caller's";
    third.release();
    EXPECT_EQ(sent().size(), 2u);
    peer(tf::ack, peer_nxt, our_nxt + 2);
    EXPECT_EQ(tcp().chunks().available(), 2u) << "acknowledged chunks go back to the pool";
    EXPECT_EQ(c->send(fake::make_chunk("3")), 0);
}

TEST_F(OneLayer, CloseInsideOnAcceptWithDataPendingResets) {
    server.configure = [](App& a) {
        Connection* c = a.conn;
        a.conn = nullptr;
        c->close();
    };
    int err = 1;
    listener = tcp().listen(kPort, &Server::on_accept, &server, &err);
    InSegment syn = fake::make_segment(tuple, peer_isn, SeqNum{}, tf::syn, 65535);
    input(syn);
    const SentSegment synack = only_one();
    // The handshake's ACK carries data the application closed before seeing:
    // RST, not FIN (RFC 2525 2.17).
    peer(tf::ack, peer_isn + 1, synack.seq + 1, "hi");
    EXPECT_TRUE(is_segment(only_one(), tf::rst | tf::ack, synack.seq + 1, peer_isn + 3, 0));
    EXPECT_TRUE(server.apps[0].data.empty());
    EXPECT_EQ(tcp().connections(), 0u);
}

TEST_F(OneLayer, CloseInsideOnAcceptWithoutDataSendsTheFin) {
    server.configure = [](App& a) {
        Connection* c = a.conn;
        a.conn = nullptr;
        c->close();
    };
    int err = 1;
    listener = tcp().listen(kPort, &Server::on_accept, &server, &err);
    input(fake::make_segment(tuple, peer_isn, SeqNum{}, tf::syn, 65535));
    const SentSegment synack = only_one();
    peer(tf::ack, peer_isn + 1, synack.seq + 1);
    EXPECT_TRUE(is_segment(only_one(), tf::fin | tf::ack, synack.seq + 1, peer_isn + 1, 0));
    EXPECT_EQ(tcp().find(tuple)->state(), State::fin_wait_1);
}

TEST_F(OneLayer, SendAfterShutdownIsEpipe) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    c->shutdown();
    sent();
    Chunk d = fake::make_chunk("late");
    EXPECT_EQ(c->send(d), -EPIPE);
    d.release();
}

} // namespace
} // namespace lanetcp::tcp::test
