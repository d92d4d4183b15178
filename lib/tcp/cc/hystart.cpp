#include "tcp/cc/hystart.hpp"

namespace lanetcp::tcp::cc {

void HyStart::start() noexcept {
    *this = HyStart{};
    phase_ = Phase::slow_start;
}

void HyStart::begin_round(Window& w, const AckEvent& e) noexcept {
    last_round_min_ = current_round_min_;
    current_round_min_ = kNone;
    samples_ = 0;
    window_end_ = e.snd_nxt;
    round_open_ = true;
    if (phase_ == Phase::conservative && ++css_rounds_ >= kCssRounds) {
        // RFC 9406 4.2: CSS_ROUNDS rounds in CSS: on to congestion avoidance.
        w.ssthresh = std::max(w.cwnd, 2u * w.mss);
        phase_ = Phase::off;
    }
}

void HyStart::on_ack(Window& w, const AckEvent& e) noexcept {
    if (!round_open_ || wire::seq_geq(e.snd_una, window_end_)) {
        begin_round(w, e);
        if (phase_ == Phase::off) return;
    }
    std::uint32_t grow = std::min<std::uint32_t>(e.acked, kSlowStartLimit * w.mss);
    if (phase_ == Phase::conservative) grow /= kCssGrowthDivisor;
    w.set_cwnd(std::uint64_t{w.cwnd} + grow);

    if (e.rtt > 0) {
        if (current_round_min_ == kNone || e.rtt < current_round_min_) current_round_min_ = e.rtt;
        ++samples_;
    }
    if (samples_ < kRttSamples || current_round_min_ == kNone) return;
    if (phase_ == Phase::slow_start) {
        if (last_round_min_ == kNone) return;
        const TimeNs thresh = std::clamp(last_round_min_ / kMinRttDivisor, kMinRttThresh, kMaxRttThresh);
        if (current_round_min_ >= last_round_min_ + thresh) {
            // The queue is building: slow down before it overflows.
            css_baseline_ = current_round_min_;
            css_rounds_ = 0;
            phase_ = Phase::conservative;
        }
    } else if (current_round_min_ < css_baseline_) {
        // The rise was a fluke (RFC 9406 4.2): back to slow start.
        css_baseline_ = kNone;
        phase_ = Phase::slow_start;
    }
}

} // namespace lanetcp::tcp::cc
