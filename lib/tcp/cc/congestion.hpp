// Congestion control as its own part (Linux's tcp_congestion_ops, FreeBSD's
// cc_algo): the connection reports ACKs and congestion events, the module
// owns cwnd and ssthresh. The set of modules is closed
// (LANETCP_CC_ALGORITHMS): one of them lives in a std::variant and a switch
// picks it, so an ACK costs no indirect call. See doc/congestion.md.
//
// What the connection calls, and when:
//   init()             once the MSS is known (handshake), with the initial window
//   on_ack()           each ACK that delivers data; in_recovery while PRR sets
//                      cwnd (set_cwnd), for the module's bookkeeping only
//   on_loss()          fast recovery begins: ssthresh drops, cwnd is PRR's
//   on_recovery_exit() recovery over: cwnd = ssthresh (RFC 6937)
//   on_rto()           a retransmission timeout: ssthresh drops, cwnd = 1 MSS
//   on_ece()           an ACK with ECE (RFC 3168 6.1.2): ssthresh and cwnd
//                      drop, at most once per window of data
//   undo()             the last reduction was spurious: back to before it
//   restart_after_idle() sending again after an idle of more than an RTO
#pragma once

#include <algorithm>
#include <cstdint>
#include <variant>

#include "tcp/cc/algorithm.hpp"
#include "tcp/cc/cubic.hpp"
#include "tcp/cc/dctcp.hpp"
#include "tcp/cc/newreno.hpp"
#include "tcp/cc/window.hpp"

namespace lanetcp::tcp::cc {

class CongestionControl {
public:
    static constexpr std::uint32_t kMaxCwnd = cc::kMaxCwnd;

    void init(Algorithm a, std::uint32_t mss, std::uint32_t initial_cwnd, TimeNs now) noexcept;
    // Another module from now on, keeping cwnd and ssthresh (the new one
    // starts its own state from them: CUBIC with no W_max yet).
    void change(Algorithm a, TimeNs now) noexcept;

    Algorithm algorithm() const noexcept { return alg_; }
    std::uint32_t cwnd() const noexcept { return w_.cwnd; }
    std::uint32_t ssthresh() const noexcept { return w_.ssthresh; }
    std::uint32_t mss() const noexcept { return w_.mss; }
    // The connection's own window changes (PRR, RFC 6582's inflation, the
    // loss window).
    void set_cwnd(std::uint32_t c) noexcept { w_.cwnd = std::min(c, kMaxCwnd); }
    // The MSS changed (PMTU): windows keep their size in segments.
    void set_mss(std::uint32_t mss) noexcept;

    void on_ack(const AckEvent& e) noexcept {
        last_una_ = e.snd_una;
        last_nxt_ = e.snd_nxt;
        dispatch([&](auto& m) { m.on_ack(w_, e); });
    }
    void on_loss(std::uint32_t in_flight, TimeNs now) noexcept {
        save();
        dispatch([&](auto& m) { m.on_loss(w_, in_flight, now); });
    }
    void on_ece(std::uint32_t in_flight, TimeNs now) noexcept;
    void on_rto(std::uint32_t in_flight, TimeNs now) noexcept {
        save();
        dispatch([&](auto& m) { m.on_rto(w_, in_flight, now); });
        w_.cwnd = w_.mss; // RFC 5681 3.1: the loss window, one segment
    }
    void on_recovery_exit(TimeNs) noexcept { w_.cwnd = std::min(w_.ssthresh, kMaxCwnd); }
    void undo(TimeNs now) noexcept;
    // RFC 5681 4.1 (Linux's tcp_cwnd_restart): after an idle longer than the
    // RTO, no more than the initial window goes out at once; ssthresh keeps
    // three quarters of the window as a memory of it.
    void restart_after_idle(TimeNs now) noexcept;

    // The module itself, for inspection (tests, traces); nullptr if another runs.
    template <class Module>
    const Module* module() const noexcept {
        return std::get_if<Module>(&m_);
    }

private:
    using Modules = std::variant<
#define LANETCP_CC_CLASS(e, cls, name) cls,
        LANETCP_CC_ALGORITHMS(LANETCP_CC_CLASS)
#undef LANETCP_CC_CLASS
            std::monostate>; // closes the list's trailing comma; never held

    // Static dispatch over the closed set: a switch, each case a direct
    // (inlinable) call.
    template <class F>
    void dispatch(F&& f) noexcept {
        switch (alg_) {
#define LANETCP_CC_CASE(e, cls, name) \
    case Algorithm::e: return f(*std::get_if<cls>(&m_));
            LANETCP_CC_ALGORITHMS(LANETCP_CC_CASE)
#undef LANETCP_CC_CASE
        }
    }
    void start_module(Algorithm a, TimeNs now) noexcept;
    void save() noexcept {
        prior_ = w_;
        has_prior_ = true;
    }

    Window w_{};
    Window prior_{}; // before the last reduction
    std::uint32_t initial_cwnd_ = 0;
    wire::SeqNum last_una_{}, last_nxt_{};
    wire::SeqNum ece_end_{}; // no second ECE reduction before SND.UNA reaches this
    bool ece_reduced_ = false;
    bool has_prior_ = false;
    Algorithm alg_ = Algorithm::newreno;
    Modules m_{};
};

} // namespace lanetcp::tcp::cc
