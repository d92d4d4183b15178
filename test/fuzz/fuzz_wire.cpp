// libFuzzer target for the receive path of the wire layer: arbitrary bytes
// as an Ethernet frame, through every parser that would see them, reading
// every field of every view that parses. ASan/UBSan catch the reads; the
// explicit checks catch broken invariants and option emission that does not
// round-trip. scripts/fuzz.sh builds and runs it (clang only); by hand:
//   ninja -C build-asan test/fuzz/fuzz_wire
//   build-asan/test/fuzz/fuzz_wire -max_len=1600 CORPUS_DIR  (doc/testing.md)
#include <cstddef>
#include <cstdint>

#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"
#include "wire/tcp_options.hpp"

using namespace lanetcp::wire;

namespace {

volatile std::uint64_t sink;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

void consume(bytes b) {
    std::uint64_t acc = 0;
    for (std::uint8_t x : b) acc += x;
    sink = sink + acc;
}

bool same(const TcpOptions& a, const TcpOptions& b, std::size_t blocks) {
    if (a.mss != b.mss || a.window_scale != b.window_scale || a.sack_permitted != b.sack_permitted ||
        a.timestamps != b.timestamps || b.sacks().size() != blocks)
        return false;
    for (std::size_t i = 0; i < blocks; ++i)
        if (a.sacks()[i] != b.sacks()[i]) return false;
    return true;
}

void fuzz_options(bytes raw) {
    auto o = TcpOptions::parse(raw);
    if (!o) return;
    check(o->sacks().size() <= kTcpMaxSackBlocks);
    check(!o->window_scale || *o->window_scale <= kTcpMaxWindowScale);
    std::uint8_t out[kTcpMaxOptionsLen + 8];
    std::size_t n = emit_tcp_options(out, o.value);
    check(n == tcp_options_length(o.value) && n % 4 == 0 && n <= kTcpMaxOptionsLen);
    auto back = TcpOptions::parse(bytes{out, n});
    check(static_cast<bool>(back));
    // Emission may drop trailing SACK blocks that no longer fit once padded.
    check(back->sacks().size() <= o->sacks().size());
    check(same(o.value, back.value, back->sacks().size()));
}

void fuzz_tcp(const Ipv4View& ip) {
    auto tcp = TcpView::parse(ip.payload());
    if (!tcp) return;
    check(tcp->header_length() >= kTcpMinHeaderLen && tcp->header_length() <= kTcpMaxHeaderLen);
    sink = sink + tcp->src_port() + tcp->dst_port() + tcp->seq().raw() + tcp->ack().raw() + tcp->flags().bits +
           tcp->window() + tcp->checksum() + tcp->urgent_pointer() + tcp->sequence_length();
    sink = sink + tcp_checksum_ok(ip.src(), ip.dst(), ip.payload());
    consume(tcp->payload());
    fuzz_options(tcp->options());
}

void fuzz_ipv4(bytes packet) {
    for (auto mode : {Ipv4View::Checksum::verify, Ipv4View::Checksum::skip}) {
        auto ip = Ipv4View::parse(packet, mode);
        if (ip.error != ParseError::ok && ip.error != ParseError::fragment) continue;
        const Ipv4View& v = ip.value;
        check(v.total_length() <= packet.size() && v.header_length() <= v.total_length());
        sink = sink + v.tos() + v.id() + v.ttl() + v.protocol() + v.checksum() + v.src().v + v.dst().v +
               v.fragment_offset();
        consume(v.options());
        if (ip.error != ParseError::ok) continue;
        if (v.protocol() == ipproto::tcp) fuzz_tcp(v);
        if (v.protocol() == ipproto::icmp) {
            auto icmp = IcmpView::parse(v.payload(), IcmpView::Checksum::skip);
            if (icmp) {
                sink = sink + icmp->type() + icmp->code() + icmp->echo_id() + icmp->echo_sequence();
                consume(icmp->body());
            }
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    bytes frame{data, size};
    fuzz_options(frame); // options parsing on its own, any length
    auto eth = EthernetView::parse(frame);
    if (!eth) return 0;
    sink = sink + eth->dst().b[0] + eth->src().b[5];
    switch (eth->ethertype()) {
    case ethertype::arp:
        if (auto arp = ArpView::parse(eth->payload()))
            sink = sink + static_cast<std::uint16_t>(arp->op()) + arp->sender_ip().v + arp->target_mac().b[0];
        break;
    case ethertype::ipv4:
        fuzz_ipv4(eth->payload());
        break;
    default:
        break;
    }
    return 0;
}
