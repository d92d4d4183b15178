// When a connection stops trying: orphans (Linux's tcp_orphan_retries,
// tcp_max_orphans, tcp_out_of_resources) and TCP_USER_TIMEOUT (RFC 5482,
// with Linux's semantics). The timers (timers.cpp) ask here.
#include <algorithm>

#include "tcp/connection.hpp"
#include "tcp/tcp_layer.hpp"

namespace lanetcp::tcp {

namespace tf = wire::tcpflag;

void Connection::become_orphan() noexcept {
    // Linux's tcp_close: counted from close() until the connection is freed
    // or reaches TIME_WAIT (a timewait sock there, not an orphan).
    if (orphan_ || state_ == State::closed || state_ == State::time_wait) return;
    orphan_ = true;
    layer_->add_orphan();
    if (!layer_->too_many_orphans(0)) return;
    // tcp_check_oom: one orphan too many is reset at once rather than left
    // to finish (its FIN is never sent).
    send_control(tf::rst | tf::ack, snd_.nxt, layer_->now());
    layer_->counters().tcp_resets_sent.add();
    layer_->counters().tcp_orphans_aborted.add();
    state_ = State::closed;
    dead_ = true;
}

void Connection::leave_orphans() noexcept {
    if (!orphan_) return;
    orphan_ = false;
    layer_->remove_orphan();
}

std::uint32_t Connection::orphan_retries(bool alive) const noexcept {
    // Linux's tcp_orphan_retries: 0 means 8 (about 100 s at the minimum RTO)
    // while the peer still seems alive, i.e. while the backed-off timeout
    // has not reached the maximum; once it has, the configured value (0:
    // give up at the next timeout).
    const std::uint32_t retries = layer_->config().orphan_retries;
    return retries == 0 && alive ? 8u : retries;
}

bool Connection::orphan_out_of_resources(bool do_reset, TimeNs now) noexcept {
    // Linux's tcp_out_of_resources, at each timeout of an orphan: with too
    // many orphans on the lcore it is killed. One that has sent nothing for
    // long, or that would not otherwise be reset, counts double.
    const TcpConfig& cfg = layer_->config();
    const TimeNs idle = now - last_data_sent_;
    const unsigned shift = idle > 2 * cfg.max_rto || !do_reset ? 1 : 0;
    if (!layer_->too_many_orphans(shift)) return false;
    // The peer may still be listening: it sent or was sent to recently, or
    // it holds a closed window.
    if (idle <= cfg.time_wait || (snd_.wnd == 0 && snd_.una == snd_.max)) do_reset = true;
    if (do_reset) {
        send_control(tf::rst | tf::ack, snd_.nxt, now);
        layer_->counters().tcp_resets_sent.add();
    }
    layer_->counters().tcp_orphans_aborted.add();
    state_ = State::closed;
    dead_ = true;
    return true;
}

TimeNs Connection::clamp_to_user_timeout(TimeNs since, TimeNs when, TimeNs now) const noexcept {
    // Linux's tcp_clamp_rto_to_user_timeout / tcp_clamp_probe0_to_user_timeout:
    // the next timer fires no later than the user timeout, so that the
    // connection ends on time and not up to a maximum RTO after it.
    const TimeNs timeout = opts_.user_timeout;
    if (timeout == 0) return when;
    const TimeNs end = since + timeout;
    const TimeNs remaining = end > now ? end - now : 0;
    return std::min(when, std::max(remaining, kNsPerMs));
}

void Connection::clamp_rto_to_user_timeout(TimeNs now) noexcept {
    if (opts_.user_timeout == 0 || !rtx_timer_.armed()) return;
    const TimeNs when = rtx_timer_.deadline() > now ? rtx_timer_.deadline() - now : 0;
    const TimeNs clamped = clamp_to_user_timeout(rtx_stamp_, when, now);
    if (clamped < when) layer_->timers().arm(rtx_timer_, now + clamped);
}

} // namespace lanetcp::tcp
