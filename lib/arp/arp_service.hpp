// ARP on one lcore: answers requests for our address, resolves next hops for
// IPv4 output through the ArpCache, and keeps the other lcores' caches in step
// by passing them copies of what it learns over their inbox rings.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "arp/arp_cache.hpp"
#include "config/config.hpp"
#include "netif/counters.hpp"
#include "netif/interface.hpp"
#include "netif/tx_queue.hpp"
#include "wire/arp.hpp"

namespace lanetcp::arp {

class ArpService {
public:
    ArpService(const Interface& ifc, TxQueue& tx, Counters& counters, rte_mempool* pool, const ArpConfig& config);
    ~ArpService();
    ArpService(const ArpService&) = delete;
    ArpService& operator=(const ArpService&) = delete;

    // Other lcores' inboxes, to share what this one learns.
    void set_peers(std::vector<rte_ring*> peer_inboxes) { peers_ = std::move(peer_inboxes); }

    // `m` starts at the Ethernet header; `arp` views its payload. Consumes `m`.
    // `from_peer`: a copy another lcore passed on, to learn from only.
    void input(rte_mbuf* m, const wire::ArpView& arp, TimeNs now, bool from_peer);

    // Sends an IPv4 packet (`m` starts at the IPv4 header, with headroom for
    // Ethernet) to `next_hop`, now or once its address is known. Consumes `m`.
    void output(rte_mbuf* m, wire::Ipv4Addr next_hop, TimeNs now);

    // Sends `m` (starting at the IPv4 header) to the Ethernet broadcast address.
    void output_broadcast(rte_mbuf* m);

    // Retries and expiry; cheap to call every loop.
    void tick(TimeNs now);

    // Gratuitous ARP (RFC 5227 2.4 announcement), as Linux sends on address up.
    void announce();

    // Frees every packet still waiting for an address.
    void shutdown();

    const ArpCache& cache() const noexcept { return cache_; }

private:
    void send_request(wire::Ipv4Addr target, const wire::MacAddr* unicast);
    void transmit(rte_mbuf* m, wire::MacAddr dst);
    void reply_in_place(rte_mbuf* m, const wire::ArpFields& request);
    void share_with_peers(rte_mbuf* m);
    void drop(rte_mbuf* m, Drop reason) noexcept;

    static constexpr TimeNs kTickInterval = 10 * kNsPerMs;

    const Interface& ifc_;
    TxQueue& tx_;
    Counters& counters_;
    rte_mempool* pool_;
    ArpCache cache_;
    std::vector<rte_ring*> peers_;
    TimeNs next_tick_ = 0;
};

} // namespace lanetcp::arp
