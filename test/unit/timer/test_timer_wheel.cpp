// The timer wheel on a manual clock: precision, every level against a
// reference model, cancel and re-arm, callbacks that change the wheel while
// it fires, time jumps and deadlines beyond the wheel's range.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "timer/timer_wheel.hpp"

namespace lanetcp {
namespace {

constexpr TimeNs kMs = kNsPerMs;
constexpr TimeNs kSec = kNsPerSec;
constexpr TimeNs kMin = 60 * kSec;
constexpr TimeNs kHour = 60 * kMin;
constexpr TimeNs kDay = 24 * kHour;

// A timer owned by a test object, identified by `id`.
struct Item {
    Timer timer{this, 0};
    int id = 0;
};

std::unique_ptr<Item[]> make_items(int n) {
    std::unique_ptr<Item[]> items(new Item[static_cast<std::size_t>(n)]);
    for (int i = 0; i < n; ++i) items[static_cast<std::size_t>(i)].id = i;
    return items;
}

int id_of(const Timer& t) { return t.owner_as<Item>()->id; }

TimeNs round_up(TimeNs d, TimeNs tick) { return (d + tick - 1) / tick * tick; }

// Collects what one advance() fired.
struct Fired {
    std::vector<int> ids;
    std::vector<TimeNs> deadlines;
    auto cb() {
        return [this](Timer& t) {
            EXPECT_FALSE(t.armed());
            ids.push_back(id_of(t));
            deadlines.push_back(t.deadline());
        };
    }
    void clear() {
        ids.clear();
        deadlines.clear();
    }
};

// The reference: armed timers by the tick they must fire in.
class Model {
public:
    explicit Model(TimeNs tick) : tick_(tick) {}

    void arm(int id, TimeNs deadline) {
        cancel(id);
        pos_[id] = by_tick_.emplace(deadline / tick_ + (deadline % tick_ != 0), id);
    }
    void cancel(int id) {
        auto it = pos_.find(id);
        if (it == pos_.end()) return;
        by_tick_.erase(it->second);
        pos_.erase(it);
    }
    bool armed(int id) const { return pos_.count(id) != 0; }
    // Removes and returns the timers due at `now`, sorted by id.
    std::vector<int> pop_due(TimeNs now) {
        std::vector<int> out;
        const std::uint64_t target = now / tick_;
        while (!by_tick_.empty() && by_tick_.begin()->first <= target) {
            out.push_back(by_tick_.begin()->second);
            pos_.erase(by_tick_.begin()->second);
            by_tick_.erase(by_tick_.begin());
        }
        std::sort(out.begin(), out.end());
        return out;
    }
    bool empty() const { return by_tick_.empty(); }
    std::size_t size() const { return by_tick_.size(); }
    std::uint64_t first_tick() const { return by_tick_.begin()->first; }

private:
    TimeNs tick_;
    std::multimap<std::uint64_t, int> by_tick_;
    std::map<int, std::multimap<std::uint64_t, int>::iterator> pos_;
};

std::vector<int> sorted(std::vector<int> v) {
    std::sort(v.begin(), v.end());
    return v;
}

// Delays spread evenly over orders of magnitude, so every level is used.
TimeNs log_uniform(std::mt19937_64& rng, TimeNs lo, TimeNs hi) {
    std::uniform_real_distribution<double> d(std::log(static_cast<double>(lo)),
                                             std::log(static_cast<double>(hi)));
    return static_cast<TimeNs>(std::exp(d(rng)));
}

// ---- precision ----

TEST(TimerWheel, FiresAtDeadlineAndNotBefore) {
    TimerWheel w(0);
    Item a;
    Fired f;
    w.arm(a.timer, 10 * kMs);
    EXPECT_TRUE(a.timer.armed());
    EXPECT_EQ(w.size(), 1u);
    EXPECT_EQ(w.advance(9 * kMs, f.cb()), 0u);
    EXPECT_EQ(w.advance(10 * kMs - 1, f.cb()), 0u);
    EXPECT_TRUE(f.ids.empty());
    EXPECT_EQ(w.advance(10 * kMs, f.cb()), 1u);
    EXPECT_EQ(f.ids, std::vector<int>{0});
    EXPECT_FALSE(a.timer.armed());
    EXPECT_EQ(w.size(), 0u);
    EXPECT_EQ(w.advance(20 * kMs, f.cb()), 0u); // once only
    EXPECT_EQ(f.ids.size(), 1u);
}

TEST(TimerWheel, NonAlignedDeadlineRoundsUpToTheNextTick) {
    TimerWheel w(0);
    Item a;
    Fired f;
    w.arm(a.timer, 10 * kMs + 300 * kNsPerUs);
    EXPECT_EQ(w.advance(10 * kMs, f.cb()), 0u);
    // Past the deadline but inside its tick: the wheel resolves ticks only.
    EXPECT_EQ(w.advance(10 * kMs + 900 * kNsPerUs, f.cb()), 0u);
    EXPECT_EQ(w.advance(11 * kMs, f.cb()), 1u);
    EXPECT_EQ(a.timer.deadline(), 10 * kMs + 300 * kNsPerUs);
}

TEST(TimerWheel, FinerTickAndNonAlignedStart) {
    const TimeNs tick = 100 * kNsPerUs;
    const TimeNs start = 7 * kSec + 12'345; // not on a tick boundary
    TimerWheel w(start, tick);
    EXPECT_EQ(w.tick(), tick);
    Item a, b;
    Fired f;
    w.arm(a.timer, start + 250 * kNsPerUs); // rounds up to start's tick + 3
    w.arm(b.timer, start - 12'345);         // due now
    EXPECT_EQ(w.advance(start, f.cb()), 1u);
    EXPECT_EQ(f.ids, std::vector<int>{b.id});
    const TimeNs due = round_up(start + 250 * kNsPerUs, tick);
    EXPECT_EQ(w.advance(due - 1, f.cb()), 0u);
    EXPECT_EQ(w.advance(due, f.cb()), 1u);
}

TEST(TimerWheel, DeadlineAlreadyPastFiresInTheNextAdvance) {
    TimerWheel w(0);
    Item a, b;
    Fired f;
    EXPECT_EQ(w.advance(50 * kMs, f.cb()), 0u);
    w.arm(a.timer, 50 * kMs); // the wheel has processed this tick already
    w.arm(b.timer, 3 * kMs);
    EXPECT_EQ(w.size(), 2u);
    EXPECT_EQ(w.advance(50 * kMs, f.cb()), 2u); // same `now`
    EXPECT_EQ(sorted(f.ids), (std::vector<int>{a.id, b.id}));
}

// ---- against the reference model ----

// At every distinct deadline tick, across all four levels and beyond: one
// tick before, nothing fires; at the tick, exactly the model's timers do.
// Cancels and re-arms are mixed in.
// With `lazy`, half the re-arms go through arm_lazily(), which must be
// indistinguishable from arm() in what fires when.
void matches_model_at_every_deadline(bool lazy) {
    const TimeNs tick = kMs;
    const int n = 4000;
    auto items = make_items(n);
    std::mt19937_64 rng(12345);
    TimeNs now = 1000 * kSec + 77; // not tick-aligned
    TimerWheel w(now, tick);
    Model m(tick);
    std::vector<int> levels_seen(5);
    auto arm = [&](int id, TimeNs deadline) {
        w.arm(items[static_cast<std::size_t>(id)].timer, deadline);
        m.arm(id, deadline);
    };
    for (int i = 0; i < n; ++i) {
        const TimeNs delay = log_uniform(rng, kNsPerUs, 120 * kDay);
        // The level it lands on; 4 is beyond the range.
        ++levels_seen[static_cast<std::size_t>((std::bit_width(delay / tick | 1) - 1) / 8)];
        arm(i, now + delay);
    }
    for (int c : levels_seen) EXPECT_GT(c, 50); // every level, and beyond the range, is used
    EXPECT_EQ(w.size(), m.size());

    Fired f;
    std::uniform_int_distribution<int> pick(0, n - 1);
    int steps = 0;
    while (!m.empty()) {
        const TimeNs at = m.first_tick() * tick;
        if (at >= tick && at - tick > now) {
            now = at - tick;
            f.clear();
            EXPECT_EQ(w.advance(now, f.cb()), 0u) << "early at " << now;
        }
        now = std::max(now, at);
        f.clear();
        const std::size_t fired = w.advance(now, f.cb());
        const std::vector<int> expected = m.pop_due(now);
        ASSERT_EQ(sorted(f.ids), expected) << "at " << now;
        EXPECT_EQ(fired, expected.size());
        for (TimeNs d : f.deadlines) EXPECT_LT(now - d, tick); // never early, < 1 tick late
        // Mutate while the wheel is busy at every level.
        if (++steps < 3000) {
            for (int k = 0; k < 3; ++k) {
                const int id = pick(rng);
                if (rng() % 3 == 0) {
                    w.cancel(items[static_cast<std::size_t>(id)].timer);
                    m.cancel(id);
                } else if (lazy && rng() % 2 == 0) {
                    const TimeNs deadline = now + log_uniform(rng, kNsPerUs, 60 * kDay);
                    w.arm_lazily(items[static_cast<std::size_t>(id)].timer, deadline);
                    m.arm(id, deadline);
                    EXPECT_EQ(items[static_cast<std::size_t>(id)].timer.deadline(), deadline);
                } else {
                    arm(id, now + log_uniform(rng, kNsPerUs, 60 * kDay));
                }
            }
        }
        ASSERT_EQ(w.size(), m.size());
        if (!m.empty()) {
            EXPECT_LE(w.next_expiry_hint(), m.first_tick() * tick - (tick - 1));
        }
    }
    EXPECT_EQ(w.next_expiry_hint(), TimerWheel::kNever);
}

TEST(TimerWheel, MatchesModelAtEveryDeadlineAcrossAllLevels) { matches_model_at_every_deadline(false); }
TEST(TimerWheel, ArmLazilyMatchesModelAtEveryDeadline) { matches_model_at_every_deadline(true); }

TEST(TimerWheel, ArmLazilyMovesLaterWithoutFiringEarly) {
    TimerWheel w(0);
    Item a;
    Fired f;
    w.arm(a.timer, 10 * kMs);
    w.arm_lazily(a.timer, 30 * kMs); // later: stays put, moves when its tick comes
    EXPECT_EQ(a.timer.deadline(), 30 * kMs);
    EXPECT_EQ(w.advance(10 * kMs, f.cb()), 0u) << "not at the old deadline";
    EXPECT_TRUE(a.timer.armed());
    EXPECT_EQ(w.advance(29 * kMs, f.cb()), 0u);
    EXPECT_EQ(w.advance(30 * kMs, f.cb()), 1u);
    w.arm(a.timer, 50 * kMs);
    w.arm_lazily(a.timer, 40 * kMs); // earlier: moved at once
    EXPECT_EQ(w.advance(40 * kMs, f.cb()), 1u);
    w.arm_lazily(a.timer, 60 * kMs); // not armed: armed
    EXPECT_TRUE(a.timer.armed());
    w.arm_lazily(a.timer, 90 * kMs);
    EXPECT_EQ(w.advance(100 * kMs, f.cb()), 1u) << "one call past both: fires once, at the later one";
    EXPECT_EQ(f.deadlines.back(), 90 * kMs);
    EXPECT_EQ(w.size(), 0u);
}

// Tick by tick over 140 s (levels 0-2 and their cascades): every advance
// fires exactly the timers of that tick, each once, never early.
TEST(TimerWheel, MatchesModelTickByTick) {
    const TimeNs tick = kMs;
    const int n = 3000;
    auto items = make_items(n);
    std::mt19937_64 rng(777);
    TimeNs now = 5 * kSec;
    TimerWheel w(now, tick);
    Model m(tick);
    std::uniform_int_distribution<TimeNs> delay(1, 140 * kSec);
    for (int i = 0; i < n; ++i) {
        const TimeNs d = now + delay(rng);
        w.arm(items[static_cast<std::size_t>(i)].timer, d);
        m.arm(i, d);
    }
    Fired f;
    std::size_t total = 0;
    const TimeNs end = now + 141 * kSec;
    while (now < end) {
        now += tick;
        f.clear();
        w.advance(now, f.cb());
        ASSERT_EQ(sorted(f.ids), m.pop_due(now)) << "at " << now;
        for (TimeNs d : f.deadlines) {
            EXPECT_LE(d, now);
            EXPECT_LT(now - d, tick);
        }
        total += f.ids.size();
    }
    EXPECT_EQ(total, static_cast<std::size_t>(n));
    EXPECT_EQ(w.size(), 0u);
}

// Random steps, from sub-tick to days, some backwards: each advance fires
// exactly the due timers, in non-decreasing order of their tick.
TEST(TimerWheel, MatchesModelWithRandomJumps) {
    const TimeNs tick = kMs;
    const int n = 3000;
    auto items = make_items(n);
    std::mt19937_64 rng(99);
    TimeNs now = 3 * kDay + 5;
    TimeNs high = now; // the latest `now` given to advance()
    TimerWheel w(now, tick);
    Model m(tick);
    for (int i = 0; i < n; ++i) {
        const TimeNs d = now + log_uniform(rng, kNsPerUs, 120 * kDay);
        w.arm(items[static_cast<std::size_t>(i)].timer, d);
        m.arm(i, d);
    }
    Fired f;
    std::size_t total = 0;
    for (int step = 0; step < 20000 && !m.empty(); ++step) {
        const unsigned kind = static_cast<unsigned>(rng() % 10);
        TimeNs jump = 0;
        if (kind < 3) jump = tick;
        else if (kind < 5) jump = rng() % (10 * tick);
        else if (kind < 7) jump = rng() % (2000 * tick);
        else if (kind < 9) jump = rng() % (5 * kHour);
        else jump = rng() % (3 * kDay);
        if (rng() % 50 == 0) {
            now -= std::min<TimeNs>(now, rng() % (10 * kSec)); // the clock steps back
        } else {
            now = high + jump;
        }
        high = std::max(high, now);
        f.clear();
        w.advance(now, f.cb());
        // Already-processed time is not rewound, so behind `high` nothing new is due.
        ASSERT_EQ(sorted(f.ids), now < high ? std::vector<int>{} : m.pop_due(now)) << "step " << step;
        for (std::size_t i = 1; i < f.deadlines.size(); ++i) {
            EXPECT_LE(round_up(f.deadlines[i - 1], tick), round_up(f.deadlines[i], tick));
        }
        total += f.ids.size();
        ASSERT_EQ(w.size(), m.size());
    }
    EXPECT_EQ(total, static_cast<std::size_t>(n));
}

// Callbacks that cancel, re-arm and arm at random. The rule checked: the
// wheel has processed every tick up to the one whose timers are firing (or,
// while it fires timers left over from the last call, up to that call's
// `now`). A timer armed for a processed tick fires in the next advance(); any
// other timer fires in the first advance() whose `now` reaches its tick.
TEST(TimerWheel, RandomMutationsFromCallbacksFollowTheRule) {
    const TimeNs tick = kMs;
    const int n = 2000;
    auto items = make_items(n);
    std::mt19937_64 rng(4242);
    TimeNs now = 0;
    TimerWheel w(now, tick);
    Model m(tick);
    std::map<int, TimeNs> deadline_of;
    std::set<int> deferred;     // armed for a processed tick during this call
    std::uint64_t processed = 0; // the last tick processed, while in a callback
    auto tick_of = [&](TimeNs d) { return d / tick + (d % tick != 0); };
    auto arm = [&](int id, TimeNs d) {
        w.arm(items[static_cast<std::size_t>(id)].timer, d);
        m.arm(id, d);
        deadline_of[id] = d;
        if (tick_of(d) <= processed) deferred.insert(id);
        else deferred.erase(id);
    };
    auto cancel = [&](int id) {
        w.cancel(items[static_cast<std::size_t>(id)].timer);
        m.cancel(id);
        deadline_of.erase(id);
        deferred.erase(id);
    };
    for (int i = 0; i < n; ++i) arm(i, log_uniform(rng, kNsPerUs, 2 * kDay));
    std::uniform_int_distribution<int> pick(0, n - 1);
    std::size_t fires = 0;
    std::uint64_t prev_target = 0;
    for (int step = 0; step < 2000 && !m.empty(); ++step) {
        now += rng() % 4 == 0 ? rng() % (2 * kHour) : rng() % (300 * tick);
        const std::uint64_t target = now / tick;
        std::uint64_t last_tick = 0;
        deferred.clear();
        w.advance(now, [&](Timer& t) {
            const int id = id_of(t);
            ASSERT_TRUE(deadline_of.count(id)) << "fired a timer that is not armed";
            ASSERT_FALSE(deferred.count(id)) << "fired twice in one tick";
            const std::uint64_t tk = tick_of(deadline_of[id]);
            ASSERT_LE(tk, target) << "fired early";
            processed = std::max(prev_target, tk);
            if (tk > prev_target) { // in tick order, after the left-over ones
                EXPECT_LE(last_tick, tk);
                last_tick = tk;
            }
            m.cancel(id);
            deadline_of.erase(id);
            ++fires;
            for (int k = 0; k < 2; ++k) {
                const int other = pick(rng);
                switch (rng() % 6) {
                case 0: cancel(other); break;
                case 1: arm(other, now - std::min<TimeNs>(now, rng() % (5 * tick))); break;
                case 2: arm(other, now + rng() % (1000 * tick)); break;
                case 3: arm(other, now + log_uniform(rng, kNsPerUs, 2 * kDay)); break;
                case 4: arm(id, now - std::min<TimeNs>(now, rng() % (50 * tick))); break; // itself
                default: break;
                }
            }
        });
        processed = 0;
        // Still due: exactly the timers armed for a processed tick.
        std::vector<int> left = m.pop_due(now);
        EXPECT_EQ(left, std::vector<int>(deferred.begin(), deferred.end())) << "step " << step;
        for (int id : left) m.arm(id, deadline_of[id]); // the wheel still holds them
        ASSERT_EQ(w.size(), m.size());
        prev_target = target;
    }
    EXPECT_GT(fires, 1000u);
}

// ---- cancel, destroy, re-arm ----

TEST(TimerWheel, CancelledTimerNeverFires) {
    TimerWheel w(0);
    Item a, b;
    Fired f;
    w.arm(a.timer, 5 * kMs);
    w.arm(b.timer, 5 * kMs);
    w.cancel(a.timer);
    EXPECT_FALSE(a.timer.armed());
    EXPECT_FALSE(TimerWheel::armed(a.timer));
    EXPECT_EQ(w.size(), 1u);
    EXPECT_EQ(w.advance(1 * kDay, f.cb()), 1u);
    EXPECT_EQ(f.ids, std::vector<int>{b.id});
}

TEST(TimerWheel, CancelOfAnUnarmedTimerIsANoOp) {
    TimerWheel w(0);
    Item a, b;
    w.arm(b.timer, 5 * kMs);
    w.cancel(a.timer);
    w.cancel(a.timer);
    EXPECT_EQ(w.size(), 1u);
    w.cancel(b.timer);
    w.cancel(b.timer);
    EXPECT_EQ(w.size(), 0u);
    Fired f;
    EXPECT_EQ(w.advance(1 * kSec, f.cb()), 0u);
}

TEST(TimerWheel, DestroyingAnArmedTimerCancelsIt) {
    TimerWheel w(0);
    Item keep;
    w.arm(keep.timer, 7 * kMs);
    {
        Item near, far, due;
        w.arm(near.timer, 7 * kMs);  // level 0, same slot as `keep`
        w.arm(far.timer, 3 * kDay);  // level 3
        Fired f;
        w.advance(0, f.cb());
        w.arm(due.timer, 0);         // due list
        EXPECT_EQ(w.size(), 4u);
    }
    EXPECT_EQ(w.size(), 1u);
    Fired f;
    EXPECT_EQ(w.advance(10 * kDay, f.cb()), 1u);
    EXPECT_EQ(f.ids, std::vector<int>{keep.id});
}

TEST(TimerWheel, TimersMayOutliveTheWheel) {
    Item a, b;
    {
        TimerWheel w(0);
        w.arm(a.timer, 5 * kMs);
        w.arm(b.timer, 5 * kDay);
    }
    EXPECT_FALSE(a.timer.armed());
    EXPECT_FALSE(b.timer.armed());
}

TEST(TimerWheel, RearmMovesTheDeadlineEarlierAndLater) {
    TimerWheel w(0);
    Item a;
    Fired f;
    w.arm(a.timer, 10 * kSec);  // level 1
    w.arm(a.timer, 20 * kMs);   // earlier, level 0
    EXPECT_EQ(w.size(), 1u);
    EXPECT_EQ(w.advance(19 * kMs, f.cb()), 0u);
    EXPECT_EQ(w.advance(20 * kMs, f.cb()), 1u);

    w.arm(a.timer, 30 * kMs);
    w.arm(a.timer, 2 * kHour);  // later, level 2
    EXPECT_EQ(w.size(), 1u);
    EXPECT_EQ(w.advance(2 * kHour - 1, f.cb()), 0u);
    EXPECT_EQ(w.advance(2 * kHour, f.cb()), 1u);
    EXPECT_EQ(f.ids.size(), 2u);
    EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheel, ArmMovesATimerBetweenWheels) {
    TimerWheel w1(0), w2(0);
    Item a;
    Fired f;
    w1.arm(a.timer, 5 * kMs);
    w2.arm(a.timer, 6 * kMs);
    EXPECT_EQ(w1.size(), 0u);
    EXPECT_EQ(w2.size(), 1u);
    EXPECT_EQ(w1.advance(1 * kSec, f.cb()), 0u);
    EXPECT_EQ(w2.advance(1 * kSec, f.cb()), 1u);
}

// ---- owners ----

TEST(TimerWheel, OwnerAndKindDispatchWithoutVirtualCalls) {
    enum Kind : std::uint8_t { kRetransmit, kDelayedAck, kTimeWait };
    struct Conn {
        int rexmits = 0, acks = 0, closed = 0;
        Timer rto{this, kRetransmit};
        Timer delack{this, kDelayedAck};
        Timer time_wait{this, kTimeWait};
    };
    TimerWheel w(0);
    Conn c1, c2;
    w.arm(c1.rto, 200 * kMs);
    w.arm(c1.delack, 40 * kMs);
    w.arm(c2.time_wait, 60 * kSec);
    w.arm(c2.rto, 200 * kMs);
    auto on_expire = [](Timer& t) {
        Conn& c = *t.owner_as<Conn>();
        switch (t.kind()) {
        case kRetransmit: ++c.rexmits; break;
        case kDelayedAck: ++c.acks; break;
        case kTimeWait: ++c.closed; break;
        }
    };
    EXPECT_EQ(w.advance(1 * kSec, on_expire), 3u);
    EXPECT_EQ(c1.rexmits, 1);
    EXPECT_EQ(c1.acks, 1);
    EXPECT_EQ(c2.rexmits, 1);
    EXPECT_EQ(c2.closed, 0);
    EXPECT_EQ(w.advance(61 * kSec, on_expire), 1u);
    EXPECT_EQ(c2.closed, 1);
    EXPECT_EQ(c1.rto.owner(), &c1);
}

// ---- callbacks changing the wheel ----

TEST(TimerWheel, CallbackCancelsTheOtherTimersOfItsSlot) {
    TimerWheel w(0);
    auto items = make_items(5);
    for (int i = 0; i < 5; ++i) w.arm(items[static_cast<std::size_t>(i)].timer, 10 * kMs);
    std::vector<int> fired;
    const std::size_t n = w.advance(10 * kMs, [&](Timer& t) {
        fired.push_back(id_of(t));
        for (int i = 0; i < 5; ++i) w.cancel(items[static_cast<std::size_t>(i)].timer);
    });
    EXPECT_EQ(n, 1u);
    EXPECT_EQ(fired.size(), 1u);
    EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheel, CallbackCancelsATimerDueLaterInTheSameAdvance) {
    TimerWheel w(0);
    Item a, b;
    std::vector<int> fired;
    w.arm(a.timer, 10 * kMs);
    w.arm(b.timer, 30 * kSec); // another level, due in the same jump
    w.advance(1 * kHour, [&](Timer& t) {
        fired.push_back(id_of(t));
        w.cancel(b.timer);
    });
    EXPECT_EQ(fired, std::vector<int>{a.id});
}

TEST(TimerWheel, CallbackRearmsAnotherTimerOfItsSlot) {
    TimerWheel w(0);
    auto items = make_items(3);
    for (int i = 0; i < 3; ++i) w.arm(items[static_cast<std::size_t>(i)].timer, 10 * kMs);
    std::vector<int> fired;
    bool moved = false;
    auto cb = [&](Timer& t) {
        fired.push_back(id_of(t));
        if (!moved) { // push the other two back by 5 ms
            moved = true;
            for (int i = 0; i < 3; ++i) {
                Timer& o = items[static_cast<std::size_t>(i)].timer;
                if (&o != &t) w.arm(o, 15 * kMs);
            }
        }
    };
    EXPECT_EQ(w.advance(10 * kMs, cb), 1u);
    EXPECT_EQ(w.advance(14 * kMs, cb), 0u);
    EXPECT_EQ(w.advance(15 * kMs, cb), 2u);
    EXPECT_EQ(sorted(fired), (std::vector<int>{0, 1, 2}));
}

TEST(TimerWheel, SelfRearmForNowFiresAtMostOnceMoreInTheSameAdvance) {
    TimerWheel w(0);
    Item a;
    int count = 0;
    TimeNs now = 10 * kMs;
    auto cb = [&](Timer& t) {
        ++count;
        w.arm(t, now); // due again immediately
    };
    w.arm(a.timer, 10 * kMs);
    // Fired in tick 10 = now's tick: the re-armed timer waits for the next call.
    EXPECT_EQ(w.advance(now, cb), 1u);
    EXPECT_EQ(count, 1);
    EXPECT_TRUE(a.timer.armed());
    EXPECT_EQ(w.advance(now, cb), 1u); // same now
    EXPECT_EQ(count, 2);
    // Fired for tick 10 while now is in tick 20: once more at tick 20, then wait.
    now = 20 * kMs;
    EXPECT_EQ(w.advance(now, cb), 2u);
    EXPECT_EQ(count, 4);
    EXPECT_EQ(w.advance(now, cb), 1u);
    EXPECT_EQ(count, 5);
    w.cancel(a.timer);
    EXPECT_EQ(w.advance(now, cb), 0u);
}

TEST(TimerWheel, SelfRearmForAnEarlierTimeDoesNotLoop) {
    TimerWheel w(0);
    Item a;
    int count = 0;
    w.arm(a.timer, 5 * kMs);
    auto cb = [&](Timer& t) {
        ++count;
        w.arm(t, 0);
    };
    EXPECT_EQ(w.advance(1 * kSec, cb), 1u);
    EXPECT_EQ(count, 1);
}

// A periodic timer catching up after a jump fires once per period within the
// call: those deadlines are later than the tick being fired.
TEST(TimerWheel, PeriodicTimerCatchesUpWithinOneAdvance) {
    TimerWheel w(0);
    Item a;
    int count = 0;
    w.arm(a.timer, 1 * kMs);
    auto cb = [&](Timer& t) {
        ++count;
        w.arm(t, t.deadline() + 1 * kMs);
    };
    EXPECT_EQ(w.advance(10 * kMs, cb), 10u);
    EXPECT_EQ(count, 10);
    EXPECT_EQ(a.timer.deadline(), 11 * kMs);
}

TEST(TimerWheel, CallbackArmsNewTimers) {
    TimerWheel w(0);
    Item trigger, now_timer, later_in_call, next_turn;
    std::vector<int> fired;
    const TimeNs now = 100 * kMs;
    w.arm(trigger.timer, 10 * kMs);
    auto cb = [&](Timer& t) {
        fired.push_back(id_of(t));
        if (&t == &trigger.timer) {
            w.arm(now_timer.timer, 10 * kMs);     // the tick being fired: next advance()
            w.arm(later_in_call.timer, 50 * kMs); // after it and <= now: this advance()
            // 256 ticks ahead lands in the level-0 slot being fired; must wait.
            w.arm(next_turn.timer, 10 * kMs + 256 * kMs);
        }
    };
    trigger.id = 1;
    now_timer.id = 2;
    later_in_call.id = 3;
    next_turn.id = 4;
    EXPECT_EQ(w.advance(now, cb), 2u);
    EXPECT_EQ(fired, (std::vector<int>{1, 3}));
    EXPECT_EQ(w.advance(now, cb), 1u);
    EXPECT_EQ(fired, (std::vector<int>{1, 3, 2}));
    EXPECT_EQ(w.advance(266 * kMs - 1, cb), 0u);
    EXPECT_EQ(w.advance(266 * kMs, cb), 1u);
    EXPECT_EQ(fired.back(), 4);
}

// ---- time jumps, range, clock going back ----

TEST(TimerWheel, OneDayJumpFiresEverythingAndSkipsEmptyTime) {
    const int n = 2000;
    auto items = make_items(n);
    std::mt19937_64 rng(5);
    TimerWheel w(0);
    for (int i = 0; i < n; ++i) {
        w.arm(items[static_cast<std::size_t>(i)].timer, log_uniform(rng, kMs, kDay));
    }
    Item beyond;
    w.arm(beyond.timer, kDay + 1 * kMs);
    Fired f;
    EXPECT_EQ(w.advance(kDay, f.cb()), static_cast<std::size_t>(n));
    // 86.4 million ticks, but only slots that held timers were visited.
    EXPECT_LE(w.stats().stops, static_cast<std::uint64_t>(4 * n));
    EXPECT_EQ(w.stats().fired, static_cast<std::uint64_t>(n));
    EXPECT_EQ(w.size(), 1u);
    for (std::size_t i = 1; i < f.deadlines.size(); ++i) {
        EXPECT_LE(round_up(f.deadlines[i - 1], kMs), round_up(f.deadlines[i], kMs));
    }

    // An empty wheel crosses a day without stopping at all.
    TimerWheel empty(0);
    EXPECT_EQ(empty.advance(kDay, f.cb()), 0u);
    EXPECT_EQ(empty.advance(1000 * kDay, f.cb()), 0u);
    EXPECT_EQ(empty.stats().stops, 0u);
}

TEST(TimerWheel, DeadlinesBeyondTheRangeFireOnTime) {
    TimerWheel w(0);
    Item a, b, c;
    const TimeNs da = 100 * kDay + 123 * kNsPerUs; // 2^32 ms is about 49.7 days
    const TimeNs db = 49 * kDay + 17 * kHour + 3 * kMs;
    const TimeNs dc = 400 * kDay;
    w.arm(a.timer, da);
    w.arm(b.timer, db);
    w.arm(c.timer, dc);
    Fired f;
    // Walk in big steps, then close in on each deadline.
    for (TimeNs t = 0; t < db - kDay; t += kDay) EXPECT_EQ(w.advance(t, f.cb()), 0u);
    EXPECT_EQ(w.advance(round_up(db, kMs) - 1, f.cb()), 0u);
    EXPECT_EQ(w.advance(round_up(db, kMs), f.cb()), 1u);
    for (TimeNs t = db; t < da - kDay; t += 7 * kHour) EXPECT_EQ(w.advance(t, f.cb()), 0u);
    EXPECT_EQ(w.advance(round_up(da, kMs) - 1, f.cb()), 0u);
    EXPECT_EQ(w.advance(round_up(da, kMs), f.cb()), 1u);
    EXPECT_EQ(w.advance(dc - 1, f.cb()), 0u); // one jump of 300 days
    EXPECT_EQ(w.advance(dc, f.cb()), 1u);
    EXPECT_EQ(f.ids, (std::vector<int>{b.id, a.id, c.id}));
    EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheel, SmallTickMakesTheRangeShort) {
    // 1 us ticks: the range is 2^32 us, about 72 minutes.
    TimerWheel w(0, kNsPerUs);
    Item a, never;
    w.arm(a.timer, kDay + 1);
    w.arm(never.timer, TimerWheel::kNever);
    Fired f;
    for (TimeNs t = 0; t <= kDay; t += 13 * kMin) EXPECT_EQ(w.advance(t, f.cb()), 0u);
    EXPECT_EQ(w.advance(kDay + kNsPerUs - 1, f.cb()), 0u);
    EXPECT_EQ(w.advance(kDay + kNsPerUs, f.cb()), 1u);
    EXPECT_EQ(w.advance(1000 * kDay, f.cb()), 0u);
    EXPECT_TRUE(never.timer.armed());
}

TEST(TimerWheel, ClockGoingBackwardsFiresNothingEarly) {
    TimerWheel w(0);
    Item a, b;
    Fired f;
    w.arm(a.timer, 100 * kMs);
    EXPECT_EQ(w.advance(60 * kMs, f.cb()), 0u);
    EXPECT_EQ(w.advance(20 * kMs, f.cb()), 0u); // back
    w.arm(b.timer, 40 * kMs); // a tick the wheel has processed, but later than now
    EXPECT_EQ(w.advance(30 * kMs, f.cb()), 0u);
    EXPECT_EQ(w.advance(40 * kMs, f.cb()), 1u);
    EXPECT_EQ(f.ids, std::vector<int>{b.id});
    EXPECT_EQ(w.advance(99 * kMs, f.cb()), 0u);
    EXPECT_EQ(w.advance(100 * kMs, f.cb()), 1u);
}

TEST(TimerWheel, NextExpiryHint) {
    TimerWheel w(0);
    EXPECT_EQ(w.next_expiry_hint(), TimerWheel::kNever);
    Item a, b, c;
    w.arm(b.timer, 3 * kHour);
    const TimeNs hb = w.next_expiry_hint();
    EXPECT_LE(hb, 3 * kHour);
    EXPECT_GT(hb, 0u);
    w.arm(a.timer, 7 * kMs + 5);
    const TimeNs ha = w.next_expiry_hint();
    EXPECT_LE(ha, 7 * kMs + 5);
    EXPECT_GT(ha, 7 * kMs + 5 - kMs); // exact to a tick on level 0
    Fired f;
    EXPECT_EQ(w.advance(ha - 1, f.cb()), 0u);
    EXPECT_EQ(w.advance(8 * kMs, f.cb()), 1u);
    EXPECT_LE(w.next_expiry_hint(), 3 * kHour);
    // Due list: the hint is the deadline itself.
    w.arm(c.timer, 1 * kMs);
    EXPECT_EQ(w.next_expiry_hint(), 1 * kMs);
    EXPECT_EQ(w.advance(8 * kMs, f.cb()), 1u);
    // Skipping to the hint step by step reaches the far timer with few stops.
    int guard = 0;
    while (w.size() > 0 && ++guard < 100) {
        const TimeNs h = w.next_expiry_hint();
        ASSERT_LE(h, 3 * kHour);
        w.advance(std::max(h, round_up(h, kMs)), f.cb());
    }
    EXPECT_EQ(w.size(), 0u);
    EXPECT_LT(guard, 10);
}

// ---- CallbackTimer: timers whose owner the dispatcher does not know ----

// An application object with two timers of its own.
struct AppObject {
    CallbackTimer first{&AppObject::on_first, this};
    CallbackTimer periodic;
    std::vector<TimeNs> first_fired, periodic_fired;
    TimerWheel* wheel = nullptr;
    TimeNs period = 0;
    int periodic_left = 0;

    static void on_first(CallbackTimer& t, TimeNs now) {
        static_cast<AppObject*>(t.owner())->first_fired.push_back(now);
    }
    static void on_periodic(CallbackTimer& t, TimeNs now) {
        auto& self = *t.owner_as<AppObject>();
        self.periodic_fired.push_back(now);
        if (--self.periodic_left > 0) self.wheel->arm(t, t.deadline() + self.period); // re-arm from its own handler
    }
};

// What the lcore's dispatcher does: CallbackTimers first, its own kinds otherwise.
struct Dispatcher {
    std::vector<int> own; // ids of Items
    auto cb(TimeNs now) {
        return [this, now](Timer& t) {
            if (CallbackTimer::dispatch(t, now)) return;
            own.push_back(id_of(t));
        };
    }
};

TEST(CallbackTimer, RunsItsOwnHandlerAndLeavesOtherKindsToTheDispatcher) {
    TimerWheel w(0);
    AppObject app;
    app.wheel = &w;
    app.periodic.bind(&AppObject::on_periodic, &app);
    auto items = make_items(2);
    EXPECT_EQ(app.first.kind(), Timer::kCallback);
    EXPECT_EQ(app.periodic.kind(), Timer::kCallback);

    w.arm(app.first, 10 * kSec);
    w.arm(items[0].timer, 10 * kSec);
    w.arm(items[1].timer, 5 * kSec);
    Dispatcher d;
    TimeNs now = 10 * kSec - 1;
    w.advance(now, d.cb(now));
    EXPECT_TRUE(app.first_fired.empty()) << "never before its deadline";
    EXPECT_EQ(d.own, std::vector<int>{1});
    now = 10 * kSec;
    w.advance(now, d.cb(now));
    EXPECT_EQ(app.first_fired, std::vector<TimeNs>{10 * kSec});
    EXPECT_EQ(d.own, (std::vector<int>{1, 0})) << "the connection-kind timer went to the dispatcher, not a handler";
    EXPECT_FALSE(app.first.armed());
}

TEST(CallbackTimer, PeriodicReArmFromTheHandlerAndCancel) {
    TimerWheel w(0);
    AppObject app;
    app.wheel = &w;
    app.period = 1 * kSec;
    app.periodic_left = 3;
    app.periodic.bind(&AppObject::on_periodic, &app);
    w.arm(app.periodic, 1 * kSec);
    w.arm(app.first, 2500 * kMs);
    w.cancel(app.first); // cancelled: never fires
    Dispatcher d;
    for (TimeNs now = 0; now <= 10 * kSec; now += 100 * kMs) w.advance(now, d.cb(now));
    EXPECT_EQ(app.periodic_fired, (std::vector<TimeNs>{1 * kSec, 2 * kSec, 3 * kSec}));
    EXPECT_TRUE(app.first_fired.empty());
    EXPECT_EQ(w.size(), 0u);
}

TEST(CallbackTimer, DestroyingAnArmedOneCancelsIt) {
    TimerWheel w(0);
    {
        AppObject app;
        w.arm(app.first, 1 * kSec);
        EXPECT_EQ(w.size(), 1u);
    }
    EXPECT_EQ(w.size(), 0u);
    Dispatcher d;
    EXPECT_EQ(w.advance(5 * kSec, d.cb(5 * kSec)), 0u);
}

} // namespace
} // namespace lanetcp
