// Rate limits on what a peer can make us send (RFC 5961 7, Linux's
// tcp_send_challenge_ack and tcp_oow_rate_limited): a per-lcore budget of
// challenge ACKs, randomised each second, and a per-connection interval
// between ACKs that answer invalid segments.
#pragma once

#include <cstdint>

#include "tcp/isn.hpp"
#include "util/clock.hpp"

namespace lanetcp::tcp {

// Challenge ACKs per second on one lcore. A fixed budget shared by every
// connection is a side channel: an off-path attacker who uses it up and
// counts the challenge ACKs its own connection still gets learns whether a
// guessed 4-tuple or sequence number drew one (CVE-2016-5696). As Linux
// since, each second's budget is drawn anew from [ceil(limit/2),
// limit + ceil(limit/2) - 1]: `limit` on average, unknown to the attacker.
// Drawn by a keyed hash of the second (SipHash with the stack's secret), so
// it is unpredictable off-path and yet reproducible in tests.
class ChallengeAckBudget {
public:
    explicit ChallengeAckBudget(const IsnGenerator::Key& key) noexcept : key_(key) {}

    // Takes one challenge ACK from the current second's budget (seconds of
    // the clock, as Linux's jiffies / HZ); false when it is used up.
    bool take(TimeNs now, std::uint32_t limit) noexcept;

    // The budget drawn for second `second` (for tests).
    std::uint32_t draw(std::uint64_t second, std::uint32_t limit) const noexcept;

private:
    IsnGenerator::Key key_;
    std::uint64_t second_ = 0;
    bool started_ = false;
    std::uint32_t left_ = 0;
};

// One connection's limit on ACKs to invalid segments (Linux's
// __tcp_oow_rate_limited): at most one per `interval`, so that two stacks
// that disagree about a connection, or a peer that sends garbage on
// purpose, cannot make us answer every segment. Allowed answers start the
// interval; refused ones do not.
class InvalidAckLimiter {
public:
    bool allow(TimeNs now, TimeNs interval) noexcept {
        if (sent_ && now - last_ < interval) return false;
        sent_ = true;
        last_ = now;
        return true;
    }

private:
    TimeNs last_ = 0;
    bool sent_ = false;
};

} // namespace lanetcp::tcp
