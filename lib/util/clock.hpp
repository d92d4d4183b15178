// Time for one lcore, in nanoseconds since an arbitrary origin. Production
// reads the TSC; tests set the time by hand, so every timer-driven behaviour
// can be exercised without sleeping.
#pragma once

#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace lanetcp {

using TimeNs = std::uint64_t;

inline constexpr TimeNs kNsPerUs = 1'000;
inline constexpr TimeNs kNsPerMs = 1'000'000;
inline constexpr TimeNs kNsPerSec = 1'000'000'000;

class Clock {
public:
    // A clock that only moves when advance()/set() is called.
    static Clock manual(TimeNs start = 0) noexcept { return Clock{0, start}; }
    // A clock over the CPU's invariant TSC running at `tsc_hz`.
    static Clock tsc(std::uint64_t tsc_hz) noexcept { return Clock{tsc_hz, 0}; }

    TimeNs now() const noexcept {
        if (tsc_hz_ == 0) return manual_now_;
        return ticks_to_ns(read_tsc());
    }

    bool is_manual() const noexcept { return tsc_hz_ == 0; }
    void set(TimeNs t) noexcept { manual_now_ = t; }
    void advance(TimeNs d) noexcept { manual_now_ += d; }

private:
    Clock(std::uint64_t hz, TimeNs start) noexcept : tsc_hz_(hz), manual_now_(start) {}

    static std::uint64_t read_tsc() noexcept {
#if defined(__x86_64__) || defined(__i386__)
        return __rdtsc();
#else
#error "lanetcp::Clock needs a cycle counter for this architecture"
#endif
    }

    TimeNs ticks_to_ns(std::uint64_t ticks) const noexcept {
        // Split to avoid overflowing 64 bits after ~5 hours at 1 GHz.
        return ticks / tsc_hz_ * kNsPerSec + ticks % tsc_hz_ * kNsPerSec / tsc_hz_;
    }

    std::uint64_t tsc_hz_;
    TimeNs manual_now_;
};

} // namespace lanetcp
