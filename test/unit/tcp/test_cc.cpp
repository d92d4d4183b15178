// Congestion control (lib/tcp/cc): each module driven directly with ACK
// reports on a manual clock (NewReno's slow start and congestion avoidance,
// CUBIC's curve against RFC 9438's W_cubic(t), HyStart++, DCTCP's alpha and
// cut, undo, timeouts, MSS changes), then two stacks that transfer with each
// module chosen by configuration, by listener, by connect() and on the fly.
#include <cerrno>
#include <cmath>
#include <optional>

#include <gmock/gmock.h>

#include "harness.hpp"
#include "tcp/cc/congestion.hpp"

namespace lanetcp::tcp::test {
namespace {

using cc::AckEvent;
using cc::Algorithm;
using cc::CongestionControl;

constexpr std::uint32_t kSeg = 1000; // MSS for the direct tests: windows read as segments * 1000

// A sender that always fills its window: every ACK delivers `bytes`, and
// SND.NXT is then SND.UNA + cwnd.
struct Driver {
    explicit Driver(Algorithm a, std::uint32_t initial_segments = 10) {
        cc.init(a, kSeg, initial_segments * kSeg, now);
        nxt = una + cc.cwnd();
    }
    void ack(std::uint32_t bytes, TimeNs rtt, std::uint32_t ece = 0, bool limited = true, bool recovery = false) {
        AckEvent e;
        e.acked = bytes;
        e.ece_acked = ece;
        e.in_flight = static_cast<std::uint32_t>(wire::seq_diff(nxt, una));
        una += bytes;
        e.rtt = rtt;
        e.srtt = rtt;
        e.snd_una = una;
        e.snd_nxt = nxt;
        e.cwnd_limited = limited;
        e.in_recovery = recovery;
        e.now = now;
        cc.on_ack(e);
        if (wire::seq_lt(nxt, una + cc.cwnd())) nxt = una + cc.cwnd();
    }
    // One round trip: the window's worth of ACKs, one segment each, spread
    // evenly over `rtt`; each gives an RTT sample of `rtt`.
    void round(TimeNs rtt, std::uint32_t ece_every = 0) {
        const std::uint32_t n = std::max<std::uint32_t>(cc.cwnd() / kSeg, 1);
        for (std::uint32_t i = 0; i < n; ++i) {
            now += rtt / n;
            ack(kSeg, rtt, ece_every != 0 && i % ece_every == 0 ? kSeg : 0);
        }
    }
    // A loss detected with the window full, and the recovery after it (PRR
    // is the connection's: here the window simply lands on ssthresh).
    void loss_and_recovery() {
        cc.on_loss(cc.cwnd(), now);
        cc.on_recovery_exit(now);
        nxt = una + cc.cwnd();
    }
    double segments() const { return static_cast<double>(cc.cwnd()) / kSeg; }

    CongestionControl cc;
    TimeNs now = 1 * kSec;
    SeqNum una{5000};
    SeqNum nxt{};
};

// RFC 9438 eq. 1 and 2 in floating point, in segments.
double w_cubic(double t, double w_max, double cwnd_epoch) {
    const double k = std::cbrt((w_max - cwnd_epoch) / 0.4);
    return 0.4 * std::pow(t - k, 3) + w_max;
}

// ------------------------------------------------------------- names ----

TEST(CcNames, EveryAlgorithmParsesBackFromItsName) {
    for (std::size_t i = 0; i < cc::kAlgorithmCount; ++i) {
        const auto a = static_cast<Algorithm>(i);
        EXPECT_EQ(cc::parse_algorithm(cc::name(a)), a) << cc::name(a);
    }
    EXPECT_EQ(cc::name(Algorithm::cubic), "cubic");
    EXPECT_FALSE(cc::parse_algorithm("reno"));
    EXPECT_FALSE(cc::parse_algorithm("CUBIC"));
    EXPECT_EQ(TcpConfig{}.congestion_control, Algorithm::cubic) << "the default, as Linux's";
}

// ----------------------------------------------------------- NewReno ----

TEST(CcNewReno, SlowStartGrowsByBytesAckedAtMostTwoSegmentsPerAck) {
    Driver d(Algorithm::newreno);
    EXPECT_EQ(d.cc.cwnd(), 10 * kSeg);
    d.ack(kSeg, 10 * kMs);
    EXPECT_EQ(d.cc.cwnd(), 11 * kSeg);
    d.ack(500, 10 * kMs);
    EXPECT_EQ(d.cc.cwnd(), 11 * kSeg + 500) << "byte counting (RFC 3465)";
    d.ack(5 * kSeg, 10 * kMs);
    EXPECT_EQ(d.cc.cwnd(), 13 * kSeg + 500) << "L = 2 segments per ACK";
}

TEST(CcNewReno, SlowStartDoublesPerRound) {
    Driver d(Algorithm::newreno);
    d.round(10 * kMs);
    EXPECT_EQ(d.cc.cwnd(), 20 * kSeg);
    d.round(10 * kMs);
    EXPECT_EQ(d.cc.cwnd(), 40 * kSeg);
}

TEST(CcNewReno, CongestionAvoidanceAddsOneSegmentPerWindow) {
    Driver d(Algorithm::newreno, 40);
    d.loss_and_recovery();
    EXPECT_EQ(d.cc.ssthresh(), 20 * kSeg) << "RFC 5681 eq. 4: half the flight";
    EXPECT_EQ(d.cc.cwnd(), 20 * kSeg);
    for (int r = 1; r <= 5; ++r) {
        d.round(10 * kMs);
        EXPECT_EQ(d.cc.cwnd(), (20u + r) * kSeg) << "round " << r;
    }
}

TEST(CcNewReno, NoGrowthWhenNotCwndLimitedOrInRecovery) {
    Driver d(Algorithm::newreno);
    d.ack(kSeg, 10 * kMs, 0, /*limited=*/false);
    EXPECT_EQ(d.cc.cwnd(), 10 * kSeg);
    d.ack(kSeg, 10 * kMs, 0, true, /*recovery=*/true);
    EXPECT_EQ(d.cc.cwnd(), 10 * kSeg);
}

TEST(CcNewReno, LossSetsSsthreshAndLeavesCwndToPrr) {
    Driver d(Algorithm::newreno, 30);
    d.cc.on_loss(24 * kSeg, d.now);
    EXPECT_EQ(d.cc.ssthresh(), 12 * kSeg);
    EXPECT_EQ(d.cc.cwnd(), 30 * kSeg) << "PRR brings cwnd down, not the module";
    d.cc.on_recovery_exit(d.now);
    EXPECT_EQ(d.cc.cwnd(), 12 * kSeg);
    d.cc.on_loss(kSeg, d.now);
    EXPECT_EQ(d.cc.ssthresh(), 2 * kSeg) << "never below two segments";
}

TEST(CcNewReno, TimeoutLeavesOneSegment) {
    Driver d(Algorithm::newreno, 30);
    d.cc.on_rto(30 * kSeg, d.now);
    EXPECT_EQ(d.cc.cwnd(), kSeg);
    EXPECT_EQ(d.cc.ssthresh(), 15 * kSeg);
    d.ack(kSeg, 10 * kMs);
    EXPECT_EQ(d.cc.cwnd(), 2 * kSeg) << "slow start again";
}

TEST(CcNewReno, EceHalvesOncePerWindow) {
    Driver d(Algorithm::newreno, 40);
    d.loss_and_recovery(); // into congestion avoidance: 20 segments
    d.ack(kSeg, 10 * kMs, kSeg);
    const std::uint32_t before = d.cc.cwnd();
    d.cc.on_ece(before, d.now);
    EXPECT_EQ(d.cc.cwnd(), before / 2);
    EXPECT_EQ(d.cc.ssthresh(), before / 2);
    d.ack(kSeg, 10 * kMs, kSeg);
    d.cc.on_ece(d.cc.cwnd(), d.now);
    EXPECT_EQ(d.cc.cwnd(), before / 2) << "a second ECE in the same window changes nothing";
    d.round(10 * kMs);
    d.round(10 * kMs);
    const std::uint32_t later = d.cc.cwnd();
    d.cc.on_ece(later, d.now);
    EXPECT_EQ(d.cc.cwnd(), later / 2) << "the next window reduces again";
    d.cc.undo(d.now);
    EXPECT_EQ(d.cc.cwnd(), later / 2) << "an ECE reduction is never undone";
}

TEST(CcNewReno, UndoRestoresWindowAndSsthresh) {
    Driver d(Algorithm::newreno, 40);
    d.loss_and_recovery();
    d.round(10 * kMs);
    const std::uint32_t cwnd = d.cc.cwnd(), ssthresh = d.cc.ssthresh();
    d.cc.on_loss(cwnd, d.now);
    d.cc.set_cwnd(cwnd / 3); // what PRR did meanwhile
    d.cc.undo(d.now);
    EXPECT_EQ(d.cc.cwnd(), cwnd);
    EXPECT_EQ(d.cc.ssthresh(), ssthresh);

    d.cc.on_rto(cwnd, d.now);
    EXPECT_EQ(d.cc.cwnd(), kSeg);
    d.cc.undo(d.now);
    EXPECT_EQ(d.cc.cwnd(), cwnd);
    EXPECT_EQ(d.cc.ssthresh(), ssthresh);
}

TEST(CcNewReno, UndoOfTheInitialSlowStartResumesIt) {
    Driver d(Algorithm::newreno, 16);
    d.cc.on_loss(16 * kSeg, d.now);
    d.cc.undo(d.now);
    EXPECT_EQ(d.cc.ssthresh(), cc::kInfiniteSsthresh);
    EXPECT_EQ(d.cc.cwnd(), 16 * kSeg);
}

TEST(CcCommon, MssChangeKeepsTheWindowInSegments) {
    for (Algorithm a : {Algorithm::newreno, Algorithm::cubic, Algorithm::dctcp}) {
        Driver d(a, 40);
        d.loss_and_recovery();
        const std::uint32_t segs = d.cc.cwnd() / kSeg;
        const std::uint32_t ss_segs = d.cc.ssthresh() / kSeg;
        d.cc.set_mss(500);
        EXPECT_EQ(d.cc.mss(), 500u) << cc::name(a);
        EXPECT_EQ(d.cc.cwnd(), segs * 500) << cc::name(a);
        EXPECT_EQ(d.cc.ssthresh(), ss_segs * 500) << cc::name(a);
        d.cc.on_rto(d.cc.cwnd(), d.now);
        EXPECT_EQ(d.cc.cwnd(), 500u) << "the loss window is one new segment: " << cc::name(a);
    }
}

TEST(CcCommon, ChangingModuleKeepsTheWindow) {
    Driver d(Algorithm::newreno, 40);
    d.loss_and_recovery();
    const std::uint32_t cwnd = d.cc.cwnd(), ssthresh = d.cc.ssthresh();
    d.cc.change(Algorithm::cubic, d.now);
    EXPECT_EQ(d.cc.algorithm(), Algorithm::cubic);
    ASSERT_NE(d.cc.module<cc::Cubic>(), nullptr);
    EXPECT_EQ(d.cc.module<cc::NewReno>(), nullptr);
    EXPECT_EQ(d.cc.cwnd(), cwnd);
    EXPECT_EQ(d.cc.ssthresh(), ssthresh);
    d.round(100 * kMs);
    EXPECT_GT(d.cc.cwnd(), cwnd) << "the new module grows the window it was given";
    d.cc.change(static_cast<Algorithm>(200), d.now);
    EXPECT_EQ(d.cc.algorithm(), Algorithm::cubic) << "a value outside the set is refused";
}

TEST(CcCommon, RestartAfterIdleFallsBackToTheInitialWindow) {
    Driver d(Algorithm::newreno, 10);
    d.round(10 * kMs);
    d.round(10 * kMs);
    ASSERT_EQ(d.cc.cwnd(), 40 * kSeg);
    d.cc.restart_after_idle(d.now + 5 * kSec);
    EXPECT_EQ(d.cc.cwnd(), 10 * kSeg);
    EXPECT_EQ(d.cc.ssthresh(), cc::kInfiniteSsthresh);
}

// ------------------------------------------------------------- CUBIC ----

TEST(CcCubic, IntegerCubeRoot) {
    for (std::uint64_t y : {0ull, 1ull, 2ull, 7ull, 1000ull, 123456ull, 2097151ull}) {
        EXPECT_EQ(cc::Cubic::icbrt(y * y * y), y);
        if (y > 1) {
            EXPECT_EQ(cc::Cubic::icbrt(y * y * y - 1), y - 1);
        }
    }
}

TEST(CcCubic, LossSetsWmaxAndBetaAndKFollowsFromThem) {
    Driver d(Algorithm::cubic, 100);
    d.cc.on_loss(100 * kSeg, d.now);
    const cc::Cubic* c = d.cc.module<cc::Cubic>();
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->w_max(), 100 * kSeg);
    EXPECT_EQ(d.cc.ssthresh(), 70 * kSeg) << "beta_cubic = 0.7";
    EXPECT_EQ(d.cc.cwnd(), 100 * kSeg) << "cwnd is PRR's until recovery ends";
    d.cc.on_recovery_exit(d.now);
    EXPECT_EQ(d.cc.cwnd(), 70 * kSeg);
    EXPECT_FALSE(c->in_epoch());
    d.now += 10 * kMs;
    d.ack(kSeg, 100 * kMs);
    ASSERT_TRUE(c->in_epoch()) << "the epoch begins with congestion avoidance";
    EXPECT_EQ(c->epoch_start(), d.now);
    // K = cbrt((W_max - cwnd_epoch) / C) = cbrt(30 / 0.4) s = 4.2172 s.
    EXPECT_NEAR(static_cast<double>(c->k_ms()), 1000 * std::cbrt(30 / 0.4), 1.0);
}

TEST(CcCubic, WindowFollowsTheCubicCurveOverTime) {
    // A long RTT (250 ms), so that CUBIC's curve, not the Reno estimate,
    // sets the window; W_max = 100 segments, K = 4.217 s.
    Driver d(Algorithm::cubic, 100);
    d.loss_and_recovery();
    ASSERT_EQ(d.cc.cwnd(), 70 * kSeg);
    const TimeNs rtt = 250 * kMs;
    const double rtt_s = 0.25;
    const TimeNs start = d.now;
    const cc::Cubic* c = d.cc.module<cc::Cubic>();
    int checked = 0;
    for (double at : {0.5, 1.0, 2.0, 3.0, 4.0, 4.25, 5.0, 6.0, 7.0, 8.0}) {
        while (d.now < start + static_cast<TimeNs>(at * kSec)) d.round(rtt);
        const double t = static_cast<double>(d.now - c->epoch_start()) / kSec;
        // Each ACK aims at W_cubic(t + RTT): after a round of them cwnd is
        // between the curve now and the curve one RTT on.
        const double lo = w_cubic(t, 100, 70), hi = w_cubic(t + rtt_s, 100, 70);
        EXPECT_GE(d.segments(), lo - 0.5) << "t = " << t << " s";
        EXPECT_LE(d.segments(), hi + 0.5) << "t = " << t << " s";
        EXPECT_GT(d.segments(), static_cast<double>(c->w_est()) / kSeg) << "the cubic region, not Reno's";
        ++checked;
    }
    EXPECT_EQ(checked, 10);
    EXPECT_GT(d.segments(), 120) << "probing past W_max, convex";
}

TEST(CcCubic, PlateausAroundWmax) {
    Driver d(Algorithm::cubic, 100);
    d.loss_and_recovery();
    const TimeNs start = d.now;
    const double k = std::cbrt(30 / 0.4);
    while (d.now < start + static_cast<TimeNs>((k - 0.5) * kSec)) d.round(100 * kMs);
    const double before = d.segments();
    while (d.now < start + static_cast<TimeNs>((k + 0.5) * kSec)) d.round(100 * kMs);
    EXPECT_LT(d.segments() - before, 2.0) << "the curve is flat around K";
    EXPECT_NEAR(d.segments(), 100, 2.0);
}

TEST(CcCubic, FastConvergenceLowersWmaxWhenTheWindowShrinks) {
    Driver d(Algorithm::cubic, 100);
    d.loss_and_recovery(); // W_max 100, cwnd 70
    const cc::Cubic* c = d.cc.module<cc::Cubic>();
    d.round(100 * kMs);
    const std::uint32_t cwnd = d.cc.cwnd();
    ASSERT_LT(cwnd, 100 * kSeg);
    d.cc.on_loss(cwnd, d.now);
    EXPECT_EQ(c->w_max(), cwnd * 17 / 20) << "W_max = cwnd * (1 + beta) / 2 (RFC 9438 4.7)";
    EXPECT_EQ(d.cc.ssthresh(), cwnd * 7 / 10);
    d.cc.on_recovery_exit(d.now);
    // A loss with cwnd above W_max: W_max is plainly cwnd.
    d.cc.set_cwnd(200 * kSeg);
    d.cc.on_loss(200 * kSeg, d.now);
    EXPECT_EQ(c->w_max(), 200 * kSeg);
}

TEST(CcCubic, RenoFriendlyRegionOnAShortRtt) {
    // 1 ms RTT: in 50 round trips the curve has barely moved off cwnd_epoch
    // (W_cubic(0.05 s) = 71.1 segments) while Reno, at alpha_cubic = 9/17
    // segments per RTT, has reached 70 + 26.5.
    Driver d(Algorithm::cubic, 100);
    d.loss_and_recovery();
    const cc::Cubic* c = d.cc.module<cc::Cubic>();
    for (int i = 0; i < 50; ++i) d.round(1 * kMs);
    const double t = static_cast<double>(d.now - c->epoch_start()) / kSec;
    EXPECT_LT(w_cubic(t, 100, 70), 72.0);
    EXPECT_NEAR(d.segments(), 70 + 50 * 9.0 / 17, 1.5);
    EXPECT_EQ(d.cc.cwnd(), c->w_est());
    // Past W_max (cwnd_prior) the estimate grows a whole segment per RTT.
    for (int i = 0; i < 60; ++i) d.round(1 * kMs);
    const double at = d.segments();
    for (int i = 0; i < 10; ++i) d.round(1 * kMs);
    EXPECT_NEAR(d.segments() - at, 10.0, 1.0);
}

TEST(CcCubic, NoGrowthAndNoTimeWhileApplicationLimited) {
    Driver d(Algorithm::cubic, 100);
    d.loss_and_recovery();
    d.round(100 * kMs);
    const cc::Cubic* c = d.cc.module<cc::Cubic>();
    const std::uint32_t cwnd = d.cc.cwnd();
    const TimeNs epoch = c->epoch_start();
    for (int i = 0; i < 100; ++i) {
        d.now += 100 * kMs;
        d.ack(kSeg, 100 * kMs, 0, /*limited=*/false);
    }
    EXPECT_EQ(d.cc.cwnd(), cwnd);
    EXPECT_EQ(c->epoch_start(), epoch + 100 * 100 * kMs) << "t excludes the 10 s the application held back";
}

TEST(CcCubic, UndoRestoresTheCurve) {
    Driver d(Algorithm::cubic, 100);
    d.loss_and_recovery();
    for (int i = 0; i < 10; ++i) d.round(100 * kMs);
    const cc::Cubic* c = d.cc.module<cc::Cubic>();
    const std::uint32_t cwnd = d.cc.cwnd(), ssthresh = d.cc.ssthresh(), w_max = c->w_max();
    const std::int64_t k = c->k_ms();
    const TimeNs epoch = c->epoch_start();
    d.cc.on_loss(cwnd, d.now);
    EXPECT_NE(c->w_max(), w_max);
    d.cc.set_cwnd(cwnd / 2);
    d.cc.undo(d.now);
    EXPECT_EQ(d.cc.cwnd(), cwnd);
    EXPECT_EQ(d.cc.ssthresh(), ssthresh);
    EXPECT_EQ(c->w_max(), w_max);
    EXPECT_EQ(c->k_ms(), k);
    EXPECT_TRUE(c->in_epoch());
    EXPECT_EQ(c->epoch_start(), epoch);
}

TEST(CcCubic, TimeoutIsACongestionEventWithOneSegmentLeft) {
    Driver d(Algorithm::cubic, 100);
    d.cc.on_rto(100 * kSeg, d.now);
    EXPECT_EQ(d.cc.cwnd(), kSeg);
    EXPECT_EQ(d.cc.ssthresh(), 70 * kSeg);
    EXPECT_EQ(d.cc.module<cc::Cubic>()->w_max(), 100 * kSeg);
    EXPECT_FALSE(d.cc.module<cc::Cubic>()->hystart().active()) << "later slow starts are standard";
    d.ack(kSeg, 10 * kMs);
    EXPECT_EQ(d.cc.cwnd(), 2 * kSeg);
}

// --------------------------------------------------------- HyStart++ ----

TEST(CcHyStart, SteadyRttStaysInSlowStart) {
    Driver d(Algorithm::cubic);
    const cc::Cubic* c = d.cc.module<cc::Cubic>();
    ASSERT_EQ(c->hystart().phase(), cc::HyStart::Phase::slow_start);
    for (int r = 0; r < 8; ++r) d.round(10 * kMs);
    EXPECT_EQ(c->hystart().phase(), cc::HyStart::Phase::slow_start);
    EXPECT_EQ(d.cc.ssthresh(), cc::kInfiniteSsthresh);
    EXPECT_EQ(d.cc.cwnd(), (10u << 8) * kSeg) << "doubling every round";
}

TEST(CcHyStart, RisingRttEntersConservativeSlowStartThenCongestionAvoidance) {
    Driver d(Algorithm::cubic);
    const cc::Cubic* c = d.cc.module<cc::Cubic>();
    for (int r = 0; r < 3; ++r) d.round(10 * kMs);
    EXPECT_EQ(c->hystart().phase(), cc::HyStart::Phase::slow_start);
    // 10 ms to 14 ms: the threshold is max(4 ms, min(10 ms / 8, 16 ms)).
    // HyStart's rounds begin at the ACK for what was SND.NXT, a segment or
    // two off the test's: the rise shows within two rounds.
    for (int r = 0; r < 2 && c->hystart().phase() == cc::HyStart::Phase::slow_start; ++r) d.round(14 * kMs);
    ASSERT_EQ(c->hystart().phase(), cc::HyStart::Phase::conservative);
    // In CSS the window grows a quarter as fast: 1.25 times per round.
    const std::uint32_t css_start = d.cc.cwnd();
    d.round(14 * kMs);
    EXPECT_NEAR(static_cast<double>(d.cc.cwnd()) / css_start, 1.25, 0.05);
    for (int r = 0; r < 5 && c->hystart().active(); ++r) d.round(14 * kMs);
    EXPECT_FALSE(c->hystart().active());
    EXPECT_NE(d.cc.ssthresh(), cc::kInfiniteSsthresh) << "ssthresh = cwnd after CSS_ROUNDS";
    EXPECT_LE(d.cc.ssthresh(), d.cc.cwnd());
}

TEST(CcHyStart, SmallRiseBelowTheThresholdIsIgnored) {
    Driver d(Algorithm::cubic);
    const cc::Cubic* c = d.cc.module<cc::Cubic>();
    d.round(10 * kMs);
    d.round(10 * kMs);
    d.round(13 * kMs); // +3 ms < 4 ms
    d.round(13 * kMs);
    d.round(13 * kMs);
    EXPECT_EQ(c->hystart().phase(), cc::HyStart::Phase::slow_start);
}

TEST(CcHyStart, RttFallingBackDuringCssResumesSlowStart) {
    Driver d(Algorithm::cubic);
    const cc::Cubic* c = d.cc.module<cc::Cubic>();
    d.round(10 * kMs);
    d.round(10 * kMs);
    d.round(20 * kMs);
    d.round(20 * kMs);
    ASSERT_EQ(c->hystart().phase(), cc::HyStart::Phase::conservative);
    d.round(10 * kMs); // below the CSS baseline of 20 ms
    d.round(10 * kMs);
    EXPECT_EQ(c->hystart().phase(), cc::HyStart::Phase::slow_start);
    EXPECT_EQ(d.cc.ssthresh(), cc::kInfiniteSsthresh);
}

TEST(CcHyStart, LossEndsItAndUndoResumesIt) {
    Driver d(Algorithm::cubic);
    d.round(10 * kMs);
    d.cc.on_loss(d.cc.cwnd(), d.now);
    EXPECT_FALSE(d.cc.module<cc::Cubic>()->hystart().active());
    d.cc.undo(d.now);
    EXPECT_EQ(d.cc.module<cc::Cubic>()->hystart().phase(), cc::HyStart::Phase::slow_start);
    EXPECT_EQ(d.cc.ssthresh(), cc::kInfiniteSsthresh);
}

// ------------------------------------------------------------- DCTCP ----

double alpha_of(const Driver& d) {
    return static_cast<double>(d.cc.module<cc::Dctcp>()->alpha()) / cc::Dctcp::kAlphaOne;
}

TEST(CcDctcp, AlphaStartsAtOneAndConvergesToTheMarkedFraction) {
    Driver d(Algorithm::dctcp, 20);
    EXPECT_EQ(alpha_of(d), 1.0);
    // A quarter of the bytes marked; the window stays put (application
    // limited), alpha's bookkeeping goes on.
    for (int w = 0; w < 120; ++w) {
        for (int i = 0; i < 20; ++i) {
            d.now += kMs;
            d.ack(kSeg, 20 * kMs, i % 4 == 0 ? kSeg : 0, /*limited=*/false);
        }
    }
    EXPECT_NEAR(alpha_of(d), 0.25, 0.01);
    for (int w = 0; w < 120; ++w)
        for (int i = 0; i < 20; ++i) d.ack(kSeg, 20 * kMs, 0, false);
    EXPECT_LT(alpha_of(d), 0.01) << "no marks: alpha decays towards 0";
}

TEST(CcDctcp, OneWindowMovesAlphaByG) {
    Driver d(Algorithm::dctcp, 20);
    for (int i = 0; i < 21; ++i) d.ack(kSeg, 20 * kMs, 0, false);
    EXPECT_NEAR(alpha_of(d), 15.0 / 16, 1e-4) << "alpha = (1 - g) * 1 + g * 0";
}

TEST(CcDctcp, EceCutsByHalfAlphaOncePerWindow) {
    Driver d(Algorithm::dctcp, 100);
    for (int w = 0; w < 150; ++w)
        for (int i = 0; i < 100; ++i) d.ack(kSeg, 20 * kMs, i % 10 == 0 ? kSeg : 0, false);
    const double alpha = alpha_of(d);
    ASSERT_NEAR(alpha, 0.1, 0.01);
    const std::uint32_t before = d.cc.cwnd();
    d.cc.on_ece(before, d.now);
    EXPECT_NEAR(d.cc.cwnd(), before * (1 - alpha / 2), 1.0) << "cwnd * (1 - alpha / 2), not a halving";
    EXPECT_EQ(d.cc.ssthresh(), d.cc.cwnd());
    const std::uint32_t cut = d.cc.cwnd();
    d.ack(kSeg, 20 * kMs, kSeg, false);
    d.cc.on_ece(cut, d.now);
    EXPECT_EQ(d.cc.cwnd(), cut) << "once per window";
    for (int i = 0; i < 101; ++i) d.ack(kSeg, 20 * kMs, 0, false);
    d.cc.on_ece(cut, d.now);
    EXPECT_LT(d.cc.cwnd(), cut) << "the next window cuts again";
}

TEST(CcDctcp, FullMarkingHalvesAndLossIsNewReno) {
    Driver d(Algorithm::dctcp, 40);
    d.ack(kSeg, 20 * kMs, kSeg, false); // alpha still 1
    const std::uint32_t before = d.cc.cwnd();
    d.cc.on_ece(before, d.now);
    EXPECT_EQ(d.cc.cwnd(), before / 2);
    Driver l(Algorithm::dctcp, 40);
    l.cc.on_loss(30 * kSeg, l.now);
    EXPECT_EQ(l.cc.ssthresh(), 15 * kSeg) << "half the flight, as NewReno";
    l.cc.on_recovery_exit(l.now);
    l.round(20 * kMs);
    EXPECT_EQ(l.cc.cwnd(), 16 * kSeg) << "NewReno's congestion avoidance";
}

// ------------------------------------------- through the connection ----

// The connection hands its timeout to the module it runs: ten segments out,
// the retransmission timer fires.
class CcOneLayer : public OneLayer, public testing::WithParamInterface<Algorithm> {
protected:
    CcOneLayer() : OneLayer(config()) {}
    static TcpConfig config() {
        TcpConfig c = test_config();
        c.congestion_control = GetParam();
        return c;
    }
};

TEST_P(CcOneLayer, TimeoutGoesThroughTheModule) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->congestion_control(), GetParam());
    EXPECT_EQ(c->cwnd(), 10u * 1460u);
    EXPECT_EQ(c->ssthresh(), cc::kInfiniteSsthresh);
    ASSERT_EQ(c->send(fake::make_chunk(std::string(10 * 1460, 'x'))), 0);
    EXPECT_EQ(sent().size(), 10u);
    at(200 * kMs);
    EXPECT_EQ(sent().size(), 1u);
    EXPECT_EQ(c->cwnd(), 1460u);
    // CUBIC: beta = 0.7 of cwnd; NewReno and DCTCP: half the flight.
    EXPECT_EQ(c->ssthresh(), GetParam() == Algorithm::cubic ? 10u * 1460u * 7 / 10 : 5u * 1460u);
}

INSTANTIATE_TEST_SUITE_P(CcEveryAlgorithm, CcOneLayer,
                         testing::Values(Algorithm::newreno, Algorithm::cubic, Algorithm::dctcp),
                         [](const testing::TestParamInfo<Algorithm>& i) { return std::string(cc::name(i.param)); });

// ------------------------------------------------------ two stacks ----

constexpr std::uint16_t kPort = 80;

// A 2 MiB transfer each way between two stacks, with every 50th data
// segment lost so that recovery runs too.
struct Transfer {
    explicit Transfer(const TcpConfig& cfg) : pair(cfg) {}
    ~Transfer() {
        if (listener != nullptr) pair.b.tcp->unlisten(listener);
    }
    void start(const ConnectionOptions* listen_opts, const ConnectionOptions* connect_opts, std::uint64_t n) {
        int err = 1;
        listener = pair.b.tcp->listen(kPort, &Server::on_accept, &server, &err);
        ASSERT_NE(listener, nullptr);
        if (listen_opts != nullptr) listener->options = *listen_opts;
        server.configure = [this, n](App& a) {
            a.on_data_hook = [this](App& s) {
                if (s.conn != nullptr) server_cc = s.conn->congestion_control();
                if (server_hook) server_hook(s);
            };
            a.keep_data = false;
            a.check_pattern = true;
            a.pattern_salt_in = 1;
            a.pattern_salt_out = 2;
            a.to_send = n;
            a.shutdown_when_sent = true;
        };
        client.keep_data = false;
        client.check_pattern = true;
        client.pattern_salt_in = 2;
        client.pattern_salt_out = 1;
        client.to_send = n;
        client.shutdown_when_sent = true;
        client.on_data_hook = [this](App& c) {
            if (c.conn != nullptr) client_cc = c.conn->congestion_control();
        };
        client.conn = pair.a.tcp->connect(kIpB, kPort, &kAppHandler, &client, pair.now, &err, 0, connect_opts);
        ASSERT_NE(client.conn, nullptr);
        std::uint64_t data_segments = 0;
        pair.filter = [&data_segments](const SentSegment& s, bool) {
            if (s.payload.empty()) return Pair::Fate::deliver;
            return ++data_segments % 50 == 0 ? Pair::Fate::drop : Pair::Fate::deliver;
        };
        ok = pair.run_until(
            [&] { return client.peer_fin == 1 && !server.apps.empty() && server.apps[0].peer_fin == 1; },
            pair.now + 600 * kSec);
        pair.filter = nullptr;
    }
    void expect_done(std::uint64_t n) {
        EXPECT_TRUE(ok);
        ASSERT_EQ(server.apps.size(), 1u);
        EXPECT_EQ(client.received, n);
        EXPECT_EQ(server.apps[0].received, n);
        EXPECT_EQ(client.pattern_errors, 0u);
        EXPECT_EQ(server.apps[0].pattern_errors, 0u);
        EXPECT_GT(pair.dropped, 0u);
    }
    Pair pair;
    Server server;
    App client;
    Listener* listener = nullptr;
    std::function<void(App&)> server_hook; // the accepted connection's on_data_hook
    // Each side's module, as seen while data arrived.
    std::optional<Algorithm> client_cc, server_cc;
    bool ok = false;
};

class CcTwoStacks : public testing::TestWithParam<Algorithm> {};

TEST_P(CcTwoStacks, TransferCompletesWithTheConfiguredModule) {
    TcpConfig cfg = test_config();
    cfg.congestion_control = GetParam();
    constexpr std::uint64_t kBytes = 2ull << 20;
    {
        Transfer t(cfg);
        t.start(nullptr, nullptr, kBytes);
        t.expect_done(kBytes);
        EXPECT_EQ(t.client_cc, GetParam());
        EXPECT_EQ(t.server_cc, GetParam());
        EXPECT_GT(t.pair.a.counters.tcp_recoveries.get() + t.pair.b.counters.tcp_recoveries.get() +
                      t.pair.a.counters.tcp_timeouts.get() + t.pair.b.counters.tcp_timeouts.get(),
                  0u)
            << "losses went through the module";
    }
    EXPECT_EQ(fake::live_buffers(), 0);
}

INSTANTIATE_TEST_SUITE_P(CcEveryAlgorithm, CcTwoStacks,
                         testing::Values(Algorithm::newreno, Algorithm::cubic, Algorithm::dctcp),
                         [](const testing::TestParamInfo<Algorithm>& i) { return std::string(cc::name(i.param)); });

TEST(CcTwoStacksPerConnection, ListenerAndConnectChooseTheirOwn) {
    TcpConfig cfg = test_config(); // cubic by default
    ConnectionOptions server_opts = ConnectionOptions::from(cfg);
    server_opts.congestion_control = Algorithm::dctcp;
    ConnectionOptions client_opts = ConnectionOptions::from(cfg);
    client_opts.congestion_control = Algorithm::newreno;
    constexpr std::uint64_t kBytes = 1ull << 20;
    {
        Transfer t(cfg);
        t.start(&server_opts, &client_opts, kBytes);
        t.expect_done(kBytes);
        EXPECT_EQ(t.client_cc, Algorithm::newreno);
        EXPECT_EQ(t.server_cc, Algorithm::dctcp);
    }
    EXPECT_EQ(fake::live_buffers(), 0);
}

TEST(CcTwoStacksPerConnection, SetCongestionControlMidTransfer) {
    TcpConfig cfg = test_config();
    constexpr std::uint64_t kBytes = 1ull << 20;
    {
        Transfer t(cfg);
        // The server switches to NewReno once a quarter of the data is in.
        bool switched = false;
        t.server_hook = [&switched](App& s) {
            if (switched || s.received < kBytes / 4) return;
            EXPECT_EQ(s.conn->congestion_control(), Algorithm::cubic);
            EXPECT_EQ(s.conn->set_congestion_control(static_cast<Algorithm>(9)), -EINVAL);
            const std::uint32_t cwnd = s.conn->cwnd();
            EXPECT_EQ(s.conn->set_congestion_control(Algorithm::newreno), 0);
            EXPECT_EQ(s.conn->congestion_control(), Algorithm::newreno);
            EXPECT_EQ(s.conn->cwnd(), cwnd) << "the window carries over";
            EXPECT_THAT(s.conn->describe(0), testing::HasSubstr(" cc=newreno"));
            switched = true;
        };
        t.start(nullptr, nullptr, kBytes);
        EXPECT_TRUE(switched);
        EXPECT_EQ(t.server_cc, Algorithm::newreno) << "and stays";
        t.expect_done(kBytes);
    }
    EXPECT_EQ(fake::live_buffers(), 0);
}

} // namespace
} // namespace lanetcp::tcp::test
