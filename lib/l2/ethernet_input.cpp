#include "l2/ethernet_input.hpp"

#include "wire/ethernet.hpp"

namespace lanetcp::l2 {

void EthernetInput::input(rte_mbuf* m, TimeNs now) {
    // Headers are parsed from the first segment; a chained frame (jumbo on a
    // small-mbuf pool) is made contiguous when it fits, else dropped.
    if (m->nb_segs > 1 && rte_pktmbuf_linearize(m) != 0) return drop(m, Drop::eth_nonlinear);

    auto eth = wire::EthernetView::parse({rte_pktmbuf_mtod(m, const std::uint8_t*), rte_pktmbuf_data_len(m)});
    if (!eth) return drop(m, Drop::eth_truncated);
    const wire::MacAddr dst = eth->dst();
    if (dst != ifc_.mac && !dst.is_broadcast()) return drop(m, Drop::eth_not_for_us);

    m->l2_len = wire::kEthernetHeaderLen;
    switch (eth->ethertype()) {
    case wire::ethertype::ipv4:
        return ipv4_.input(m, now);
    case wire::ethertype::arp:
        return arp_input(m, now, false);
    case wire::ethertype::vlan:
    case wire::ethertype::qinq:
        return drop(m, Drop::eth_vlan);
    default:
        return drop(m, Drop::eth_unsupported_ethertype);
    }
}

void EthernetInput::input_from_peer(rte_mbuf* m, TimeNs now) { arp_input(m, now, true); }

void EthernetInput::arp_input(rte_mbuf* m, TimeNs now, bool from_peer) {
    auto arp = wire::ArpView::parse({rte_pktmbuf_mtod_offset(m, const std::uint8_t*, wire::kEthernetHeaderLen),
                                     static_cast<std::size_t>(rte_pktmbuf_data_len(m) - wire::kEthernetHeaderLen)});
    if (!arp) return drop(m, arp.error == wire::ParseError::truncated ? Drop::arp_truncated : Drop::arp_bad_format);
    arp_.input(m, arp.value, now, from_peer);
}

} // namespace lanetcp::l2
