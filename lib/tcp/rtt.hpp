// Retransmission timeout per RFC 6298: SRTT/RTTVAR smoothing, Karn's rule
// (callers sample only segments sent once), exponential backoff, and Linux's
// bounds (200 ms minimum, 120 s maximum) by default.
#pragma once

#include <algorithm>
#include <cstdint>

#include "util/clock.hpp"

namespace lanetcp::tcp {

class RttEstimator {
public:
    RttEstimator(TimeNs min_rto, TimeNs max_rto, TimeNs initial_rto) noexcept
        : min_rto_(min_rto), max_rto_(max_rto), rto_(std::clamp(initial_rto, min_rto, max_rto)) {}

    // RFC 6298 2.2 and 2.3, with alpha = 1/8 and beta = 1/4.
    void sample(TimeNs rtt) noexcept {
        if (!has_sample_) {
            srtt_ = rtt;
            rttvar_ = rtt / 2;
            has_sample_ = true;
        } else {
            TimeNs delta = srtt_ > rtt ? srtt_ - rtt : rtt - srtt_;
            rttvar_ = (3 * rttvar_ + delta) / 4;
            srtt_ = (7 * srtt_ + rtt) / 8;
        }
        // G (clock granularity) is taken as 1 ms, the resolution of our timers.
        rto_ = std::clamp(srtt_ + std::max<TimeNs>(kNsPerMs, 4 * rttvar_), min_rto_, max_rto_);
    }

    // RFC 6298 5.5: double the timer on each expiry, up to the maximum.
    TimeNs backed_off(std::uint32_t backoff) const noexcept {
        TimeNs t = rto_;
        for (std::uint32_t i = 0; i < backoff && t < max_rto_; ++i) t *= 2;
        return std::min(t, max_rto_);
    }

    // RFC 6298 5.7: no sample yet and an RTO below `floor`: raise it.
    void fall_back(TimeNs floor) noexcept {
        if (!has_sample_) rto_ = std::clamp(std::max(rto_, floor), min_rto_, max_rto_);
    }

    TimeNs rto() const noexcept { return rto_; }
    TimeNs srtt() const noexcept { return srtt_; }
    TimeNs rttvar() const noexcept { return rttvar_; }
    bool has_sample() const noexcept { return has_sample_; }

private:
    TimeNs min_rto_;
    TimeNs max_rto_;
    TimeNs rto_;
    TimeNs srtt_ = 0;
    TimeNs rttvar_ = 0;
    bool has_sample_ = false;
};

} // namespace lanetcp::tcp
