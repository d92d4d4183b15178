#include "wire/seq.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace lanetcp::wire {
namespace {

constexpr std::uint32_t kMax = 0xffffffffu;
constexpr std::uint32_t kHalf = 0x80000000u;

// The helpers are usable in constant expressions (a SYN's ISN bookkeeping
// can be built at compile time in tests).
static_assert(SeqNum{kMax} + 1 == SeqNum{0});
static_assert(seq_lt(SeqNum{kMax}, SeqNum{0}));
static_assert(seq_in_window(SeqNum{2}, SeqNum{kMax - 1}, 8));

TEST(Seq, AdditionWrapsAtTwoToThe32) {
    EXPECT_EQ((SeqNum{kMax} + 1).raw(), 0u);
    EXPECT_EQ((SeqNum{kMax - 9} + 20).raw(), 10u);
    EXPECT_EQ((SeqNum{5} - 10).raw(), kMax - 4);
    SeqNum s{kMax};
    s += 2;
    EXPECT_EQ(s.raw(), 1u);
    s -= 3;
    EXPECT_EQ(s.raw(), kMax - 1);
}

TEST(Seq, DiffIsSignedAndWrapSafe) {
    EXPECT_EQ(seq_diff(SeqNum{0}, SeqNum{kMax}), 1);
    EXPECT_EQ(seq_diff(SeqNum{kMax}, SeqNum{0}), -1);
    EXPECT_EQ(seq_diff(SeqNum{10}, SeqNum{kMax - 9}), 20);
    EXPECT_EQ(seq_diff(SeqNum{kMax - 9}, SeqNum{10}), -20);
    EXPECT_EQ(seq_diff(SeqNum{1000}, SeqNum{1000}), 0);
    EXPECT_EQ(seq_diff(SeqNum{kHalf - 1}, SeqNum{0}), std::numeric_limits<std::int32_t>::max());
    EXPECT_EQ(seq_diff(SeqNum{kHalf}, SeqNum{0}), std::numeric_limits<std::int32_t>::min());
}

TEST(Seq, ComparisonsAcrossZero) {
    SeqNum before{kMax - 5};
    SeqNum after{5};
    EXPECT_TRUE(seq_lt(before, after));
    EXPECT_TRUE(seq_leq(before, after));
    EXPECT_FALSE(seq_gt(before, after));
    EXPECT_FALSE(seq_geq(before, after));
    EXPECT_TRUE(seq_gt(after, before));
    EXPECT_TRUE(seq_geq(after, before));
    EXPECT_FALSE(seq_lt(after, before));
    // Plain integer comparison would say the opposite.
    EXPECT_GT(before.raw(), after.raw());
}

TEST(Seq, ComparisonsOfEqualValues) {
    for (std::uint32_t v : {0u, 1u, kHalf - 1, kHalf, kMax}) {
        SeqNum s{v};
        EXPECT_FALSE(seq_lt(s, s)) << v;
        EXPECT_TRUE(seq_leq(s, s)) << v;
        EXPECT_FALSE(seq_gt(s, s)) << v;
        EXPECT_TRUE(seq_geq(s, s)) << v;
    }
}

TEST(Seq, ComparisonsAroundTheHalfSpaceBoundary) {
    for (std::uint32_t base : {0u, 12345u, kHalf, kMax - 3}) {
        SeqNum a{base};
        // Just under 2^31 ahead is "after".
        EXPECT_TRUE(seq_gt(a + (kHalf - 1), a)) << base;
        EXPECT_TRUE(seq_lt(a, a + (kHalf - 1))) << base;
        // Just over 2^31 ahead is really behind.
        EXPECT_TRUE(seq_lt(a + (kHalf + 1), a)) << base;
        EXPECT_TRUE(seq_gt(a, a + (kHalf + 1))) << base;
        // Exactly 2^31 apart is ambiguous (RFC 1982): both sides are "before"
        // the other, and neither is "after". Pinned so a change is noticed.
        EXPECT_TRUE(seq_lt(a + kHalf, a)) << base;
        EXPECT_TRUE(seq_lt(a, a + kHalf)) << base;
        EXPECT_FALSE(seq_gt(a + kHalf, a)) << base;
    }
}

TEST(Seq, MinMaxFollowSequenceOrder) {
    SeqNum before{kMax - 1};
    SeqNum after{3};
    EXPECT_EQ(seq_max(before, after), after);
    EXPECT_EQ(seq_max(after, before), after);
    EXPECT_EQ(seq_min(before, after), before);
    EXPECT_EQ(seq_min(after, before), before);
}

TEST(Seq, InWindowIsHalfOpen) {
    SeqNum start{1000};
    EXPECT_FALSE(seq_in_window(SeqNum{999}, start, 10));
    EXPECT_TRUE(seq_in_window(SeqNum{1000}, start, 10));
    EXPECT_TRUE(seq_in_window(SeqNum{1009}, start, 10));
    EXPECT_FALSE(seq_in_window(SeqNum{1010}, start, 10));
}

TEST(Seq, InWindowAcrossWrap) {
    SeqNum start{kMax - 4}; // window covers kMax-4 .. 4
    EXPECT_FALSE(seq_in_window(SeqNum{kMax - 5}, start, 10));
    EXPECT_TRUE(seq_in_window(SeqNum{kMax - 4}, start, 10));
    EXPECT_TRUE(seq_in_window(SeqNum{kMax}, start, 10));
    EXPECT_TRUE(seq_in_window(SeqNum{0}, start, 10));
    EXPECT_TRUE(seq_in_window(SeqNum{4}, start, 10));
    EXPECT_FALSE(seq_in_window(SeqNum{5}, start, 10));
}

TEST(Seq, EmptyWindowContainsNothing) {
    for (std::uint32_t v : {0u, 1u, kMax, kHalf}) {
        EXPECT_FALSE(seq_in_window(SeqNum{v}, SeqNum{v}, 0)) << v;
        EXPECT_FALSE(seq_in_window(SeqNum{v + 1}, SeqNum{v}, 0)) << v;
    }
}

TEST(Seq, InWindowWiderThanHalfTheSpace) {
    // No 2^31 ambiguity: the unsigned form is exact for any length.
    SeqNum start{10};
    EXPECT_TRUE(seq_in_window(start + (kHalf + 100), start, kHalf + 101));
    EXPECT_FALSE(seq_in_window(start + (kHalf + 101), start, kHalf + 101));
    // The longest window, 2^32 - 1, holds everything but the number before start.
    EXPECT_TRUE(seq_in_window(start - 2, start, kMax));
    EXPECT_FALSE(seq_in_window(start - 1, start, kMax));
}

TEST(Seq, BetweenIsInclusiveAtBothEnds) {
    SeqNum lo{kMax - 1};
    SeqNum hi{2};
    EXPECT_FALSE(seq_between(SeqNum{kMax - 2}, lo, hi));
    EXPECT_TRUE(seq_between(SeqNum{kMax - 1}, lo, hi));
    EXPECT_TRUE(seq_between(SeqNum{0}, lo, hi));
    EXPECT_TRUE(seq_between(SeqNum{2}, lo, hi));
    EXPECT_FALSE(seq_between(SeqNum{3}, lo, hi));
    EXPECT_TRUE(seq_between(SeqNum{7}, SeqNum{7}, SeqNum{7}));
    EXPECT_FALSE(seq_between(SeqNum{8}, SeqNum{7}, SeqNum{7}));
}

} // namespace
} // namespace lanetcp::wire
