// One direction of an impaired wire for any kind of packet: the model
// (impairment.hpp) decides, the Link holds the packets until they are due and
// hands them out in delivery order. `Ops` does what depends on the packet's
// representation (an rte_mbuf*, a test's segment):
//   std::uint32_t wire_bytes(const Packet&)    bytes the bottleneck serialises
//   bool ect(const Packet&)                    IP ECN field 01 or 10
//   void mark_ce(Packet&)                      ECN field to 11, IP checksum fixed
//   bool corrupt(Packet&, std::uint64_t bits)  flip one byte; false if it cannot
//   bool copy(const Packet&, Packet& out)      a duplicate; false if none could be made
//   void drop(Packet&)                         free it
// Storage is allocated once (spec.limit packets); nothing per packet.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "impair/impairment.hpp"

namespace lanetcp::impair {

template <class Packet>
class Link {
public:
    static constexpr TimeNs kNever = std::numeric_limits<TimeNs>::max();
    static constexpr std::size_t kMaxHeld = 64; // reordered packets held back at once

    explicit Link(const Spec& spec) : model_(spec), fifo_(spec.limit) {}

    // Offers `p` to the wire at `now`; the Link owns it from here on.
    template <class Ops>
    void send(TimeNs now, Packet&& p, Ops& ops) {
        const Verdict v = model_.decide(now, ops.wire_bytes(p), ops.ect(p));
        Stats& st = model_.stats();
        if (v.fate != Verdict::Fate::deliver) {
            ops.drop(p);
            return;
        }
        if (v.mark_ce) ops.mark_ce(p);
        Packet copy{};
        const bool duplicate = v.duplicate && ops.copy(p, copy); // the copy is clean: made before corruption
        if (v.corrupt && ops.corrupt(p, v.corrupt_bits)) ++st.corrupted;
        const std::uint64_t index = next_index_++;
        if (v.reorder && held_count_ < kMaxHeld) {
            held_[held_count_++] = Held{std::move(p), index, model_.spec().reorder_gap, v.hold_until};
            ++st.reordered;
        } else {
            push(v.deliver_at, index, std::move(p), ops);
        }
        if (duplicate) {
            ++st.duplicated;
            push(v.deliver_at, index, std::move(copy), ops);
        }
    }

    // The next packet due at `now`, if any.
    bool receive(TimeNs now, Packet& out) {
        for (std::size_t i = 0; i < held_count_; ++i) {
            if (held_[i].gap == 0 || held_[i].until <= now) {
                out = std::move(held_[i].packet);
                for (std::size_t j = i + 1; j < held_count_; ++j) held_[j - 1] = std::move(held_[j]);
                --held_count_;
                ++model_.stats().delivered;
                return true;
            }
        }
        if (count_ == 0 || fifo_[head_].at > now) return false;
        Entry& e = fifo_[head_];
        out = std::move(e.packet);
        for (std::size_t i = 0; i < held_count_; ++i)
            if (e.index > held_[i].index && held_[i].gap > 0) --held_[i].gap;
        head_ = head_ + 1 == fifo_.size() ? 0 : head_ + 1;
        --count_;
        ++model_.stats().delivered;
        return true;
    }

    // When receive() next has something, kNever if the wire is empty.
    TimeNs next_due() const noexcept {
        TimeNs t = count_ != 0 ? fifo_[head_].at : kNever;
        for (std::size_t i = 0; i < held_count_; ++i) t = std::min(t, held_[i].gap == 0 ? 0 : held_[i].until);
        return t;
    }

    // Packets on the wire.
    std::size_t size() const noexcept { return count_ + held_count_; }

    // Gives every packet still on the wire to `ops.drop` (teardown).
    template <class Ops>
    void clear(Ops& ops) {
        for (; count_ > 0; --count_) {
            ops.drop(fifo_[head_].packet);
            head_ = head_ + 1 == fifo_.size() ? 0 : head_ + 1;
        }
        for (; held_count_ > 0; --held_count_) ops.drop(held_[held_count_ - 1].packet);
    }

    Impairment& model() noexcept { return model_; }
    const Stats& stats() const noexcept { return model_.stats(); }

private:
    struct Entry {
        TimeNs at = 0;
        std::uint64_t index = 0;
        Packet packet{};
    };
    struct Held {
        Packet packet{};
        std::uint64_t index = 0;
        std::uint32_t gap = 0; // later packets still to pass it
        TimeNs until = 0;
    };

    template <class Ops>
    void push(TimeNs at, std::uint64_t index, Packet&& p, Ops& ops) {
        if (count_ == fifo_.size()) {
            ++model_.stats().overflow_dropped;
            ops.drop(p);
            return;
        }
        std::size_t tail = head_ + count_;
        if (tail >= fifo_.size()) tail -= fifo_.size();
        fifo_[tail] = Entry{at, index, std::move(p)};
        ++count_;
    }

    Impairment model_;
    std::vector<Entry> fifo_; // ring, delivery times non-decreasing
    std::size_t head_ = 0, count_ = 0;
    std::array<Held, kMaxHeld> held_{};
    std::size_t held_count_ = 0;
    std::uint64_t next_index_ = 0;
};

} // namespace lanetcp::impair
