#include "arp/arp_cache.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>

namespace lanetcp::arp {

namespace {
std::size_t bucket_count_for(std::uint32_t entries) {
    return std::bit_ceil(std::max<std::size_t>(entries, 8));
}
} // namespace

ArpCache::ArpCache(const ArpParams& params)
    : params_(params),
      entries_(params.max_entries),
      buckets_(bucket_count_for(params.max_entries)),
      pending_(std::size_t{params.max_entries} * std::max<std::uint32_t>(params.max_pending, 1)),
      table_(Table::bucket_traits(buckets_.data(), buckets_.size())) {
    if (params.max_entries == 0) throw std::invalid_argument("arp: max_entries must be at least 1");
    if (params.max_pending == 0) throw std::invalid_argument("arp: max_pending must be at least 1");
    if (params.max_pending_total == 0) throw std::invalid_argument("arp: max_pending_total must be at least 1");
    for (Entry& e : entries_) free_.push_back(e);
}

ArpCache::~ArpCache() {
    // Unlink before the storage goes away (normal_link hooks do not auto-unlink).
    table_.clear();
    stale_.clear();
    in_use_.clear();
    free_.clear();
}

const ArpCache::Entry* ArpCache::find(wire::Ipv4Addr ip) const noexcept {
    auto it = table_.find(ip, IpHash{}, IpEqual{});
    return it == table_.end() ? nullptr : &*it;
}

ArpCache::Entry* ArpCache::find_mutable(wire::Ipv4Addr ip) noexcept {
    auto it = table_.find(ip, IpHash{}, IpEqual{});
    return it == table_.end() ? nullptr : &*it;
}

ArpCache::Entry* ArpCache::allocate(wire::Ipv4Addr ip, TimeNs now) {
    if (free_.empty()) {
        // Reclaim the entry stale the longest, as Linux's forced GC takes
        // entries not updated lately; never one in use or being resolved.
        if (stale_.empty()) return nullptr;
        release(stale_.front());
    }
    Entry& e = free_.front();
    free_.pop_front();
    e.ip = ip;
    e.mac = {};
    set_state(e, NeighState::incomplete);
    e.requests_sent = 0;
    e.deadline = now;
    e.last_used = now;
    e.updated = now;
    e.pending_head = 0;
    e.pending_count = 0;
    table_.insert(e);
    in_use_.push_back(e);
    return &e;
}

void ArpCache::set_state(Entry& e, NeighState state) noexcept {
    if (state == NeighState::stale) {
        if (!e.stale_hook.is_linked()) stale_.push_back(e);
    } else if (e.stale_hook.is_linked()) {
        stale_.erase(stale_.iterator_to(e));
    }
    e.state = state;
}

void ArpCache::release(Entry& e) {
    // Callers drain the queue first; a packet left here would leak.
    if (e.stale_hook.is_linked()) stale_.erase(stale_.iterator_to(e));
    table_.erase(table_.iterator_to(e));
    in_use_.erase(in_use_.iterator_to(e));
    free_.push_back(e);
}

Packet* ArpCache::pending_slot(const Entry& e, std::uint32_t i) noexcept {
    auto index = static_cast<std::size_t>(&e - entries_.data());
    return &pending_[index * params_.max_pending + (e.pending_head + i) % params_.max_pending];
}

Packet ArpCache::push_pending(Entry& e, Packet pkt) {
    Packet overflowed = nullptr;
    if (e.pending_count == params_.max_pending || pending_total_ >= params_.max_pending_total) {
        // Drop the oldest, as Linux's neighbour queue does: the newest packet
        // is the one most likely still wanted when the reply comes. At the
        // lcore's bound this keeps the total where it is. (The caller has
        // already refused the packet if this entry holds none.)
        overflowed = *pending_slot(e, 0);
        e.pending_head = (e.pending_head + 1) % params_.max_pending;
        --e.pending_count;
        --pending_total_;
    }
    *pending_slot(e, e.pending_count) = pkt;
    ++e.pending_count;
    ++pending_total_;
    return overflowed;
}

bool ArpCache::update(Entry& e, wire::MacAddr mac, NeighState state, bool override, TimeNs now) noexcept {
    const bool valid = e.state != NeighState::incomplete;
    NeighState next = state;
    if (valid) {
        if (mac != e.mac) {
            if (!override) return false; // within locktime: the first answer stands
        } else if (next == NeighState::stale) {
            next = e.state; // same address, no confirmation: keep what we had
        }
    }
    if (next != e.state || mac != e.mac || !valid) e.updated = now;
    if (state == NeighState::reachable) { // only a confirmation extends reachability
        e.deadline = now + params_.reachable;
        e.requests_sent = 0;
    } else if (next == NeighState::stale) {
        e.requests_sent = 0;
    }
    e.mac = mac;
    set_state(e, next);
    return true;
}

ArpCache::ResolveResult ArpCache::resolve(wire::Ipv4Addr ip, Packet pkt, TimeNs now) {
    Entry* e = find_mutable(ip);
    if (e == nullptr) {
        e = allocate(ip, now);
        if (e == nullptr) return {Status::table_full};
        e->requests_sent = 1;
        e->deadline = now + params_.retry;
        // The request goes out even when the packet cannot wait: the next
        // one (a retransmission) finds the address.
        if (pending_total_ >= params_.max_pending_total) return {Status::send_request, {}, nullptr, true};
        Packet overflowed = push_pending(*e, pkt);
        return {Status::send_request, {}, overflowed};
    }
    e->last_used = now;
    switch (e->state) {
    case NeighState::incomplete: {
        if (pending_total_ >= params_.max_pending_total && e->pending_count == 0)
            return {Status::queued, {}, nullptr, true};
        Packet overflowed = push_pending(*e, pkt);
        return {Status::queued, {}, overflowed};
    }
    case NeighState::stale:
        // RFC 1122 2.3.2.1: keep using the old address while re-validating
        // it; as Linux, a unicast probe only if no reply came within the delay.
        set_state(*e, NeighState::delay);
        e->deadline = now + params_.delay_probe;
        return {Status::ready, e->mac};
    case NeighState::reachable:
        if (now >= e->deadline) {
            set_state(*e, NeighState::delay);
            e->deadline = now + params_.delay_probe;
        }
        return {Status::ready, e->mac};
    case NeighState::delay:
    case NeighState::probe:
    case NeighState::permanent:
        return {Status::ready, e->mac};
    }
    return {Status::table_full};
}

bool ArpCache::add_permanent(wire::Ipv4Addr ip, wire::MacAddr mac) {
    Entry* e = find_mutable(ip);
    if (e == nullptr) e = allocate(ip, 0);
    if (e == nullptr) return false;
    e->mac = mac;
    set_state(*e, NeighState::permanent);
    return true;
}

} // namespace lanetcp::arp
