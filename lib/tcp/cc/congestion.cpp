#include "tcp/cc/congestion.hpp"

namespace lanetcp::tcp::cc {

void CongestionControl::start_module(Algorithm a, TimeNs now) noexcept {
    alg_ = a;
    switch (a) {
#define LANETCP_CC_START(e, cls, name) \
    case Algorithm::e: m_.emplace<cls>(); break;
        LANETCP_CC_ALGORITHMS(LANETCP_CC_START)
#undef LANETCP_CC_START
    }
    dispatch([&](auto& m) { m.init(w_, now); });
}

void CongestionControl::init(Algorithm a, std::uint32_t mss, std::uint32_t initial_cwnd, TimeNs now) noexcept {
    w_ = Window{std::min(initial_cwnd, kMaxCwnd), kInfiniteSsthresh, std::max<std::uint32_t>(mss, 1)};
    initial_cwnd_ = w_.cwnd;
    prior_ = {};
    has_prior_ = false;
    ece_reduced_ = false;
    start_module(valid(a) ? a : Algorithm::newreno, now);
}

void CongestionControl::change(Algorithm a, TimeNs now) noexcept {
    if (!valid(a) || a == alg_) return;
    // A reduction made by the old module is not the new one's to undo.
    has_prior_ = false;
    start_module(a, now);
}

void CongestionControl::set_mss(std::uint32_t mss) noexcept {
    if (mss == 0 || mss == w_.mss) return;
    const std::uint32_t old = w_.mss;
    auto scale = [&](std::uint32_t& v) {
        if (v == kInfiniteSsthresh) return;
        v = static_cast<std::uint32_t>(std::min<std::uint64_t>(std::uint64_t{v} * mss / old, kMaxCwnd));
    };
    for (Window* w : {&w_, &prior_}) {
        scale(w->cwnd);
        scale(w->ssthresh);
        w->mss = mss;
    }
    scale(initial_cwnd_);
    w_.cwnd = std::max(w_.cwnd, mss);
    dispatch([&](auto& m) { m.on_mss_change(old, mss); });
}

void CongestionControl::on_ece(std::uint32_t in_flight, TimeNs now) noexcept {
    // RFC 3168 6.1.2: once per window of data. The connection should only
    // call once per window anyway (and send CWR); this holds if it does not.
    if (ece_reduced_ && wire::seq_lt(last_una_, ece_end_)) return;
    ece_reduced_ = true;
    ece_end_ = last_nxt_;
    // A reduction for ECE is never spurious: nothing to undo to.
    has_prior_ = false;
    dispatch([&](auto& m) { m.on_ece(w_, in_flight, now); });
}

void CongestionControl::undo(TimeNs now) noexcept {
    // Linux's tcp_undo_cwnd_reduction: the larger of now and before.
    if (!has_prior_) return;
    w_.cwnd = std::max(w_.cwnd, prior_.cwnd);
    w_.ssthresh = std::max(w_.ssthresh, prior_.ssthresh);
    has_prior_ = false;
    dispatch([&](auto& m) { m.on_undo(w_, now); });
}

void CongestionControl::restart_after_idle(TimeNs now) noexcept {
    if (w_.cwnd > initial_cwnd_) {
        w_.ssthresh = std::max(w_.ssthresh, w_.cwnd / 4 * 3);
        w_.cwnd = initial_cwnd_;
    }
    dispatch([&](auto& m) { m.on_restart(w_, now); });
}

} // namespace lanetcp::tcp::cc
