// Congestion control (lib/tcp/cc): what one ACK costs each module in
// congestion avoidance with the window full, through CongestionControl's
// static dispatch, as the connection calls it. A loss every 5,000 ACKs keeps
// CUBIC moving along its curve and NewReno's window bounded.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "tcp/cc/congestion.hpp"

namespace {

using lanetcp::kNsPerMs;
using lanetcp::TimeNs;
namespace cc = lanetcp::tcp::cc;

void BM_CcOnAck(benchmark::State& state) {
    const auto algorithm = static_cast<cc::Algorithm>(state.range(0));
    constexpr std::uint32_t kMss = 1448;
    cc::CongestionControl c;
    TimeNs now = 1'000 * kNsPerMs;
    c.init(algorithm, kMss, 100 * kMss, now);
    c.on_loss(100 * kMss, now);
    c.on_recovery_exit(now);
    lanetcp::wire::SeqNum una{1}, nxt = una + c.cwnd();
    std::uint32_t n = 0;
    for (auto _ : state) {
        cc::AckEvent e;
        e.acked = kMss;
        e.ece_acked = (n & 15) == 0 ? kMss : 0;
        e.in_flight = c.cwnd();
        e.rtt = e.srtt = 10 * kNsPerMs;
        una += kMss;
        nxt = una + c.cwnd();
        e.snd_una = una;
        e.snd_nxt = nxt;
        e.cwnd_limited = true;
        now += 20'000; // 20 us between ACKs
        e.now = now;
        c.on_ack(e);
        if (++n % 5000 == 0) {
            c.on_loss(c.cwnd(), now);
            c.on_recovery_exit(now);
        }
        benchmark::DoNotOptimize(c.cwnd());
    }
    state.SetLabel(std::string(cc::name(algorithm)));
}
BENCHMARK(BM_CcOnAck)->DenseRange(0, static_cast<int>(cc::kAlgorithmCount) - 1);

} // namespace
