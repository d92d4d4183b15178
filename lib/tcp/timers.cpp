// The connection's timers (FreeBSD's tcp_timer): retransmission and loss
// probe, delayed ACK, persist, keepalive, TIME_WAIT.

#include "tcp/connection.hpp"

#include <algorithm>
#include <cerrno>

#include "tcp/tcp_layer.hpp"

namespace lanetcp::tcp {

using wire::seq_diff;
using wire::seq_geq;
using wire::seq_gt;
using wire::seq_leq;
using wire::seq_lt;
namespace tf = wire::tcpflag;

void Connection::arm_rto(TimeNs now) noexcept {
    probe_armed_ = false;
    reorder_armed_ = false;
    // A loss probe is no progress: the wait goes on from before it.
    if (!tlp_outstanding_) rtx_armed_at_ = now;
    // Restarted by nearly every ACK: a store, not a move in the wheel.
    layer_->timers().arm_lazily(rtx_timer_, now + rtt_.backed_off(backoff_));
}

void Connection::arm_retransmission(TimeNs now) noexcept {
    // Tail loss probe (RFC 8985 7.2): when the last segments of a flight
    // are lost no ACK will say so, and only the RTO, 200 ms at least and
    // often far more, would repair them. A probe after about two round
    // trips draws the SACK that starts fast recovery instead. Only outside
    // recovery, with SACK and an RTT sample, one probe at a time
    // (may_probe).
    if (!may_probe()) return arm_rto(now);
    reorder_armed_ = false;
    const std::uint32_t flight = flight_size();
    // 7.2: 2 SRTT; with one segment out, room for the peer's delayed ACK
    // (WCDelAckT); never later than the RTO. Otherwise a margin of two timer
    // ticks, as Linux's TCP_TIMEOUT_MIN (2 jiffies at HZ=1000), where the
    // TLP draft had a 10 ms floor: at data-centre round trips of tens of
    // microseconds that floor, not the round trip, set how long every tail
    // loss stalled the flow.
    constexpr TimeNs kWorstCaseDelayedAck = 200 * kNsPerMs;
    constexpr TimeNs kTimerMargin = 2 * kNsPerMs;
    TimeNs pto = 2 * rtt_.srtt() + (flight <= snd_.mss ? kWorstCaseDelayedAck : kTimerMargin);
    pto = std::min(pto, rtt_.backed_off(0));
    probe_armed_ = true;
    probe_armed_at_ = now;
    rtx_armed_at_ = now;
    layer_->timers().arm_lazily(rtx_timer_, now + pto);
}

void Connection::on_timer(std::uint8_t kind, TimeNs now) noexcept {
    switch (kind) {
    case kRetransmit: return on_retransmit_timer(now);
    case kDelayedAck:
        if (state_ != State::closed && state_ != State::time_wait) send_ack(now);
        return;
    case kPersist: return on_persist_timer(now);
    case kKeepalive: return on_keepalive_timer(now);
    case kTimeWait:
        // TIME_WAIT over, or an orphan's FIN_WAIT_2 timed out.
        state_ = State::closed;
        dead_ = true;
        app_closed_ = true;
        return;
    }
}

void Connection::on_retransmit_timer(TimeNs now) noexcept {
    if (snd_.una == snd_.max) return; // everything was acknowledged meanwhile
    if (probe_armed_) {
        probe_armed_ = false;
        return send_loss_probe(now);
    }
    if (reorder_armed_) return on_reorder_timer(now);
    tlp_outstanding_ = false;
    const TcpConfig& cfg = layer_->config();
    const bool handshake = state_ == State::syn_sent || state_ == State::syn_received;
    std::uint32_t limit = state_ == State::syn_sent       ? cfg.syn_retries
                          : state_ == State::syn_received ? cfg.synack_retries
                                                          : cfg.retries2;
    if (retransmits_ == 0) rtx_stamp_ = rtx_armed_at_;
    if (orphan_ && !handshake) {
        // Linux's tcp_write_timeout for an orphan: fewer retries
        // (tcp_orphan_retries), and none once the RTO has backed off to
        // its maximum; with too many orphans on the lcore, killed now.
        const bool alive = rto() < cfg.max_rto;
        limit = orphan_retries(alive);
        if (orphan_out_of_resources(alive || retransmits_ < limit, now)) return;
    }
    // TCP_USER_TIMEOUT replaces the count once the handshake is done; in it,
    // it can only end the attempt sooner (tcp_write_timeout).
    const TimeNs user_timeout = opts_.user_timeout;
    bool expired = (handshake || user_timeout == 0) && retransmits_ >= limit;
    if (!expired && user_timeout != 0 && retransmits_ > 0) expired = now - rtx_stamp_ >= user_timeout;
    Counters& c = layer_->counters();
    if (expired) {
        // tcp_retransmit_timer → tcp_write_err: give up, no RST.
        c.tcp_connections_timed_out.add();
        if (state_ == State::syn_received && listener_ != nullptr) {
            dead_ = true;
            app_closed_ = true;
            state_ = State::closed;
            return;
        }
        return fail(ETIMEDOUT);
    }
    ++retransmits_;
    ++backoff_;
    c.tcp_timeouts.add();
    rtt_timing_ = false; // Karn

    if (handshake) {
        send_syn(now);
        return clamp_rto_to_user_timeout(now);
    }

    // RFC 5681 3.1 eq. 4 and the loss window, reduced once per episode
    // (Linux's tcp_enter_loss); then go back to SND.UNA.
    if (rec_.phase == Phase::open) {
        cc_.on_rto(flight_size(), now);
        begin_episode(Phase::loss);
        // F-RTO (RFC 5682) on the first timeout of an episode, with SACK
        // (its SACK-enhanced form) and data beyond what was sent.
        rec_.frto = sack_ok_ && layer_->config().frto && retransmits_ == 1 ? RecoveryState::Frto::after_rto
                                                                           : RecoveryState::Frto::off;
        rec_.frto_high = snd_.max;
    } else {
        rec_.frto = RecoveryState::Frto::off;
        // Already reduced in this episode: only the loss window.
        if (rec_.phase == Phase::recovery) rack_.recovery_ended();
        cc_.set_cwnd(snd_.mss);
        rec_.phase = Phase::loss;
        rec_.recover = snd_.max;
        rec_.lost = 0;
    }
    rec_.dupacks = 0;
    // RFC 2018 8 / RFC 6675 5.1: after a timeout the receiver may have
    // reneged; resend from SND.UNA as if nothing had been SACKed.
    scoreboard_.clear();
    rack_.forget_retransmissions();
    snd_.nxt = snd_.una;
    // The head segment again, never data the peer has not been offered
    // (Linux resends the head skb as it went): a timeout is no licence to
    // pass the window, and SND.NXT must not run past SND.MAX.
    const std::uint32_t len = std::min<std::uint32_t>(snd_.mss, unacked_data());
    if (len > 0) {
        snd_.nxt += transmit_data(snd_.una, len, now);
    } else {
        send_fin_if_due(now); // only the FIN was outstanding
    }
    if (!rtx_timer_.armed()) arm_rto(now);
    clamp_rto_to_user_timeout(now);
    trace(now, TraceEvent::rto);
}

void Connection::on_persist_timer(TimeNs now) noexcept {
    if (unsent_bytes() == 0 || snd_.nxt != snd_.una) {
        persist_started_ = false;
        return;
    }
    const std::uint32_t in_flight = 0;
    const std::uint32_t usable = std::min(snd_.wnd, cc_.cwnd()) - in_flight;
    if (usable > 0) {
        // The window opened without our noticing (a lost update), or the
        // SWS rule held back a small segment too long: send it now.
        const std::uint32_t len = std::min({static_cast<std::uint32_t>(snd_.mss), unsent_bytes(), usable});
        snd_.nxt += transmit_data(snd_.nxt, len, now);
        if (seq_gt(snd_.nxt, snd_.max)) snd_.max = snd_.nxt;
        return;
    }
    // Linux's tcp_probe_timer. A peer that answers every probe keeps a
    // connection (RFC 1122 4.2.2.17), unless the application set a user
    // timeout or is gone: then the time since the first probe counts, not
    // the answers. A peer that stopped answering is gone (retries2 probes
    // in a row without an ACK).
    const TcpConfig& cfg = layer_->config();
    const auto give_up = [&] {
        layer_->counters().tcp_connections_timed_out.add();
        fail(ETIMEDOUT);
    };
    if (!persist_started_) {
        persist_started_ = true;
        persist_since_ = now;
    } else if (opts_.user_timeout != 0 && now - persist_since_ >= opts_.user_timeout) {
        return give_up();
    }
    std::uint32_t max_probes = cfg.retries2;
    if (orphan_) {
        // The interval only grows while the window stays shut, answered or
        // not: once it reaches the maximum RTO the orphan is given up.
        const bool alive = rtt_.backed_off(persist_backoff_) < cfg.max_rto;
        max_probes = orphan_retries(alive);
        if (!alive && persist_backoff_ >= max_probes) return give_up();
        if (orphan_out_of_resources(true, now)) return;
    }
    if (persist_probes_ >= max_probes) return give_up();
    // Zero-window probe: an old sequence number makes the peer answer with
    // an ACK that carries its window (Linux's tcp_xmit_probe_skb).
    send_control(tf::ack, snd_.una - 1, now);
    trace(now, TraceEvent::persist);
    ++persist_probes_;
    if (persist_backoff_ < 30) ++persist_backoff_;
    layer_->timers().arm(persist_timer_,
                         now + clamp_to_user_timeout(persist_since_, rtt_.backed_off(persist_backoff_), now));
}

void Connection::on_keepalive_timer(TimeNs now) noexcept {
    if (!keepalive_) return;
    const bool synchronized =
        state_ == State::established || state_ == State::close_wait || state_ == State::fin_wait_2;
    // Outstanding or waiting data has the retransmit and persist timers
    // watching it (as Linux's tcp_keepalive_timer steps aside for them).
    const bool busy = snd_.una != snd_.max || unsent_bytes() > 0;
    if (!synchronized || busy || now - last_received_ < keepalive_idle_) {
        const TimeNs from = synchronized && !busy ? last_received_ : now;
        layer_->timers().arm(keepalive_timer_, std::max(from + keepalive_idle_, now + kNsPerMs));
        return;
    }
    // With a user timeout, the time since the peer was last heard decides,
    // not the count (tcp_keepalive_timer).
    const TimeNs user_timeout = opts_.user_timeout;
    if (user_timeout != 0 ? keepalive_probes_ > 0 && now - last_received_ >= user_timeout
                          : keepalive_probes_ >= keepalive_count_) {
        // tcp_keepalive_timer: tell the peer, then give up.
        send_control(tf::rst | tf::ack, snd_.max, now);
        layer_->counters().tcp_resets_sent.add();
        layer_->counters().tcp_connections_timed_out.add();
        return fail(ETIMEDOUT);
    }
    // SND.UNA - 1: a byte the peer already has, so it answers with an ACK
    // and takes nothing (Linux's tcp_write_wakeup without data).
    send_control(tf::ack, snd_.una - 1, now);
    layer_->counters().tcp_keepalive_probes.add();
    ++keepalive_probes_;
    layer_->timers().arm(keepalive_timer_, now + keepalive_interval_);
}

} // namespace lanetcp::tcp
