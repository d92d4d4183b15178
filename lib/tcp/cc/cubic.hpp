// CUBIC (RFC 9438). After a congestion event the window follows
//     W_cubic(t) = C * (t - K)^3 + W_max,   K = cbrt((W_max - cwnd_epoch) / C)
// with t the time since the epoch began (the first ACK of congestion
// avoidance), C = 0.4 segments/s^3, and a multiplicative decrease of
// beta = 0.7; each ACK moves cwnd towards W_cubic(t + RTT) (4.2). Where
// Reno would do better (short RTTs, small windows), cwnd follows Reno's
// estimate W_est instead (4.3). Fast convergence (4.7) gives up bandwidth
// to newer flows. The initial slow start is HyStart++ (RFC 9406).
//
// All integer: windows in bytes, time in milliseconds inside the cubic, and
// the cube term in 1/1024 segments. Nothing allocates.
#pragma once

#include "tcp/cc/hystart.hpp"
#include "tcp/cc/window.hpp"

namespace lanetcp::tcp::cc {

class Cubic {
public:
    // beta_cubic = 7/10 (RFC 9438 4.6); fast convergence W_max = cwnd *
    // (1 + beta) / 2 = 17/20 cwnd (4.7); Reno-friendly alpha_cubic =
    // 3 (1 - beta) / (1 + beta) = 9/17 (4.3).
    static constexpr std::uint32_t kBetaNum = 7, kBetaDen = 10;
    static constexpr std::uint32_t kFastConvergenceNum = 17, kFastConvergenceDen = 20;
    static constexpr std::uint32_t kAlphaNum = 9, kAlphaDen = 17;
    static constexpr bool kFastConvergence = true;

    void init(Window& w, TimeNs now) noexcept;
    void on_ack(Window& w, const AckEvent& e) noexcept;
    void on_loss(Window& w, std::uint32_t in_flight, TimeNs now) noexcept;
    void on_ece(Window& w, std::uint32_t in_flight, TimeNs now) noexcept;
    void on_rto(Window& w, std::uint32_t in_flight, TimeNs now) noexcept;
    void on_undo(Window& w, TimeNs now) noexcept;
    void on_restart(Window& w, TimeNs now) noexcept;
    void on_mss_change(std::uint32_t old_mss, std::uint32_t new_mss) noexcept;

    // ---- inspection (tests, traces) ----
    std::uint32_t w_max() const noexcept { return s_.w_max; }
    // K in milliseconds, for the epoch under way.
    std::int64_t k_ms() const noexcept { return s_.k_ms; }
    bool in_epoch() const noexcept { return s_.epoch_open; }
    TimeNs epoch_start() const noexcept { return s_.epoch_start; }
    std::uint32_t w_est() const noexcept { return s_.w_est; }
    const HyStart& hystart() const noexcept { return hystart_; }
    // W_cubic at `ms` milliseconds into the epoch, in bytes (RFC 9438 eq. 1).
    std::uint64_t w_cubic(std::int64_t ms, std::uint32_t mss) const noexcept;

    // The cube root of a 64-bit integer, rounded down.
    static std::uint64_t icbrt(std::uint64_t x) noexcept;

private:
    void begin_epoch(const Window& w, TimeNs now) noexcept;
    void reduce(Window& w) noexcept;
    void congestion_avoidance(Window& w, const AckEvent& e, std::uint32_t acked) noexcept;

    // The curve of the current epoch: what undo puts back.
    struct Curve {
        TimeNs epoch_start = 0;
        TimeNs last_ack = 0;
        std::uint64_t est_counted = 0; // W_est's fractional growth, in bytes * kAlphaDen
        std::uint32_t cubic_counted = 0; // cwnd's fractional growth towards the target, in bytes * cwnd
        std::uint32_t w_max = 0;      // W_max: cwnd before the last reduction (bytes)
        std::uint32_t cwnd_prior = 0; // cwnd at the last reduction: W_est's alpha switches to 1 there
        std::uint32_t origin = 0;     // the plateau of the current curve: W_max, or cwnd_epoch if above it
        std::uint32_t w_est = 0;
        std::int32_t k_ms = 0;
        bool epoch_open = false;
    };
    Curve s_;
    Curve saved_; // at the last reduction, for undo
    HyStart hystart_;
    HyStart::Phase saved_hystart_ = HyStart::Phase::off;
};

} // namespace lanetcp::tcp::cc
