// The model's decisions over many packets: rates within tolerance for a fixed
// seed, Gilbert-Elliott burst lengths, determinism, delay and jitter bounds,
// and the bottleneck's rate, tail drop and CE marking.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "impair/impairment.hpp"

namespace lanetcp::impair {
namespace {

constexpr int kPackets = 1'000'000;

// Binomial tolerance: five standard deviations of n draws at probability p.
double tolerance(double p, int n) { return 5 * std::sqrt(p * (1 - p) / n); }

std::string loss_spec(double pct) { return "loss=" + std::to_string(pct) + "%,seed=7"; }

// Fraction of kPackets the model loses, packets 1 µs apart.
double loss_fraction(const std::string& text) {
    Impairment m(parse_spec(text));
    int lost = 0;
    for (int i = 0; i < kPackets; ++i)
        if (m.decide(static_cast<TimeNs>(i) * kNsPerUs, 1500, false).fate != Verdict::Fate::deliver) ++lost;
    return static_cast<double>(lost) / kPackets;
}

TEST(Impairment, PerfectWireDeliversEverythingAtOnce) {
    Impairment m(Spec{});
    for (int i = 0; i < 1000; ++i) {
        const TimeNs now = static_cast<TimeNs>(i) * 7;
        const Verdict v = m.decide(now, 1500, true);
        ASSERT_EQ(v.fate, Verdict::Fate::deliver);
        ASSERT_EQ(v.deliver_at, now);
        ASSERT_FALSE(v.mark_ce || v.corrupt || v.duplicate || v.reorder);
    }
}

TEST(Impairment, RandomLossRateWithinTolerance) {
    for (double pct : {1.0, 5.0, 20.0}) {
        const double p = pct / 100;
        EXPECT_NEAR(loss_fraction(loss_spec(pct)), p, tolerance(p, kPackets)) << pct << "%";
    }
}

TEST(Impairment, SameSeedSameFatesOtherSeedOtherFates) {
    auto pattern = [](const std::string& text) {
        Impairment m(parse_spec(text));
        std::vector<bool> lost;
        for (int i = 0; i < 10000; ++i) lost.push_back(m.decide(0, 100, false).fate != Verdict::Fate::deliver);
        return lost;
    };
    EXPECT_EQ(pattern("loss=5%,seed=7"), pattern("loss=5%,seed=7"));
    EXPECT_NE(pattern("loss=5%,seed=7"), pattern("loss=5%,seed=8"));
    // Each kind of decision has its own stream: switching duplication and
    // reordering on does not move a single loss.
    EXPECT_EQ(pattern("loss=5%,seed=7"), pattern("loss=5%,seed=7,dup=3%,reorder=2%,corrupt=1%,delay=1ms,jitter=1ms"));
}

TEST(Impairment, GilbertElliottBurstLengthsAndLossRate) {
    // p = 1%, r = 25%, all lost in the bad state, none in the good one: bursts
    // of losses are geometric with mean 1/r = 4, and the share of time in the
    // bad state is p / (p + r).
    Impairment m(parse_spec("ge=1%:25%,seed=3"));
    int lost = 0, bursts = 0, run = 0, longest = 0;
    for (int i = 0; i < kPackets; ++i) {
        if (m.decide(0, 100, false).fate == Verdict::Fate::lost_burst) {
            ++lost;
            ++run;
        } else if (run > 0) {
            ++bursts;
            longest = std::max(longest, run);
            run = 0;
        }
    }
    const double mean_burst = static_cast<double>(lost) / bursts;
    EXPECT_NEAR(mean_burst, 4.0, 0.15);
    EXPECT_NEAR(static_cast<double>(lost) / kPackets, 0.01 / 0.26, 0.003);
    EXPECT_GT(longest, 20); // geometric: long bursts do happen
    EXPECT_EQ(m.stats().lost_burst, static_cast<std::uint64_t>(lost));
    EXPECT_EQ(m.stats().lost_random, 0u);
}

TEST(Impairment, GilbertElliottLossInEachState) {
    // 50% loss in the bad state, 1% in the good one.
    Impairment m(parse_spec("ge=1%:10%:50%:1%,seed=4"));
    int lost = 0;
    for (int i = 0; i < kPackets; ++i)
        if (m.decide(0, 100, false).fate != Verdict::Fate::deliver) ++lost;
    const double bad = 0.01 / 0.11;
    EXPECT_NEAR(static_cast<double>(lost) / kPackets, bad * 0.5 + (1 - bad) * 0.01, 0.004);
}

TEST(Impairment, DecisionRatesForCorruptDuplicateReorder) {
    Impairment m(parse_spec("corrupt=0.1%,dup=0.5%,reorder=1%,seed=11"));
    int corrupt = 0, dup = 0, reorder = 0;
    for (int i = 0; i < kPackets; ++i) {
        const Verdict v = m.decide(0, 100, false);
        corrupt += v.corrupt;
        dup += v.duplicate;
        reorder += v.reorder;
    }
    EXPECT_NEAR(corrupt / double(kPackets), 0.001, tolerance(0.001, kPackets));
    EXPECT_NEAR(dup / double(kPackets), 0.005, tolerance(0.005, kPackets));
    EXPECT_NEAR(reorder / double(kPackets), 0.01, tolerance(0.01, kPackets));
}

TEST(Impairment, DelayAndJitterStayInBounds) {
    Impairment m(parse_spec("delay=5ms,jitter=1ms,seed=5"));
    TimeNs lo = ~TimeNs{0}, hi = 0;
    double sum = 0;
    const int n = 100000;
    for (int i = 0; i < n; ++i) {
        const TimeNs now = static_cast<TimeNs>(i) * 10 * kNsPerMs; // far apart: order never binds
        const TimeNs d = m.decide(now, 100, false).deliver_at - now;
        lo = std::min(lo, d);
        hi = std::max(hi, d);
        sum += static_cast<double>(d);
    }
    EXPECT_GE(lo, 4 * kNsPerMs);
    EXPECT_LE(hi, 6 * kNsPerMs);
    EXPECT_LT(lo, 4 * kNsPerMs + 20 * kNsPerUs); // the whole range is used
    EXPECT_GT(hi, 6 * kNsPerMs - 20 * kNsPerUs);
    EXPECT_NEAR(sum / n, 5e6, 1e4);
}

TEST(Impairment, JitterKeepsOrder) {
    Impairment m(parse_spec("delay=5ms,jitter=2ms,seed=5"));
    TimeNs last = 0;
    for (int i = 0; i < 100000; ++i) {
        const TimeNs now = static_cast<TimeNs>(i) * 10 * kNsPerUs;
        const TimeNs at = m.decide(now, 100, false).deliver_at;
        ASSERT_GE(at, last);
        ASSERT_GE(at, now + 3 * kNsPerMs);
        last = at;
    }
}

TEST(Impairment, BottleneckTailDropsWhenTheQueueIsFull) {
    // 1250-byte packets at 1 Gbit/s take 10 µs each; 1000 at once fill the
    // 100-packet queue and the rest are dropped at the tail.
    Impairment m(parse_spec("rate=1gbit,queue=100"));
    std::vector<TimeNs> at;
    int dropped = 0;
    for (int i = 0; i < 1000; ++i) {
        const Verdict v = m.decide(0, 1250, false);
        if (v.fate == Verdict::Fate::tail_drop) ++dropped;
        else at.push_back(v.deliver_at);
    }
    EXPECT_EQ(at.size(), 100u);
    EXPECT_EQ(dropped, 900);
    EXPECT_EQ(m.stats().tail_dropped, 900u);
    for (std::size_t i = 0; i < at.size(); ++i) EXPECT_EQ(at[i], (i + 1) * 10 * kNsPerUs);
    // Once the queue drains, packets go again.
    EXPECT_EQ(m.queued(1000 * kNsPerUs), 0u);
    EXPECT_EQ(m.decide(1000 * kNsPerUs, 1250, false).fate, Verdict::Fate::deliver);
}

TEST(Impairment, BottleneckRespectsTheRate) {
    // Offered at 2 Gbit/s for 100 ms into a 1 Gbit/s bottleneck: what comes
    // out comes out at 1 Gbit/s, the rest is dropped.
    Impairment m(parse_spec("rate=1gbit,queue=50"));
    const std::uint32_t bytes = 1500;
    const TimeNs gap = 6 * kNsPerUs; // 1500 B per 6 µs = 2 Gbit/s
    std::uint64_t delivered_bytes = 0;
    TimeNs first = 0, last = 0;
    for (TimeNs now = 0; now < 100 * kNsPerMs; now += gap) {
        const Verdict v = m.decide(now, bytes, false);
        if (v.fate != Verdict::Fate::deliver) continue;
        if (delivered_bytes == 0) first = v.deliver_at;
        delivered_bytes += bytes;
        last = v.deliver_at;
    }
    const double bps = static_cast<double>(delivered_bytes - bytes) * 8 / (static_cast<double>(last - first) / 1e9);
    EXPECT_NEAR(bps, 1e9, 1e9 * 0.001);
    EXPECT_NEAR(static_cast<double>(m.stats().tail_dropped) / static_cast<double>(m.stats().offered), 0.5, 0.01);
}

TEST(Impairment, BottleneckRateIsExactForOddRates) {
    // 1500 B at 7 Mbit/s: 1,714,285.7 ns each; the remainder is carried.
    Impairment m(parse_spec("rate=7mbit,queue=1000"));
    TimeNs at = 0;
    for (int i = 0; i < 700; ++i) at = m.decide(0, 1500, false).deliver_at;
    EXPECT_EQ(at, 1200 * kNsPerMs); // 700 × 12000 bits / 7e6 bit/s = 1.2 s exactly
}

TEST(Impairment, MarksCeAboveTheThresholdOnEctPacketsOnly) {
    Impairment m(parse_spec("rate=1gbit,queue=100,ecn=20"));
    int marked = 0, first_marked = -1;
    for (int i = 0; i < 50; ++i) {
        const Verdict v = m.decide(0, 1250, true);
        ASSERT_EQ(v.fate, Verdict::Fate::deliver);
        if (v.mark_ce) {
            if (first_marked < 0) first_marked = i;
            ++marked;
        }
    }
    EXPECT_EQ(first_marked, 20); // 20 already queued ahead of it
    EXPECT_EQ(marked, 30);
    // Not ECT: never marked, queued all the same.
    for (int i = 0; i < 10; ++i) EXPECT_FALSE(m.decide(0, 1250, false).mark_ce);
    EXPECT_EQ(m.queued(0), 60u);
    EXPECT_EQ(m.stats().ce_marked, 30u);
    // Drained below the threshold: no marks again.
    EXPECT_FALSE(m.decide(590 * kNsPerUs, 1250, true).mark_ce);
}

TEST(Impairment, ComponentsAddUp) {
    // Bottleneck, then delay: a lone packet of 1250 B at 1 Gbit/s arrives
    // 10 µs + 5 ms after it was offered.
    Impairment m(parse_spec("rate=1gbit,delay=5ms"));
    EXPECT_EQ(m.decide(kNsPerSec, 1250, false).deliver_at, kNsPerSec + 10 * kNsPerUs + 5 * kNsPerMs);
}

} // namespace
} // namespace lanetcp::impair
