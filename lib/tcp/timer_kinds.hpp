// Every kind of timer TCP puts on its lcore's wheel, in one list: the wheel
// hands TcpLayer::advance a Timer&, and the kind says whose it is (a
// Connection's, a SynRequest's) and what it is for. Timer::kCallback stays
// reserved for applications' timers (CallbackTimer), which run their own handler.
#pragma once

#include <cstdint>

#include "timer/timer_wheel.hpp"

namespace lanetcp::tcp {

enum TimerKind : std::uint8_t {
    // A Connection's.
    kRetransmit,
    kDelayedAck,
    kPersist,
    kTimeWait,
    kKeepalive,
    // A SynRequest's (the syncache): its SYN-ACK's retransmission.
    kSynAckRetransmit,
};

static_assert(kSynAckRetransmit < Timer::kCallback, "Timer::kCallback is the applications' timers'");

} // namespace lanetcp::tcp
