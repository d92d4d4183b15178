#include "tcp/cc/cubic.hpp"

#include "tcp/cc/newreno.hpp"

namespace lanetcp::tcp::cc {

namespace {

// |t - K| beyond this many ms puts W_cubic far past kMaxCwnd; clamping it
// keeps 4 * d^3 inside 63 bits.
constexpr std::int64_t kMaxOffsetMs = std::int64_t{1} << 20;

std::int64_t to_ms(TimeNs t) noexcept { return t / kNsPerMs; }

} // namespace

std::uint64_t Cubic::icbrt(std::uint64_t x) noexcept {
    // Digit by digit, three bits at a time (Hacker's Delight 11-2).
    std::uint64_t y = 0;
    for (int s = 63; s >= 0; s -= 3) {
        y <<= 1;
        const std::uint64_t b = 3 * y * (y + 1) + 1;
        if ((x >> s) >= b) {
            x -= b << s;
            ++y;
        }
    }
    return y;
}

std::uint64_t Cubic::w_cubic(std::int64_t ms, std::uint32_t mss) const noexcept {
    // C * d^3 segments with d in seconds = 0.4 * d_ms^3 / 10^9 segments
    // = 4 * d_ms^3 / 5^10 in 1/1024 segments (0.4 * 1024 / 10^9 = 4 / 5^10).
    const std::int64_t d = std::clamp(ms - s_.k_ms, -kMaxOffsetMs, kMaxOffsetMs);
    const std::uint64_t m = static_cast<std::uint64_t>(d < 0 ? -d : d);
    const std::uint64_t cube_q10 = 4 * m * m * m / 9765625;
    const std::uint64_t bytes = cube_q10 * mss / 1024;
    if (d >= 0) return std::min<std::uint64_t>(std::uint64_t{s_.origin} + bytes, kMaxCwnd);
    return bytes >= s_.origin ? 0 : s_.origin - bytes;
}

void Cubic::init(Window& w, TimeNs) noexcept {
    s_ = Curve{};
    saved_ = Curve{};
    hystart_ = HyStart{};
    saved_hystart_ = HyStart::Phase::off;
    // HyStart++ for the initial slow start only (RFC 9406 4.2).
    if (w.ssthresh == kInfiniteSsthresh) hystart_.start();
}

void Cubic::begin_epoch(const Window& w, TimeNs now) noexcept {
    // RFC 9438 4.2: t counts from the start of congestion avoidance, and K
    // is how long the curve takes from cwnd_epoch back up to W_max.
    s_.epoch_open = true;
    s_.epoch_start = now;
    s_.last_ack = now;
    s_.w_est = w.cwnd;
    s_.est_counted = 0;
    s_.cubic_counted = 0;
    if (s_.w_max <= w.cwnd) {
        // Above the last maximum already (slow start left without a loss,
        // or undo): the curve's plateau is here, probing upwards at once.
        s_.k_ms = 0;
        s_.origin = w.cwnd;
    } else {
        // K^3 = (W_max - cwnd_epoch) / C in segments and s^3; in ms^3:
        // (bytes / mss) / 0.4 * 10^9 = bytes * 2.5e9 / mss (below 2^62).
        const std::uint64_t diff = s_.w_max - w.cwnd;
        s_.k_ms = static_cast<std::int32_t>(icbrt(diff * 2'500'000'000ull / w.mss)); // below 1.4e6 ms
        s_.origin = s_.w_max;
    }
}

void Cubic::on_ack(Window& w, const AckEvent& e) noexcept {
    if (e.in_recovery) return;
    if (!e.cwnd_limited) {
        // RFC 9438 5.8: no growth while the application holds the sender
        // back, and that time does not count towards t.
        if (s_.epoch_open && e.now > s_.last_ack) s_.epoch_start += e.now - s_.last_ack;
        s_.last_ack = e.now;
        return;
    }
    std::uint32_t acked = e.acked;
    if (w.in_slow_start()) {
        if (hystart_.active()) {
            hystart_.on_ack(w, e);
            acked = 0;
        } else {
            // Later slow starts (after a timeout) are RFC 5681's, with
            // RFC 3465's L = 2 as NewReno's: the burst after a timeout stays small.
            acked = slow_start(w, acked, NewReno::kSlowStartLimit);
        }
    } else {
        hystart_.stop();
    }
    if (acked > 0 && !w.in_slow_start()) congestion_avoidance(w, e, acked);
    s_.last_ack = e.now;
}

void Cubic::congestion_avoidance(Window& w, const AckEvent& e, std::uint32_t acked) noexcept {
    w.cwnd = std::max(w.cwnd, w.mss); // the divisions below need a window
    if (!s_.epoch_open) begin_epoch(w, e.now);
    const std::int64_t t_ms = to_ms(e.now - s_.epoch_start);
    const std::uint64_t cwnd = w.cwnd;

    // Reno-friendly region (RFC 9438 4.3): W_est grows alpha_cubic segments
    // per window acknowledged, 1 once it passes cwnd_prior.
    const std::uint32_t alpha = s_.w_est >= s_.cwnd_prior ? kAlphaDen : kAlphaNum;
    s_.est_counted += std::uint64_t{acked} * w.mss * alpha;
    const std::uint64_t per_byte = cwnd * kAlphaDen;
    const std::uint64_t est_grow = s_.est_counted / per_byte;
    s_.est_counted -= est_grow * per_byte;
    s_.w_est = static_cast<std::uint32_t>(std::min<std::uint64_t>(s_.w_est + est_grow, kMaxCwnd));
    if (w_cubic(t_ms, w.mss) < s_.w_est) {
        w.set_cwnd(std::max<std::uint64_t>(cwnd, s_.w_est));
        s_.cubic_counted = 0;
        return;
    }

    // Concave and convex regions (4.4, 4.5): aim at where the curve will be
    // one RTT from now, no less than cwnd and no more than 1.5 cwnd; each
    // byte acknowledged moves cwnd (target - cwnd) / cwnd bytes.
    const std::int64_t rtt_ms = to_ms(e.srtt > 0 ? e.srtt : e.rtt);
    const std::uint64_t target = std::clamp<std::uint64_t>(w_cubic(t_ms + rtt_ms, w.mss), cwnd, cwnd + cwnd / 2);
    const std::uint64_t counted = s_.cubic_counted + (target - cwnd) * acked;
    const std::uint64_t grow = counted / cwnd;
    s_.cubic_counted = static_cast<std::uint32_t>(counted - grow * cwnd); // below cwnd
    w.set_cwnd(cwnd + grow);
}

void Cubic::reduce(Window& w) noexcept {
    // RFC 9438 4.6 and 4.7.
    saved_ = s_;
    saved_hystart_ = hystart_.phase();
    const std::uint32_t cwnd = w.cwnd;
    if (kFastConvergence && cwnd < s_.w_max)
        s_.w_max = static_cast<std::uint32_t>(std::uint64_t{cwnd} * kFastConvergenceNum / kFastConvergenceDen);
    else
        s_.w_max = cwnd;
    s_.cwnd_prior = cwnd;
    w.ssthresh = w.at_least_two(std::uint64_t{cwnd} * kBetaNum / kBetaDen);
    s_.epoch_open = false;
    hystart_.stop();
}

void Cubic::on_loss(Window& w, std::uint32_t, TimeNs) noexcept {
    // ssthresh from cwnd, not FlightSize, as Linux and RFC 9438 4.6: a
    // flight the application kept small must not collapse the window.
    reduce(w);
}

void Cubic::on_ece(Window& w, std::uint32_t, TimeNs) noexcept {
    reduce(w);
    w.cwnd = std::min(w.cwnd, w.ssthresh);
}

void Cubic::on_rto(Window& w, std::uint32_t, TimeNs) noexcept {
    // RFC 9438 4.8: a timeout is a congestion event too; slow start from
    // one segment follows (standard slow start: HyStart++ is over).
    reduce(w);
}

void Cubic::on_undo(Window&, TimeNs) noexcept {
    // The reduction was spurious: the curve before it stands.
    s_ = saved_;
    hystart_.resume(saved_hystart_);
}

void Cubic::on_restart(Window&, TimeNs now) noexcept {
    // After an idle period the curve resumes where it was (RFC 9438 5.8):
    // the idle time does not count towards t.
    if (s_.epoch_open && now > s_.last_ack) s_.epoch_start += now - s_.last_ack;
    s_.last_ack = now;
}

void Cubic::on_mss_change(std::uint32_t old_mss, std::uint32_t new_mss) noexcept {
    // Windows are in bytes; the curve is in segments: keep the segments.
    auto scale = [&](std::uint32_t& v) {
        v = static_cast<std::uint32_t>(std::min<std::uint64_t>(std::uint64_t{v} * new_mss / old_mss, kMaxCwnd));
    };
    for (Curve* s : {&s_, &saved_}) {
        scale(s->w_max);
        scale(s->cwnd_prior);
        scale(s->origin);
        scale(s->w_est);
        s->est_counted = 0;
        s->cubic_counted = 0;
    }
}

} // namespace lanetcp::tcp::cc
