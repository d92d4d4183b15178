#include "timer/timer_wheel.hpp"

#include <algorithm>

namespace lanetcp {
namespace {

// The first set bit at or after `start`, going round: its distance from
// `start` in [0, 256), or -1 when no bit is set.
int next_set_from(const std::array<std::uint64_t, 4>& bm, unsigned start) noexcept {
    const unsigned w0 = start >> 6;
    const unsigned b0 = start & 63;
    std::uint64_t word = bm[w0] & (~std::uint64_t{0} << b0);
    unsigned w = w0;
    for (unsigned i = 1;; ++i) {
        if (word != 0) {
            const unsigned bit = w * 64 + static_cast<unsigned>(std::countr_zero(word));
            return static_cast<int>((bit - start) & 255);
        }
        if (i > 4) return -1;
        w = (w0 + i) & 3;
        word = bm[w];
        if (i == 4) word &= ~(~std::uint64_t{0} << b0); // back at the start word: only below `start`
    }
}

} // namespace

TimerWheel::TimerWheel(TimeNs now, TimeNs tick) noexcept : tick_(tick), cur_(now / tick) {
    assert(tick > 0);
}

TimerWheel::~TimerWheel() {
    auto release = [](List& l) {
        while (!l.empty()) {
            Timer& t = l.front();
            l.pop_front();
            t.wheel_ = nullptr;
        }
    };
    for (List& l : slots_) release(l);
    release(due_);
    release(firing_);
    size_ = 0;
}

// The first tick >= cur_ at which a slot that may hold timers is reached:
// fired (level 0) or cascaded (level L, at multiples of 256^L). Nothing
// happens between cur_ and that tick, so advance() jumps there directly.
TimerWheel::Tick TimerWheel::next_event() const noexcept {
    Tick best = kNoEvent;
    for (unsigned level = 0; level < kLevels; ++level) {
        const unsigned shift = level * kLevelBits;
        // The first boundary of this level at or after cur_, in slot units.
        const Tick base = (cur_ >> shift) + ((cur_ & ((Tick{1} << shift) - 1)) != 0 ? 1 : 0);
        // This level and the coarser ones cannot have anything earlier.
        if (best <= (base << shift)) break;
        const int d = next_set_from(occupied_[level], static_cast<unsigned>(base & kSlotMask));
        if (d >= 0) best = std::min(best, (base + static_cast<Tick>(d)) << shift);
    }
    return best;
}

// Moves the timers of every slot reached at tick c (c == cur_) one or more
// levels down. Re-placing never lands in the slot being emptied: a timer that
// stays on level L is at least one slot further on.
void TimerWheel::cascade(Tick c) noexcept {
    for (unsigned level = kLevels - 1; level >= 1; --level) {
        const unsigned shift = level * kLevelBits;
        if ((c & ((Tick{1} << shift) - 1)) != 0) continue;
        const Tick idx = (c >> shift) & kSlotMask;
        if (!test_and_clear(level, idx)) continue;
        List& from = slot(level, idx);
        while (!from.empty()) {
            Timer& t = from.front();
            from.pop_front();
            place(t);
            ++stats_.cascaded;
        }
    }
}

// Moves the level-0 slot of tick c to firing_. A callback arming a timer 256
// ticks ahead uses the same slot index; it must not be fired now.
void TimerWheel::take_due_slot(Tick c) noexcept {
    const Tick idx = c & kSlotMask;
    if (!test_and_clear(0, idx)) return;
    firing_.splice(firing_.end(), slot(0, idx));
}

TimeNs TimerWheel::next_expiry_hint() const noexcept {
    TimeNs best = kNever;
    for (const Timer& t : due_) best = std::min(best, t.deadline_);
    for (const Timer& t : firing_) best = std::min(best, t.deadline_);
    const Tick c = next_event();
    if (c != kNoEvent) {
        // Every timer in the slots expires at tick c or later, so its
        // deadline is after the end of tick c - 1.
        TimeNs lb = 0;
        if (c > 0) lb = (c - 1) > (kNever - 1) / tick_ ? kNever : (c - 1) * tick_ + 1;
        best = std::min(best, lb);
    }
    return best;
}

} // namespace lanetcp
