// Segments that arrived ahead of RCV.NXT, held (without copying) until the
// hole before them fills. Without it, one lost or reordered segment costs a
// whole window of retransmissions: veth and multi-queue NICs reorder, and a
// sender without SACK then recovers one segment per round trip.
//
// Held data is always within the window we advertised, so the queue cannot
// hold more than that; a per-connection segment cap bounds tiny segments.
#pragma once

#include <boost/intrusive/list.hpp>
#include <cstdint>
#include <memory>

#include "tcp/chunk.hpp"
#include "wire/seq.hpp"

namespace lanetcp::tcp {

namespace bi = boost::intrusive;

struct HeldSegment : bi::list_base_hook<bi::link_mode<bi::normal_link>> {
    wire::SeqNum seq{};
    Chunk chunk{};
    bool fin = false; // a FIN follows the last byte
    wire::SeqNum end() const noexcept { return seq + chunk.length; }
};

using HeldList = bi::list<HeldSegment, bi::constant_time_size<true>>;

// Nodes for every connection's queue on one lcore, allocated at start.
class HeldSegmentPool {
public:
    explicit HeldSegmentPool(std::uint32_t capacity);
    ~HeldSegmentPool();
    HeldSegmentPool(const HeldSegmentPool&) = delete;
    HeldSegmentPool& operator=(const HeldSegmentPool&) = delete;

    HeldSegment* get() noexcept;
    void put(HeldSegment& s) noexcept;
    std::uint32_t available() const noexcept { return static_cast<std::uint32_t>(free_.size()); }

private:
    std::unique_ptr<HeldSegment[]> nodes_;
    HeldList free_;
};

class ReassemblyQueue {
public:
    enum class Insert : std::uint8_t {
        held,       // queued (perhaps trimmed to what was new)
        duplicate,  // nothing new in it; released
        full,       // no room (segment cap or pool); released
    };

    ReassemblyQueue() = default;
    ReassemblyQueue(const ReassemblyQueue&) = delete;
    ReassemblyQueue& operator=(const ReassemblyQueue&) = delete;
    ~ReassemblyQueue() { held_.clear(); } // call clear(pool) first; nodes belong to the pool

    // Takes `chunk` (the bytes at `seq`, all after `rcv_nxt`) and `fin`.
    Insert insert(wire::SeqNum seq, Chunk chunk, bool fin, wire::SeqNum rcv_nxt, HeldSegmentPool& pool,
                  std::uint32_t max_segments) noexcept;

    // Hands `deliver(HeldSegment&)` every held segment whose bytes now
    // continue `rcv_nxt`, in order, trimmed to what is new, advancing it. The
    // node goes with its data (deliver keeps it or puts it back in `pool`):
    // taking a fresh node for the data instead could find the pool empty.
    // Returns true when a held FIN was reached (`rcv_nxt` then points at the
    // FIN, not past it).
    template <class Deliver>
    bool pop_ready(wire::SeqNum& rcv_nxt, HeldSegmentPool& pool, Deliver&& deliver) noexcept {
        bool fin = false;
        while (!held_.empty() && wire::seq_leq(held_.front().seq, rcv_nxt)) {
            HeldSegment& s = held_.front();
            held_.pop_front();
            bytes_ -= s.chunk.length;
            mem_ -= s.chunk.charge();
            const wire::SeqNum end = s.end();
            const bool held_fin = s.fin;
            if (wire::seq_gt(end, rcv_nxt)) {
                s.chunk.trim_front(static_cast<std::uint32_t>(wire::seq_diff(rcv_nxt, s.seq)));
                rcv_nxt = end;
                deliver(s);
            } else {
                s.chunk.release(); // overtaken by what arrived in order
                pool.put(s);
            }
            if (held_fin && end == rcv_nxt) fin = true;
            if (fin) break;
        }
        return fin;
    }

    // Releases everything (connection gone).
    void clear(HeldSegmentPool& pool) noexcept;

    bool empty() const noexcept { return held_.empty(); }
    std::uint32_t bytes() const noexcept { return bytes_; }
    // The memory the held data pins (the chunks' truesize).
    std::uint32_t mem() const noexcept { return mem_; }
    std::size_t segments() const noexcept { return held_.size(); }
    const HeldList& held() const noexcept { return held_; }

    // Calls fn(left, right) for each run of touching held segments (a SACK
    // block, RFC 2018 3), in ascending order, until fn returns false.
    template <class F>
    void for_each_block(F&& fn) const {
        bool open = false;
        wire::SeqNum left{}, right{};
        for (const HeldSegment& h : held_) {
            if (open && right == h.seq) {
                right = h.end();
                continue;
            }
            if (open && !fn(left, right)) return;
            left = h.seq;
            right = h.end();
            open = true;
        }
        if (open) fn(left, right);
    }

    // tcp_collapse: calls `compact(Chunk&)` on every held chunk, which may
    // replace it with a copy that takes less memory.
    template <class Compact>
    void compact_each(Compact&& compact) noexcept {
        for (HeldSegment& s : held_) {
            const std::uint32_t before = s.chunk.charge();
            compact(s.chunk);
            mem_ = mem_ - before + s.chunk.charge();
        }
    }

    // tcp_prune_ofo_queue: drops held segments from the far end, those
    // starting after `keep_below`, until the held memory is at most
    // `target`. Returns how many segments went.
    std::uint32_t prune(wire::SeqNum keep_below, std::uint32_t target, HeldSegmentPool& pool) noexcept;

private:
    void drop(HeldSegment& s, HeldSegmentPool& pool) noexcept;

    HeldList held_; // ascending by seq, never overlapping
    std::uint32_t bytes_ = 0;
    std::uint32_t mem_ = 0;
};

} // namespace lanetcp::tcp
