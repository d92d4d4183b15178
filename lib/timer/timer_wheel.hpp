// The timers of one lcore: a hierarchical timing wheel (Varghese & Lauck,
// "Hashed and Hierarchical Timing Wheels", SOSP 1987, scheme 7), as the
// cascading wheel Linux used before 4.8.
//
// A TCP connection arms and cancels its retransmit timer on nearly every
// segment, and almost none of those timers ever fire. So arm and cancel are
// O(1) and allocation-free (the timer is an intrusive list node the owner
// embeds), and the cost of ordering is paid only by the few timers that live
// long enough to be cascaded.
//
// Geometry: 4 levels of 256 slots. With the default 1 ms tick, level 0 holds
// the next 256 ms (delayed ACK, RFC 9293 3.8.6.3; short RTOs), level 1 the
// next 65 s (RTO, RFC 6298 min 1 s, max 60 s; TIME_WAIT 2*MSL, RFC 9293
// 3.4.2), level 2 the next 4.6 h (keepalive, RFC 1122 4.2.3.6: >= 2 h), level
// 3 the next 2^32 ticks, about 49.7 days. A timer is moved at most three times
// in its life (once per level it descends). 8-bit levels make each level's
// occupancy bitmap 4 words, so finding the next occupied slot is a few
// count-trailing-zeros, and an idle or sparse wheel skips to the next event
// instead of walking ticks. The 1024 list heads (16 KiB) live inside the
// wheel object, so they sit on the NUMA node of whoever allocates the wheel;
// level 0, the hot one, is 4 KiB.
//
// Deadlines past the range are parked in the farthest level-3 slot and
// re-placed each time that slot is cascaded, with the real deadline, until
// they come within range: never lost, never early.
//
// Precision: a timer with deadline d (ns) fires in the first advance(now)
// after it was armed with floor(now / tick) >= ceil(d / tick), i.e. when now
// reaches d rounded up to a tick boundary. It never fires before d; when
// advance() is called at tick boundaries it fires less than one tick after d.
// Within one advance() call, timers fire in order of their tick (timers of
// one tick in no particular order), after any left over from earlier calls
// (armed for a tick already processed, see advance()).
//
// The wheel never rewinds: advance() with an earlier `now` than before only
// fires left-over timers due at that `now`.
//
// Single-threaded: one wheel per lcore, no locks, no virtual calls.
#pragma once

#include <array>
#include <bit>
#include <boost/intrusive/list.hpp>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "util/clock.hpp"

namespace lanetcp {

class TimerWheel;

// A timer the owner embeds in its own object, e.g. a TCP connection's
// retransmit, delayed-ACK and TIME_WAIT timers.
//
// Dispatch without virtual calls: the owner binds the timer to itself and a
// small `kind` (which of its timers this is); the expiry callback gets the
// Timer& and recovers the owner with owner_as<T>(), then switches on kind().
// A back-pointer costs 8 bytes but is always well defined, unlike a
// container_of() built on offsetof, which is only conditionally supported for
// classes that are not standard-layout (a connection with a std::vector or a
// base class is not).
//
// Destroying an armed timer cancels it. A timer is a list node linked by its
// address, so it cannot be copied or moved; neither can objects that embed one.
class Timer {
public:
    // The kind of a CallbackTimer: the dispatcher runs its own handler
    // instead of treating the owner as one of its own objects.
    static constexpr std::uint8_t kCallback = 0xff;

    Timer() noexcept = default;
    explicit Timer(void* owner, std::uint8_t kind = 0) noexcept : owner_(owner), kind_(kind) {}
    ~Timer();
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    void set_owner(void* owner, std::uint8_t kind = 0) noexcept {
        owner_ = owner;
        kind_ = kind;
    }
    void* owner() const noexcept { return owner_; }
    // The caller knows the type from kind(); this is only a static_cast.
    template <class T>
    T* owner_as() const noexcept { return static_cast<T*>(owner_); }
    std::uint8_t kind() const noexcept { return kind_; }

    bool armed() const noexcept { return wheel_ != nullptr; }
    // The deadline it was last armed with (still readable after it fired).
    TimeNs deadline() const noexcept { return deadline_; }

private:
    friend class TimerWheel;
    // auto_unlink gives an O(1) unlink() that needs no container, so cancel()
    // does not have to know which slot (or the firing or due list) holds the
    // timer.
    using Hook = boost::intrusive::list_member_hook<
        boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;

    Hook hook_;
    TimerWheel* wheel_ = nullptr; // non-null exactly while armed
    std::uint64_t expires_ = 0;   // ceil(deadline_ / tick): the tick it fires in
    TimeNs deadline_ = 0;
    void* owner_ = nullptr;
    std::uint8_t kind_ = 0;
};

class TimerWheel {
public:
    static constexpr unsigned kLevelBits = 8;
    static constexpr unsigned kSlotsPerLevel = 1u << kLevelBits;
    static constexpr unsigned kLevels = 4;
    // Ticks the wheel can place exactly; later deadlines are re-placed.
    static constexpr std::uint64_t kRangeTicks = std::uint64_t{1} << (kLevelBits * kLevels);
    static constexpr TimeNs kNever = std::numeric_limits<TimeNs>::max();

    // Work counters, for telemetry and to show that time jumps skip empty slots.
    struct Stats {
        std::uint64_t stops = 0;    // ticks advance() stopped at (slot fired or cascaded)
        std::uint64_t cascaded = 0; // timers moved to a lower level
        std::uint64_t fired = 0;
    };

    // The wheel starts at the tick containing `now`, not yet processed.
    // `tick` is the resolution, > 0.
    explicit TimerWheel(TimeNs now, TimeNs tick = 1 * kNsPerMs) noexcept;
    // Disarms the timers still armed, so they may outlive the wheel.
    ~TimerWheel();
    TimerWheel(const TimerWheel&) = delete;
    TimerWheel& operator=(const TimerWheel&) = delete;

    // Arms `t` to fire at `deadline`; an armed timer is moved (also from
    // another wheel). A deadline in a tick the wheel has already processed
    // fires in the next advance(). O(1), no allocation.
    void arm(Timer& t, TimeNs deadline) noexcept;
    // Like arm(), but a timer already armed for an earlier tick stays where
    // it is: when that tick comes it is moved to the new deadline instead of
    // firing. For timers pushed back on every event (a retransmission timer
    // restarted by every ACK), this is a store instead of an unlink and a
    // relink. deadline() reports the new deadline at once.
    void arm_lazily(Timer& t, TimeNs deadline) noexcept;
    // No-op when `t` is not armed. O(1).
    void cancel(Timer& t) noexcept;
    static bool armed(const Timer& t) noexcept { return t.wheel_ != nullptr; }

    // Fires every timer due at `now` (see Precision above): the timer is
    // disarmed, then `on_expire(Timer&)` is called. Returns how many fired.
    //
    // on_expire may arm, re-arm or cancel any timer, including the one it is
    // called for and others due in the same tick. The wheel processes ticks
    // in order; while the callbacks of tick c run, ticks up to c count as
    // processed (while left-over timers fire: ticks up to the last call's
    // `now`). A timer armed for a processed tick fires in the next advance()
    // call; one armed for a later tick <= `now` fires later in this call. So
    // a timer fires at most once per tick per call and callbacks cannot make
    // advance() loop forever: a timer re-arming itself for `now` fires at
    // most once more in this call (in now's tick), then in the next call; a
    // periodic timer catching up after a long gap fires once per period.
    //
    // on_expire must not call advance() and should not throw (if it does,
    // the timers not yet fired stay armed and fire in a later call).
    template <class F>
    std::size_t advance(TimeNs now, F&& on_expire);

    std::size_t size() const noexcept { return size_; } // armed timers

    // For idle loops: kNever when nothing is armed, otherwise a time no later
    // than the earliest deadline of any armed timer (exact to within one tick
    // for timers due within 256 ticks, coarser for later ones). advance()
    // with an earlier `now` fires nothing. O(1) plus the timers armed for
    // ticks already processed (normally none).
    TimeNs next_expiry_hint() const noexcept;

    TimeNs tick() const noexcept { return tick_; }
    const Stats& stats() const noexcept { return stats_; }

private:
    friend class Timer; // ~Timer() detaches itself
    using Tick = std::uint64_t;
    using List = boost::intrusive::list<
        Timer, boost::intrusive::member_hook<Timer, Timer::Hook, &Timer::hook_>,
        boost::intrusive::constant_time_size<false>>;
    using Bitmap = std::array<std::uint64_t, kSlotsPerLevel / 64>;

    static constexpr Tick kSlotMask = kSlotsPerLevel - 1;
    static constexpr Tick kNoEvent = std::numeric_limits<Tick>::max();

    // The tick a deadline fires in: the first one that ends at or after it.
    Tick tick_of(TimeNs deadline) const noexcept { return deadline / tick_ + (deadline % tick_ != 0 ? 1 : 0); }
    static void detach(Timer& t) noexcept;
    void place(Timer& t) noexcept;
    Tick next_event() const noexcept;
    void cascade(Tick c) noexcept;
    void take_due_slot(Tick c) noexcept;
    template <class F>
    std::size_t fire(Tick target, F& on_expire);

    List& slot(unsigned level, Tick idx) noexcept { return slots_[level * kSlotsPerLevel + idx]; }
    void mark(unsigned level, Tick idx) noexcept {
        occupied_[level][idx >> 6] |= std::uint64_t{1} << (idx & 63);
    }
    bool test_and_clear(unsigned level, Tick idx) noexcept {
        std::uint64_t& w = occupied_[level][idx >> 6];
        const std::uint64_t bit = std::uint64_t{1} << (idx & 63);
        const bool was = (w & bit) != 0;
        w &= ~bit;
        return was;
    }

    TimeNs tick_;
    // Every tick before cur_ has been processed; all timers in the slots
    // expire at cur_ or later. A slot's bit is set while it may hold timers:
    // cancel() leaves it set (that would cost a look at the slot's list head),
    // and the next stop at that slot clears it.
    Tick cur_;
    std::size_t size_ = 0;
    bool in_advance_ = false;
    Stats stats_;
    std::array<Bitmap, kLevels> occupied_{};
    // Timers armed for a tick already processed; they fire in the next advance().
    List due_;
    // The slot being fired, so callbacks may cancel or re-arm its timers.
    List firing_;
    std::array<List, kLevels * kSlotsPerLevel> slots_;
};

// A timer for owners the wheel's dispatcher does not know, e.g. an
// application's timers on its lcore's wheel (Lcore::timers()): it carries its
// handler, a plain function pointer, so arming allocates nothing and firing
// is one indirect call, no virtual one. The owner pointer and the handler
// are bound once; arm, re-arm and cancel with the wheel as any Timer.
//
// The dispatcher (TcpLayer::advance for the lcore's wheel) hands every
// expired timer to CallbackTimer::dispatch first. The handler may arm,
// re-arm or cancel any timer, and call into TCP (send, close), as any code
// outside a TCP callback may.
class CallbackTimer : public Timer {
public:
    using Handler = void (*)(CallbackTimer& timer, TimeNs now);

    CallbackTimer() noexcept : Timer(nullptr, kCallback) {}
    CallbackTimer(Handler handler, void* owner) noexcept : Timer(owner, kCallback), handler_(handler) {}

    void bind(Handler handler, void* owner) noexcept {
        handler_ = handler;
        Timer::set_owner(owner, kCallback);
    }

    // Runs `t`'s handler if it is a CallbackTimer; false when the caller
    // dispatches it (the kind is one of the caller's own).
    static bool dispatch(Timer& t, TimeNs now) {
        if (t.kind() != kCallback) return false;
        auto& ct = static_cast<CallbackTimer&>(t);
        if (ct.handler_ != nullptr) ct.handler_(ct, now);
        return true;
    }

private:
    using Timer::set_owner; // the kind must stay kCallback: bind() instead

    Handler handler_ = nullptr;
};

// Three per TCP connection: keep it within a cache line.
static_assert(sizeof(Timer) <= 64);
static_assert(sizeof(CallbackTimer) <= 64);

// ---- inline ----

inline Timer::~Timer() {
    if (wheel_ != nullptr) TimerWheel::detach(*this);
}

inline void TimerWheel::detach(Timer& t) noexcept {
    t.hook_.unlink();
    --t.wheel_->size_;
    t.wheel_ = nullptr;
}

inline void TimerWheel::place(Timer& t) noexcept {
    Tick e = t.expires_;
    if (e < cur_) {
        due_.push_back(t);
        return;
    }
    Tick delta = e - cur_;
    if (delta >= kRangeTicks) { // park it in range; cascade() re-places it
        delta = kRangeTicks - 1;
        e = cur_ + delta;
    }
    // The level whose slots are as wide as the highest byte of the distance:
    // the slot is then reached (cascaded) before e, and within one turn.
    const unsigned level = static_cast<unsigned>(std::bit_width(delta | 1) - 1) / kLevelBits;
    const Tick idx = (e >> (level * kLevelBits)) & kSlotMask;
    slot(level, idx).push_back(t);
    mark(level, idx);
}

inline void TimerWheel::arm(Timer& t, TimeNs deadline) noexcept {
    if (t.wheel_ != nullptr) detach(t);
    t.wheel_ = this;
    ++size_;
    t.deadline_ = deadline;
    t.expires_ = tick_of(deadline);
    place(t);
}

inline void TimerWheel::arm_lazily(Timer& t, TimeNs deadline) noexcept {
    const Tick e = tick_of(deadline);
    if (t.wheel_ == this && e >= t.expires_) {
        t.deadline_ = deadline; // fire() sees it is not due yet and moves it
        return;
    }
    arm(t, deadline);
}

inline void TimerWheel::cancel(Timer& t) noexcept {
    if (t.wheel_ == nullptr) return;
    assert(t.wheel_ == this);
    detach(t);
}

template <class F>
std::size_t TimerWheel::fire(Tick target, F& on_expire) {
    std::size_t n = 0;
    while (!firing_.empty()) {
        Timer& t = firing_.front();
        firing_.pop_front();
        if (t.expires_ > target) { // from due_, and the clock went backwards
            due_.push_back(t);
            continue;
        }
        // Pushed back by arm_lazily() after it was placed: not due yet. Its
        // new tick is placed for this call's later ticks or a later call.
        const Tick want = tick_of(t.deadline_);
        if (want >= cur_) {
            t.expires_ = want;
            place(t);
            continue;
        }
        t.wheel_ = nullptr;
        --size_;
        ++n;
        ++stats_.fired;
        on_expire(t);
    }
    return n;
}

template <class F>
std::size_t TimerWheel::advance(TimeNs now, F&& on_expire) {
    const Tick target = now / tick_;
    // The common case in a poll loop: still in a tick already processed.
    if (target < cur_ && due_.empty() && firing_.empty()) return 0;

    assert(!in_advance_ && "advance() called from a timer callback");
    struct Guard {
        bool& b;
        explicit Guard(bool& flag) noexcept : b(flag) { b = true; }
        ~Guard() { b = false; }
        Guard(const Guard&) = delete;
        Guard& operator=(const Guard&) = delete;
    } guard{in_advance_};

    // Left over only if a callback threw.
    if (!firing_.empty()) due_.splice(due_.begin(), firing_);

    std::size_t fired = 0;
    if (!due_.empty()) {
        firing_.splice(firing_.end(), due_);
        fired += fire(target, on_expire);
    }
    while (cur_ <= target) {
        const Tick c = next_event();
        if (c > target) {
            cur_ = target + 1;
            break;
        }
        ++stats_.stops;
        cur_ = c;
        cascade(c);
        take_due_slot(c);
        // From here on, timers armed for tick c or earlier go to due_.
        cur_ = c + 1;
        fired += fire(target, on_expire);
    }
    return fired;
}

} // namespace lanetcp
