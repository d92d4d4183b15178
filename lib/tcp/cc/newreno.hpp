// NewReno's window (RFC 5681 3.1, with appropriate byte counting of RFC
// 3465): slow start up to ssthresh, then one segment per window of bytes
// acknowledged; half the flight on a congestion event. What to resend and
// when recovery ends (RFC 6582, RFC 6675, RFC 6937) is the connection's.
#pragma once

#include "tcp/cc/window.hpp"

namespace lanetcp::tcp::cc {

class NewReno {
public:
    // RFC 3465 2.2: L = 2 segments per ACK in slow start.
    static constexpr std::uint32_t kSlowStartLimit = 2;

    void init(Window& w, TimeNs now) noexcept;
    void on_ack(Window& w, const AckEvent& e) noexcept;
    // RFC 5681 3.1 eq. 4: ssthresh = max(FlightSize / 2, 2 * SMSS).
    void on_loss(Window& w, std::uint32_t in_flight, TimeNs now) noexcept;
    // RFC 3168 6.1.2: as a loss, and cwnd comes down at once.
    void on_ece(Window& w, std::uint32_t in_flight, TimeNs now) noexcept;
    void on_rto(Window& w, std::uint32_t in_flight, TimeNs now) noexcept { on_loss(w, in_flight, now); }
    void on_undo(Window&, TimeNs) noexcept {}
    void on_restart(Window&, TimeNs) noexcept {}
    void on_mss_change(std::uint32_t, std::uint32_t) noexcept {}

private:
    std::uint32_t counted_ = 0; // bytes acknowledged towards the next increase in congestion avoidance
};

} // namespace lanetcp::tcp::cc
