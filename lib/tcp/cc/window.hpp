// What every congestion-control module works on: the window (cwnd,
// ssthresh, in bytes, and the MSS they are counted in), the ACK report the
// connection hands over, and the two growth rules of RFC 5681 that NewReno,
// DCTCP and CUBIC's slow start share.
#pragma once

#include <algorithm>
#include <cstdint>

#include "util/clock.hpp"
#include "wire/seq.hpp"

namespace lanetcp::tcp::cc {

inline constexpr std::uint32_t kMaxCwnd = 1u << 30;
// RFC 5681 3.1: the initial ssthresh is "arbitrarily high".
inline constexpr std::uint32_t kInfiniteSsthresh = 0xffffffffu;

// One ACK that moved SND.UNA (or SACKed new data), as the connection saw it.
struct AckEvent {
    std::uint32_t acked = 0;     // bytes newly delivered (cumulatively or by SACK)
    std::uint32_t ece_acked = 0; // of those, bytes acknowledged by ACKs carrying ECE
    std::uint32_t in_flight = 0; // bytes in flight before this ACK
    TimeNs rtt = 0;              // the RTT sample this ACK gave, 0: none
    TimeNs srtt = 0;             // the connection's smoothed RTT (RFC 6298), 0: none yet
    wire::SeqNum snd_una{}, snd_nxt{};
    bool cwnd_limited = false;   // the window, not the application, held back the sender
    bool in_recovery = false;    // PRR owns cwnd: bookkeeping only
    TimeNs now = 0;
};

struct Window {
    std::uint32_t cwnd = 0;
    std::uint32_t ssthresh = kInfiniteSsthresh;
    std::uint32_t mss = 536;

    bool in_slow_start() const noexcept { return cwnd < ssthresh; }
    void set_cwnd(std::uint64_t c) noexcept { cwnd = static_cast<std::uint32_t>(std::min<std::uint64_t>(c, kMaxCwnd)); }
    // RFC 5681 3.1 eq. 4 floor: never below two segments.
    std::uint32_t at_least_two(std::uint64_t bytes) const noexcept {
        return static_cast<std::uint32_t>(std::clamp<std::uint64_t>(bytes, 2u * mss, kMaxCwnd));
    }
};

// Slow start with appropriate byte counting (RFC 3465 2.2, RFC 5681 3.1):
// cwnd grows by the bytes acknowledged, at most `limit` segments per ACK,
// and not past ssthresh. Returns the bytes left over once cwnd reaches
// ssthresh, for congestion avoidance to count.
inline std::uint32_t slow_start(Window& w, std::uint32_t acked, std::uint32_t limit) noexcept {
    const std::uint32_t grow = std::min<std::uint32_t>(acked, limit * w.mss);
    const std::uint64_t target = std::uint64_t{w.cwnd} + grow;
    if (target <= w.ssthresh) {
        w.set_cwnd(target);
        return 0;
    }
    const std::uint32_t used = w.ssthresh > w.cwnd ? w.ssthresh - w.cwnd : 0;
    w.set_cwnd(std::max(w.ssthresh, w.cwnd));
    return acked - used;
}

// Congestion avoidance by byte counting (RFC 3465 2.1, RFC 5681 3.1): one
// segment more for every cwnd bytes acknowledged. `counted` carries the
// bytes acknowledged since the last increase.
inline void congestion_avoidance(Window& w, std::uint32_t acked, std::uint32_t& counted) noexcept {
    counted += acked;
    if (counted >= w.cwnd && w.cwnd > 0) {
        counted = std::min(counted - w.cwnd, w.cwnd); // at most one more step banked
        w.set_cwnd(std::uint64_t{w.cwnd} + w.mss);
    }
}

} // namespace lanetcp::tcp::cc
