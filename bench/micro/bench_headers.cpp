// Header parsing and emission (lib/wire): Ethernet, IPv4, TCP and its
// options, on a frame as a bulk transfer carries it (timestamps; with and
// without SACK blocks).
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <vector>

#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"
#include "wire/tcp_options.hpp"

namespace {

using namespace lanetcp::wire;

constexpr Ipv4Addr kSrc{0x0a000001};
constexpr Ipv4Addr kDst{0x0a000002};

TcpOptions data_options(std::uint8_t sack_blocks) {
    TcpOptions o;
    o.timestamps = TcpTimestamps{123456789u, 987654321u};
    o.sack_block_count = sack_blocks;
    for (std::uint8_t i = 0; i < sack_blocks; ++i)
        o.sack_blocks[i] = SackBlock{SeqNum{1000u + 3000u * i}, SeqNum{2448u + 3000u * i}};
    return o;
}

TcpOptions syn_options() {
    TcpOptions o;
    o.mss = 1460;
    o.sack_permitted = true;
    o.timestamps = TcpTimestamps{123456789u, 0};
    o.window_scale = 7;
    return o;
}

// A whole Ethernet frame: 14 + 20 + TCP header with `o` + `payload` bytes,
// checksums filled.
std::vector<std::uint8_t> make_frame(const TcpOptions& o, std::size_t payload) {
    std::vector<std::uint8_t> f(kEthernetHeaderLen + kIpv4MinHeaderLen + kTcpMaxHeaderLen + payload);
    std::uint8_t* tcp = f.data() + kEthernetHeaderLen + kIpv4MinHeaderLen;
    const std::size_t opt_len = emit_tcp_options(tcp + kTcpMinHeaderLen, o);
    TcpFields t;
    t.src_port = 40000;
    t.dst_port = 80;
    t.seq = SeqNum{1000};
    t.ack = SeqNum{2000};
    t.flags = tcpflag::ack | tcpflag::psh;
    t.window = 512;
    t.options_length = static_cast<std::uint8_t>(opt_len);
    const std::size_t hl = emit_tcp(tcp, t);
    for (std::size_t i = 0; i < payload; ++i) tcp[hl + i] = static_cast<std::uint8_t>(i);
    const std::size_t seg_len = hl + payload;
    f.resize(kEthernetHeaderLen + kIpv4MinHeaderLen + seg_len);
    fill_tcp_checksum(kSrc, kDst, mutable_bytes{tcp, seg_len});
    Ipv4Fields ip;
    ip.src = kSrc;
    ip.dst = kDst;
    ip.protocol = ipproto::tcp;
    ip.payload_length = static_cast<std::uint16_t>(seg_len);
    emit_ipv4(f.data() + kEthernetHeaderLen, ip);
    emit_ethernet(f.data(), MacAddr{}, MacAddr{}, ethertype::ipv4);
    return f;
}

bytes tcp_part(const std::vector<std::uint8_t>& f) {
    return bytes{f.data() + kEthernetHeaderLen + kIpv4MinHeaderLen,
                 f.size() - kEthernetHeaderLen - kIpv4MinHeaderLen};
}

void BM_EthernetParse(benchmark::State& state) {
    const auto f = make_frame(data_options(0), 1448);
    for (auto _ : state) {
        benchmark::DoNotOptimize(f.data());
        auto e = EthernetView::parse(bytes{f.data(), f.size()});
        std::uint16_t t = e->ethertype();
        benchmark::DoNotOptimize(t);
    }
}
BENCHMARK(BM_EthernetParse);

// With the header checksum verified (software) and skipped (NIC offload).
void BM_Ipv4Parse(benchmark::State& state) {
    const auto f = make_frame(data_options(0), 1448);
    const auto check = state.range(0) != 0 ? Ipv4View::Checksum::verify : Ipv4View::Checksum::skip;
    const bytes packet{f.data() + kEthernetHeaderLen, f.size() - kEthernetHeaderLen};
    for (auto _ : state) {
        benchmark::DoNotOptimize(packet.data());
        auto ip = Ipv4View::parse(packet, check);
        if (!ip) state.SkipWithError("parse failed");
        auto s = ip->src();
        auto p = ip->payload();
        benchmark::DoNotOptimize(s);
        benchmark::DoNotOptimize(p);
    }
}
BENCHMARK(BM_Ipv4Parse)->ArgName("verify_checksum")->Arg(1)->Arg(0);

// The fixed header only: view and the fields TCP input reads.
void BM_TcpHeaderParse(benchmark::State& state) {
    const auto f = make_frame(data_options(0), 1448);
    const bytes seg = tcp_part(f);
    for (auto _ : state) {
        benchmark::DoNotOptimize(seg.data());
        auto t = TcpView::parse(seg);
        if (!t) state.SkipWithError("parse failed");
        std::uint32_t x = t->src_port() ^ t->dst_port() ^ t->seq().raw() ^ t->ack().raw() ^ t->flags().bits ^
                          t->window();
        auto p = t->payload();
        benchmark::DoNotOptimize(x);
        benchmark::DoNotOptimize(p);
    }
}
BENCHMARK(BM_TcpHeaderParse);

// TCP header and options: arg 0 = timestamps (every data segment of a
// bulk transfer), 1..4 = plus that many SACK blocks, 5 = a SYN's options.
void BM_TcpHeaderAndOptionsParse(benchmark::State& state) {
    const auto arg = state.range(0);
    const TcpOptions o = arg == 5 ? syn_options() : data_options(static_cast<std::uint8_t>(arg));
    const auto f = make_frame(o, arg == 5 ? 0 : 1448);
    const bytes seg = tcp_part(f);
    for (auto _ : state) {
        benchmark::DoNotOptimize(seg.data());
        auto t = TcpView::parse(seg);
        if (!t) state.SkipWithError("parse failed");
        auto opts = TcpOptions::parse(t->options());
        if (!opts) state.SkipWithError("options parse failed");
        std::uint32_t x = t->seq().raw() ^ t->ack().raw() ^ opts.value.sack_block_count;
        benchmark::DoNotOptimize(x);
        benchmark::DoNotOptimize(opts);
    }
}
BENCHMARK(BM_TcpHeaderAndOptionsParse)->ArgName("sack_blocks_or_5_syn")->DenseRange(0, 5);

// Ethernet + IPv4 (checksum skipped: offloaded) + TCP + options + the
// TCP checksum over a 1448-byte payload verified in software.
void BM_FrameParseAndVerify(benchmark::State& state) {
    const auto f = make_frame(data_options(0), 1448);
    for (auto _ : state) {
        benchmark::DoNotOptimize(f.data());
        auto e = EthernetView::parse(bytes{f.data(), f.size()});
        auto ip = Ipv4View::parse(e->payload(), Ipv4View::Checksum::skip);
        auto t = TcpView::parse(ip->payload());
        auto opts = TcpOptions::parse(t->options());
        const bool ok = e && ip && t && opts && tcp_checksum_ok(ip->src(), ip->dst(), ip->payload());
        if (!ok) state.SkipWithError("parse failed");
        benchmark::DoNotOptimize(opts);
    }
}
BENCHMARK(BM_FrameParseAndVerify);

// What transmit does per segment: TCP header and options (timestamps, plus
// SACK blocks when arg > 0), the IPv4 header with its checksum, and the
// pseudo-header seed for checksum offload.
void BM_TcpHeaderEmit(benchmark::State& state) {
    const TcpOptions o = data_options(static_cast<std::uint8_t>(state.range(0)));
    alignas(64) std::array<std::uint8_t, 128> buf{};
    std::uint32_t seq = 1;
    for (auto _ : state) {
        std::uint8_t* tcp = buf.data() + kIpv4MinHeaderLen;
        const std::size_t opt_len = emit_tcp_options(tcp + kTcpMinHeaderLen, o);
        TcpFields t;
        t.src_port = 80;
        t.dst_port = 40000;
        t.seq = SeqNum{seq};
        t.ack = SeqNum{2000};
        t.flags = tcpflag::ack;
        t.window = 512;
        t.options_length = static_cast<std::uint8_t>(opt_len);
        const std::size_t hl = emit_tcp(tcp, t);
        const auto seg_len = static_cast<std::uint16_t>(hl + 1448);
        store_be16(tcp + 16, tcp_offload_checksum_seed(kSrc, kDst, seg_len));
        Ipv4Fields ip;
        ip.src = kSrc;
        ip.dst = kDst;
        ip.protocol = ipproto::tcp;
        ip.id = static_cast<std::uint16_t>(seq);
        ip.payload_length = seg_len;
        emit_ipv4(buf.data(), ip);
        seq += 1448;
        benchmark::DoNotOptimize(buf.data());
        benchmark::ClobberMemory();
    }
}
BENCHMARK(BM_TcpHeaderEmit)->ArgName("sack_blocks")->Arg(0)->Arg(3);

void BM_TcpOptionsEmit(benchmark::State& state) {
    const TcpOptions o = state.range(0) == 5 ? syn_options() : data_options(static_cast<std::uint8_t>(state.range(0)));
    alignas(64) std::array<std::uint8_t, 64> buf{};
    for (auto _ : state) {
        benchmark::DoNotOptimize(&o);
        std::size_t n = emit_tcp_options(buf.data(), o);
        benchmark::DoNotOptimize(n);
        benchmark::ClobberMemory();
    }
}
BENCHMARK(BM_TcpOptionsEmit)->ArgName("sack_blocks_or_5_syn")->Arg(0)->Arg(3)->Arg(5);

} // namespace
