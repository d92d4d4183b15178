// HyStart++ (RFC 9406): leaves the initial slow start when the round trip
// grows, before the queue overflows. Rounds are counted by sequence number:
// a round ends when SND.UNA passes what SND.NXT was when it began (4.2).
// After a rise of the round's minimum RTT over the last round's, Conservative
// Slow Start grows a quarter as fast for CSS_ROUNDS rounds, then hands over
// to congestion avoidance; if the RTT falls back, slow start resumes.
#pragma once

#include "tcp/cc/window.hpp"

namespace lanetcp::tcp::cc {

class HyStart {
public:
    // RFC 9406 4.3.
    static constexpr TimeNs kMinRttThresh = 4 * kNsPerMs;
    static constexpr TimeNs kMaxRttThresh = 16 * kNsPerMs;
    static constexpr TimeNs kMinRttDivisor = 8;
    static constexpr std::uint32_t kRttSamples = 8; // N_RTT_SAMPLE
    static constexpr std::uint32_t kCssGrowthDivisor = 4;
    static constexpr std::uint32_t kCssRounds = 5;
    static constexpr std::uint32_t kSlowStartLimit = 8; // L for a sender that does not pace

    enum class Phase : std::uint8_t {
        off,          // not the initial slow start (or already left it)
        slow_start,   // standard slow start, watching the RTT
        conservative, // CSS
    };

    // For the initial slow start only (RFC 9406 4.2: later slow starts, after
    // a timeout, are standard).
    void start() noexcept;
    void stop() noexcept { phase_ = Phase::off; }
    // Undo of a spurious loss: back to `phase`, with the rounds' RTTs as they were.
    void resume(Phase phase) noexcept { phase_ = phase; }
    Phase phase() const noexcept { return phase_; }
    bool active() const noexcept { return phase_ != Phase::off; }

    // One ACK while cwnd < ssthresh: grows cwnd, and sets ssthresh = cwnd
    // when CSS is over (the caller then does congestion avoidance).
    void on_ack(Window& w, const AckEvent& e) noexcept;

private:
    static constexpr TimeNs kNone = -1; // "infinity" in the RFC's pseudocode: no sample yet
    void begin_round(Window& w, const AckEvent& e) noexcept;

    TimeNs last_round_min_ = kNone;
    TimeNs current_round_min_ = kNone;
    TimeNs css_baseline_ = kNone;
    std::uint32_t samples_ = 0;
    std::uint32_t css_rounds_ = 0;
    wire::SeqNum window_end_{};
    bool round_open_ = false;
    Phase phase_ = Phase::off;
};

} // namespace lanetcp::tcp::cc
