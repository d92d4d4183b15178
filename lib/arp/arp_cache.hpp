// The ARP neighbour cache of one lcore (RFC 826, with Linux's neighbour
// states). It holds no packets of its own type: a packet waiting for an
// address is an opaque pointer the caller owns, so the cache needs no DPDK
// and is driven in unit tests by a manual clock.
//
// States, as Linux's neighbour table simplified:
//   incomplete  broadcast requests every `retry`, up to `retries`; packets wait
//   reachable   confirmed by a reply within `reachable`
//   stale       unconfirmed but usable; the first use starts a probe
//   probe       in use while unicast requests re-confirm it, up to `retries`
//   permanent   static entry from configuration, never expires
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
    TimeNs reachable = 30 * kNsPerSec;      // Linux base_reachable_time is 30 s
    TimeNs retry = 1 * kNsPerSec;           // Linux retrans_time is 1 s
    std::uint32_t retries = 3;              // Linux mcast_solicit / ucast_solicit are 3
    TimeNs stale_lifetime = 60 * kNsPerSec; // unused stale entries are forgotten after this
};

using Packet = void*;

enum class NeighState : std::uint8_t { incomplete, reachable, stale, probe, permanent };

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
        TimeNs deadline = 0;  // next retry (incomplete/probe) or end of reachability
        TimeNs last_used = 0;
        std::uint32_t pending_head = 0;
        std::uint32_t pending_count = 0;

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
        bool send_probe = false; // with `ready`: send a unicast request to `mac` now
        Packet overflowed = nullptr; // oldest waiting packet pushed out; the caller drops it
    };

    explicit ArpCache(const ArpParams& params);
    ArpCache(const ArpCache&) = delete;
    ArpCache& operator=(const ArpCache&) = delete;
    ~ArpCache();

    // Finds the MAC for `ip`, or queues `pkt` until it is known.
    ResolveResult resolve(wire::Ipv4Addr ip, Packet pkt, TimeNs now);

    // Records ip→mac from an ARP packet. RFC 826: an existing entry is always
    // updated; a new one is made only when `create` (the packet was meant for
    // us). Waiting packets go to `transmit(Packet, MacAddr)`. Returns whether
    // the address is now in the table.
    template <class Transmit>
    bool learn(wire::Ipv4Addr ip, wire::MacAddr mac, bool create, TimeNs now, Transmit&& transmit);

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
    void confirm(Entry& e, wire::MacAddr mac, TimeNs now) noexcept;

    ArpParams params_;
    std::vector<Entry> entries_;
    std::vector<Table::bucket_type> buckets_;
    std::vector<Packet> pending_;
    Table table_;
    EntryList in_use_;
    EntryList free_;
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
bool ArpCache::learn(wire::Ipv4Addr ip, wire::MacAddr mac, bool create, TimeNs now, Transmit&& transmit) {
    Entry* e = find_mutable(ip);
    if (e == nullptr) {
        if (!create) return false;
        e = allocate(ip, now);
        if (e == nullptr) return false;
    }
    if (e->state == NeighState::permanent) return true; // configuration wins over the wire
    confirm(*e, mac, now);
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
            if (now >= e.deadline) e.state = NeighState::stale;
            break;
        case NeighState::stale:
            if (now - e.last_used >= params_.stale_lifetime) release(e);
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
