// The impairment spec parser: every key, the error for bad input, and the
// canonical text.
#include <gtest/gtest.h>

#include "impair/spec.hpp"

namespace lanetcp::impair {
namespace {

TEST(ImpairSpec, ParsesEveryKey) {
    const Spec s = parse_spec("loss=1%,delay=5ms,jitter=1ms,rate=1gbit,queue=100,ecn=20,reorder=1%,dup=0.5%,"
                              "corrupt=0.1%,ge=1%:30%:90%:0.5%,seed=7,reorder_gap=5,reorder_hold=200us,limit=5000");
    EXPECT_DOUBLE_EQ(s.loss_pct, 1);
    EXPECT_EQ(s.delay, 5 * kNsPerMs);
    EXPECT_EQ(s.jitter, 1 * kNsPerMs);
    EXPECT_EQ(s.rate_bps, 1'000'000'000u);
    EXPECT_EQ(s.queue, 100u);
    EXPECT_EQ(s.ecn, 20u);
    EXPECT_DOUBLE_EQ(s.reorder_pct, 1);
    EXPECT_DOUBLE_EQ(s.duplicate_pct, 0.5);
    EXPECT_DOUBLE_EQ(s.corrupt_pct, 0.1);
    EXPECT_DOUBLE_EQ(s.ge.p_pct, 1);
    EXPECT_DOUBLE_EQ(s.ge.r_pct, 30);
    EXPECT_DOUBLE_EQ(s.ge.loss_bad_pct, 90);
    EXPECT_DOUBLE_EQ(s.ge.loss_good_pct, 0.5);
    EXPECT_EQ(s.seed, 7u);
    EXPECT_EQ(s.reorder_gap, 5u);
    EXPECT_EQ(s.reorder_hold, 200 * kNsPerUs);
    EXPECT_EQ(s.limit, 5000u);
    EXPECT_TRUE(s.active());
}

TEST(ImpairSpec, EmptyAndNoneAreAPerfectWire) {
    EXPECT_EQ(parse_spec(""), Spec{});
    EXPECT_EQ(parse_spec("none"), Spec{});
    EXPECT_FALSE(Spec{}.active());
    EXPECT_FALSE(parse_spec("seed=9").active());
    EXPECT_EQ(to_string(Spec{}), "none");
}

TEST(ImpairSpec, UnitsAndDefaults) {
    EXPECT_EQ(parse_spec("delay=1s").delay, kNsPerSec);
    EXPECT_EQ(parse_spec("delay=250ns").delay, 250u);
    EXPECT_EQ(parse_spec("delay=0.5ms").delay, 500 * kNsPerUs);
    EXPECT_EQ(parse_spec("delay=0").delay, 0u);
    EXPECT_EQ(parse_spec("rate=100Mbit").rate_bps, 100'000'000u);
    EXPECT_EQ(parse_spec("rate=2.5gbit").rate_bps, 2'500'000'000u);
    EXPECT_EQ(parse_spec("rate=500kbit").rate_bps, 500'000u);
    const Spec g = parse_spec("ge=2%:25%");
    EXPECT_DOUBLE_EQ(g.ge.loss_bad_pct, 100);
    EXPECT_DOUBLE_EQ(g.ge.loss_good_pct, 0);
    EXPECT_EQ(parse_spec("rate=1gbit").queue, 1000u);
}

TEST(ImpairSpec, CanonicalTextParsesBack) {
    for (const char* text : {"loss=1%", "loss=0.25%,delay=5ms,jitter=1ms", "rate=1gbit,queue=100,ecn=20",
                             "ge=1%:30%:100%:0%,seed=7", "reorder=2%,reorder_gap=4,dup=1%,corrupt=0.1%",
                             "delay=1500us,rate=123456bit,limit=20"}) {
        const Spec s = parse_spec(text);
        EXPECT_EQ(parse_spec(to_string(s)), s) << text << " -> " << to_string(s);
    }
    EXPECT_EQ(to_string(parse_spec("delay=5ms,loss=1%")), "loss=1%,delay=5ms");
}

void expect_rejected(const char* text, const char* message_part) {
    try {
        parse_spec(text);
        ADD_FAILURE() << text << ": accepted";
    } catch (const SpecError& e) {
        EXPECT_NE(std::string(e.what()).find(message_part), std::string::npos)
            << text << ": message '" << e.what() << "' lacks '" << message_part << "'";
    }
}

TEST(ImpairSpec, RejectsBadInputWithTheReason) {
    expect_rejected("loss=1", "percentage");
    expect_rejected("loss=abc", "percentage");
    expect_rejected("loss=-1%", "percentage");
    expect_rejected("loss=101%", "0% to 100%");
    expect_rejected("delay=5", "time like");
    expect_rejected("delay=5min", "units");
    expect_rejected("rate=1gbps", "rate in bit");
    expect_rejected("rate=10bit", "1kbit");
    expect_rejected("queue=0,rate=1gbit", "packets from 1");
    expect_rejected("queue=10", "needs a bottleneck");
    expect_rejected("ecn=20", "needs a bottleneck");
    expect_rejected("rate=1gbit,queue=100,ecn=200", "never mark");
    expect_rejected("ge=0%:10%", "above 0%");
    expect_rejected("ge=1%:0%", "stay bad");
    expect_rejected("ge=1%", "at least P and R");
    expect_rejected("ge=1%:2%:3%:4%:5%", "at most four");
    expect_rejected("ge=1:2", "percentages");
    expect_rejected("jitter=2ms,delay=1ms", "larger than delay");
    expect_rejected("seed=abc", "integer");
    expect_rejected("seed=1x", "integer");
    expect_rejected("speed=1", "unknown key 'speed'");
    expect_rejected("loss=1%,loss=2%", "given twice");
    expect_rejected("loss", "key=value");
    expect_rejected("loss=", "key=value");
    expect_rejected("loss=1%,", "key=value");
    expect_rejected("none=1", "unknown key");
}

} // namespace
} // namespace lanetcp::impair
