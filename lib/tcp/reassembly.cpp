#include "tcp/reassembly.hpp"

namespace lanetcp::tcp {

using wire::seq_diff;
using wire::seq_geq;
using wire::seq_gt;
using wire::seq_leq;
using wire::seq_lt;

HeldSegmentPool::HeldSegmentPool(std::uint32_t capacity) : nodes_(std::make_unique<HeldSegment[]>(capacity)) {
    for (std::uint32_t i = 0; i < capacity; ++i) free_.push_back(nodes_[i]);
}

HeldSegmentPool::~HeldSegmentPool() { free_.clear(); }

HeldSegment* HeldSegmentPool::get() noexcept {
    if (free_.empty()) return nullptr;
    HeldSegment& s = free_.front();
    free_.pop_front();
    return &s;
}

void HeldSegmentPool::put(HeldSegment& s) noexcept {
    s.chunk = Chunk{};
    s.fin = false;
    free_.push_front(s);
}

void ReassemblyQueue::drop(HeldSegment& s, HeldSegmentPool& pool) noexcept {
    bytes_ -= s.chunk.length;
    mem_ -= s.chunk.charge();
    held_.erase(held_.iterator_to(s));
    s.chunk.release();
    pool.put(s);
}

void ReassemblyQueue::clear(HeldSegmentPool& pool) noexcept {
    while (!held_.empty()) drop(held_.front(), pool);
}

ReassemblyQueue::Insert ReassemblyQueue::insert(wire::SeqNum seq, Chunk chunk, bool fin, wire::SeqNum rcv_nxt,
                                                HeldSegmentPool& pool, std::uint32_t max_segments) noexcept {
    // Cut anything already delivered.
    if (seq_lt(seq, rcv_nxt)) {
        const auto skip = static_cast<std::uint32_t>(seq_diff(rcv_nxt, seq));
        if (skip >= chunk.length && !fin) {
            chunk.release();
            return Insert::duplicate;
        }
        chunk.trim_front(skip < chunk.length ? skip : chunk.length);
        seq = rcv_nxt;
    }
    wire::SeqNum end = seq + chunk.length;

    // The last held segment that starts at or before us: new data usually
    // lands at the end, so search from the back.
    auto pos = held_.end();
    while (pos != held_.begin()) {
        auto prev = std::prev(pos);
        if (seq_leq(prev->seq, seq)) break;
        pos = prev;
    }
    // `pos` is the first segment starting after us; the one before it may overlap our front.
    if (pos != held_.begin()) {
        HeldSegment& before = *std::prev(pos);
        if (seq_geq(before.end(), end) && !(fin && !before.fin && before.end() == end)) {
            chunk.release();
            return Insert::duplicate;
        }
        if (seq_gt(before.end(), seq)) {
            chunk.trim_front(static_cast<std::uint32_t>(seq_diff(before.end(), seq)));
            seq = before.end();
        }
    }
    // Segments we cover completely go; one we run into cuts our tail.
    while (pos != held_.end() && seq_lt(pos->seq, end)) {
        HeldSegment& after = *pos;
        if (seq_leq(after.end(), end) && !(after.fin && after.end() == end && !fin)) {
            ++pos;
            drop(after, pool);
            continue;
        }
        chunk.trim_back(static_cast<std::uint32_t>(seq_diff(end, after.seq)));
        end = after.seq;
        fin = false; // data follows, so this cannot be where the stream ends
        break;
    }
    if (chunk.length == 0 && !fin) {
        chunk.release();
        return Insert::duplicate;
    }
    HeldSegment* s = held_.size() < max_segments ? pool.get() : nullptr;
    if (s == nullptr) {
        chunk.release();
        return Insert::full;
    }
    s->seq = seq;
    s->chunk = chunk;
    s->fin = fin;
    held_.insert(pos, *s);
    bytes_ += chunk.length;
    mem_ += chunk.charge();
    return Insert::held;
}

std::uint32_t ReassemblyQueue::prune(wire::SeqNum keep_below, std::uint32_t target, HeldSegmentPool& pool) noexcept {
    std::uint32_t dropped = 0;
    while (mem_ > target && !held_.empty() && seq_geq(held_.back().seq, keep_below)) {
        drop(held_.back(), pool);
        ++dropped;
    }
    return dropped;
}

} // namespace lanetcp::tcp
