// The ARP neighbour cache of one lcore (RFC 826, with Linux's neighbour
// states). It holds no packets of its own type: a packet waiting for an
// address is an opaque pointer the caller owns, so the cache needs no DPDK
// and is driven in unit tests by a manual clock.
//
// States, as Linux's neighbour table simplified:
//   incomplete  broadcast requests every `retry`, up to `retries`; packets wait
//   reachable   confirmed by a reply within `reachable`
//   stale       unconfirmed but usable; the first use starts the delay
//   delay       in use, unconfirmed: a unicast probe starts after `delay_probe`
//               unless a reply confirms it first (Linux NUD_DELAY)
//   probe       in use while unicast requests re-confirm it, up to `retries`
//   permanent   static entry from configuration, never expires
//
// What ARP may write into the table follows Linux's arp_process() with its
// defaults (arp_accept=0): a request for our own address creates (or
// overrides) an entry for its sender, stale, as neigh_event_ns() does, and
// the service only asks for that when the sender is on our subnet; every
// other ARP packet (replies, requests for others, gratuitous ARP) only
// updates an entry that already exists. An existing address is replaced only
// after `locktime` (the first of several back-to-back replies wins), or at
// once by gratuitous ARP or a request for our address. So only the peer's
// own traffic to us, or our own requests, make entries: a flood of requests
// with random senders creates stale entries at most, and those are the only
// ones a full table reclaims; entries in use are never pushed out.
#pragma once

#include <boost/intrusive/list.hpp>
#include <boost/intrusive/unordered_set.hpp>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "util/clock.hpp"
#include "wire/addr.hpp"

namespace lanetcp::arp {

namespace bi = boost::intrusive;

struct ArpParams {
    std::uint32_t max_entries = 1024;
    // Packets queued per unresolved address. Linux holds about 100 (its
    // unres_qlen_bytes); 8 lost 56 of 64 SYNs opened at once to a new peer.
    std::uint32_t max_pending = 64;
    // Packets waiting for any address, on the whole lcore: without it a peer
    // that makes us talk to many silent addresses holds max_entries *
    // max_pending mbufs. Beyond it the new packet is dropped (counted).
    std::uint32_t max_pending_total = 1024;
    TimeNs reachable = 30 * kNsPerSec;      // Linux base_reachable_time is 30 s
    TimeNs retry = 1 * kNsPerSec;           // Linux retrans_time is 1 s
    std::uint32_t retries = 3;              // Linux mcast_solicit / ucast_solicit are 3
    TimeNs stale_lifetime = 60 * kNsPerSec; // unused stale entries are forgotten after this
    TimeNs locktime = 1 * kNsPerSec;        // Linux arp locktime: a new address waits this long
    TimeNs delay_probe = 5 * kNsPerSec;     // Linux delay_first_probe_time
};

// What one ARP packet says about its sender, as arp_process() reads it.
struct Sighting {
    // May make a new entry: a request for our address from our subnet
    // (neigh_event_ns), or another lcore's copy of what it admitted. Also
    // replaces a different address at once.
    bool create = false;
    // A reply unicast to our MAC: the neighbour is reachable. Requests and
    // broadcast replies only make it stale ("do not assert reachability").
    bool confirms = false;
    // Gratuitous ARP (sender IP == target IP; for a reply also sender MAC ==
    // target MAC): replaces a different address without waiting for locktime.
    bool gratuitous = false;
};

using Packet = void*;

enum class NeighState : std::uint8_t { incomplete, reachable, stale, delay, probe, permanent };

inline std::size_t hash_ip(wire::Ipv4Addr ip) noexcept {
    // Fibonacci hashing: neighbours on one subnet differ only in the low bits.
    return static_cast<std::size_t>((std::uint64_t{ip.v} * 0x9e3779b97f4a7c15ull) >> 32);
}

class ArpCache {
public:
    struct Entry : bi::unordered_set_base_hook<bi::link_mode<bi::normal_link>>,
                   bi::list_base_hook<bi::link_mode<bi::normal_link>> {
        wire::Ipv4Addr ip{};
        wire::MacAddr mac{};
        NeighState state = NeighState::incomplete;
        std::uint32_t requests_sent = 0;
        TimeNs deadline = 0;  // next retry (incomplete/probe), first probe (delay) or end of reachability
        TimeNs last_used = 0;
        TimeNs updated = 0;   // last change of address or state (Linux neigh->updated)
        std::uint32_t pending_head = 0;
        std::uint32_t pending_count = 0;
        // In stale_ while stale, oldest first: what a full table reclaims.
        bi::list_member_hook<bi::link_mode<bi::safe_link>> stale_hook;

        friend bool operator==(const Entry& a, const Entry& b) noexcept { return a.ip == b.ip; }
        friend std::size_t hash_value(const Entry& e) noexcept { return hash_ip(e.ip); }
    };

    enum class Status : std::uint8_t {
        ready,        // `mac` is valid; the packet was not taken
        queued,       // the packet waits for a reply to a request already sent
        send_request, // the packet waits; the caller sends a broadcast request now
        table_full,   // no entry could be made; the packet was not taken
    };

    struct ResolveResult {
        Status status;
        wire::MacAddr mac{};
        Packet overflowed = nullptr; // oldest waiting packet pushed out; the caller drops it
        // With send_request/queued: the lcore already holds max_pending_total
        // packets and `pkt` was not taken; the caller drops it.
        bool refused = false;
    };

    explicit ArpCache(const ArpParams& params);
    ArpCache(const ArpCache&) = delete;
    ArpCache& operator=(const ArpCache&) = delete;
    ~ArpCache();

    // Finds the MAC for `ip`, or queues `pkt` until it is known.
    ResolveResult resolve(wire::Ipv4Addr ip, Packet pkt, TimeNs now);

    // Records what an ARP packet from ip/mac says (see the top of this file
    // and Sighting). Waiting packets go to `transmit(Packet, MacAddr)`.
    // Returns whether the table now maps ip to mac.
    template <class Transmit>
    bool learn(wire::Ipv4Addr ip, wire::MacAddr mac, Sighting how, TimeNs now, Transmit&& transmit);

    // A static entry; replaces any dynamic one. False when the table is full.
    bool add_permanent(wire::Ipv4Addr ip, wire::MacAddr mac);

    // Runs retries and expiry. `send_request(ip, const MacAddr* unicast)`
    // (nullptr: broadcast) and `give_up(Packet)` for packets whose next hop
    // never answered.
    template <class SendRequest, class GiveUp>
    void tick(TimeNs now, SendRequest&& send_request, GiveUp&& give_up);

    // Hands every waiting packet to `give_up`, e.g. at shutdown.
    template <class GiveUp>
    void drain(GiveUp&& give_up);

    const Entry* find(wire::Ipv4Addr ip) const noexcept;
    std::size_t size() const noexcept { return table_.size(); }
    std::size_t pending_packets() const noexcept { return pending_total_; }
    const ArpParams& params() const noexcept { return params_; }

private:
    using Table = bi::unordered_set<Entry, bi::constant_time_size<true>, bi::power_2_buckets<true>>;
    using EntryList = bi::list<Entry, bi::constant_time_size<true>>;
    using StaleList = bi::list<Entry, bi::member_hook<Entry, decltype(Entry::stale_hook), &Entry::stale_hook>,
                               bi::constant_time_size<true>>;

    struct IpHash {
        std::size_t operator()(wire::Ipv4Addr ip) const noexcept { return hash_ip(ip); }
    };
    struct IpEqual {
        bool operator()(wire::Ipv4Addr ip, const Entry& e) const noexcept { return ip == e.ip; }
    };

    Entry* find_mutable(wire::Ipv4Addr ip) noexcept;
    Entry* allocate(wire::Ipv4Addr ip, TimeNs now);
    void release(Entry& e);
    Packet* pending_slot(const Entry& e, std::uint32_t i) noexcept;
    Packet push_pending(Entry& e, Packet pkt);
    template <class Fn>
    void pop_all_pending(Entry& e, Fn&& fn);
    // Every change of state goes through here, to keep stale_ in step.
    void set_state(Entry& e, NeighState state) noexcept;
    // neigh_update(): false when a different address was refused.
    bool update(Entry& e, wire::MacAddr mac, NeighState state, bool override, TimeNs now) noexcept;

    ArpParams params_;
    std::vector<Entry> entries_;
    std::vector<Table::bucket_type> buckets_;
    std::vector<Packet> pending_;
    Table table_;
    EntryList in_use_;
    EntryList free_;
    // Stale entries in the order they went stale: a full table takes the
    // oldest in O(1), so a flood of requests from new senders costs no scan.
    StaleList stale_;
    std::size_t pending_total_ = 0;
};

// ---- templates ----

template <class Fn>
void ArpCache::pop_all_pending(Entry& e, Fn&& fn) {
    while (e.pending_count > 0) {
        Packet p = *pending_slot(e, 0);
        e.pending_head = (e.pending_head + 1) % params_.max_pending;
        --e.pending_count;
        --pending_total_;
        fn(p);
    }
    e.pending_head = 0;
}

template <class Transmit>
bool ArpCache::learn(wire::Ipv4Addr ip, wire::MacAddr mac, Sighting how, TimeNs now, Transmit&& transmit) {
    Entry* e = find_mutable(ip);
    if (e == nullptr) {
        // arp_accept=0: nothing but a request for our address makes an entry.
        if (!how.create) return false;
        e = allocate(ip, now);
        if (e == nullptr) return false;
    }
    if (e->state == NeighState::permanent) return e->mac == mac; // configuration wins over the wire
    const bool override = how.create || how.gratuitous || now - e->updated >= params_.locktime;
    // Only a unicast reply confirms; neigh_event_ns() makes a requester stale.
    const NeighState state = how.confirms ? NeighState::reachable : NeighState::stale;
    if (!update(*e, mac, state, override, now)) return false;
    pop_all_pending(*e, [&](Packet p) { transmit(p, mac); });
    return true;
}

template <class SendRequest, class GiveUp>
void ArpCache::tick(TimeNs now, SendRequest&& send_request, GiveUp&& give_up) {
    for (auto it = in_use_.begin(); it != in_use_.end();) {
        Entry& e = *it++;
        switch (e.state) {
        case NeighState::permanent:
            break;
        case NeighState::reachable:
            if (now >= e.deadline) set_state(e, NeighState::stale);
            break;
        case NeighState::stale:
            if (now - e.last_used >= params_.stale_lifetime) release(e);
            break;
        case NeighState::delay:
            if (now < e.deadline) break;
            // Unconfirmed since it was first used: ask the neighbour itself.
            set_state(e, NeighState::probe);
            e.requests_sent = 1;
            e.deadline = now + params_.retry;
            send_request(e.ip, &e.mac);
            break;
        case NeighState::incomplete:
        case NeighState::probe:
            if (now < e.deadline) break;
            if (e.requests_sent >= params_.retries) {
                pop_all_pending(e, give_up);
                release(e);
                break;
            }
            ++e.requests_sent;
            e.deadline = now + params_.retry;
            send_request(e.ip, e.state == NeighState::probe ? &e.mac : nullptr);
            break;
        }
    }
}

template <class GiveUp>
void ArpCache::drain(GiveUp&& give_up) {
    for (Entry& e : in_use_) pop_all_pending(e, give_up);
}

} // namespace lanetcp::arp
