// The bottom of the receive path: filters frames by destination MAC and
// hands each to ARP or IPv4 by EtherType.
#pragma once

#include <rte_mbuf.h>

#include "arp/arp_service.hpp"
#include "ipv4/ipv4_layer.hpp"
#include "netif/counters.hpp"
#include "netif/interface.hpp"

namespace lanetcp::l2 {

class EthernetInput {
public:
    EthernetInput(const Interface& ifc, arp::ArpService& arp, ipv4::Ipv4Layer& ipv4, Counters& counters) noexcept
        : ifc_(ifc), arp_(arp), ipv4_(ipv4), counters_(counters) {}

    // Consumes `m`.
    void input(rte_mbuf* m, TimeNs now);

    // A frame another lcore passed on: ARP only, for learning.
    void input_from_peer(rte_mbuf* m, TimeNs now);

private:
    void drop(rte_mbuf* m, Drop reason) noexcept {
        counters_.drop(reason);
        rte_pktmbuf_free(m);
    }
    void arp_input(rte_mbuf* m, TimeNs now, bool from_peer);

    const Interface& ifc_;
    arp::ArpService& arp_;
    ipv4::Ipv4Layer& ipv4_;
    Counters& counters_;
};

} // namespace lanetcp::l2
