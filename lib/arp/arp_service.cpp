#include "arp/arp_service.hpp"

#include "wire/ethernet.hpp"

namespace lanetcp::arp {

using wire::ArpFields;
using wire::ArpOp;
using wire::Ipv4Addr;
using wire::MacAddr;

ArpService::ArpService(const Interface& ifc, TxQueue& tx, Counters& counters, rte_mempool* pool,
                       const ArpConfig& config)
    : ifc_(ifc), tx_(tx), counters_(counters), pool_(pool), cache_(config.params) {
    for (const StaticArpEntry& e : config.static_entries) cache_.add_permanent(e.ip, e.mac);
}

ArpService::~ArpService() { shutdown(); }

void ArpService::drop(rte_mbuf* m, Drop reason) noexcept {
    counters_.drop(reason);
    rte_pktmbuf_free(m);
}

void ArpService::input(rte_mbuf* m, const wire::ArpView& arp, TimeNs now, bool from_peer) {
    const ArpFields f = arp.fields();
    if (!from_peer) { // a peer's copy was counted where it arrived
        if (f.op == ArpOp::request)
            counters_.arp_rx_requests.add();
        else
            counters_.arp_rx_replies.add();
    }

    if (f.sender_mac.is_multicast() || f.sender_mac.is_zero() || f.sender_mac == ifc_.mac ||
        f.sender_ip == ifc_.ip() || f.sender_ip.is_multicast() || f.sender_ip.is_limited_broadcast()) {
        // Our own frames echoed back, or someone claiming our address: never
        // let them overwrite a neighbour entry.
        return drop(m, Drop::arp_bad_sender);
    }

    const bool for_us = f.target_ip == ifc_.ip();

    if (f.sender_ip.is_any()) {
        // RFC 5227 probe: answer if it asks for our address, learn nothing.
        if (for_us && f.op == ArpOp::request && !from_peer) return reply_in_place(m, f);
        return drop(m, for_us ? Drop::arp_bad_sender : Drop::arp_not_for_us);
    }

    // What may be learned, as Linux's arp_process() with arp_accept=0 (see
    // arp_cache.hpp): a request for our address makes an entry for its
    // sender, but only for a sender on our subnet (an off-subnet sender is
    // answered and not remembered: we never send to it directly); anything
    // else only updates an entry we already have.
    const auto* eth = rte_pktmbuf_mtod(m, const std::uint8_t*);
    const bool unicast_to_us = wire::MacAddr::load(eth) == ifc_.mac;
    Sighting how;
    // A peer's copy is of an entry that lcore has admitted: the lcores' caches
    // act as one table, as Linux has one.
    how.create = from_peer || (f.op == ArpOp::request && for_us && ifc_.address.contains(f.sender_ip));
    how.confirms = f.op == ArpOp::reply && unicast_to_us;
    how.gratuitous = f.sender_ip == f.target_ip && (f.op == ArpOp::request || f.target_mac == f.sender_mac);
    bool known = cache_.learn(f.sender_ip, f.sender_mac, how, now, [&](Packet p, MacAddr mac) {
        transmit(static_cast<rte_mbuf*>(p), mac);
    });
    if (known && !from_peer) share_with_peers(m);

    if (from_peer) return rte_pktmbuf_free(m);
    if (f.op == ArpOp::request && for_us) return reply_in_place(m, f);
    if (f.op == ArpOp::reply && for_us) return rte_pktmbuf_free(m);
    return drop(m, Drop::arp_not_for_us);
}

void ArpService::reply_in_place(rte_mbuf* m, const ArpFields& request) {
    // The request's buffer becomes the reply: same length, fields rewritten.
    auto* p = rte_pktmbuf_mtod(m, std::uint8_t*);
    wire::emit_ethernet(p, request.sender_mac, ifc_.mac, wire::ethertype::arp);
    wire::emit_arp(p + wire::kEthernetHeaderLen,
                   ArpFields{ArpOp::reply, ifc_.mac, ifc_.ip(), request.sender_mac, request.sender_ip});
    m->ol_flags = 0;
    counters_.arp_tx_replies.add();
    tx_.push(m);
}

void ArpService::share_with_peers(rte_mbuf* m) {
    for (rte_ring* peer : peers_) {
        rte_mbuf* copy = rte_pktmbuf_copy(m, pool_, 0, UINT32_MAX);
        if (copy == nullptr) {
            counters_.drop(Drop::tx_no_mbuf);
            continue;
        }
        copy->hash.usr = kInboxArpCopy;
        // A full inbox only delays learning on that lcore: it will ask itself.
        if (rte_ring_enqueue(peer, copy) != 0) rte_pktmbuf_free(copy);
    }
}

void ArpService::send_request(Ipv4Addr target, const MacAddr* unicast) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (m == nullptr) {
        counters_.drop(Drop::tx_no_mbuf);
        return;
    }
    // 42 bytes; TxQueue pads every short frame to the Ethernet minimum.
    auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, wire::kEthernetHeaderLen + wire::kArpLen));
    wire::emit_ethernet(p, unicast ? *unicast : MacAddr::broadcast(), ifc_.mac, wire::ethertype::arp);
    wire::emit_arp(p + wire::kEthernetHeaderLen, ArpFields{ArpOp::request, ifc_.mac, ifc_.ip(), MacAddr{}, target});
    counters_.arp_tx_requests.add();
    tx_.push(m);
}

void ArpService::announce() { send_request(ifc_.ip(), nullptr); }

void ArpService::transmit(rte_mbuf* m, MacAddr dst) {
    auto* eth = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_prepend(m, wire::kEthernetHeaderLen));
    if (eth == nullptr) return drop(m, Drop::tx_no_mbuf); // no headroom: a bug upstream, but never a crash
    wire::emit_ethernet(eth, dst, ifc_.mac, wire::ethertype::ipv4);
    tx_.push(m);
}

void ArpService::output_broadcast(rte_mbuf* m) { transmit(m, MacAddr::broadcast()); }

void ArpService::output(rte_mbuf* m, Ipv4Addr next_hop, TimeNs now) {
    auto r = cache_.resolve(next_hop, m, now);
    if (r.overflowed != nullptr) drop(static_cast<rte_mbuf*>(r.overflowed), Drop::arp_queue_overflow);
    if (r.refused) {
        drop(m, Drop::arp_pending_full);
        if (r.status == ArpCache::Status::send_request) send_request(next_hop, nullptr);
        return;
    }
    switch (r.status) {
    case ArpCache::Status::ready:
        return transmit(m, r.mac);
    case ArpCache::Status::send_request:
        return send_request(next_hop, nullptr);
    case ArpCache::Status::queued:
        return;
    case ArpCache::Status::table_full:
        return drop(m, Drop::arp_table_full);
    }
}

void ArpService::tick(TimeNs now) {
    if (now < next_tick_) return;
    next_tick_ = now + kTickInterval;
    cache_.tick(
        now, [&](Ipv4Addr ip, const MacAddr* unicast) { send_request(ip, unicast); },
        [&](Packet p) { drop(static_cast<rte_mbuf*>(p), Drop::arp_unresolved); });
}

void ArpService::shutdown() {
    cache_.drain([&](Packet p) { drop(static_cast<rte_mbuf*>(p), Drop::arp_unresolved); });
}

} // namespace lanetcp::arp
