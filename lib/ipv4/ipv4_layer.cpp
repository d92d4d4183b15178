#include "ipv4/ipv4_layer.hpp"

#include <cstring>

#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"

namespace lanetcp::ipv4 {

using wire::Ipv4Addr;
using wire::Ipv4View;
using wire::ParseError;

namespace {

Drop drop_reason(ParseError e) noexcept {
    switch (e) {
    case ParseError::bad_version: return Drop::ipv4_bad_version;
    case ParseError::bad_header_length: return Drop::ipv4_bad_header_length;
    case ParseError::bad_total_length: return Drop::ipv4_bad_total_length;
    case ParseError::bad_checksum: return Drop::ipv4_bad_checksum;
    case ParseError::fragment: return Drop::ipv4_fragment;
    default: return Drop::ipv4_truncated;
    }
}

} // namespace

void Ipv4Layer::input(rte_mbuf* m, TimeNs now) {
    counters_.ipv4_rx_packets.add();
    const auto l3_offset = static_cast<std::uint16_t>(m->l2_len);
    wire::bytes packet{rte_pktmbuf_mtod_offset(m, const std::uint8_t*, l3_offset),
                       static_cast<std::size_t>(rte_pktmbuf_data_len(m) - l3_offset)};

    // Trust the NIC's verdict when it gives one; check in software otherwise.
    auto check = Ipv4View::Checksum::verify;
    if (ifc_.rx_ipv4_checksum) {
        const auto flag = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
        if (flag == RTE_MBUF_F_RX_IP_CKSUM_BAD) return drop(m, Drop::ipv4_bad_checksum);
        if (flag == RTE_MBUF_F_RX_IP_CKSUM_GOOD) check = Ipv4View::Checksum::skip;
    }
    auto parsed = Ipv4View::parse(packet, check);
    if (!parsed) return drop(m, drop_reason(parsed.error));
    const Ipv4View& ip = parsed.value;

    // Ethernet pads short frames: cut back to the datagram's own length.
    const auto frame_len = static_cast<std::uint32_t>(l3_offset + ip.total_length());
    if (rte_pktmbuf_pkt_len(m) > frame_len) rte_pktmbuf_trim(m, static_cast<std::uint16_t>(rte_pktmbuf_pkt_len(m) - frame_len));

    if (!ifc_.accepts(ip.dst())) return drop(m, Drop::ipv4_not_for_us);
    const Ipv4Addr src = ip.src();
    // RFC 1122 3.2.1.3: a source that cannot be a single host is discarded.
    if (src.is_any() || src.is_limited_broadcast() || src.is_multicast() || src.is_loopback() || src == ifc_.ip() ||
        (ifc_.address.contains(src) && src == ifc_.address.subnet_broadcast()))
        return drop(m, Drop::ipv4_bad_source);

    m->l3_len = static_cast<std::uint16_t>(ip.header_length());
    switch (ip.protocol()) {
    case wire::ipproto::icmp:
        return icmp_input(m, ip, now);
    case wire::ipproto::tcp:
        if (tcp_ == nullptr) return drop(m, Drop::tcp_no_listener);
        return tcp_receive(*tcp_, m, ip, now);
    default:
        return drop(m, Drop::ipv4_unsupported_protocol);
    }
}

void Ipv4Layer::icmp_input(rte_mbuf* m, const Ipv4View& ip, TimeNs now) {
    auto parsed = wire::IcmpView::parse(ip.payload());
    if (!parsed) {
        return drop(m, parsed.error == ParseError::bad_checksum ? Drop::icmp_bad_checksum : Drop::icmp_truncated);
    }
    switch (parsed.value.type()) {
    case wire::icmptype::echo_request:
        counters_.icmp_rx_echo_requests.add();
        // Linux's icmp_echo_ignore_broadcasts=1: no smurf amplification.
        if (ifc_.is_broadcast(ip.dst())) return drop(m, Drop::icmp_broadcast_echo);
        return echo_reply_in_place(m, ip, now);
    case wire::icmptype::echo_reply:
        counters_.icmp_rx_echo_replies.add();
        return rte_pktmbuf_free(m);
    default:
        return drop(m, Drop::icmp_unhandled_type);
    }
}

void Ipv4Layer::echo_reply_in_place(rte_mbuf* m, const Ipv4View& ip, TimeNs now) {
    // The request's buffer becomes the reply. The ICMP message (RFC 792: data
    // echoed unchanged) stays where it is; a fresh 20-byte IPv4 header goes
    // right before it, which drops any options the request carried.
    const Ipv4Addr requester = ip.src();
    const std::uint8_t tos = ip.tos();
    const auto icmp_len = static_cast<std::uint16_t>(ip.total_length() - ip.header_length());
    auto* icmp = rte_pktmbuf_mtod_offset(m, std::uint8_t*, m->l2_len + ip.header_length());
    wire::echo_request_to_reply(icmp);

    rte_pktmbuf_adj(m, static_cast<std::uint16_t>(m->l2_len + ip.header_length()));
    m->ol_flags = 0;
    const bool sent = output(m,
           wire::Ipv4Fields{.src = ifc_.ip(),
                            .dst = requester,
                            .protocol = wire::ipproto::icmp,
                            .ttl = 64,
                            .tos = tos,
                            .id = 0,
                            .dont_fragment = false,
                            .payload_length = icmp_len},
           now);
    if (sent) counters_.icmp_tx_echo_replies.add();
}

bool Ipv4Layer::output(rte_mbuf* m, wire::Ipv4Fields f, TimeNs now) {
    // No fragmentation: what does not fit the link is dropped and counted
    // (an echo request reassembled by the sender's side can be bigger).
    if (wire::kIpv4MinHeaderLen + f.payload_length > ifc_.mtu) {
        drop(m, Drop::ipv4_exceeds_mtu);
        return false;
    }
    auto* hdr = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_prepend(m, wire::kIpv4MinHeaderLen));
    if (hdr == nullptr) {
        drop(m, Drop::tx_no_mbuf);
        return false;
    }
    if (f.id == 0) f.id = ++next_id_;
    // Keep what the transport asked of the NIC (its checksum); drop the rest,
    // such as receive flags on a reused buffer.
    m->ol_flags &= RTE_MBUF_F_TX_L4_MASK;
    m->l2_len = wire::kEthernetHeaderLen;
    m->l3_len = wire::kIpv4MinHeaderLen;
    if (ifc_.tx_ipv4_checksum || (m->ol_flags & RTE_MBUF_F_TX_L4_MASK) != 0) m->ol_flags |= RTE_MBUF_F_TX_IPV4;
    if (ifc_.tx_ipv4_checksum) {
        m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
        wire::emit_ipv4(hdr, f, Ipv4View::Checksum::skip);
    } else {
        wire::emit_ipv4(hdr, f);
    }
    counters_.ipv4_tx_packets.add();

    if (ifc_.is_broadcast(f.dst)) {
        arp_.output_broadcast(m);
        return true;
    }
    auto hop = next_hop(f.dst);
    if (!hop) {
        drop(m, Drop::ipv4_no_route);
        return false;
    }
    arp_.output(m, *hop, now);
    return true;
}

bool Ipv4Layer::send_echo_request(Ipv4Addr dst, std::uint16_t id, std::uint16_t sequence,
                                  std::uint16_t payload_len, TimeNs now) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (m == nullptr) {
        counters_.drop(Drop::tx_no_mbuf);
        return false;
    }
    const auto len = static_cast<std::uint16_t>(wire::kIcmpHeaderLen + payload_len);
    auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, len));
    if (p == nullptr) {
        rte_pktmbuf_free(m);
        counters_.drop(Drop::tx_no_mbuf);
        return false;
    }
    p[0] = wire::icmptype::echo_request;
    p[1] = 0;
    wire::store_be16(p + 2, 0);
    wire::store_be16(p + 4, id);
    wire::store_be16(p + 6, sequence);
    for (std::uint16_t i = 0; i < payload_len; ++i) p[wire::kIcmpHeaderLen + i] = static_cast<std::uint8_t>(i);
    wire::store_be16(p + 2, wire::internet_checksum(p, len));
    counters_.icmp_tx_echo_requests.add();
    output(m,
           wire::Ipv4Fields{.src = ifc_.ip(), .dst = dst, .protocol = wire::ipproto::icmp, .payload_length = len},
           now);
    return true;
}

} // namespace lanetcp::ipv4
