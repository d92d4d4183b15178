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
    for (Entry& e : entries_) free_.push_back(e);
}

ArpCache::~ArpCache() {
    // Unlink before the storage goes away (normal_link hooks do not auto-unlink).
    table_.clear();
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
        // Reclaim the least recently used stale entry, as Linux's forced GC does.
        Entry* victim = nullptr;
        for (Entry& e : in_use_) {
            if (e.state == NeighState::stale && (victim == nullptr || e.last_used < victim->last_used))
                victim = &e;
        }
        if (victim == nullptr) return nullptr;
        release(*victim);
    }
    Entry& e = free_.front();
    free_.pop_front();
    e.ip = ip;
    e.mac = {};
    e.state = NeighState::incomplete;
    e.requests_sent = 0;
    e.deadline = now;
    e.last_used = now;
    e.pending_head = 0;
    e.pending_count = 0;
    table_.insert(e);
    in_use_.push_back(e);
    return &e;
}

void ArpCache::release(Entry& e) {
    // Callers drain the queue first; a packet left here would leak.
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
    if (e.pending_count == params_.max_pending) {
        // Drop the oldest, as Linux's neighbour queue does: the newest packet
        // is the one most likely still wanted when the reply comes.
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

void ArpCache::confirm(Entry& e, wire::MacAddr mac, TimeNs now) noexcept {
    e.mac = mac;
    e.state = NeighState::reachable;
    e.deadline = now + params_.reachable;
    e.requests_sent = 0;
}

ArpCache::ResolveResult ArpCache::resolve(wire::Ipv4Addr ip, Packet pkt, TimeNs now) {
    Entry* e = find_mutable(ip);
    if (e == nullptr) {
        e = allocate(ip, now);
        if (e == nullptr) return {Status::table_full};
        e->requests_sent = 1;
        e->deadline = now + params_.retry;
        Packet overflowed = push_pending(*e, pkt);
        return {Status::send_request, {}, false, overflowed};
    }
    e->last_used = now;
    switch (e->state) {
    case NeighState::incomplete: {
        Packet overflowed = push_pending(*e, pkt);
        return {Status::queued, {}, false, overflowed};
    }
    case NeighState::stale:
        // RFC 1122 2.3.2.1: keep using the old address while re-validating it.
        e->state = NeighState::probe;
        e->requests_sent = 1;
        e->deadline = now + params_.retry;
        return {Status::ready, e->mac, true, nullptr};
    case NeighState::reachable:
        if (now >= e->deadline) {
            e->state = NeighState::probe;
            e->requests_sent = 1;
            e->deadline = now + params_.retry;
            return {Status::ready, e->mac, true, nullptr};
        }
        [[fallthrough]];
    case NeighState::probe:
    case NeighState::permanent:
        return {Status::ready, e->mac, false, nullptr};
    }
    return {Status::table_full};
}

bool ArpCache::add_permanent(wire::Ipv4Addr ip, wire::MacAddr mac) {
    Entry* e = find_mutable(ip);
    if (e == nullptr) e = allocate(ip, 0);
    if (e == nullptr) return false;
    e->mac = mac;
    e->state = NeighState::permanent;
    return true;
}

} // namespace lanetcp::arp
