// The Internet checksum (lib/wire/checksum.hpp) over typical segment sizes:
// a bare ACK's worth, a small message, a full 1500-MTU segment, a jumbo
// frame. Plain and with the TCP pseudo-header.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "wire/checksum.hpp"
#include "wire/tcp.hpp"

namespace {

using namespace lanetcp::wire;

std::vector<std::uint8_t> payload(std::size_t n) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 167u + 13u);
    return v;
}

void BM_InternetChecksum(benchmark::State& state) {
    const auto data = payload(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        benchmark::DoNotOptimize(data.data());
        std::uint16_t c = internet_checksum(data.data(), data.size());
        benchmark::DoNotOptimize(c);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_InternetChecksum)->Arg(64)->Arg(512)->Arg(1460)->Arg(9000);

// tcp_checksum(): pseudo-header sum, then the segment.
void BM_TcpChecksumPseudoHeader(benchmark::State& state) {
    const auto data = payload(static_cast<std::size_t>(state.range(0)));
    const Ipv4Addr src{0x0a000001};
    const Ipv4Addr dst{0x0a000002};
    for (auto _ : state) {
        benchmark::DoNotOptimize(data.data());
        std::uint16_t c = tcp_checksum(src, dst, bytes{data.data(), data.size()});
        benchmark::DoNotOptimize(c);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_TcpChecksumPseudoHeader)->Arg(64)->Arg(512)->Arg(1460)->Arg(9000);

// RFC 1624 incremental update of one 16-bit word (what a NAT or TTL rewrite does).
void BM_ChecksumUpdate16(benchmark::State& state) {
    std::uint16_t c = 0x1234;
    std::uint16_t w = 0;
    for (auto _ : state) {
        c = checksum_update16(c, w, static_cast<std::uint16_t>(w + 1));
        ++w;
        benchmark::DoNotOptimize(c);
    }
}
BENCHMARK(BM_ChecksumUpdate16);

} // namespace
