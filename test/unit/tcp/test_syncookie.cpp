// SYN cookie arithmetic (syncookie.hpp), on its own: no layer, no clock but
// the one handed in.
#include <gtest/gtest.h>

#include "tcp/syncookie.hpp"

namespace lanetcp::tcp {
namespace {

constexpr TimeNs kSec = kNsPerSec;

SynCookies::Key key(std::uint8_t seed) {
    SynCookies::Key k{};
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(seed * 31 + i);
    return k;
}

const FourTuple kTuple{wire::Ipv4Addr{0x0a000001}, wire::Ipv4Addr{0x0a000002}, 80, 40000};
const wire::SeqNum kIrs{123456789};

TEST(SynCookies, RoundTripCarriesTheMssClass) {
    const SynCookies c(key(1));
    for (std::uint16_t mss : SynCookies::kMssClasses) {
        const wire::SeqNum iss = c.make(kTuple, kIrs, mss, 1000 * kSec);
        const auto got = c.check(kTuple, kIrs, iss, 1000 * kSec);
        ASSERT_TRUE(got.has_value()) << mss;
        EXPECT_EQ(*got, mss);
    }
}

TEST(SynCookies, MssIsRoundedDownToItsClass) {
    EXPECT_EQ(SynCookies::kMssClasses[SynCookies::mss_class(1460)], 1460);
    EXPECT_EQ(SynCookies::kMssClasses[SynCookies::mss_class(9000)], 1460);
    EXPECT_EQ(SynCookies::kMssClasses[SynCookies::mss_class(1459)], 1440);
    EXPECT_EQ(SynCookies::kMssClasses[SynCookies::mss_class(1400)], 1300);
    EXPECT_EQ(SynCookies::kMssClasses[SynCookies::mss_class(1299)], 536);
    EXPECT_EQ(SynCookies::kMssClasses[SynCookies::mss_class(100)], 536) << "the smallest class below all";
    const SynCookies c(key(1));
    EXPECT_EQ(c.check(kTuple, kIrs, c.make(kTuple, kIrs, 1400, 0), 0), std::optional<std::uint16_t>(1300));
}

TEST(SynCookies, OtherKeyTupleOrIrsFails) {
    const SynCookies c(key(1));
    const SynCookies other(key(2));
    const wire::SeqNum iss = c.make(kTuple, kIrs, 1460, 10 * kSec);
    EXPECT_FALSE(other.check(kTuple, kIrs, iss, 10 * kSec).has_value());
    FourTuple t = kTuple;
    t.remote_port = 40001;
    EXPECT_FALSE(c.check(t, kIrs, iss, 10 * kSec).has_value());
    EXPECT_FALSE(c.check(kTuple, kIrs + 1, iss, 10 * kSec).has_value());
    EXPECT_FALSE(c.check(kTuple, kIrs, iss + 1, 10 * kSec).has_value());
}

TEST(SynCookies, ForgeriesAlmostNeverPass) {
    // 4 valid values out of 2^24 per slot, two slots: about 1 in 2 million.
    const SynCookies c(key(3));
    int passed = 0;
    for (std::uint32_t i = 0; i < 200000; ++i)
        if (c.check(kTuple, kIrs, wire::SeqNum{i * 2654435761u}, 500 * kSec)) ++passed;
    EXPECT_LE(passed, 2);
}

TEST(SynCookies, ValidForTwoSlotsThenExpired) {
    const SynCookies c(key(1));
    const TimeNs made = 10 * SynCookies::kSlot + 5 * kSec; // early in a slot
    const wire::SeqNum iss = c.make(kTuple, kIrs, 1460, made);
    EXPECT_TRUE(c.check(kTuple, kIrs, iss, made).has_value());
    EXPECT_TRUE(c.check(kTuple, kIrs, iss, 12 * SynCookies::kSlot - 1).has_value()) << "end of the next slot";
    EXPECT_FALSE(c.check(kTuple, kIrs, iss, 12 * SynCookies::kSlot).has_value()) << "two slots on";
    EXPECT_FALSE(c.check(kTuple, kIrs, iss, made + 300 * SynCookies::kSlot).has_value());
    EXPECT_FALSE(c.check(kTuple, kIrs, iss, made - SynCookies::kSlot).has_value()) << "from the future";
}

TEST(SynCookies, SlotCounterWrapsInTheTopByte) {
    const SynCookies c(key(1));
    const TimeNs made = 255 * SynCookies::kSlot;
    const wire::SeqNum iss = c.make(kTuple, kIrs, 536, made);
    EXPECT_EQ(c.check(kTuple, kIrs, iss, 256 * SynCookies::kSlot), std::optional<std::uint16_t>(536));
    EXPECT_FALSE(c.check(kTuple, kIrs, iss, 257 * SynCookies::kSlot).has_value());
}

TEST(SynCookies, OptionBitsInTheTimestamp) {
    SynCookies::Options o;
    o.window_scale = true;
    o.send_window_scale = 7;
    o.sack = true;
    for (std::uint32_t now : {0u, 63u, 64u, 1000u, 123457u, 0xffffffffu}) {
        const std::uint32_t ts = SynCookies::encode_timestamp(now, o);
        EXPECT_LE(static_cast<std::int32_t>(ts - now), 0) << "never ahead of the clock";
        EXPECT_LT(now - ts, 1u << SynCookies::kTsBits) << now;
        const SynCookies::Options d = SynCookies::decode_timestamp(ts);
        EXPECT_TRUE(d.window_scale);
        EXPECT_EQ(d.send_window_scale, 7);
        EXPECT_TRUE(d.sack);
        EXPECT_FALSE(d.ecn);
    }
    SynCookies::Options none;
    const SynCookies::Options d = SynCookies::decode_timestamp(SynCookies::encode_timestamp(5000, none));
    EXPECT_FALSE(d.window_scale);
    EXPECT_FALSE(d.sack);
    EXPECT_FALSE(d.ecn);
    SynCookies::Options zero_shift_ecn;
    zero_shift_ecn.window_scale = true;
    zero_shift_ecn.ecn = true;
    const SynCookies::Options e = SynCookies::decode_timestamp(SynCookies::encode_timestamp(5000, zero_shift_ecn));
    EXPECT_TRUE(e.window_scale) << "shift 0 is not 'no option'";
    EXPECT_EQ(e.send_window_scale, 0);
    EXPECT_TRUE(e.ecn);
    EXPECT_FALSE(e.sack);
}

} // namespace
} // namespace lanetcp::tcp

namespace lanetcp::tcp {
namespace {

TEST(TupleHasher, DependsOnTheKey) {
    // Keyed (SipHash-2-4): which tuples share a bucket cannot be worked out
    // without the key. Same key, same hash; another key, unrelated.
    TupleHasher::Key k1{}, k2{};
    k2[0] = 1;
    const TupleHasher a(k1), a2(k1), b(k2);
    int same = 0;
    for (std::uint16_t port = 1; port <= 1000; ++port) {
        const FourTuple t{wire::Ipv4Addr{0x0a000001}, wire::Ipv4Addr{0x0a000002}, 80, port};
        EXPECT_EQ(a(t), a2(t));
        if ((a(t) & 1023) == (b(t) & 1023)) ++same;
    }
    EXPECT_LT(same, 10) << "buckets of 1024 agree by chance about once in 1000";
}

} // namespace
} // namespace lanetcp::tcp
