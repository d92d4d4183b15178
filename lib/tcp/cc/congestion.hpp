// Congestion control as its own part (Linux's tcp_congestion_ops, FreeBSD's
// cc_algo): the connection reports ACKs and congestion events, the module
// owns cwnd and ssthresh.
// PLACEHOLDER: NewReno only, replaced by the cc branch (NewReno, CUBIC, DCTCP).
#pragma once

#include <algorithm>
#include <cstdint>

#include "util/clock.hpp"
#include "wire/seq.hpp"

namespace lanetcp::tcp::cc {

enum class Algorithm : std::uint8_t { newreno, cubic, dctcp };

struct AckEvent {
    std::uint32_t acked = 0;
    std::uint32_t ece_acked = 0;
    std::uint32_t in_flight = 0;
    TimeNs rtt = 0;
    TimeNs srtt = 0;
    wire::SeqNum snd_una{}, snd_nxt{};
    bool cwnd_limited = false;
    bool in_recovery = false;
    TimeNs now = 0;
};

class CongestionControl {
public:
    static constexpr std::uint32_t kMaxCwnd = 1u << 30;
    void init(Algorithm a, std::uint32_t mss, std::uint32_t initial_cwnd, TimeNs) noexcept {
        alg_ = a;
        mss_ = mss;
        cwnd_ = initial_cwnd;
        ssthresh_ = 0xffffffffu;
    }
    Algorithm algorithm() const noexcept { return alg_; }
    std::uint32_t cwnd() const noexcept { return cwnd_; }
    std::uint32_t ssthresh() const noexcept { return ssthresh_; }
    void set_cwnd(std::uint32_t c) noexcept { cwnd_ = std::min(c, kMaxCwnd); }
    void set_mss(std::uint32_t mss) noexcept { mss_ = mss; }
    void on_ack(const AckEvent& e) noexcept {
        if (e.in_recovery || !e.cwnd_limited) return;
        if (cwnd_ < ssthresh_) {
            cwnd_ = std::min(cwnd_ + std::min<std::uint32_t>(e.acked, 2u * mss_), kMaxCwnd);
        } else {
            acked_ca_ += e.acked;
            if (acked_ca_ >= cwnd_) {
                acked_ca_ -= cwnd_;
                cwnd_ = std::min<std::uint32_t>(cwnd_ + mss_, kMaxCwnd);
            }
        }
    }
    void on_loss(std::uint32_t in_flight, TimeNs) noexcept {
        save();
        ssthresh_ = std::max<std::uint32_t>(in_flight / 2, 2u * mss_);
    }
    void on_ece(std::uint32_t in_flight, TimeNs) noexcept {
        ssthresh_ = std::max<std::uint32_t>(in_flight / 2, 2u * mss_);
        cwnd_ = ssthresh_;
    }
    void on_rto(std::uint32_t in_flight, TimeNs) noexcept {
        save();
        ssthresh_ = std::max<std::uint32_t>(in_flight / 2, 2u * mss_);
        cwnd_ = mss_;
        acked_ca_ = 0;
    }
    void on_recovery_exit(TimeNs) noexcept { cwnd_ = ssthresh_; }
    void undo(TimeNs) noexcept {
        cwnd_ = std::max(cwnd_, prior_cwnd_);
        ssthresh_ = std::max(ssthresh_, prior_ssthresh_);
    }

private:
    void save() noexcept {
        prior_cwnd_ = cwnd_;
        prior_ssthresh_ = ssthresh_;
    }
    std::uint32_t cwnd_ = 0, ssthresh_ = 0xffffffffu, mss_ = 536, acked_ca_ = 0;
    std::uint32_t prior_cwnd_ = 0, prior_ssthresh_ = 0;
    Algorithm alg_ = Algorithm::newreno;
};

} // namespace lanetcp::tcp::cc
