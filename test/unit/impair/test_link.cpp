// The Link around the model: packets come out when due and in order, except
// the ones held back for reordering; duplicates and corruption reach the
// packets through Ops; overflow and teardown free every packet.
#include <gtest/gtest.h>

#include <vector>

#include "impair/link.hpp"

namespace lanetcp::impair {
namespace {

struct Packet {
    std::uint32_t id = 0;
    bool ect = false;
    bool ce = false;
    bool corrupted = false;
    bool copy = false;
};

struct Ops {
    int dropped = 0;
    int live = 0; // copies made minus copies dropped... all packets the test created, minus freed
    std::uint32_t wire_bytes(const Packet&) { return 1000; }
    bool ect(const Packet& p) { return p.ect; }
    void mark_ce(Packet& p) { p.ce = true; }
    bool corrupt(Packet& p, std::uint64_t) {
        p.corrupted = true;
        return true;
    }
    bool copy(const Packet& p, Packet& out) {
        out = p;
        out.copy = true;
        ++live;
        return true;
    }
    void drop(Packet&) {
        ++dropped;
        --live;
    }
};

std::vector<Packet> drain(Link<Packet>& link, TimeNs now) {
    std::vector<Packet> out;
    Packet p;
    while (link.receive(now, p)) out.push_back(p);
    return out;
}

TEST(ImpairLink, PerfectWireIsAFifo) {
    Link<Packet> link(Spec{});
    Ops ops;
    for (std::uint32_t i = 0; i < 100; ++i) link.send(0, Packet{i}, ops);
    EXPECT_EQ(link.next_due(), 0u);
    const auto out = drain(link, 0);
    ASSERT_EQ(out.size(), 100u);
    for (std::uint32_t i = 0; i < 100; ++i) EXPECT_EQ(out[i].id, i);
    EXPECT_EQ(link.next_due(), Link<Packet>::kNever);
}

TEST(ImpairLink, DelayedPacketsComeOutWhenDue) {
    Link<Packet> link(parse_spec("delay=5ms"));
    Ops ops;
    link.send(0, Packet{1}, ops);
    link.send(kNsPerMs, Packet{2}, ops);
    EXPECT_EQ(link.next_due(), 5 * kNsPerMs);
    EXPECT_TRUE(drain(link, 5 * kNsPerMs - 1).empty());
    auto out = drain(link, 5 * kNsPerMs);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].id, 1u);
    EXPECT_EQ(link.next_due(), 6 * kNsPerMs);
    out = drain(link, 10 * kNsPerMs);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].id, 2u);
}

TEST(ImpairLink, ReorderedPacketComesAfterGapLaterPackets) {
    Link<Packet> link(parse_spec("reorder=100%,reorder_gap=3"));
    Ops ops;
    link.send(0, Packet{0}, ops); // held
    EXPECT_EQ(link.size(), 1u);
    EXPECT_TRUE(drain(link, 0).empty());
    EXPECT_EQ(link.next_due(), kNsPerMs); // the hold limit
    EXPECT_EQ(link.stats().reordered, 1u);
}

TEST(ImpairLink, ReorderingAtARate) {
    // 10% held back behind 3 later packets, traffic continuous: every held
    // packet comes out exactly 3 places late, none is lost.
    Link<Packet> link(parse_spec("reorder=10%,reorder_gap=3,seed=2"));
    Ops ops;
    std::vector<std::uint32_t> order;
    const std::uint32_t n = 100000;
    for (std::uint32_t i = 0; i < n; ++i) {
        link.send(i, Packet{i}, ops);
        for (const Packet& p : drain(link, i)) order.push_back(p.id);
    }
    for (const Packet& p : drain(link, n + 10 * kNsPerMs)) order.push_back(p.id);
    ASSERT_EQ(order.size(), n);
    std::vector<int> seen(n, 0);
    int late = 0;
    for (std::size_t pos = 0; pos < order.size(); ++pos) {
        ++seen[order[pos]];
        if (order[pos] < pos) ++late;
    }
    for (std::uint32_t i = 0; i < n; ++i) ASSERT_EQ(seen[i], 1) << i;
    EXPECT_NEAR(static_cast<double>(link.stats().reordered) / n, 0.10, 0.005);
    EXPECT_GT(late, 0);
    EXPECT_EQ(link.stats().delivered, n);
}

TEST(ImpairLink, HeldPacketIsReleasedByTheHoldLimitWhenTrafficStops) {
    Link<Packet> link(parse_spec("reorder=100%,reorder_gap=3,reorder_hold=2ms"));
    Ops ops;
    link.send(10, Packet{7}, ops);
    EXPECT_TRUE(drain(link, 10 + 2 * kNsPerMs - 1).empty());
    const auto out = drain(link, 10 + 2 * kNsPerMs);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].id, 7u);
}

TEST(ImpairLink, DuplicatesAreCleanCopiesRightBehind) {
    Link<Packet> link(parse_spec("dup=100%,corrupt=100%"));
    Ops ops;
    link.send(0, Packet{5}, ops);
    const auto out = drain(link, 0);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].id, 5u);
    EXPECT_FALSE(out[0].copy);
    EXPECT_TRUE(out[0].corrupted);
    EXPECT_TRUE(out[1].copy);
    EXPECT_FALSE(out[1].corrupted);
    EXPECT_EQ(link.stats().duplicated, 1u);
    EXPECT_EQ(link.stats().corrupted, 1u);
    EXPECT_EQ(link.stats().delivered, 2u);
}

TEST(ImpairLink, CeMarksReachThePacket) {
    Link<Packet> link(parse_spec("rate=1gbit,queue=10,ecn=2"));
    Ops ops;
    for (std::uint32_t i = 0; i < 5; ++i) link.send(0, Packet{i, true}, ops);
    const auto out = drain(link, kNsPerSec);
    ASSERT_EQ(out.size(), 5u);
    EXPECT_FALSE(out[0].ce);
    EXPECT_FALSE(out[1].ce);
    EXPECT_TRUE(out[2].ce);
    EXPECT_TRUE(out[4].ce);
}

TEST(ImpairLink, LostAndOverflowingPacketsAreDropped) {
    Link<Packet> link(parse_spec("loss=50%,delay=1ms,limit=10,seed=9"));
    Ops ops;
    for (std::uint32_t i = 0; i < 1000; ++i) link.send(0, Packet{i}, ops);
    EXPECT_EQ(link.size(), 10u);
    const Stats& s = link.stats();
    EXPECT_EQ(s.lost_random + s.overflow_dropped, 990u);
    EXPECT_GT(s.overflow_dropped, 0u);
    EXPECT_EQ(ops.dropped, 990);
    link.clear(ops);
    EXPECT_EQ(ops.dropped, 1000);
    EXPECT_EQ(link.size(), 0u);
}

} // namespace
} // namespace lanetcp::impair
