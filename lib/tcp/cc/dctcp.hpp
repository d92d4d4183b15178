// DCTCP (RFC 8257): the sender estimates the fraction of bytes that met
// congestion, alpha, from the ECE echoes over each window of data, and cuts
// cwnd by alpha / 2 on ECE (once per window) instead of by half: a gentle
// cut when few packets are marked, a halving when all are. Growth, and the
// reaction to loss, are NewReno's (RFC 8257 3.3, 3.4). Meant for data-centre
// wires whose switches mark CE at a shallow queue threshold.
#pragma once

#include "tcp/cc/newreno.hpp"

namespace lanetcp::tcp::cc {

class Dctcp {
public:
    // alpha in units of 2^-20; g = 1/16 (RFC 8257 4.2: 2^-4).
    static constexpr int kAlphaShift = 20;
    static constexpr std::uint32_t kAlphaOne = 1u << kAlphaShift;
    static constexpr int kGShift = 4;

    void init(Window& w, TimeNs now) noexcept;
    void on_ack(Window& w, const AckEvent& e) noexcept;
    void on_loss(Window& w, std::uint32_t in_flight, TimeNs now) noexcept { reno_.on_loss(w, in_flight, now); }
    // RFC 8257 3.3: cwnd = cwnd * (1 - alpha / 2).
    void on_ece(Window& w, std::uint32_t in_flight, TimeNs now) noexcept;
    void on_rto(Window& w, std::uint32_t in_flight, TimeNs now) noexcept { reno_.on_rto(w, in_flight, now); }
    void on_undo(Window&, TimeNs) noexcept {}
    void on_restart(Window&, TimeNs) noexcept {}
    void on_mss_change(std::uint32_t, std::uint32_t) noexcept {}

    // The estimate, 0..kAlphaOne.
    std::uint32_t alpha() const noexcept { return alpha_; }

private:
    NewReno reno_;
    std::uint32_t alpha_ = kAlphaOne; // RFC 8257 3.3: starts at 1, the cautious end
    std::uint64_t bytes_acked_ = 0;
    std::uint64_t bytes_marked_ = 0;
    wire::SeqNum window_end_{};
    bool window_open_ = false;
};

} // namespace lanetcp::tcp::cc
