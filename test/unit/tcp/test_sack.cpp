// SACK (RFC 2018) and SACK-based loss recovery (RFC 6675): the sender's
// scoreboard on its own, the SACK-permitted negotiation, the receiver's SACK
// blocks, the sender's recovery driven by them, and two layers moving bulk
// data through a lossy wire with and without SACK.
#include <algorithm>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "harness.hpp"
#include "impair/spec.hpp"
#include "tcp/sack_scoreboard.hpp"

namespace lanetcp::tcp::test {
namespace {

using wire::SackBlock;
using Blocks = std::vector<std::pair<std::uint32_t, std::uint32_t>>; // [left, right) offsets from a base

std::string bytes(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 23);
    return s;
}

SackBlock blk(std::uint32_t left, std::uint32_t right) { return SackBlock{SeqNum{left}, SeqNum{right}}; }

// The scoreboard's ranges as raw numbers, for readable failures.
Blocks raw_ranges(const SackScoreboard& sb) {
    Blocks out;
    for (const SackBlock& b : sb.ranges()) out.emplace_back(b.left.raw(), b.right.raw());
    return out;
}

// A segment's SACK blocks as offsets from `base`, in the order sent.
Blocks sack_of(const SentSegment& s, SeqNum base) {
    Blocks out;
    for (const SackBlock& b : s.options.sacks())
        out.emplace_back(static_cast<std::uint32_t>(wire::seq_diff(b.left, base)),
                         static_cast<std::uint32_t>(wire::seq_diff(b.right, base)));
    return out;
}

// ================================================================ scoreboard

TEST(SackScoreboard, MergesOverlappingAndAdjacentBlocks) {
    SackScoreboard sb;
    const SeqNum una{1000}, max{20000};
    EXPECT_TRUE(sb.empty());
    const SackBlock a[] = {blk(2000, 3000)};
    EXPECT_TRUE(sb.update(a, una, max));
    EXPECT_EQ(raw_ranges(sb), (Blocks{{2000, 3000}}));
    EXPECT_EQ(sb.sacked_bytes(), 1000u);

    const SackBlock adjacent[] = {blk(3000, 4000)};
    EXPECT_TRUE(sb.update(adjacent, una, max));
    EXPECT_EQ(raw_ranges(sb), (Blocks{{2000, 4000}}));

    // Two blocks in one ACK: one apart, one bridging it to the first.
    const SackBlock two[] = {blk(5000, 6000), blk(3500, 5000)};
    EXPECT_TRUE(sb.update(two, una, max));
    EXPECT_EQ(raw_ranges(sb), (Blocks{{2000, 6000}}));
    EXPECT_EQ(sb.sacked_bytes(), 4000u);

    // Nothing new: the same blocks again, a block inside.
    EXPECT_FALSE(sb.update(two, una, max));
    const SackBlock inside[] = {blk(2500, 2600)};
    EXPECT_FALSE(sb.update(inside, una, max));
    EXPECT_EQ(sb.sacked_bytes(), 4000u);

    // Overlapping on the left, disjoint above, and one below everything.
    const SackBlock more[] = {blk(1500, 2500), blk(8000, 9000), blk(7000, 7500)};
    EXPECT_TRUE(sb.update(more, una, max));
    EXPECT_EQ(raw_ranges(sb), (Blocks{{1500, 6000}, {7000, 7500}, {8000, 9000}}));
    EXPECT_EQ(sb.sacked_bytes(), 4500u + 500u + 1000u);
    EXPECT_EQ(sb.highest(), SeqNum{9000});

    // A block covering several ranges swallows them.
    const SackBlock cover[] = {blk(5000, 8500)};
    EXPECT_TRUE(sb.update(cover, una, max));
    EXPECT_EQ(raw_ranges(sb), (Blocks{{1500, 9000}}));
    EXPECT_EQ(sb.sacked_bytes(), 7500u);

    sb.clear();
    EXPECT_TRUE(sb.empty());
    EXPECT_EQ(sb.sacked_bytes(), 0u);
}

TEST(SackScoreboard, IgnoresBlocksOutsideTheOutstandingDataOrEmpty) {
    SackScoreboard sb;
    const SeqNum una{1000}, max{20000};
    const SackBlock bad[] = {
        blk(3000, 3000),   // right == left
        blk(4000, 3000),   // right < left
        blk(500, 1000),    // at or below SND.UNA (a D-SACK)
        blk(100, 900),     // below SND.UNA
        blk(19000, 20001), // past SND.MAX
        blk(25000, 26000), // far past SND.MAX
    };
    EXPECT_FALSE(sb.update(bad, una, max));
    EXPECT_TRUE(sb.empty());
    EXPECT_EQ(sb.sacked_bytes(), 0u);

    // Straddling SND.UNA: only what is above it counts. Up to SND.MAX is fine.
    const SackBlock edge[] = {blk(800, 1200), blk(19000, 20000)};
    EXPECT_TRUE(sb.update(edge, una, max));
    EXPECT_EQ(raw_ranges(sb), (Blocks{{1000, 1200}, {19000, 20000}}));
    EXPECT_EQ(sb.sacked_bytes(), 1200u);
}

TEST(SackScoreboard, AdvanceTrimsAndDropsWhatIsAcknowledged) {
    SackScoreboard sb;
    const SackBlock b[] = {blk(2000, 3000), blk(4000, 5000), blk(6000, 7000)};
    ASSERT_TRUE(sb.update(b, SeqNum{1000}, SeqNum{10000}));
    sb.advance(SeqNum{1500}); // below everything: nothing changes
    EXPECT_EQ(raw_ranges(sb), (Blocks{{2000, 3000}, {4000, 5000}, {6000, 7000}}));
    sb.advance(SeqNum{2500});
    EXPECT_EQ(raw_ranges(sb), (Blocks{{2500, 3000}, {4000, 5000}, {6000, 7000}}));
    EXPECT_EQ(sb.sacked_bytes(), 2500u);
    sb.advance(SeqNum{3000});
    EXPECT_EQ(raw_ranges(sb), (Blocks{{4000, 5000}, {6000, 7000}}));
    EXPECT_EQ(sb.sacked_bytes(), 2000u);
    sb.advance(SeqNum{6500}); // past a whole range and into the next
    EXPECT_EQ(raw_ranges(sb), (Blocks{{6500, 7000}}));
    EXPECT_EQ(sb.sacked_bytes(), 500u);
    sb.advance(SeqNum{7000});
    EXPECT_TRUE(sb.empty());
    EXPECT_EQ(sb.sacked_bytes(), 0u);
}

TEST(SackScoreboard, SackedAboveCountsOnlyBytesAfterTheSequence) {
    SackScoreboard sb;
    const SackBlock b[] = {blk(2000, 3000), blk(4000, 5000), blk(6000, 7000)};
    ASSERT_TRUE(sb.update(b, SeqNum{1000}, SeqNum{10000}));
    EXPECT_EQ(sb.sacked_above(SeqNum{1000}), 3000u);
    EXPECT_EQ(sb.sacked_above(SeqNum{2000}), 3000u);
    EXPECT_EQ(sb.sacked_above(SeqNum{2500}), 2500u);
    EXPECT_EQ(sb.sacked_above(SeqNum{3000}), 2000u);
    EXPECT_EQ(sb.sacked_above(SeqNum{3500}), 2000u);
    EXPECT_EQ(sb.sacked_above(SeqNum{6999}), 1u);
    EXPECT_EQ(sb.sacked_above(SeqNum{7000}), 0u);
    EXPECT_EQ(sb.sacked_above(SeqNum{9000}), 0u);
}

TEST(SackScoreboard, NextHoleWalksAcrossSeveralRanges) {
    SackScoreboard sb;
    const SackBlock b[] = {blk(6000, 7000), blk(2000, 3000), blk(4000, 5000)};
    ASSERT_TRUE(sb.update(b, SeqNum{1000}, SeqNum{10000}));
    auto hole = [&](std::uint32_t from) -> std::pair<std::uint32_t, std::uint32_t> {
        SeqNum s{}, e{};
        if (!sb.next_hole(SeqNum{from}, s, e)) return {0, 0};
        return {s.raw(), e.raw()};
    };
    using P = std::pair<std::uint32_t, std::uint32_t>;
    EXPECT_EQ(hole(1000), (P{1000, 2000}));
    EXPECT_EQ(hole(1500), (P{1500, 2000}));
    EXPECT_EQ(hole(2000), (P{3000, 4000})) << "inside a SACKed range: the hole after it";
    EXPECT_EQ(hole(2999), (P{3000, 4000}));
    EXPECT_EQ(hole(3000), (P{3000, 4000}));
    EXPECT_EQ(hole(3500), (P{3500, 4000}));
    EXPECT_EQ(hole(4500), (P{5000, 6000}));
    EXPECT_EQ(hole(5000), (P{5000, 6000}));
    EXPECT_EQ(hole(6000), (P{0, 0})) << "no hole above the highest SACKed byte";
    EXPECT_EQ(hole(6500), (P{0, 0}));
    EXPECT_EQ(hole(7000), (P{0, 0}));
    EXPECT_EQ(hole(8000), (P{0, 0}));
    SackScoreboard empty;
    SeqNum s{}, e{};
    EXPECT_FALSE(empty.next_hole(SeqNum{1000}, s, e));
}

TEST(SackScoreboard, WorksAcrossTheSequenceWrap) {
    SackScoreboard sb;
    const SeqNum una{0xfffff000u};
    const SeqNum max = una + 20000;
    // [una+2048, una+5120) crosses 2^32; [una+6144, una+7168) is past it.
    const SackBlock b[] = {SackBlock{una + 6144, una + 7168}, SackBlock{una + 2048, una + 5120}};
    ASSERT_TRUE(sb.update(b, una, max));
    ASSERT_EQ(sb.ranges().size(), 2u);
    EXPECT_EQ(sb.ranges()[0], (SackBlock{una + 2048, una + 5120}));
    EXPECT_EQ(sb.ranges()[1], (SackBlock{una + 6144, una + 7168}));
    EXPECT_EQ(sb.sacked_bytes(), 3072u + 1024u);
    EXPECT_EQ(sb.highest(), una + 7168);
    EXPECT_EQ(sb.sacked_above(una + 4096), 1024u + 1024u);
    SeqNum s{}, e{};
    ASSERT_TRUE(sb.next_hole(una, s, e));
    EXPECT_EQ(s, una);
    EXPECT_EQ(e, una + 2048);
    ASSERT_TRUE(sb.next_hole(una + 3000, s, e));
    EXPECT_EQ(s, una + 5120);
    EXPECT_EQ(e, una + 6144);
    // Bridging the two across the wrap, then past SND.MAX (ignored).
    const SackBlock bridge[] = {SackBlock{una + 5000, una + 6200}, SackBlock{max - 10, max + 10}};
    EXPECT_TRUE(sb.update(bridge, una, max));
    ASSERT_EQ(sb.ranges().size(), 1u);
    EXPECT_EQ(sb.ranges()[0], (SackBlock{una + 2048, una + 7168}));
    sb.advance(una + 4096); // SND.UNA wraps to 0x00000000 + ...
    ASSERT_EQ(sb.ranges().size(), 1u);
    EXPECT_EQ(sb.ranges()[0].left, una + 4096);
    EXPECT_EQ(sb.sacked_bytes(), 3072u);
}

TEST(SackScoreboard, FullScoreboardKeepsTheLowestRanges) {
    SackScoreboard sb;
    const SeqNum una{0}, max{1000000};
    for (std::uint32_t i = 0; i < SackScoreboard::kMaxRanges; ++i) {
        const SackBlock b[] = {blk(2000 + i * 1000, 2500 + i * 1000)};
        ASSERT_TRUE(sb.update(b, una, max)) << i;
    }
    ASSERT_EQ(sb.ranges().size(), SackScoreboard::kMaxRanges);
    // One more below them all: it is kept, the highest goes.
    const SackBlock low[] = {blk(500, 600)};
    EXPECT_TRUE(sb.update(low, una, max));
    ASSERT_EQ(sb.ranges().size(), SackScoreboard::kMaxRanges);
    EXPECT_EQ(sb.ranges().front(), blk(500, 600));
    constexpr std::uint32_t kept = SackScoreboard::kMaxRanges - 1; // of the first ones
    EXPECT_EQ(sb.highest(), SeqNum{2500 + (kept - 1) * 1000});
    std::uint32_t total = 100;
    for (std::uint32_t i = 0; i < kept; ++i) total += 500;
    EXPECT_EQ(sb.sacked_bytes(), total);
}

// =========================================================== one connection

// OneLayer with a peer that offers SACK-permitted on its SYN (or not).
class SackOneLayer : public OneLayer {
protected:
    static constexpr TimeNs kRtt = 10 * kMs;
    // The window arithmetic below is NewReno's (RFC 5681: ssthresh =
    // FlightSize / 2); CUBIC's is test_cc.cpp's.
    static TcpConfig newreno_config() {
        TcpConfig c = test_config();
        c.congestion_control = cc::Algorithm::newreno;
        return c;
    }
    SackOneLayer() : OneLayer(newreno_config()) {}
    explicit SackOneLayer(const TcpConfig& cfg) : OneLayer(cfg) {}

    // Passive open where the peer's SYN carries SACK-permitted when `peer_sack`.
    Connection* accept_with(bool peer_sack, bool expect_synack_sack) {
        int err = 1;
        listener = tcp().listen(kPort, &Server::on_accept, &server, &err);
        EXPECT_EQ(err, 0);
        InSegment syn = fake::make_segment(tuple, peer_isn, SeqNum{}, tf::syn, 65535);
        syn.options.mss = kMss;
        syn.options.sack_permitted = peer_sack;
        input(syn);
        const SentSegment synack = only_one();
        EXPECT_EQ(synack.flags, tf::syn | tf::ack);
        EXPECT_EQ(synack.options.sack_permitted, expect_synack_sack);
        EXPECT_EQ(synack.options.sack_block_count, 0u);
        peer_nxt = peer_isn + 1;
        our_nxt = synack.seq + 1;
        // A round trip of kRtt: RACK's reordering window (RFC 8985 6.2) is a
        // quarter of the minimum RTT, so loss detection needs one.
        at(now + kRtt);
        peer(tf::ack, peer_nxt, our_nxt);
        expect_nothing_sent(__LINE__);
        if (server.apps.size() != 1) {
            ADD_FAILURE() << "not accepted";
            return nullptr;
        }
        return server.apps.front().conn;
    }
    Connection* accept_sack() { return accept_with(true, true); }

    // A segment from the peer with SACK blocks given as offsets from `base`.
    void peer_sack(SeqNum seq, SeqNum ack, SeqNum base, const Blocks& blocks, std::string_view payload = {},
                   std::uint16_t window = 65535) {
        InSegment s = fake::make_segment(tuple, seq, ack, tf::ack, window, payload);
        for (const auto& [l, r] : blocks) s.options.sack_blocks[s.options.sack_block_count++] = {base + l, base + r};
        input(s);
    }
};

// Timeouts and timer-exact recovery, without the tail loss probe (RFC 8985)
// that would come first.
TcpConfig no_probe_config() {
    TcpConfig c = test_config();
    c.loss_probes = false;
    c.congestion_control = cc::Algorithm::newreno;
    return c;
}
class SackNoProbe : public SackOneLayer {
protected:
    SackNoProbe() : SackOneLayer(no_probe_config()) {}
};

class NoSackConfig : public SackOneLayer {
protected:
    static TcpConfig cfg() {
        TcpConfig c = test_config();
        c.sack = false;
        return c;
    }
    NoSackConfig() : SackOneLayer(cfg()) {}
};

// ---- negotiation ----

TEST_F(SackOneLayer, SackActiveOpenOffersSackPermitted) {
    int err = 1;
    Connection* c = tcp().connect(kIpB, kPeerPort, &kAppHandler, &client, now, &err, 0);
    ASSERT_NE(c, nullptr);
    const SentSegment syn = only_one();
    EXPECT_EQ(syn.flags, tf::syn);
    EXPECT_TRUE(syn.options.sack_permitted);
    EXPECT_EQ(syn.options.mss, std::optional<std::uint16_t>{kMss});
    // Its retransmission offers it too.
    at(kSec);
    const SentSegment again = only_one();
    EXPECT_EQ(again.flags, tf::syn);
    EXPECT_TRUE(again.options.sack_permitted);
}

// Active open, the SYN-ACK with or without SACK-permitted; then out-of-order
// data shows whether SACK is on.
class SackActive : public SackOneLayer, public testing::WithParamInterface<bool> {};

TEST_P(SackActive, SackIsOnOnlyWhenTheSynAckPermitsIt) {
    const bool peer_sack = GetParam();
    int err = 1;
    Connection* c = tcp().connect(kIpB, kPeerPort, &kAppHandler, &client, now, &err, 0);
    ASSERT_NE(c, nullptr);
    client.conn = c;
    tuple = c->tuple();
    const SentSegment syn = only_one();
    our_nxt = syn.seq + 1;
    InSegment synack = fake::make_segment(tuple, peer_isn, our_nxt, tf::syn | tf::ack, 65535);
    synack.options.mss = kMss;
    synack.options.sack_permitted = peer_sack;
    input(synack);
    peer_nxt = peer_isn + 1;
    const SentSegment ack = only_one();
    EXPECT_TRUE(is_segment(ack, tf::ack, our_nxt, peer_nxt, 0));
    EXPECT_FALSE(ack.options.sack_permitted) << "only on SYNs";
    ASSERT_EQ(c->state(), State::established);

    peer(tf::ack, peer_nxt + 100, our_nxt, bytes(100));
    const SentSegment dup = only_one();
    EXPECT_TRUE(is_segment(dup, tf::ack, our_nxt, peer_nxt, 0));
    if (peer_sack) {
        EXPECT_EQ(sack_of(dup, peer_nxt), (Blocks{{100, 200}}));
    } else {
        EXPECT_EQ(dup.options.sack_block_count, 0u);
    }
}

INSTANTIATE_TEST_SUITE_P(SynAck, SackActive, testing::Bool(),
                         [](const testing::TestParamInfo<bool>& i) { return i.param ? "Permitted" : "NotPermitted"; });

TEST_F(SackOneLayer, SackSynAckCarriesSackPermittedWhenTheSynDid) {
    Connection* c = accept_with(true, true);
    ASSERT_NE(c, nullptr);
}

TEST_F(SackOneLayer, SackSynAckLeavesSackPermittedOutWhenTheSynDidNot) {
    Connection* c = accept_with(false, false);
    ASSERT_NE(c, nullptr);
    // And SACK stays off: out-of-order data gets a plain duplicate ACK.
    peer(tf::ack, peer_nxt + 100, our_nxt, bytes(100));
    const SentSegment dup = only_one();
    EXPECT_TRUE(is_segment(dup, tf::ack, our_nxt, peer_nxt, 0));
    EXPECT_EQ(dup.options.sack_block_count, 0u);
}

TEST_F(NoSackConfig, SackDisabledNeitherOffersNorAccepts) {
    // Active open: no SACK-permitted on our SYN.
    int err = 1;
    Connection* a = tcp().connect(kIpB, 40001, &kAppHandler, &client, now, &err, 0);
    ASSERT_NE(a, nullptr);
    EXPECT_FALSE(only_one().options.sack_permitted);
    // Passive open: the peer offers it, our SYN-ACK declines.
    Connection* c = accept_with(true, false);
    ASSERT_NE(c, nullptr);
    peer(tf::ack, peer_nxt + 100, our_nxt, bytes(100));
    const SentSegment dup = only_one();
    EXPECT_TRUE(is_segment(dup, tf::ack, our_nxt, peer_nxt, 0));
    EXPECT_EQ(dup.options.sack_block_count, 0u);
}

// ---- receiver ----

TEST_F(SackOneLayer, SackReceiverReportsHeldDataMostRecentFirst) {
    Connection* c = accept_sack();
    ASSERT_NE(c, nullptr);
    App& app = server.apps[0];
    const SeqNum base = peer_nxt;
    const std::string data = bytes(6000);
    auto send_at = [&](std::uint32_t off, std::uint32_t len) {
        peer(tf::ack, base + off, our_nxt, std::string_view(data).substr(off, len));
    };
    auto dup = [&](std::uint32_t ack_off, const Blocks& want, int line) {
        const SentSegment s = only_one();
        EXPECT_TRUE(is_segment(s, tf::ack, our_nxt, base + ack_off, 0)) << "line " << line;
        EXPECT_EQ(sack_of(s, base), want) << "line " << line;
    };

    send_at(1000, 500);
    dup(0, {{1000, 1500}}, __LINE__);
    send_at(3000, 500);
    dup(0, {{3000, 3500}, {1000, 1500}}, __LINE__);
    send_at(1500, 500); // extends the first block
    dup(0, {{1000, 2000}, {3000, 3500}}, __LINE__);
    send_at(5000, 500);
    dup(0, {{5000, 5500}, {1000, 2000}, {3000, 3500}}, __LINE__);
    // RFC 2018 4: after the newest, the blocks reported most recently, so
    // that each is repeated in several ACKs.
    send_at(4000, 200); // in the middle
    dup(0, {{4000, 4200}, {5000, 5500}, {1000, 2000}, {3000, 3500}}, __LINE__);
    send_at(4500, 100); // a fifth block: four fit, the oldest report goes
    dup(0, {{4500, 4600}, {4000, 4200}, {5000, 5500}, {1000, 2000}}, __LINE__);
    send_at(1200, 300); // a duplicate inside held data: a D-SACK, then its block
    {
        const SentSegment s = only_one();
        EXPECT_TRUE(is_segment(s, tf::ack, our_nxt, base, 0));
        ASSERT_GE(s.options.sack_block_count, 2u);
        EXPECT_EQ(sack_of(s, base)[0], (std::pair<std::uint32_t, std::uint32_t>{1200, 1500}))
            << "RFC 2883 4.1.3: the duplicate first";
        EXPECT_EQ(sack_of(s, base)[1], (std::pair<std::uint32_t, std::uint32_t>{1000, 2000}))
            << "RFC 2883 4.1.3 / RFC 2018 4: then the block holding it";
        EXPECT_EQ(counters().tcp_dsacks_sent.get(), 1u);
    }

    // The first hole fills: RCV.NXT moves to 2000, the rest still reported.
    send_at(0, 1000);
    {
        const SentSegment s = only_one();
        EXPECT_TRUE(is_segment(s, tf::ack, our_nxt, base + 2000, 0));
        const Blocks got = sack_of(s, base);
        EXPECT_EQ(got.size(), 4u);
        EXPECT_EQ(std::set(got.begin(), got.end()), (std::set<std::pair<std::uint32_t, std::uint32_t>>{
                                                        {3000, 3500}, {4000, 4200}, {4500, 4600}, {5000, 5500}}));
    }
    EXPECT_EQ(app.received, 2000u);
    send_at(2000, 1000); // RCV.NXT to 3500
    {
        const SentSegment s = only_one();
        EXPECT_TRUE(is_segment(s, tf::ack, our_nxt, base + 3500, 0));
        const Blocks got = sack_of(s, base);
        EXPECT_EQ(std::set(got.begin(), got.end()),
                  (std::set<std::pair<std::uint32_t, std::uint32_t>>{{4000, 4200}, {4500, 4600}, {5000, 5500}}));
    }
    send_at(3500, 500);
    send_at(4200, 300);
    send_at(4600, 400); // everything up to 5500 now
    auto s = sent();
    ASSERT_FALSE(s.empty());
    EXPECT_TRUE(is_segment(s.back(), tf::ack, our_nxt, base + 5500, 0));
    EXPECT_EQ(s.back().options.sack_block_count, 0u) << "no hole, no SACK";
    EXPECT_EQ(app.received, 5500u);
    EXPECT_EQ(app.data, data.substr(0, 5500));

    // In-order data from here on: ACKs without SACK blocks.
    send_at(5500, 500);
    at(now + 40 * kMs); // delayed ACK
    const SentSegment last = only_one();
    EXPECT_TRUE(is_segment(last, tf::ack, our_nxt, base + 6000, 0));
    EXPECT_EQ(last.options.sack_block_count, 0u);
}

TEST_F(SackOneLayer, SackBlocksRideOnDataSegmentsToo) {
    Connection* c = accept_sack();
    ASSERT_NE(c, nullptr);
    const SeqNum base = peer_nxt;
    peer(tf::ack, base + 1000, our_nxt, bytes(500));
    EXPECT_EQ(sack_of(only_one(), base), (Blocks{{1000, 1500}}));
    ASSERT_EQ(c->send(fake::make_chunk("reply")), 0);
    const SentSegment s = only_one();
    EXPECT_TRUE(is_segment(s, tf::ack | tf::psh, our_nxt, base, 5));
    EXPECT_EQ(sack_of(s, base), (Blocks{{1000, 1500}}));
}

TEST_F(SackOneLayer, SackNoBlocksWithoutNegotiation) {
    Connection* c = accept_with(false, false);
    ASSERT_NE(c, nullptr);
    const SeqNum base = peer_nxt;
    peer(tf::ack, base + 1000, our_nxt, bytes(500));
    peer(tf::ack, base + 3000, our_nxt, bytes(500));
    auto s = sent();
    ASSERT_EQ(s.size(), 2u);
    for (const auto& seg : s) {
        EXPECT_TRUE(is_segment(seg, tf::ack, our_nxt, base, 0));
        EXPECT_EQ(seg.options.sack_block_count, 0u);
    }
}

// ---- sender ----

constexpr std::uint32_t M = kMss;

// Ten full segments S0..S9 go out in the initial window; SACK blocks name
// them by index.
Blocks segs(std::uint32_t first, std::uint32_t end) { return {{first * M, end * M}}; }

TEST_F(SackOneLayer, SackDataCarryingDuplicatesTriggerFastRetransmitOfTheHole) {
    Connection* c = accept_sack();
    ASSERT_NE(c, nullptr);
    c->set_nodelay(true);
    // Ten small segments of 100 bytes: three SACKed ones are less than 3*MSS,
    // so only the duplicate count can start recovery.
    const std::string data = bytes(1000);
    for (int i = 0; i < 10; ++i) ASSERT_EQ(c->send(fake::make_chunk(std::string_view(data).substr(i * 100, 100))), 0);
    ASSERT_EQ(sent().size(), 10u);
    const SeqNum base = our_nxt;
    // Segment 1 (bytes 100..200) is lost. The peer talks back: every ACK
    // carries data of its own and the SACK blocks.
    peer(tf::ack, peer_nxt, base + 100, "A"); // a new ACK, for segment 0
    peer_nxt += 1;
    peer_sack(peer_nxt, base + 100, base, {{200, 300}}, "B");
    peer_nxt += 1;
    peer_sack(peer_nxt, base + 100, base, {{200, 400}}, "C");
    peer_nxt += 1;
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(counters().tcp_fast_retransmits.get(), 0u);
    peer_sack(peer_nxt, base + 100, base, {{200, 500}}, "D"); // the third duplicate
    const SentSegment r = only_one();
    // Sent while the ACK part of "D" was processed, before its data.
    EXPECT_TRUE(is_segment(r, tf::ack, base + 100, peer_nxt, 100));
    EXPECT_EQ(r.payload, data.substr(100, 100));
    peer_nxt += 1;
    EXPECT_EQ(counters().tcp_fast_retransmits.get(), 1u);
    EXPECT_EQ(counters().tcp_timeouts.get(), 0u);
    EXPECT_EQ(c->ssthresh(), 2u * M) << "max(flight / 2, 2 * MSS)";
    // RFC 6937: the pipe (900 in flight - 300 SACKed - 100 lost) is below
    // ssthresh; an ACK showing a new loss may send what it delivered
    // (PRR-CRB, 100 bytes), but the first retransmission goes at once.
    EXPECT_EQ(c->cwnd(), 500u + M) << "PRR, no inflation";

    // A fourth duplicate: the hole was resent already, nothing more to do.
    peer_sack(peer_nxt, base + 100, base, {{200, 600}}, "E");
    peer_nxt += 1;
    expect_nothing_sent(__LINE__);
    // The repaired hole is acknowledged with everything after it: done.
    peer(tf::ack, peer_nxt, base + 1000);
    EXPECT_EQ(c->bytes_in_flight(), 0u);
    EXPECT_FALSE(c->retransmit_timer_armed());
    EXPECT_EQ(counters().tcp_retransmitted_segments.get(), 1u);
}

TEST_F(NoSackConfig, SackOffDataCarryingDuplicatesAreNotDuplicates) {
    // The peer would send SACK blocks even so; they are not ours to read.
    Connection* c = accept_with(true, false);
    ASSERT_NE(c, nullptr);
    ASSERT_EQ(c->send(fake::make_chunk(bytes(10 * M))), 0);
    ASSERT_EQ(sent().size(), 10u);
    const SeqNum base = our_nxt;
    for (std::uint32_t i = 2; i <= 6; ++i) {
        peer_sack(peer_nxt, base + M, base, segs(2, i), "x");
        peer_nxt += 1;
    }
    // Data in each: RFC 5681 2 says these are not duplicate ACKs.
    for (const auto& s : sent()) EXPECT_TRUE(s.payload.empty()) << "only ACKs, got data at " << s.seq.raw();
    EXPECT_EQ(counters().tcp_fast_retransmits.get(), 0u);
    // Pure duplicates still count.
    peer(tf::ack, peer_nxt, base + M);
    peer(tf::ack, peer_nxt, base + M);
    peer(tf::ack, peer_nxt, base + M);
    const SentSegment r = only_one();
    EXPECT_TRUE(is_segment(r, tf::ack, base + M, peer_nxt, M));
    EXPECT_EQ(counters().tcp_fast_retransmits.get(), 1u);
}

TEST_F(SackOneLayer, SackNoSackNegotiatedDataCarryingDuplicatesAreNotDuplicates) {
    Connection* c = accept_with(false, false); // the peer did not offer SACK
    ASSERT_NE(c, nullptr);
    ASSERT_EQ(c->send(fake::make_chunk(bytes(10 * M))), 0);
    ASSERT_EQ(sent().size(), 10u);
    const SeqNum base = our_nxt;
    for (std::uint32_t i = 2; i <= 6; ++i) {
        peer_sack(peer_nxt, base + M, base, segs(2, i), "x");
        peer_nxt += 1;
    }
    for (const auto& s : sent()) EXPECT_TRUE(s.payload.empty());
    EXPECT_EQ(counters().tcp_fast_retransmits.get(), 0u);
}

TEST_F(SackOneLayer, SackThreeSegmentsSackedStartRecoveryOnTheFirstDuplicate) {
    Connection* c = accept_sack();
    ASSERT_NE(c, nullptr);
    ASSERT_EQ(c->send(fake::make_chunk(bytes(10 * M))), 0);
    ASSERT_EQ(sent().size(), 10u);
    const SeqNum base = our_nxt;
    // S0 lost; the first duplicate (the ACKs before it were lost) SACKs S1..S3.
    peer_sack(peer_nxt, base, base, segs(1, 4));
    const SentSegment r = only_one();
    EXPECT_TRUE(is_segment(r, tf::ack, base, peer_nxt, M));
    EXPECT_EQ(r.payload, bytes(10 * M).substr(0, M));
    EXPECT_EQ(counters().tcp_fast_retransmits.get(), 1u);
    EXPECT_EQ(c->ssthresh(), 5u * M);
    // RFC 6937: the pipe (10 sent - 3 SACKed - 1 lost) is above ssthresh,
    // so the window is the pipe plus delivered * ssthresh / RecoverFS.
    EXPECT_EQ(c->cwnd(), 6u * M + (3u * M * 5u * M + 10u * M - 1) / (10u * M));
}

TEST_F(SackOneLayer, SackTwoDuplicatesWithLittleSackedDoNotStartRecovery) {
    Connection* c = accept_sack();
    ASSERT_NE(c, nullptr);
    ASSERT_EQ(c->send(fake::make_chunk(bytes(10 * M))), 0);
    ASSERT_EQ(sent().size(), 10u);
    const SeqNum base = our_nxt;
    peer_sack(peer_nxt, base, base, segs(1, 2));
    peer_sack(peer_nxt, base, base, segs(1, 3));
    // The same blocks again: nothing newly SACKed, so not a duplicate.
    peer_sack(peer_nxt, base, base, segs(1, 3));
    peer_sack(peer_nxt, base, base, segs(1, 3));
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(counters().tcp_fast_retransmits.get(), 0u);
    EXPECT_EQ(c->cwnd(), 10u * M);
}

TEST_F(SackNoProbe, SackSeveralHolesInOneWindowEachResentOnceInOrder) {
    Connection* c = accept_sack();
    ASSERT_NE(c, nullptr);
    const std::string data = bytes(10 * M);
    ASSERT_EQ(c->send(fake::make_chunk(data)), 0);
    ASSERT_EQ(sent().size(), 10u);
    const SeqNum base = our_nxt;
    const TimeNs deadline = c->retransmit_deadline();
    at(10 * kMs);
    // S0, S3 and S6 lost; the peer's duplicate ACK for each arrival.
    std::vector<SentSegment> resent;
    auto dup = [&](const Blocks& b) {
        peer_sack(peer_nxt, base, base, b);
        for (auto& s : sent()) resent.push_back(s);
    };
    dup({{1 * M, 2 * M}});
    dup({{1 * M, 3 * M}});
    EXPECT_TRUE(resent.empty());
    dup({{4 * M, 5 * M}, {1 * M, 3 * M}}); // third duplicate: S0
    ASSERT_EQ(resent.size(), 1u);
    EXPECT_TRUE(is_segment(resent[0], tf::ack, base, peer_nxt, M));
    EXPECT_EQ(c->ssthresh(), 5u * M);
    // RACK: S3, sent before S4 which arrived, is lost too. The pipe
    // (10 - 3 SACKed - 2 lost) is at ssthresh: PRR lets only the first
    // retransmission go.
    EXPECT_EQ(c->cwnd(), 6u * M);
    dup({{4 * M, 6 * M}, {1 * M, 3 * M}}); // S3 is a hole below SACKed data
    dup({{7 * M, 8 * M}, {1 * M, 3 * M}, {4 * M, 6 * M}}); // and S6
    dup({{7 * M, 9 * M}, {1 * M, 3 * M}, {4 * M, 6 * M}});
    dup({{7 * M, 10 * M}, {1 * M, 3 * M}, {4 * M, 6 * M}});
    ASSERT_EQ(resent.size(), 3u);
    const std::uint32_t holes[] = {0, 3, 6};
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_TRUE(is_segment(resent[i], tf::ack, base + holes[i] * M, peer_nxt, M)) << i;
        EXPECT_EQ(resent[i].payload, data.substr(holes[i] * M, M)) << i;
    }
    EXPECT_EQ(counters().tcp_fast_retransmits.get(), 3u);
    EXPECT_TRUE(c->retransmit_timer_armed());
    EXPECT_EQ(c->retransmit_deadline(), deadline) << "the timer is not restarted by duplicates";

    // The retransmissions arrive: two partial ACKs, then the full one.
    at(20 * kMs);
    peer_sack(peer_nxt, base + 3 * M, base, {{4 * M, 6 * M}, {7 * M, 10 * M}});
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(c->retransmit_deadline(), now + c->rto()) << "RFC 6298 5.3 on a partial ACK";
    peer_sack(peer_nxt, base + 6 * M, base, {{7 * M, 10 * M}});
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(c->cwnd(), 5u * M);
    peer(tf::ack, peer_nxt, base + 10 * M);
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(c->cwnd(), c->ssthresh()) << "recovery ends with cwnd = ssthresh";
    EXPECT_FALSE(c->retransmit_timer_armed());
    at(deadline + 10 * kSec);
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(counters().tcp_timeouts.get(), 0u);
    EXPECT_EQ(counters().tcp_retransmitted_segments.get(), 3u) << "SACKed data is never resent";
}

TEST_F(SackOneLayer, SackPartialAcksGoOnRepairingABurstLoss) {
    Connection* c = accept_sack();
    ASSERT_NE(c, nullptr);
    const std::string data = bytes(10 * M);
    ASSERT_EQ(c->send(fake::make_chunk(data)), 0);
    ASSERT_EQ(sent().size(), 10u);
    const SeqNum base = our_nxt;
    // S0..S6 lost: only three duplicates come back.
    peer_sack(peer_nxt, base, base, segs(7, 8));
    peer_sack(peer_nxt, base, base, segs(7, 9));
    expect_nothing_sent(__LINE__);
    peer_sack(peer_nxt, base, base, segs(7, 10));
    EXPECT_TRUE(is_segment(only_one(), tf::ack, base, peer_nxt, M));
    EXPECT_EQ(c->ssthresh(), 5u * M);
    // RFC 6937: the pipe is empty (3 SACKed, 7 lost), and an ACK that
    // shows new losses sends no more than it delivered (PRR-CRB), but the
    // first retransmission goes at once.
    EXPECT_EQ(c->cwnd(), M);

    // Each partial ACK moves SND.UNA and shows no new loss: PRR-SSRB sends
    // what was delivered plus one MSS, growing back towards ssthresh.
    std::vector<std::uint32_t> order;
    auto ack = [&](std::uint32_t upto) {
        at(now + kMs);
        peer_sack(peer_nxt, base + upto * M, base, segs(7, 10));
        std::vector<std::uint32_t> got;
        for (const auto& s : sent()) {
            EXPECT_EQ(s.payload.size(), M);
            EXPECT_EQ(s.payload, data.substr(static_cast<std::size_t>(wire::seq_diff(s.seq, base)), M));
            EXPECT_EQ(c->retransmit_deadline(), now + c->rto());
            got.push_back(static_cast<std::uint32_t>(wire::seq_diff(s.seq, base)) / M);
            order.push_back(got.back());
        }
        return got;
    };
    EXPECT_EQ(ack(1), (std::vector<std::uint32_t>{1, 2}));
    EXPECT_EQ(ack(2), (std::vector<std::uint32_t>{3, 4}));
    EXPECT_EQ(ack(3), (std::vector<std::uint32_t>{5, 6}));
    EXPECT_EQ(ack(4), (std::vector<std::uint32_t>{}));
    EXPECT_EQ(ack(5), (std::vector<std::uint32_t>{}));
    EXPECT_EQ(ack(6), (std::vector<std::uint32_t>{}));
    EXPECT_EQ(order, (std::vector<std::uint32_t>{1, 2, 3, 4, 5, 6})) << "each hole once, in order";
    EXPECT_LE(c->cwnd(), c->ssthresh());
    peer(tf::ack, peer_nxt, base + 10 * M); // S6 arrived: everything is in
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(c->cwnd(), c->ssthresh()) << "recovery ends with cwnd = ssthresh";
    EXPECT_EQ(counters().tcp_timeouts.get(), 0u);
    EXPECT_EQ(counters().tcp_fast_retransmits.get(), 7u);
    EXPECT_EQ(counters().tcp_retransmitted_segments.get(), 7u) << "S7..S9 were SACKed: never resent";
    EXPECT_FALSE(c->retransmit_timer_armed());
}

TEST_F(SackOneLayer, SackNewDataFlowsAsSackedDataLeavesTheNetwork) {
    Connection* c = accept_sack();
    ASSERT_NE(c, nullptr);
    const std::string data = bytes(20 * M);
    ASSERT_EQ(c->send(fake::make_chunk(data)), 0);
    ASSERT_EQ(sent().size(), 10u);
    const SeqNum base = our_nxt;
    // S0 lost; S1..S9 arrive, each SACKed by one duplicate. What the window
    // lets out after each: the data in the network is what was sent minus
    // what was SACKed.
    auto dup = [&](std::uint32_t sacked_end) {
        peer_sack(peer_nxt, base, base, segs(1, sacked_end));
        std::vector<std::uint32_t> got;
        for (const auto& s : sent()) {
            EXPECT_EQ(s.payload.size(), M);
            got.push_back(static_cast<std::uint32_t>(wire::seq_diff(s.seq, base)) / M);
        }
        return got;
    };
    using V = std::vector<std::uint32_t>;
    EXPECT_EQ(dup(2), (V{10})) << "cwnd 10, in the network 9";
    EXPECT_EQ(dup(3), (V{11}));
    EXPECT_EQ(dup(4), (V{0})) << "third duplicate: S0 again; ssthresh = 12 / 2";
    EXPECT_EQ(c->ssthresh(), 6u * M);
    // RFC 6937: the pipe (12 - 3 SACKed - 1 lost) is above ssthresh: half
    // a segment for the one delivered, rounded up to the retransmission
    // that goes at once. From here one segment for every two delivered.
    EXPECT_EQ(c->cwnd(), 9u * M);
    EXPECT_EQ(dup(5), (V{})) << "in the network 8";
    EXPECT_EQ(dup(6), (V{}));
    EXPECT_EQ(dup(7), (V{}));
    EXPECT_EQ(dup(8), (V{12})) << "in the network 5";
    EXPECT_EQ(dup(9), (V{13}));
    EXPECT_EQ(dup(10), (V{14}));
    EXPECT_EQ(counters().tcp_retransmitted_segments.get(), 1u) << "SACKed data is never resent";
    // S0 arrives: the ACK covers S0..S9, short of the recovery point (S12).
    peer_sack(peer_nxt, base + 10 * M, base, {{12 * M, 15 * M}});
    // S10 and S11 are holes below SACKed data now.
    auto s = sent();
    ASSERT_GE(s.size(), 1u);
    EXPECT_TRUE(is_segment(s[0], tf::ack, base + 10 * M, peer_nxt, M));
    if (s.size() > 1) {
        EXPECT_TRUE(is_segment(s[1], tf::ack, base + 11 * M, peer_nxt, M));
    }
    peer(tf::ack, peer_nxt, base + 15 * M);
    EXPECT_EQ(c->cwnd(), c->ssthresh()) << "recovery ends with cwnd = ssthresh";
}

TEST_F(SackNoProbe, SackTimeoutDuringRecoveryGoesBackToSndUna) {
    Connection* c = accept_sack();
    ASSERT_NE(c, nullptr);
    const std::string data = bytes(10 * M);
    ASSERT_EQ(c->send(fake::make_chunk(data)), 0);
    ASSERT_EQ(sent().size(), 10u);
    const SeqNum base = our_nxt;
    const TimeNs sent_at = now;
    const TimeNs deadline = c->retransmit_deadline();
    peer_sack(peer_nxt, base, base, segs(1, 2));
    peer_sack(peer_nxt, base, base, segs(1, 3));
    peer_sack(peer_nxt, base, base, segs(1, 4));
    EXPECT_TRUE(is_segment(only_one(), tf::ack, base, peer_nxt, M)); // S0 again, and lost again
    at(deadline - kMs);
    expect_nothing_sent(__LINE__);
    at(deadline);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, base, peer_nxt, M));
    EXPECT_EQ(counters().tcp_timeouts.get(), 1u);
    EXPECT_EQ(c->cwnd(), M);
    EXPECT_EQ(c->rto(), 2 * (deadline - sent_at));
    // It arrives: the scoreboard was cleared, so slow start goes on from
    // SND.UNA (RFC 2018 8: the receiver may have reneged).
    at(deadline + kMs);
    peer(tf::ack, peer_nxt, base + M);
    auto s = sent();
    ASSERT_EQ(s.size(), 2u);
    EXPECT_TRUE(is_segment(s[0], tf::ack, base + M, peer_nxt, M));
    EXPECT_TRUE(is_segment(s[1], tf::ack, base + 2 * M, peer_nxt, M));
    EXPECT_EQ(c->retransmit_deadline(), now + c->rto());
    // The peer has S1..S3 and reports S5..S9 again: the window (4 MSS now)
    // still bounds what goes out, and what it SACKed is not sent again.
    const std::uint32_t cwnd_before = c->cwnd();
    peer_sack(peer_nxt, base + 4 * M, base, segs(5, 10));
    EXPECT_EQ(c->cwnd(), cwnd_before + 2 * M) << "slow start";
    std::vector<std::uint32_t> idx;
    for (const auto& seg : sent()) idx.push_back(static_cast<std::uint32_t>(wire::seq_diff(seg.seq, base)) / M);
    EXPECT_LE(idx.size() * M, c->cwnd()) << "more segments than the congestion window in one burst";
    for (std::uint32_t i : idx) EXPECT_TRUE(i == 4u) << "S" << i << " was SACKed";
}

// Found by the two-layer test with six of every fifty segments lost (with
// and without SACK): after a timeout pulls SND.NXT back, a pure ACK with
// SEQ = SND.NXT is below what the peer has received, so the peer finds it
// unacceptable and answers with an ACK; two such sides bounce ACKs forever.
// BSD's tcp_output sends pure ACKs with SND.MAX for this reason.
TEST_F(SackNoProbe, SackPureAckAfterATimeoutCarriesSndMax) {
    Connection* c = accept_sack();
    ASSERT_NE(c, nullptr);
    ASSERT_EQ(c->send(fake::make_chunk(bytes(10 * M))), 0);
    ASSERT_EQ(sent().size(), 10u);
    const SeqNum base = our_nxt;
    at(c->retransmit_deadline());
    EXPECT_TRUE(is_segment(only_one(), tf::ack, base, peer_nxt, M));
    peer(tf::ack, peer_nxt, base, "z"); // the peer's data, no progress for ours
    peer_nxt += 1;
    at(now + 40 * kMs);
    const SentSegment a = only_one();
    EXPECT_TRUE(is_segment(a, tf::ack, base + 10 * M, peer_nxt, 0)) << "SEQ of a pure ACK is SND.MAX";
}

// ============================================================== two layers

constexpr std::uint16_t kPort = 80;
constexpr std::uint64_t kBulk = 10ull << 20;

struct BulkResult {
    bool done = false;
    bool livelock = false;
    std::uint64_t received_a = 0, received_b = 0, errors = 0;
    std::uint64_t lost = 0, timeouts = 0, fast = 0, retransmitted = 0;
    TimeNs time = 0;
};

// 10 MiB both ways; in every run of 50 data segments in each direction,
// six are dropped (two pairs of adjacent ones), each only the first time.
BulkResult bulk_with_burst_losses(bool sack, std::uint64_t period = 50, std::set<std::uint64_t> drops = {1, 2, 10, 20, 30, 31},
                                  std::uint64_t bulk = kBulk) {
    TcpConfig cfg = test_config();
    cfg.sack = sack;
    BulkResult r;
    {
        Pair pair(cfg);
        // A 2 ms round trip: RACK (RFC 8985) tells lost from late by time,
        // so a wire where time stands still is not one it can judge.
        pair.impair(impair::parse_spec("delay=1ms"), impair::parse_spec("delay=1ms"));
        Server server;
        App client;
        // Lost byte ranges by direction: a segment is dropped only if none
        // of its bytes was lost before, however it is cut when resent
        // (segments shrink while SACK blocks take header room).
        std::set<std::tuple<bool, std::uint32_t, std::uint32_t>> lost;
        const auto lost_before = [&](bool from_a, SeqNum start, SeqNum end) {
            for (const auto& [dir, l, r] : lost)
                if (dir == from_a && wire::seq_lt(start, SeqNum{r}) && wire::seq_lt(SeqNum{l}, end)) return true;
            return false;
        };
        std::uint64_t count[2] = {0, 0};
        std::uint64_t calls = 0;
        pair.filter = [&](const SentSegment& s, bool from_a) {
            // A guard against a livelock (segments bouncing forever within
            // one flush): far more than the transfer needs.
            if (++calls > 4000000) {
                r.livelock = true;
                return Pair::Fate::drop;
            }
            if (s.payload.empty()) return Pair::Fate::deliver;
            const std::uint64_t k = count[from_a ? 1 : 0]++ % period;
            if (drops.count(k) == 0) return Pair::Fate::deliver;
            if (lost_before(from_a, s.seq, s.end())) return Pair::Fate::deliver;
            lost.insert({from_a, s.seq.raw(), s.end().raw()});
            return Pair::Fate::drop;
        };
        server.configure = [bulk](App& a) {
            a.keep_data = false;
            a.check_pattern = true;
            a.pattern_salt_in = 1;
            a.pattern_salt_out = 2;
            a.to_send = bulk;
            a.shutdown_when_sent = true;
        };
        client.keep_data = false;
        client.check_pattern = true;
        client.pattern_salt_in = 2;
        client.pattern_salt_out = 1;
        client.to_send = bulk;
        client.shutdown_when_sent = true;
        int err = 1;
        EXPECT_NE(pair.b.tcp->listen(kPort, &Server::on_accept, &server, &err), nullptr);
        client.conn = pair.a.tcp->connect(kIpB, kPort, &kAppHandler, &client, pair.now, &err);
        EXPECT_NE(client.conn, nullptr);
        r.done = pair.run_until(
            [&] { return client.peer_fin == 1 && !server.apps.empty() && server.apps[0].peer_fin == 1; },
            3600 * kSec);
        r.received_a = client.received;
        r.received_b = server.apps.empty() ? 0 : server.apps[0].received;
        r.errors = client.pattern_errors + (server.apps.empty() ? 0 : server.apps[0].pattern_errors);
        r.lost = lost.size();
        r.timeouts = pair.a.counters.tcp_timeouts.get() + pair.b.counters.tcp_timeouts.get();
        r.fast = pair.a.counters.tcp_fast_retransmits.get() + pair.b.counters.tcp_fast_retransmits.get();
        r.retransmitted = pair.a.counters.tcp_retransmitted_segments.get() +
                          pair.b.counters.tcp_retransmitted_segments.get();
        r.time = pair.now;
    }
    EXPECT_EQ(fake::live_buffers(), 0) << "packet buffers leaked";
    return r;
}

// A fixed drop pattern on a wire where time is exact can resonate: the same
// segments (a flight's tail and the probe after it, with the ACKs riding on
// the other direction's data) lost in every cycle, a timeout each time. Five
// patterns, the same bursts at shifted places: SACK repairs the holes without
// the timer in all but at most one of them, and its median run is faster
// than NewReno on the first pattern by far.
TEST(SackTwoLayers, BurstLossesInEveryWindowRepairedWithoutTimeouts) {
    const std::vector<std::set<std::uint64_t>> patterns = {
        {1, 2, 10, 20, 30, 31}, {3, 4, 12, 22, 32, 33}, {0, 1, 15, 25, 35, 36},
        {5, 6, 17, 27, 40, 41}, {2, 3, 11, 21, 31, 32}};
    std::vector<BulkResult> with;
    for (const auto& drops : patterns) with.push_back(bulk_with_burst_losses(true, 50, drops));
    const BulkResult without = bulk_with_burst_losses(false, 50, patterns[0]);
    std::vector<const BulkResult*> all;
    for (const BulkResult& r : with) all.push_back(&r);
    all.push_back(&without);
    for (const BulkResult* r : all) {
        const std::string name = r == &without ? "no sack" : "sack, pattern " + std::to_string(r - with.data());
        EXPECT_FALSE(r->livelock) << name << ": segments bounced without end at " << r->time / kMs << " ms";
        EXPECT_TRUE(r->done) << name;
        EXPECT_EQ(r->received_a, kBulk) << name;
        EXPECT_EQ(r->received_b, kBulk) << name;
        EXPECT_EQ(r->errors, 0u) << name;
        EXPECT_GT(r->lost, 1500u) << name;
        std::cout << "[ " << name << " ] lost " << r->lost << ", timeouts " << r->timeouts << ", fast retransmits "
                  << r->fast << ", retransmitted " << r->retransmitted << ", " << r->time / kMs << " ms\n";
    }
    std::vector<std::uint64_t> timeouts;
    std::vector<TimeNs> times;
    for (const BulkResult& r : with) {
        timeouts.push_back(r.timeouts);
        times.push_back(r.time);
    }
    std::sort(timeouts.begin(), timeouts.end());
    std::sort(times.begin(), times.end());
    const std::uint64_t median_timeouts = timeouts[timeouts.size() / 2];
    const auto clean = std::count_if(with.begin(), with.end(), [](const BulkResult& r) { return r.timeouts <= 2; });
    RecordProperty("timeouts_sack_median", static_cast<int>(median_timeouts));
    RecordProperty("timeouts_no_sack", static_cast<int>(without.timeouts));
    EXPECT_GE(clean, static_cast<std::ptrdiff_t>(with.size()) - 1)
        << "SACK repairs several holes per window without waiting for the timer";
    EXPECT_LE(median_timeouts, 1u);
    EXPECT_GE(without.timeouts, 10 * std::max<std::uint64_t>(median_timeouts, 1))
        << "NewReno repairs one hole per round trip";
    EXPECT_LT(times[times.size() / 2], without.time);
}

} // namespace
} // namespace lanetcp::tcp::test
