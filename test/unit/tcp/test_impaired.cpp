// Two TcpLayers over the impaired wire of lib/impair, on the manual clock:
// byte-exact bulk transfers under random loss (1%, 5%, 20% each way),
// Gilbert-Elliott burst loss, reordering, duplication, corruption, and a
// bottleneck with delay, jitter and CE marking. Each must deliver every byte
// in order (pattern_byte) and the right length. The 8 MiB versions run in
// the unit suite; the 1 GiB ones (ImpairedWireSlow) only with
// LANETCP_SLOW_TESTS=1, as the meson suite `slow` sets it.
#include <chrono>
#include <cstdlib>
#include <cstdio>

#include "harness.hpp"

namespace lanetcp::tcp::test {
namespace {

constexpr std::uint16_t kPort = 80;
constexpr std::uint64_t kSmall = 8ull << 20; // 8 MiB
constexpr std::uint64_t kGiB = 1ull << 30;

class ImpairedWire : public testing::Test {
protected:
    void TearDown() override {
        pair.reset();
        EXPECT_EQ(fake::live_buffers(), 0) << "packet buffers leaked";
    }

    // A sends `n` pattern bytes to B over a wire with `a_to_b` on the data
    // path and `b_to_a` on the ACK path, then shuts down; true when B has
    // every byte and the FIN within `limit` of simulated time.
    bool transfer(std::uint64_t n, const std::string& a_to_b, const std::string& b_to_a,
                  TimeNs limit = 3600 * kSec) {
        pair->impair(a_to_b, b_to_a);
        server.configure = [](App& a) {
            a.keep_data = false;
            a.check_pattern = true;
            a.pattern_salt_in = 1;
        };
        client.keep_data = false;
        client.pattern_salt_out = 1;
        client.to_send = n;
        client.write_size = 64 * 1024;
        client.shutdown_when_sent = true;
        int err = 1;
        listener = pair->b.tcp->listen(kPort, &Server::on_accept, &server, &err);
        EXPECT_NE(listener, nullptr);
        Connection* c = pair->a.tcp->connect(kIpB, kPort, &kAppHandler, &client, pair->now, &err);
        EXPECT_EQ(err, 0);
        client.conn = c;
        const auto t0 = std::chrono::steady_clock::now();
        const bool ok = pair->run_until(
            [&] { return !server.apps.empty() && server.apps[0].peer_fin == 1; }, pair->now + limit);
        wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        report(n);
        return ok;
    }

    void expect_byte_exact(std::uint64_t n) {
        ASSERT_EQ(server.apps.size(), 1u);
        const App& s = server.apps[0];
        EXPECT_EQ(s.received, n);
        EXPECT_EQ(s.pattern_errors, 0u);
        EXPECT_EQ(s.peer_fin, 1);
        EXPECT_EQ(client.error, -1) << "the sender's connection failed";
    }

    void report(std::uint64_t n) {
        const Counters& ca = pair->a.counters;
        const auto& ab = pair->impair_stats(true);
        const auto& ba = pair->impair_stats(false);
        const std::uint64_t received = server.apps.empty() ? 0 : server.apps[0].received;
        std::printf("  %s: %llu of %llu bytes in %.3f s simulated, %.2f s wall; retransmitted %llu, timeouts %llu; "
                    "data path: %s; ack path: %s\n",
                    testing::UnitTest::GetInstance()->current_test_info()->name(),
                    static_cast<unsigned long long>(received), static_cast<unsigned long long>(n),
                    static_cast<double>(pair->now) / kSec, wall_s,
                    static_cast<unsigned long long>(ca.tcp_retransmitted_segments.get()),
                    static_cast<unsigned long long>(ca.tcp_timeouts.get()), impair::to_string(ab).c_str(),
                    impair::to_string(ba).c_str());
        RecordProperty("simulated_ms", static_cast<int>(pair->now / kMs));
        RecordProperty("wall_ms", static_cast<int>(wall_s * 1000));
        RecordProperty("retransmitted", static_cast<int>(ca.tcp_retransmitted_segments.get()));
        RecordProperty("timeouts", static_cast<int>(ca.tcp_timeouts.get()));
    }

    std::unique_ptr<Pair> pair = std::make_unique<Pair>();
    Server server;
    Listener* listener = nullptr;
    App client;
    double wall_s = 0;
};

TEST_F(ImpairedWire, PerfectWireIsTheOldWire) {
    ASSERT_TRUE(transfer(kSmall, "", ""));
    expect_byte_exact(kSmall);
    EXPECT_EQ(pair->a.counters.tcp_retransmitted_segments.get(), 0u);
    EXPECT_EQ(pair->impair_stats(true).lost(), 0u);
}

TEST_F(ImpairedWire, RandomLoss1PercentEachWay) {
    ASSERT_TRUE(transfer(kSmall, "loss=1%,delay=1ms,seed=1", "loss=1%,delay=1ms,seed=2"));
    expect_byte_exact(kSmall);
    EXPECT_GT(pair->impair_stats(true).lost_random, 0u);
    EXPECT_GT(pair->impair_stats(false).lost_random, 0u);
}

TEST_F(ImpairedWire, RandomLoss5PercentEachWay) {
    ASSERT_TRUE(transfer(kSmall, "loss=5%,delay=1ms,seed=3", "loss=5%,delay=1ms,seed=4"));
    expect_byte_exact(kSmall);
}

TEST_F(ImpairedWire, RandomLoss20PercentEachWay) {
    ASSERT_TRUE(transfer(kSmall, "loss=20%,delay=1ms,seed=5", "loss=20%,delay=1ms,seed=6"));
    expect_byte_exact(kSmall);
}

TEST_F(ImpairedWire, GilbertElliottBurstLoss) {
    // Bursts of 4 packets on average, about 3.8% of packets lost each way.
    ASSERT_TRUE(transfer(kSmall, "ge=1%:25%,seed=7", "ge=1%:25%,seed=8"));
    expect_byte_exact(kSmall);
    EXPECT_GT(pair->impair_stats(true).lost_burst, 0u);
}

TEST_F(ImpairedWire, Reordering) {
    ASSERT_TRUE(transfer(kSmall, "reorder=3%,reorder_gap=3,delay=100us,seed=9", "reorder=3%,delay=100us,seed=10"));
    expect_byte_exact(kSmall);
    EXPECT_GT(pair->impair_stats(true).reordered, 0u);
}

TEST_F(ImpairedWire, Duplication) {
    ASSERT_TRUE(transfer(kSmall, "dup=5%,seed=11", "dup=5%,seed=12"));
    expect_byte_exact(kSmall);
    EXPECT_GT(pair->impair_stats(true).duplicated, 0u);
}

TEST_F(ImpairedWire, Corruption) {
    ASSERT_TRUE(transfer(kSmall, "corrupt=2%,seed=13", "corrupt=2%,seed=14"));
    expect_byte_exact(kSmall);
    EXPECT_GT(pair->impair_stats(true).corrupted, 0u);
    EXPECT_EQ(pair->corrupted_discarded,
              pair->impair_stats(true).corrupted + pair->impair_stats(false).corrupted);
}

TEST_F(ImpairedWire, EverythingAtOnce) {
    ASSERT_TRUE(transfer(kSmall,
                         "loss=1%,ge=0.5%:30%,delay=2ms,jitter=500us,rate=1gbit,queue=200,ecn=50,reorder=1%,dup=1%,"
                         "corrupt=0.5%,seed=15",
                         "loss=1%,delay=2ms,jitter=500us,dup=1%,corrupt=0.5%,seed=16"));
    expect_byte_exact(kSmall);
}

TEST_F(ImpairedWire, BottleneckWithDelayPacesTheTransfer) {
    // 100 Mbit/s, 5 ms each way: 8 MiB cannot take less than 0.67 s.
    ASSERT_TRUE(transfer(kSmall, "rate=100mbit,queue=100,delay=5ms", "delay=5ms"));
    expect_byte_exact(kSmall);
    EXPECT_GE(pair->now, kSmall * 8 * kSec / 100'000'000);
}

TEST_F(ImpairedWire, DelayAloneCostsNoRetransmission) {
    // 1 ms each way, jitter that keeps order, nothing lost: nothing is resent
    // (no spurious tail loss probe or RACK loss), and slow start fills the
    // pipe: 8 MiB takes a few dozen round trips, not thousands.
    ASSERT_TRUE(transfer(kSmall, "delay=1ms,jitter=100us,seed=41", "delay=1ms,jitter=100us,seed=42"));
    expect_byte_exact(kSmall);
    EXPECT_EQ(pair->a.counters.tcp_retransmitted_segments.get(), 0u);
    EXPECT_LT(pair->now, 200 * kMs);
}

TEST_F(ImpairedWire, SameSeedSameRun) {
    // Two seconds of simulated time, twice: the same bytes arrive, the same
    // segments are resent and lost. (Completion is not needed for this.)
    const std::string ab = "loss=5%,delay=1ms,jitter=200us,seed=21", ba = "loss=5%,delay=1ms,seed=22";
    transfer(64ull << 20, ab, ba, 2 * kSec);
    ASSERT_EQ(server.apps.size(), 1u);
    const std::uint64_t first_received = server.apps[0].received;
    const std::uint64_t first_rtx = pair->a.counters.tcp_retransmitted_segments.get();
    const impair::Stats first_ab = pair->impair_stats(true), first_ba = pair->impair_stats(false);
    EXPECT_GT(first_received, 0u);
    EXPECT_GT(first_ab.lost_random, 0u);
    TearDown();
    pair = std::make_unique<Pair>();
    server.apps.clear();
    client = App{};
    transfer(64ull << 20, ab, ba, 2 * kSec);
    ASSERT_EQ(server.apps.size(), 1u);
    EXPECT_EQ(server.apps[0].received, first_received);
    EXPECT_EQ(server.apps[0].pattern_errors, 0u);
    EXPECT_EQ(pair->a.counters.tcp_retransmitted_segments.get(), first_rtx);
    EXPECT_EQ(impair::to_string(pair->impair_stats(true)), impair::to_string(first_ab));
    EXPECT_EQ(impair::to_string(pair->impair_stats(false)), impair::to_string(first_ba));
}

// ---- 1 GiB: the meson suite `slow` (LANETCP_SLOW_TESTS=1) ----

class ImpairedWireSlow : public ImpairedWire {
protected:
    void SetUp() override {
        if (std::getenv("LANETCP_SLOW_TESTS") == nullptr) GTEST_SKIP() << "set LANETCP_SLOW_TESTS=1 (meson suite slow)";
    }
};

TEST_F(ImpairedWireSlow, GiBUnder1PercentLossEachWay) {
    ASSERT_TRUE(transfer(kGiB, "loss=1%,delay=1ms,seed=31", "loss=1%,delay=1ms,seed=32"));
    expect_byte_exact(kGiB);
}

TEST_F(ImpairedWireSlow, GiBUnder5PercentLossEachWay) {
    ASSERT_TRUE(transfer(kGiB, "loss=5%,delay=1ms,seed=33", "loss=5%,delay=1ms,seed=34"));
    expect_byte_exact(kGiB);
}

TEST_F(ImpairedWireSlow, GiBUnder20PercentLossEachWay) {
    // About fourteen simulated hours (seconds of wall time): at 20% loss
    // each way the windows stay at a few segments and timeouts are common.
    ASSERT_TRUE(transfer(kGiB, "loss=20%,delay=1ms,seed=35", "loss=20%,delay=1ms,seed=36", 48 * 3600 * kSec));
    expect_byte_exact(kGiB);
}

} // namespace
} // namespace lanetcp::tcp::test
