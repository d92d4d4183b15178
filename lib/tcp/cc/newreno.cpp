#include "tcp/cc/newreno.hpp"

namespace lanetcp::tcp::cc {

void NewReno::init(Window&, TimeNs) noexcept { counted_ = 0; }

void NewReno::on_ack(Window& w, const AckEvent& e) noexcept {
    // PRR sets the window during recovery; and a window the application
    // does not fill proves nothing about the path (RFC 7661 4).
    if (e.in_recovery || !e.cwnd_limited) return;
    std::uint32_t acked = e.acked;
    if (w.in_slow_start()) acked = slow_start(w, acked, kSlowStartLimit);
    if (acked > 0) congestion_avoidance(w, acked, counted_);
}

void NewReno::on_loss(Window& w, std::uint32_t in_flight, TimeNs) noexcept {
    w.ssthresh = w.at_least_two(in_flight / 2);
    counted_ = 0;
}

void NewReno::on_ece(Window& w, std::uint32_t in_flight, TimeNs now) noexcept {
    on_loss(w, in_flight, now);
    w.cwnd = std::min(w.cwnd, w.ssthresh);
}

} // namespace lanetcp::tcp::cc
