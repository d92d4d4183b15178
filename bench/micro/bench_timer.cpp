// The timer wheel (lib/timer/timer_wheel.hpp): what a TCP connection does to
// its retransmit timer on nearly every segment (arm, re-arm, cancel), with
// many other timers armed around it, and the cost per timer of firing.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "timer/timer_wheel.hpp"

namespace {

using lanetcp::kNsPerMs;
using lanetcp::TimeNs;
using lanetcp::Timer;
using lanetcp::TimerWheel;

// A wheel with `n` other timers armed 1 ms .. 120 s ahead, spread over the levels.
struct Background {
    explicit Background(std::size_t n) : timers(n) {
        std::uint64_t x = 88172645463325252ull;
        for (Timer& t : timers) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            wheel.arm(t, kNsPerMs + x % (120'000 * kNsPerMs));
        }
    }
    TimerWheel wheel{0};
    std::vector<Timer> timers;
};

// Arm then cancel: a segment sent and acknowledged before its RTO.
void BM_TimerArmCancel(benchmark::State& state) {
    Background bg(static_cast<std::size_t>(state.range(0)));
    Timer t;
    TimeNs deadline = 200 * kNsPerMs;
    for (auto _ : state) {
        bg.wheel.arm(t, deadline);
        bg.wheel.cancel(t);
        deadline += 1000; // later segments, later deadlines
        benchmark::DoNotOptimize(&t);
    }
}
BENCHMARK(BM_TimerArmCancel)->ArgName("armed")->Arg(0)->Arg(10000);

// Re-arm an armed timer further ahead: the RTO restarted by each new ACK.
void BM_TimerRearm(benchmark::State& state) {
    Background bg(static_cast<std::size_t>(state.range(0)));
    Timer t;
    TimeNs deadline = 200 * kNsPerMs;
    bg.wheel.arm(t, deadline);
    for (auto _ : state) {
        deadline += 1000;
        bg.wheel.arm(t, deadline);
        benchmark::DoNotOptimize(&t);
    }
}
BENCHMARK(BM_TimerRearm)->ArgName("armed")->Arg(0)->Arg(10000);

// Expiry: each iteration arms `n` timers over the next 300 ms (so some
// cascade from level 1) and advances the wheel past all of them. Time per
// timer = time / items.
void BM_TimerArmAndExpire(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    TimerWheel wheel{0};
    std::vector<Timer> timers(n);
    std::uint64_t fired = 0;
    TimeNs now = 0;
    for (auto _ : state) {
        for (std::size_t i = 0; i < n; ++i) wheel.arm(timers[i], now + kNsPerMs + (i * 7919u) % (300 * kNsPerMs));
        now += 302 * kNsPerMs;
        fired += wheel.advance(now, [](Timer& t) { benchmark::DoNotOptimize(&t); });
    }
    if (fired != n * static_cast<std::uint64_t>(state.iterations())) state.SkipWithError("not every timer fired");
    state.SetItemsProcessed(static_cast<std::int64_t>(fired));
}
BENCHMARK(BM_TimerArmAndExpire)->ArgName("timers")->Arg(64)->Arg(4096);

// An idle poll loop: advance() by one tick with 10k timers armed far ahead
// and none due.
void BM_TimerAdvanceIdleTick(benchmark::State& state) {
    TimerWheel wheel{0};
    std::vector<Timer> timers(10000);
    for (std::size_t i = 0; i < timers.size(); ++i) wheel.arm(timers[i], (3'000'000 + i) * lanetcp::kNsPerSec);
    TimeNs now = 0;
    for (auto _ : state) {
        now += kNsPerMs;
        auto n = wheel.advance(now, [](Timer&) {});
        benchmark::DoNotOptimize(n);
    }
}
BENCHMARK(BM_TimerAdvanceIdleTick);

} // namespace
