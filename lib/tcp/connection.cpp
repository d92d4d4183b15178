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

const char* to_string(State s) noexcept {
    switch (s) {
    case State::closed: return "CLOSED";
    case State::listen: return "LISTEN";
    case State::syn_sent: return "SYN_SENT";
    case State::syn_received: return "SYN_RECEIVED";
    case State::established: return "ESTABLISHED";
    case State::fin_wait_1: return "FIN_WAIT_1";
    case State::fin_wait_2: return "FIN_WAIT_2";
    case State::close_wait: return "CLOSE_WAIT";
    case State::closing: return "CLOSING";
    case State::last_ack: return "LAST_ACK";
    case State::time_wait: return "TIME_WAIT";
    }
    return "?";
}

Connection::Connection() noexcept
    : rtt_(200 * kNsPerMs, 120 * kNsPerSec, 1 * kNsPerSec),
      rtx_timer_(this, kRetransmit),
      delack_timer_(this, kDelayedAck),
      persist_timer_(this, kPersist),
      time_wait_timer_(this, kTimeWait),
      keepalive_timer_(this, kKeepalive) {}

// ------------------------------------------------------------ set-up ----

void Connection::init(TcpLayer& layer, const FourTuple& tuple, SeqNum iss, const ConnectionOptions& options) noexcept {
    const TcpConfig& cfg = layer.config();
    layer_ = &layer;
    memory_ = &layer.memory();
    pressure_window_ = 4u * layer.local_mss();
    tuple_ = tuple;
    opts_ = options;
    iss_ = snd_una_ = snd_nxt_ = snd_max_ = snd_sml_ = iss;
    // Until the handshake shows whether the peer scales, the buffer is what
    // the shift we offer can express; take_peer_options settles it.
    rcv_wscale_ = opts_.window_scale ? window_scale_for(opts_.receive_buffer) : 0;
    size_receive_buffer();
    rtt_ = RttEstimator(cfg.min_rto, cfg.max_rto, cfg.initial_rto);
    snd_mss_ = 536;
    ts_offset_ = timestamp_offset(iss);
    last_data_sent_ = layer.now(); // Linux starts lsndtime at the handshake
}

void Connection::set_receive_buffer(std::uint32_t bytes) noexcept {
    opts_.receive_buffer = bytes;
    // Shrinking is fine: the window already advertised stays (see rcv_adv_).
    size_receive_buffer();
    if (state_ == State::established || state_ == State::fin_wait_1 || state_ == State::fin_wait_2) consumed(0);
}

void Connection::open_active(TimeNs now) noexcept {
    state_ = State::syn_sent;
    layer_->counters().tcp_active_opens.add();
    send_syn(now);
}

void Connection::take_peer_syn(const InSegment& syn, TimeNs now) noexcept {
    irs_ = syn.seq;
    rcv_nxt_ = rcv_wup_ = syn.seq + 1;
    take_peer_options(syn.options, now);
    // A SYN's window is never scaled (RFC 7323 2.2), ours neither: the
    // right edge the peer knows is what our SYN or SYN-ACK says.
    rcv_adv_ = rcv_nxt_ + std::min<std::uint32_t>(receive_space(), 65535);
    snd_wnd_ = max_snd_wnd_ = syn.window;
    snd_wl1_ = syn.seq;
}

void Connection::open_from_request(const InSegment& syn, Listener& l, std::uint32_t synack_retransmits,
                                   bool timed, TimeNs synack_sent, TimeNs now) noexcept {
    take_peer_syn(syn, now);
    listener_ = &l;
    state_ = State::syn_received;
    snd_nxt_ = snd_max_ = iss_ + 1; // the SYN-ACK went
    retransmits_ = backoff_ = synack_retransmits;
    if (timed) { // the handshake's RTT sample, as send_syn would have timed it
        rtt_timing_ = true;
        rtt_seq_ = iss_ + 1;
        rtt_start_ = synack_sent;
    }
    arm_rto(now);
}

void Connection::take_peer_options(const wire::TcpOptions& o, TimeNs now) noexcept {
    // Each extension is on only if both SYNs carry it (RFC 2018 2, RFC 7323
    // 2.2 and 3.2): the SYN-ACK offers only what the SYN did.
    sack_ok_ = opts_.sack && o.sack_permitted;
    wscale_ok_ = opts_.window_scale && o.window_scale.has_value();
    snd_wscale_ = wscale_ok_ ? *o.window_scale : 0;
    if (!wscale_ok_) rcv_wscale_ = 0;
    size_receive_buffer();
    ts_ok_ = opts_.timestamps && o.timestamps.has_value();
    if (ts_ok_) {
        ts_recent_ = o.timestamps->value;
        ts_recent_stamp_ = now;
    }
    // RFC 9293 3.7.1: without the option, assume 536; never more than our
    // own. Timestamps ride on every segment: SND.MSS leaves room for them
    // (RFC 7323 3.2 allows for it; Linux's mss_cache does the same).
    std::uint16_t peer = o.mss ? *o.mss : 536;
    snd_mss_ = std::max<std::uint16_t>(64, std::min(peer, layer_->local_mss()));
    if (ts_ok_) snd_mss_ = static_cast<std::uint16_t>(snd_mss_ - 12);
    // RFC 6928 initial window, RFC 5681 ssthresh "arbitrarily high".
    cwnd_ = std::min(layer_->config().initial_cwnd * snd_mss_, std::max(2u * snd_mss_, 14600u));
    if (layer_->config().initial_cwnd > 10) cwnd_ = layer_->config().initial_cwnd * snd_mss_;
}

// ------------------------------------------------------------- input ----

void Connection::input(InSegment& seg, TimeNs now) noexcept {
    last_received_ = now; // keepalive: anything from the peer shows it is there
    keepalive_probes_ = 0;
    if (state_ == State::syn_sent) {
        input_syn_sent(seg, now);
        seg.payload.release();
        return;
    }

    // RFC 7323 5.3 R1, before the sequence check as in Linux's
    // tcp_validate_incoming: an old timestamp marks an old duplicate. A
    // RST is taken whatever its timestamp (5.3 R1's exception).
    if (!seg.flags.rst() && paws_reject(seg, now)) {
        layer_->counters().drop(Drop::tcp_paws);
        if (answer_invalid(seg, now, layer_->counters().tcp_ack_skipped_paws)) ack_pending_ = true;
        seg.payload.release();
        return;
    }
    // First check: sequence number (RFC 9293 3.10.7.4).
    if (!acceptable(seg)) {
        if (!seg.flags.rst()) {
            layer_->counters().drop(Drop::tcp_out_of_window);
            // A retransmission of data we have: report it (RFC 2883).
            if (seg.payload.length > 0 && seq_lt(seg.seq, rcv_nxt_))
                note_duplicate(seg.seq, std::min<std::uint32_t>(seg.payload.length,
                                                                static_cast<std::uint32_t>(seq_diff(rcv_nxt_, seg.seq))));
            // Answered (rate-limited for pure ACKs: an ACK war between two
            // stacks that disagree must not run at wire speed).
            if (answer_invalid(seg, now, layer_->counters().tcp_ack_skipped_seq)) ack_pending_ = true;
        }
        seg.payload.release();
        return;
    }
    // Second: RST. RFC 5961 3.2: only an exact match resets; anything else
    // in the window gets a challenge ACK, so a blind attacker has to guess
    // the exact sequence number.
    if (seg.flags.rst()) {
        seg.payload.release();
        if (seg.seq == rcv_nxt_)
            input_rst(seg);
        else
            challenge_ack(now);
        return;
    }

    // Simultaneous open whose SYN-ACKs crossed (RFC 9293 3.5 figure 8):
    // the peer's SYN-ACK acknowledges our SYN, so it moves us on as an ACK
    // would; its SYN, already taken, is answered with an ACK (Linux lets
    // exactly this segment through in tcp_validate_incoming).
    if (seg.flags.syn() && seg.flags.ack() && state_ == State::syn_received && listener_ == nullptr &&
        seg.seq + 1 == rcv_nxt_ && seg.ack == snd_nxt_ && seg.payload.length == 0) {
        seg.flags = TcpFlags{static_cast<std::uint8_t>(seg.flags.bits & ~tf::syn.bits)};
        seg.seq += 1;
        ack_pending_ = true;
    }
    // Fourth: SYN in a synchronized state. RFC 5961 4.2: challenge ACK. A
    // retransmitted SYN in SYN_RECEIVED means our SYN-ACK was lost.
    if (seg.flags.syn()) {
        seg.payload.release();
        if (state_ == State::syn_received && seg.seq + 1 == rcv_nxt_) {
            send_syn(now);
            return;
        }
        challenge_ack(now);
        return;
    }

    // Fifth: ACK.
    if (!seg.flags.ack()) {
        layer_->counters().drop(Drop::tcp_bad_flags);
        seg.payload.release();
        return;
    }
    if (!input_ack(seg, now) || dead_) {
        seg.payload.release();
        return;
    }

    // Only now is the segment cut to what is new and fits the window: the
    // checks above are on the segment as it was sent (an RST's exact match,
    // a retransmitted SYN, the window update's SEG.SEQ).
    if (seg.payload.length > 0 && seq_lt(seg.seq, rcv_nxt_)) {
        // Some or all of it arrived before (RFC 2883 4.1.1, 4.1.2).
        const std::uint32_t old = static_cast<std::uint32_t>(seq_diff(rcv_nxt_, seg.seq));
        note_duplicate(seg.seq, std::min(old, seg.payload.length));
    }
    if (seg.length() > 0 && seq_leq(seg.seq + seg.length(), rcv_nxt_)) {
        // All of it arrived before: our ACK was lost, so repeat it at once
        // (Linux's tcp_data_queue). A retransmitted FIN in TIME_WAIT also
        // restarts the 2*MSL wait (RFC 9293 3.10.7.4, eighth check).
        ack_pending_ = true;
        if (state_ == State::time_wait && seg.flags.fin())
            layer_->timers().arm(time_wait_timer_, now + layer_->config().time_wait);
    }
    // Data past the right edge (a zero-window probe carrying a byte, say)
    // is dropped; the ACK tells the sender where the window is.
    if (trim_to_window(seg)) ack_pending_ = true;

    // Seventh: text. Eighth: FIN, once everything before it has arrived.
    const SeqNum data_end = seg.seq + seg.payload.length;
    if (seg.payload.length > 0) {
        input_data(seg, now);
        if (dead_) return;
    } else {
        seg.payload.release();
    }
    if (seg.flags.fin()) {
        if (data_end == rcv_nxt_)
            input_fin(now);
        else if (seq_gt(data_end, rcv_nxt_) && state_ != State::close_wait && state_ != State::closing &&
                 state_ != State::last_ack && state_ != State::time_wait)
            hold(data_end, Chunk{}, true); // a bare FIN ahead of a hole
    }
}

namespace {
// Far above any window (RFC 7323's 1 GiB); keeps cwnd arithmetic in 32 bits.
constexpr std::uint32_t kMaxCwnd = 1u << 30;
constexpr TimeNs kRtoAfterSynTimeout = 3 * kNsPerSec; // RFC 6298 5.7, Linux's TCP_TIMEOUT_FALLBACK
// RFC 7323 5.5: a timestamp clock of 1 ms wraps its sign bit in 24.8 days.
constexpr TimeNs kPawsIdle = 24LL * 24 * 3600 * kNsPerSec;
} // namespace

bool Connection::paws_reject(const InSegment& seg, TimeNs now) const noexcept {
    if (!ts_ok_ || !seg.options.timestamps) return false;
    // Modular comparison (RFC 7323 5.2): older means "less than", mod 2^32.
    const std::int32_t behind = static_cast<std::int32_t>(ts_recent_ - seg.options.timestamps->value);
    if (behind <= 0) return false;
    // Linux's tcp_disordered_ack: a duplicate pure ACK that changes
    // nothing, overtaken on the way by a newer segment (by less than an
    // RTO), is harmless and still tells of the peer; let it through.
    if (seg.flags.ack() && seg.length() == 0 && seg.seq == rcv_nxt_ && seg.ack == snd_una_ &&
        scaled_window(seg) == snd_wnd_ && static_cast<TimeNs>(behind) * kNsPerMs <= rto())
        return false;
    // 5.5: after 24 days idle the clock may have wrapped; TS.Recent is stale.
    return now - ts_recent_stamp_ <= kPawsIdle;
}

void Connection::update_ts_recent(const InSegment& seg, TimeNs now) noexcept {
    // RFC 7323 4.3 (2), as Linux's tcp_replace_ts_recent: only from a
    // segment that starts at or before the left edge we last acknowledged,
    // so an early out-of-order segment cannot push TS.Recent ahead.
    if (!ts_ok_ || !seg.options.timestamps || seq_gt(seg.seq, rcv_wup_)) return;
    if (static_cast<std::int32_t>(seg.options.timestamps->value - ts_recent_) >= 0 ||
        now - ts_recent_stamp_ > kPawsIdle) {
        ts_recent_ = seg.options.timestamps->value;
        ts_recent_stamp_ = now;
    }
}

void Connection::challenge_ack(TimeNs now) noexcept {
    // RFC 5961 7: bounded, so that they cannot be used to flood or, worse,
    // counted by an off-path attacker; the segment is dropped either way.
    // Linux's tcp_send_challenge_ack: one per connection per
    // tcp.invalid_ratelimit first, then the lcore's randomised budget.
    if (!invalid_acks_.allow(now, layer_->config().invalid_ratelimit)) {
        layer_->counters().tcp_ack_skipped_challenge.add();
        return;
    }
    if (layer_->challenge_ack_allowed(now)) ack_pending_ = true;
}

void Connection::note_duplicate(SeqNum seq, std::uint32_t len) noexcept {
    if (!sack_ok_ || len == 0) return;
    // At once: the peer resent what we had, so it may be waiting on us.
    ack_pending_ = true;
    dsack_pending_ = true;
    dsack_ = wire::SackBlock{seq, seq + len};
}

bool Connection::acceptable(const InSegment& seg) const noexcept {
    // Linux's tcp_sequence() rather than the letter of RFC 9293 3.10.7.4:
    // the right edge is inclusive and the left edge is where the window was
    // last advertised (RCV.WUP). A peer that filled our window sends its
    // pure ACKs at exactly RCV.NXT+RCV.WND; refusing them would freeze
    // SND.UNA while a lost segment holds RCV.NXT back, and both sides stall.
    // A zero window still takes a probe's ACK, RST and window (the RFC's
    // "special allowance"); trim_to_window drops any data.
    const std::uint32_t wnd = rcv_wnd();
    return seq_geq(seg.seq + seg.length(), rcv_wup_) && seq_leq(seg.seq, rcv_nxt_ + wnd);
}

bool Connection::trim_to_window(InSegment& seg) noexcept {
    if (seq_lt(seg.seq, rcv_nxt_)) {
        std::uint32_t skip = static_cast<std::uint32_t>(seq_diff(rcv_nxt_, seg.seq));
        if (seg.flags.syn()) {
            seg.flags = TcpFlags{static_cast<std::uint8_t>(seg.flags.bits & ~tf::syn.bits)};
            --skip;
            seg.seq += 1;
        }
        const std::uint32_t cut = std::min(skip, seg.payload.length);
        seg.payload.trim_front(cut);
        seg.seq += cut;
    }
    const std::uint32_t wnd = rcv_wnd();
    const SeqNum right = rcv_nxt_ + wnd;
    const SeqNum end = seg.seq + seg.payload.length;
    // A FIN right at the edge still counts, even in a zero window (as Linux's
    // tcp_data_queue takes a bare FIN): it needs no buffer.
    if (seq_gt(end, right)) {
        seg.payload.trim_back(static_cast<std::uint32_t>(seq_diff(end, right)));
        seg.flags = TcpFlags{static_cast<std::uint8_t>(seg.flags.bits & ~tf::fin.bits)};
        return true;
    }
    return false;
}

void Connection::input_syn_sent(InSegment& seg, TimeNs now) noexcept {
    // tcp_rcv_synsent_state_process / RFC 9293 3.10.7.3.
    const bool ack_ok = seg.flags.ack() && seq_gt(seg.ack, iss_) && seq_leq(seg.ack, snd_max_);
    if (seg.flags.ack() && !ack_ok) {
        if (!seg.flags.rst()) layer_->send_reset_for(seg);
        layer_->counters().drop(Drop::tcp_bad_ack);
        return;
    }
    if (seg.flags.rst()) {
        if (ack_ok) {
            layer_->counters().tcp_resets_received.add();
            layer_->counters().tcp_connections_refused.add();
            fail(ECONNREFUSED);
        }
        return;
    }
    if (!seg.flags.syn()) {
        layer_->counters().drop(Drop::tcp_bad_flags);
        return;
    }
    take_peer_syn(seg, now);
    snd_wl2_ = seg.ack;
    if (!ack_ok) {
        // Simultaneous open (RFC 9293 3.5, figure 8).
        state_ = State::syn_received;
        send_syn(now);
        return;
    }
    if (rtt_timing_ && retransmits_ == 0) rtt_.sample(now - rtt_start_); // Karn: only an unretransmitted SYN
    rtt_timing_ = false;
    // RFC 6298 5.7: a SYN that timed out leaves data starting at 3 s.
    if (retransmits_ > 0 && !rtt_.has_sample()) rtt_.fall_back(kRtoAfterSynTimeout);
    snd_una_ = seg.ack;
    syn_acked_ = true;
    if (seq_lt(snd_nxt_, snd_una_)) snd_nxt_ = snd_una_;
    retransmits_ = 0;
    backoff_ = 0;
    layer_->timers().cancel(rtx_timer_);
    state_ = State::established;
    layer_->counters().tcp_established.add();
    pending_.established = true;
    if (opts_.keepalive)
        set_keepalive(true, opts_.keepalive_idle, opts_.keepalive_interval, opts_.keepalive_count);
    ack_pending_ = true; // the third segment of the handshake (data may carry it)
}

void Connection::input_rst(const InSegment&) noexcept {
    layer_->counters().tcp_resets_received.add();
    switch (state_) {
    case State::syn_received:
        if (listener_ != nullptr) { // back to LISTEN: the half-open connection just goes
            dead_ = true;
            app_closed_ = true;
            state_ = State::closed;
            return;
        }
        layer_->counters().tcp_connections_refused.add();
        return fail(ECONNREFUSED);
    case State::established:
    case State::fin_wait_1:
    case State::fin_wait_2:
    case State::close_wait:
        return fail(ECONNRESET);
    default: // CLOSING, LAST_ACK, TIME_WAIT: nothing more to lose
        return fail(app_closed_ ? 0 : ECONNRESET);
    }
}

bool Connection::input_ack(const InSegment& seg, TimeNs now) noexcept {
    if (state_ == State::syn_received) {
        if (!(seq_lt(snd_una_, seg.ack) && seq_leq(seg.ack, snd_max_))) {
            layer_->send_reset_for(seg);
            layer_->counters().drop(Drop::tcp_bad_ack);
            return false;
        }
        state_ = State::established;
        layer_->counters().tcp_established.add();
        // RFC 6298 5.7: after a SYN-ACK timed out, data starts at 3 s,
        // not at the handshake's backed-off value.
        if (retransmits_ > 0 && !rtt_.has_sample()) rtt_.fall_back(kRtoAfterSynTimeout);
        backoff_ = 0;
        snd_wnd_ = max_snd_wnd_ = scaled_window(seg);
        snd_wl1_ = seg.seq;
        snd_wl2_ = seg.ack;
        layer_->passive_open_done(*this);
        pending_.established = true;
        if (opts_.keepalive)
            set_keepalive(true, opts_.keepalive_idle, opts_.keepalive_interval, opts_.keepalive_count);
    }

    if (seq_gt(seg.ack, snd_max_)) { // acknowledges what was never sent
        layer_->counters().drop(Drop::tcp_bad_ack);
        if (answer_invalid(seg, now, layer_->counters().tcp_ack_skipped_bad_ack)) ack_pending_ = true;
        return false;
    }
    // RFC 5961 5.2: an ACK older than any window we could have had.
    if (seq_lt(seg.ack, snd_una_ - std::max<std::uint32_t>(max_snd_wnd_, 65535))) {
        challenge_ack(now);
        return false;
    }
    // RFC 7323 4.3: TS.Recent only from a segment that passed the checks,
    // the ACK's included, so a forged segment with an ACK that fails them
    // cannot move it (Linux's tcp_replace_ts_recent in tcp_ack, which an
    // old duplicate ACK does not reach either).
    if (seq_geq(seg.ack, snd_una_)) update_ts_recent(seg, now);

    const std::uint32_t old_wnd = snd_wnd_;
    // SACK blocks arrive on data segments as much as on pure ACKs; with
    // them, an ACK that reports newly arrived data counts as a duplicate
    // whatever it carries (RFC 6675 2), so loss is found in both directions
    // of an interactive or echo exchange, not only on one-way bulk.
    const bool new_sack = sack_ok_ && seg.options.sack_block_count > 0 &&
                          scoreboard_.update(seg.options.sacks(), snd_una_, snd_max_);
    const std::uint32_t window = scaled_window(seg);
    if (seq_lt(snd_una_, seg.ack)) {
        on_new_ack(seg.ack, now, ts_ok_ && seg.options.timestamps ? seg.options.timestamps->echo_reply : 0);
    } else if (seg.ack == snd_una_ && seq_lt(snd_una_, snd_max_) &&
               (sack_ok_ ? new_sack
                         : seg.payload.length == 0 && !seg.flags.fin() && window == snd_wnd_)) {
        on_duplicate_ack(now);
    }

    // Window update (RFC 9293 3.10.7.4, fifth check): only from a segment at
    // least as new as the one that set it last, and not from an old ACK.
    if (seq_geq(seg.ack, snd_una_) &&
        (seq_lt(snd_wl1_, seg.seq) || (snd_wl1_ == seg.seq && seq_leq(snd_wl2_, seg.ack)))) {
        snd_wnd_ = window;
        snd_wl1_ = seg.seq;
        snd_wl2_ = seg.ack;
        max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
        if (snd_wnd_ > old_wnd && persist_timer_.armed()) {
            layer_->timers().cancel(persist_timer_);
            // Linux's tcp_ack_probe: the probing is over only when the window
            // takes the next segment; a byte or two more (from a peer that
            // would keep an orphan probing slowly for ever) keeps the backoff
            // and the start of the wait.
            if (snd_wnd_ >= std::min<std::uint32_t>(unsent_bytes(), snd_mss_)) {
                persist_backoff_ = 0;
                persist_started_ = false;
            }
        }
    }
    // The peer is alive: zero-window probes go on as long as it answers
    // (Linux resets icsk_probes_out on every ACK), still backing off.
    persist_probes_ = 0;

    switch (state_) {
    case State::fin_wait_1:
        if (our_fin_acked()) {
            state_ = State::fin_wait_2;
            // An orphan in FIN_WAIT_2 would wait forever for a FIN that may
            // never come (Linux's tcp_fin_timeout).
            if (app_closed_) layer_->timers().arm(time_wait_timer_, now + layer_->config().time_wait);
        }
        break;
    case State::closing:
        if (our_fin_acked()) enter_time_wait(now);
        break;
    case State::last_ack:
        if (our_fin_acked()) {
            state_ = State::closed;
            finish();
            return false;
        }
        break;
    default:
        break;
    }
    return true;
}

void Connection::on_new_ack(SeqNum ack, TimeNs now, std::uint32_t ts_echo) noexcept {
    // Sequence space holds the SYN and FIN too; only data leaves the queue.
    const SeqNum data_start = send_queue_start();
    const SeqNum data_end = send_queue_end();
    const SeqNum acked_to = seq_lt(ack, data_end) ? ack : data_end;
    const std::uint32_t data_acked =
        seq_gt(acked_to, data_start) ? static_cast<std::uint32_t>(seq_diff(acked_to, data_start)) : 0;
    send_queue_.consume(data_acked, layer_->chunks());
    // The SYN takes sequence space but carried no data: acknowledging it
    // does not grow the congestion window (the handshake of a passive open).
    const std::uint32_t acked = static_cast<std::uint32_t>(seq_diff(ack, snd_una_)) - (syn_acked_ ? 0u : 1u);
    syn_acked_ = true;
    snd_una_ = ack;
    if (seq_lt(snd_nxt_, snd_una_)) snd_nxt_ = snd_una_;
    scoreboard_.advance(snd_una_);

    bool sampled = false;
    if (rtt_timing_ && seq_geq(ack, rtt_seq_)) {
        rtt_.sample(now - rtt_start_);
        rtt_timing_ = false;
        sampled = true;
    } else if (ts_echo != 0) {
        // RFC 7323 4.1: the echoed timestamp times a round trip even across
        // retransmissions (no Karn ambiguity); 1 ms resolution, so only
        // when no segment was being timed more finely.
        const std::uint32_t ms = ts_value(now) - ts_echo;
        if (ms < 0x7fffffffu) {
            rtt_.sample(static_cast<TimeNs>(ms) * kNsPerMs);
            sampled = true;
        }
    }
    retransmits_ = 0;
    // Karn (RFC 6298 5, Linux's tcp_ack_update_rtt): the backed-off timer
    // stays until a valid measurement, which a resent segment cannot give.
    if (sampled) backoff_ = 0;

    // Congestion control.
    if (in_recovery_) {
        if (seq_geq(ack, recover_)) {
            // RFC 6582 3.2 step 3, full acknowledgment: deflate the window.
            // RFC 6675 5: cwnd = ssthresh on leaving SACK recovery.
            const std::uint32_t flight = static_cast<std::uint32_t>(seq_diff(snd_max_, snd_una_));
            cwnd_ = sack_ok_ ? ssthresh_
                             : std::min(ssthresh_, std::max(flight, static_cast<std::uint32_t>(snd_mss_)) + snd_mss_);
            in_recovery_ = false;
            dupacks_ = 0;
        } else if (sack_ok_) {
            // Partial acknowledgment with SACK: go on repairing the holes
            // the scoreboard shows, as the ACK clock allows.
            if (seq_lt(high_rxt_, snd_una_)) high_rxt_ = snd_una_;
            sack_retransmit(now);
        } else {
            // Partial acknowledgment: the next hole is lost too; resend it at once.
            const std::uint32_t outstanding = std::min<std::uint32_t>(snd_mss_, send_queue_.size());
            if (outstanding > 0) {
                transmit_data(snd_una_, outstanding, now);
                layer_->counters().tcp_fast_retransmits.add();
            }
            cwnd_ = cwnd_ > acked ? cwnd_ - acked : 0;
            cwnd_ = std::max<std::uint32_t>(cwnd_ + snd_mss_, snd_mss_);
        }
    } else if (static_cast<std::uint64_t>(static_cast<std::uint32_t>(seq_diff(snd_max_, snd_una_)) + acked) * 2 <
               cwnd_) {
        // Application-limited: less than half the window was out, so the ACK
        // says nothing about a larger one (RFC 7661; Linux's
        // tcp_is_cwnd_limited). Growing anyway would inflate cwnd without
        // bound, and 32 bits wrap after 4 GB.
        dupacks_ = 0;
    } else {
        dupacks_ = 0;
        if (cwnd_ < ssthresh_) {
            // Slow start with appropriate byte counting (RFC 3465, L = 2).
            cwnd_ = std::min(cwnd_ + std::min<std::uint32_t>(acked, 2u * snd_mss_), kMaxCwnd);
        } else {
            // Congestion avoidance: one MSS per window's worth acknowledged.
            bytes_acked_ca_ += acked;
            if (bytes_acked_ca_ >= cwnd_) {
                bytes_acked_ca_ -= cwnd_;
                cwnd_ = std::min<std::uint32_t>(cwnd_ + snd_mss_, kMaxCwnd);
            }
        }
    }

    // RFC 6298 5.2 and 5.3: removed when all is acknowledged, restarted
    // otherwise.
    if (tlp_outstanding_ && seq_geq(snd_una_, tlp_high_seq_)) tlp_outstanding_ = false;
    if (seq_lt(snd_una_, snd_max_))
        arm_retransmission(now);
    else
        layer_->timers().cancel(rtx_timer_);

    if (data_acked > 0) {
        pending_.writable = true;
        persist_started_ = false; // data moved: any zero-window wait is over
    }
}

void Connection::on_duplicate_ack(TimeNs now) noexcept {
    ++dupacks_;
    if (sack_ok_) {
        // RFC 6675 5: recovery starts on the DupThresh-th duplicate, or as
        // soon as DupThresh segments' worth above SND.UNA was SACKed.
        if (in_recovery_) {
            // Later data keeps arriving while the front hole, resent a while
            // ago, does not: the resend was lost too (what Linux's RACK
            // finds by time). Resend it now rather than wait for the RTO.
            if (una_rxt_time_ != 0 && una_rxt_seq_ == snd_una_ && now - una_rxt_time_ > lost_rxt_delay())
                high_rxt_ = snd_una_;
            sack_retransmit(now);
        } else if (dupacks_ >= 3 || scoreboard_.sacked_above(snd_una_) >= 3u * snd_mss_ || early_retransmit_due() ||
                   (tlp_outstanding_ && seq_geq(scoreboard_.highest(), tlp_high_seq_))) {
            // The last: the loss probe arrived and what was sent before it
            // did not (RFC 8985 7.4, by RACK's reasoning).
            enter_sack_recovery(now);
        }
        return;
    }
    if (in_recovery_) {
        cwnd_ += snd_mss_; // RFC 6582 3.2 step 4: each dup ACK is a segment that left
        return;
    }
    if (dupacks_ != 3) return;
    // RFC 5681 3.2 fast retransmit, entering NewReno recovery.
    const std::uint32_t flight = static_cast<std::uint32_t>(seq_diff(snd_max_, snd_una_));
    ssthresh_ = std::max<std::uint32_t>(flight / 2, 2u * snd_mss_);
    recover_ = snd_max_;
    in_recovery_ = true;
    rtt_timing_ = false;
    const std::uint32_t len = std::min<std::uint32_t>(snd_mss_, send_queue_.size());
    if (len > 0) transmit_data(snd_una_, len, now);
    layer_->counters().tcp_fast_retransmits.add();
    cwnd_ = ssthresh_ + 3u * snd_mss_;
}

bool Connection::early_retransmit_due() const noexcept {
    // RFC 5827 (SACK variant): with fewer than four segments outstanding,
    // three duplicates can never come; all but one SACKed is enough, when
    // nothing new can go out to bring more. "Nothing new" here includes a
    // congestion window too small for another full segment, as with the
    // few segments in flight after losses (where Linux relies on RACK).
    const std::uint32_t flight = static_cast<std::uint32_t>(seq_diff(snd_max_, snd_una_));
    const std::uint32_t oseg = (flight + snd_mss_ - 1) / snd_mss_;
    if (oseg >= 4 || oseg < 2) return false;
    const std::uint32_t in_network = flight - scoreboard_.sacked_below(snd_max_);
    const bool can_send_new = unsent_bytes() > 0 && std::min(snd_wnd_ > flight ? snd_wnd_ - flight : 0u,
                                                             cwnd_ > in_network ? cwnd_ - in_network : 0u) >= snd_mss_;
    return !can_send_new && scoreboard_.sacked_above(snd_una_) >= (oseg - 1) * snd_mss_ - (snd_mss_ - 1);
}

void Connection::enter_sack_recovery(TimeNs now) noexcept {
    // RFC 6675 5 steps (1)-(4), with RFC 5681's ssthresh; no window
    // inflation: the scoreboard says what left the network.
    const std::uint32_t flight = static_cast<std::uint32_t>(seq_diff(snd_max_, snd_una_));
    ssthresh_ = std::max<std::uint32_t>(flight / 2, 2u * snd_mss_);
    cwnd_ = ssthresh_;
    recover_ = snd_max_;
    in_recovery_ = true;
    tlp_outstanding_ = false;
    if (probe_armed_) {
        // No probes during recovery (RFC 8985 7.2): the RTO it stood for,
        // counted from when it was armed.
        probe_armed_ = false;
        layer_->timers().arm(rtx_timer_, std::max(probe_armed_at_ + rtt_.backed_off(backoff_), now + kNsPerMs));
    }
    rtt_timing_ = false;
    high_rxt_ = snd_una_;
    sack_retransmit(now);
}

TimeNs Connection::lost_rxt_delay() const noexcept {
    // Two round trips, at least a millisecond (our timer granularity).
    return std::max<TimeNs>(rtt_.has_sample() ? 2 * rtt_.srtt() : 10 * kNsPerMs, kNsPerMs);
}

void Connection::sack_retransmit(TimeNs now) noexcept {
    // RFC 6675 NextSeg() rule 1, simplified: the lowest holes below the
    // highest SACKed byte not yet resent in this recovery, while the data in
    // the network (sent, not SACKed) stays below cwnd. Two at most per ACK,
    // so that a burst of losses is repaired at the pace ACKs return.
    const SeqNum data_end = send_queue_end();
    for (int sent = 0; sent < 2 && !scoreboard_.empty(); ++sent) {
        const std::uint32_t in_network =
            static_cast<std::uint32_t>(seq_diff(snd_nxt_, snd_una_)) - scoreboard_.sacked_below(snd_nxt_);
        if (sent > 0 && in_network >= cwnd_) return;
        SeqNum start, end;
        if (!scoreboard_.next_hole(seq_max(high_rxt_, snd_una_), start, end)) return;
        if (seq_geq(start, data_end)) return;
        if (seq_gt(end, data_end)) end = data_end;
        const std::uint32_t len = std::min<std::uint32_t>(snd_mss_, static_cast<std::uint32_t>(seq_diff(end, start)));
        high_rxt_ = start + transmit_data(start, len, now);
        layer_->counters().tcp_fast_retransmits.add();
        if (start == snd_una_) {
            una_rxt_seq_ = start;
            una_rxt_time_ = now;
        }
    }
}

void Connection::input_data(InSegment& seg, TimeNs now) noexcept {
    if (state_ != State::established && state_ != State::fin_wait_1 && state_ != State::fin_wait_2) {
        seg.payload.release(); // after the peer's FIN: nothing more can be data
        return;
    }
    if (app_closed_) {
        // Nobody will read it: tell the peer at once, as Linux does
        // (tcp_rcv_state_process with RCV_SHUTDOWN on an orphan).
        // The RST answers this segment (tcp_v4_send_reset): SEQ = SEG.ACK is
        // exactly the peer's RCV.NXT, which RFC 5961 3.2 requires for it to
        // reset rather than challenge.
        seg.payload.release();
        layer_->counters().drop(Drop::tcp_data_after_close);
        layer_->send_reset_for(seg);
        return fail(ECONNRESET);
    }
    // The charge is fixed from here on (Chunk::truesize).
    seg.payload.truesize = seg.payload.charge();
    if (!admit(seg.seq, seg.payload)) {
        // No memory for it: dropped, and the ACK shows the window as it is
        // (Linux's TCPRcvQDrop / TCPOFODrop); the peer sends it again.
        layer_->counters().drop(Drop::tcp_rcv_memory);
        seg.payload.release();
        seg.flags = TcpFlags{static_cast<std::uint8_t>(seg.flags.bits & ~tf::fin.bits)};
        ack_pending_ = true;
        return;
    }
    if (seg.seq != rcv_nxt_) {
        // Ahead of a hole: hold it, and say so at once with a duplicate ACK
        // (RFC 5681 4.2) so that the sender repairs the hole fast.
        hold(seg.seq, seg.payload, seg.flags.fin());
        seg.payload = Chunk{};
        seg.flags = TcpFlags{static_cast<std::uint8_t>(seg.flags.bits & ~tf::fin.bits)};
        return;
    }
    const std::uint32_t len = seg.payload.length;
    rcv_nxt_ += len;
    rcv_unconsumed_ += len;
    rcv_unconsumed_mem_ += seg.payload.truesize;
    layer_->counters().tcp_rx_bytes.add(len);
    pending_.data = seg.payload;
    seg.payload = Chunk{};
    if (reassembly_.empty()) return ack_scheduling(len >= snd_mss_, now);

    // The hole before held data may have filled: take what now follows on,
    // each in the node that held it.
    const bool fin = reassembly_.pop_ready(rcv_nxt_, layer_->held_segments(), [&](HeldSegment& n) {
        ready_.push_back(n);
        rcv_unconsumed_ += n.chunk.length;
        rcv_unconsumed_mem_ += n.chunk.truesize;
        layer_->counters().tcp_rx_bytes.add(n.chunk.length);
    });
    ack_pending_ = true; // RFC 5681 4.2: a segment that fills a hole is ACKed at once
    if (fin) input_fin(now);
}

bool Connection::held_block(SeqNum seq, wire::SackBlock& block) const noexcept {
    bool found = false;
    reassembly_.for_each_block([&](SeqNum left, SeqNum right) {
        found = seq_in_window(seq, left, static_cast<std::uint32_t>(seq_diff(right, left)));
        if (found) block = wire::SackBlock{left, right};
        return !found;
    });
    return found;
}

void Connection::fill_sack_blocks(wire::TcpOptions& o) const noexcept {
    o.sack_block_count = 0;
    // RFC 2883 4: a D-SACK block goes first, once.
    const std::uint8_t first_regular = dsack_pending_ ? 1 : 0;
    if (dsack_pending_) o.sack_blocks[o.sack_block_count++] = dsack_;
    const auto add = [&](const wire::SackBlock& b) {
        for (std::size_t i = first_regular; i < o.sack_block_count; ++i)
            if (o.sack_blocks[i] == b) return;
        if (o.sack_block_count < wire::kTcpMaxSackBlocks) o.sack_blocks[o.sack_block_count++] = b;
    };
    // RFC 2018 4: the block holding the latest segment first, then the
    // blocks reported most recently, so that each block rides on several
    // ACKs and the loss of one ACK loses no information; what room is
    // left goes to the others in ascending order. (The emitter keeps the
    // first blocks when fewer fit next to timestamps.)
    wire::SackBlock b;
    for (std::uint8_t i = 0; i < recent_held_count_; ++i)
        if (held_block(recent_held_[i], b)) add(b);
    reassembly_.for_each_block([&](SeqNum left, SeqNum right) {
        add(wire::SackBlock{left, right});
        return o.sack_block_count < wire::kTcpMaxSackBlocks;
    });
}

void Connection::remember_held(SeqNum seq) noexcept {
    // Most recent first, one entry per block.
    wire::SackBlock block;
    const bool found = held_block(seq, block);
    std::uint8_t n = 0;
    std::array<SeqNum, kRecentHeld> kept{};
    kept[n++] = seq;
    for (std::uint8_t i = 0; i < recent_held_count_ && n < kRecentHeld; ++i) {
        const SeqNum s = recent_held_[i];
        if (found && seq_in_window(s, block.left, static_cast<std::uint32_t>(seq_diff(block.right, block.left))))
            continue;
        kept[n++] = s;
    }
    recent_held_ = kept;
    recent_held_count_ = n;
}

void Connection::hold(SeqNum seq, Chunk data, bool fin) noexcept {
    ack_pending_ = true;
    const std::uint32_t len = data.length;
    const auto r = reassembly_.insert(seq, data, fin, rcv_nxt_, layer_->held_segments(), kMaxHeldSegments);
    // Its block goes first in the next ACK (after a D-SACK, RFC 2883 4.1.3).
    if (len > 0) remember_held(seq);
    if (r == ReassemblyQueue::Insert::held) {
        layer_->counters().tcp_out_of_order_held.add();
    } else if (r == ReassemblyQueue::Insert::full) {
        layer_->counters().drop(Drop::tcp_out_of_order);
    } else {
        note_duplicate(seq, len); // all of it is held already (RFC 2883 4.1.3)
    }
}

void Connection::input_fin(TimeNs now) noexcept {
    rcv_nxt_ += 1;
    ack_pending_ = true;
    pending_.peer_fin = true;
    switch (state_) {
    case State::syn_received:
    case State::established:
        state_ = State::close_wait;
        break;
    case State::fin_wait_1:
        if (our_fin_acked())
            enter_time_wait(now);
        else
            state_ = State::closing;
        break;
    case State::fin_wait_2:
        enter_time_wait(now);
        break;
    case State::time_wait:
        layer_->timers().arm(time_wait_timer_, now + layer_->config().time_wait);
        break;
    default:
        break;
    }
}

void Connection::enter_time_wait(TimeNs now) noexcept {
    state_ = State::time_wait;
    leave_orphans(); // a timewait sock in Linux, not an orphan
    layer_->timers().cancel(rtx_timer_);
    layer_->timers().cancel(persist_timer_);
    layer_->timers().cancel(keepalive_timer_);
    layer_->timers().arm(time_wait_timer_, now + layer_->config().time_wait);
    finish();
}

// ------------------------------------------------------------ output ----

std::uint32_t Connection::unsent_bytes() const noexcept {
    const SeqNum data_start = send_queue_start();
    const std::int32_t sent = seq_diff(snd_nxt_, data_start);
    const std::uint32_t sent_data = sent > 0 ? std::min<std::uint32_t>(static_cast<std::uint32_t>(sent), send_queue_.size()) : 0;
    return send_queue_.size() - sent_data;
}

bool Connection::send_test(std::uint32_t len, std::uint32_t unsent, std::uint32_t room) const noexcept {
    // Nagle (RFC 896) with Minshall's refinement, as Linux (tcp_nagle_check):
    // the partial segment that ends the queued data waits only while an
    // earlier partial segment is unacknowledged, so a write of 5000 bytes
    // does not leave its last 620 waiting for a delayed ACK. Otherwise
    // sender-side SWS avoidance (RFC 9293 3.8.6.2.1): a partial segment cut
    // by the window goes when nothing is in flight and it is at least half
    // the largest window seen.
    if (len >= room) return true;
    const bool idle = snd_nxt_ == snd_una_;
    const bool small_in_flight = seq_gt(snd_sml_, snd_una_) && seq_leq(snd_sml_, snd_nxt_);
    if (len == unsent && (opts_.nodelay || !small_in_flight || fin_queued_)) return true;
    return (opts_.nodelay || idle) && len >= max_snd_wnd_ / 2;
}

void Connection::push(TimeNs now) noexcept {
    if (state_ != State::established && state_ != State::close_wait && state_ != State::fin_wait_1 &&
        state_ != State::last_ack && state_ != State::closing)
        return;
    bool sent_new = false;
    for (;;) {
        const std::uint32_t unsent = unsent_bytes();
        if (unsent == 0) break;
        // After a timeout, SND.NXT walks again over data the peer SACKed:
        // step over it rather than send it twice.
        SeqNum sacked_end;
        if (!scoreboard_.empty() && scoreboard_.range_end(snd_nxt_, sacked_end)) {
            snd_nxt_ = seq_min(sacked_end, send_queue_end());
            continue;
        }
        const std::uint32_t in_flight = static_cast<std::uint32_t>(seq_diff(snd_nxt_, snd_una_));
        // The peer's window counts from SND.UNA; the congestion window
        // counts only what is still in the network (SACKed data left it).
        const std::uint32_t in_network = in_flight - scoreboard_.sacked_below(snd_nxt_);
        const std::uint32_t peer_room = snd_wnd_ > in_flight ? snd_wnd_ - in_flight : 0;
        const std::uint32_t cwnd_room = cwnd_ > in_network ? cwnd_ - in_network : 0;
        const std::uint32_t usable = std::min(peer_room, cwnd_room);
        const std::uint32_t room = segment_room();
        const std::uint32_t len = std::min({room, unsent, usable});
        if (len == 0 || !send_test(len, unsent, room)) break;
        snd_nxt_ += transmit_data(snd_nxt_, len, now);
        sent_new = true;
        if (seq_gt(snd_nxt_, snd_max_)) snd_max_ = snd_nxt_;
    }
    // RFC 8985 7.2: the probe timeout restarts after new data, measured
    // for the whole flight now out.
    if (sent_new && probe_armed_) arm_retransmission(now);
    send_fin_if_due(now);
    // Data waits and nothing is in flight to bring an ACK that would move
    // it: a zero (or too small) window. Probe it (RFC 9293 3.8.6.1).
    if (unsent_bytes() > 0 && snd_nxt_ == snd_una_ && !rtx_timer_.armed() && !persist_timer_.armed())
        layer_->timers().arm(persist_timer_, now + rtt_.backed_off(persist_backoff_));
}

void Connection::send_fin_if_due(TimeNs now) noexcept {
    if (!fin_queued_ || unsent_bytes() != 0) return;
    const SeqNum data_end = send_queue_end();
    if (snd_nxt_ != data_end) return; // sent already, and not being resent
    if (!fin_sent_) {
        if (state_ == State::established)
            state_ = State::fin_wait_1;
        else if (state_ == State::close_wait)
            state_ = State::last_ack;
        else
            return;
        fin_sent_ = true;
        fin_seq_ = data_end;
    }
    send_control(tf::fin | tf::ack, fin_seq_, now);
    snd_nxt_ = fin_seq_ + 1;
    if (seq_gt(snd_nxt_, snd_max_)) snd_max_ = snd_nxt_;
    if (!rtx_timer_.armed()) arm_rto(now);
}

void Connection::fill_options(wire::TcpOptions& o, TimeNs now) noexcept {
    // RFC 7323 3.2: once agreed, every segment but a RST may carry them;
    // Linux puts them on all, RST included.
    if (ts_ok_) o.timestamps = wire::TcpTimestamps{ts_value(now), ts_recent_};
    if (sack_ok_ && (dsack_pending_ || !reassembly_.empty())) {
        fill_sack_blocks(o);
        if (dsack_pending_) layer_->counters().tcp_dsacks_sent.add();
        dsack_pending_ = false;
    }
}

std::uint32_t Connection::segment_room() const noexcept {
    if (!sack_ok_ || (reassembly_.empty() && !dsack_pending_)) return snd_mss_;
    // The blocks that will fit next to the timestamps (emit_tcp_options
    // leaves out what does not): 2 NOPs + kind + length + 8 per block.
    const std::uint32_t blocks = std::min<std::uint32_t>(reassembly_.segments() + (dsack_pending_ ? 1u : 0u),
                                                         ts_ok_ ? 3u : 4u);
    return snd_mss_ - (4u + 8u * blocks);
}

void Connection::fill_common(OutSegment& out, TimeNs now) noexcept {
    out.tuple = tuple_;
    out.ack = rcv_nxt_;
    out.window = advertised_window();
    rcv_wup_ = rcv_nxt_;
    fill_options(out.options, now);
    // Whatever we send carries the latest ACK: no separate one is owed.
    segments_since_ack_ = 0;
    ack_pending_ = false;
    if (delack_timer_.armed()) layer_->timers().cancel(delack_timer_);
}

std::uint16_t Connection::advertised_window() noexcept {
    // The right edge never moves left (RFC 9293 3.8.6.2.2, no shrinking),
    // and it moves right only by a worthwhile amount (receiver-side SWS
    // avoidance): at least min(buffer/2, MSS), or to the whole buffer.
    const std::uint32_t free = receive_space();
    const SeqNum right = rcv_nxt_ + free;
    if (seq_gt(right, rcv_adv_)) {
        const std::uint32_t current = rcv_wnd();
        const std::uint32_t step = std::min<std::uint32_t>(rcv_buffer_ / 2, layer_->local_mss());
        if (free - current >= step || free == rcv_buffer_) rcv_adv_ = right;
    }
    // RFC 7323 2.3: the field counts units of 2^RCV.WIND.SHIFT. Rounding
    // up keeps the edge the peer computes from moving left; the peer may
    // then send a few bytes past the buffer, which is soft.
    const std::uint32_t unit = 1u << rcv_wscale_;
    const std::uint32_t field = std::min<std::uint32_t>((rcv_wnd() + unit - 1) >> rcv_wscale_, 65535);
    const SeqNum edge = rcv_nxt_ + (field << rcv_wscale_);
    if (seq_gt(edge, rcv_adv_)) rcv_adv_ = edge;
    return static_cast<std::uint16_t>(field);
}

std::uint32_t Connection::transmit_data(SeqNum seq, std::uint32_t len, TimeNs now) noexcept {
    const std::uint32_t room = segment_room();
    len = std::min(len, room);
    OutSegment out;
    fill_common(out, now);
    out.seq = seq;
    const SeqNum data_start = send_queue_start();
    const std::uint32_t offset = static_cast<std::uint32_t>(seq_diff(seq, data_start));
    out.flags = tf::ack;
    if (offset + len == send_queue_.size()) out.flags = out.flags | tf::psh;
    out.queue = &send_queue_;
    out.payload_offset = offset;
    out.payload_length = len;
    transmit(layer_->output(), out);
    last_data_sent_ = now;
    if (len < room) snd_sml_ = seq + len; // tcp_minshall_update
    Counters& c = layer_->counters();
    c.tcp_tx_segments.add();
    c.tcp_tx_bytes.add(len);
    if (seq_lt(seq, snd_max_)) {
        c.tcp_retransmitted_segments.add();
    } else if (!rtt_timing_) {
        // Time one new segment per round trip (Karn: never a retransmitted one).
        rtt_timing_ = true;
        rtt_seq_ = seq + len;
        rtt_start_ = now;
    }
    // update_send_head: the timer runs for the oldest unacknowledged segment
    // and is not restarted by each new one.
    if (!rtx_timer_.armed()) arm_retransmission(now);
    return len;
}

void Connection::send_control(TcpFlags flags, SeqNum seq, TimeNs now) noexcept {
    OutSegment out;
    fill_common(out, now);
    out.seq = seq;
    out.flags = flags;
    if (flags.rst()) out.window = 0;
    transmit(layer_->output(), out);
    layer_->counters().tcp_tx_segments.add();
}

// SND.MAX, not SND.NXT: after a timeout SND.NXT goes back to SND.UNA, and a
// pure ACK carrying a sequence number the peer has passed would be
// refused and answered with another ACK, for ever (BSD's tcp_output does
// the same).
void Connection::send_ack(TimeNs now) noexcept { send_control(tf::ack, snd_max_, now); }

void Connection::send_syn(TimeNs now) noexcept {
    OutSegment out;
    out.tuple = tuple_;
    out.seq = iss_;
    // A SYN offers what is switched on; a SYN-ACK accepts what the SYN
    // offered (RFC 2018 2, RFC 7323 2.2 and 3.2).
    const bool reply = state_ == State::syn_received;
    out.options.mss = layer_->local_mss();
    out.options.sack_permitted = reply ? sack_ok_ : opts_.sack;
    if (reply ? wscale_ok_ : opts_.window_scale) out.options.window_scale = rcv_wscale_;
    if (reply ? ts_ok_ : opts_.timestamps) out.options.timestamps = wire::TcpTimestamps{ts_value(now), reply ? ts_recent_ : 0};
    if (reply) {
        out.ack = rcv_nxt_;
        out.flags = tf::syn | tf::ack;
    } else {
        out.flags = tf::syn;
    }
    // Never scaled in a SYN (RFC 7323 2.2).
    out.window = static_cast<std::uint16_t>(std::min<std::uint32_t>(rcv_buffer_, 65535));
    transmit(layer_->output(), out);
    layer_->counters().tcp_tx_segments.add();
    if (retransmits_ > 0) layer_->counters().tcp_retransmitted_segments.add();
    snd_nxt_ = iss_ + 1;
    if (seq_gt(snd_nxt_, snd_max_)) snd_max_ = snd_nxt_;
    if (retransmits_ == 0 && !rtt_timing_) {
        rtt_timing_ = true;
        rtt_seq_ = iss_ + 1;
        rtt_start_ = now;
    }
    if (!rtx_timer_.armed()) arm_rto(now);
}

void Connection::arm_rto(TimeNs now) noexcept {
    probe_armed_ = false;
    // A loss probe is no progress: the wait goes on from before it.
    if (!tlp_outstanding_) rtx_armed_at_ = now;
    // Restarted by nearly every ACK: a store, not a move in the wheel.
    layer_->timers().arm_lazily(rtx_timer_, now + rtt_.backed_off(backoff_));
}

void Connection::arm_retransmission(TimeNs now) noexcept {
    // Tail loss probe (RFC 8985 7.2): when the last segments of a flight
    // are lost no ACK will say so, and only the RTO, 200 ms at least and
    // often far more, would repair them. A probe after about two round
    // trips draws the SACK that starts fast recovery instead. Only in
    // the open state, with SACK and an RTT sample, one probe at a time.
    const bool open = state_ == State::established || state_ == State::close_wait;
    if (!open || !sack_ok_ || !layer_->config().loss_probes || in_recovery_ || backoff_ != 0 || tlp_outstanding_ ||
        !rtt_.has_sample())
        return arm_rto(now);
    const std::uint32_t flight = static_cast<std::uint32_t>(seq_diff(snd_max_, snd_una_));
    // 7.2: 2 SRTT; with one segment out, room for the peer's delayed ACK.
    TimeNs pto = 2 * rtt_.srtt() + (flight <= snd_mss_ ? 200 * kNsPerMs : 0);
    pto = std::clamp<TimeNs>(pto, 10 * kNsPerMs, rtt_.backed_off(0));
    probe_armed_ = true;
    probe_armed_at_ = now;
    rtx_armed_at_ = now;
    layer_->timers().arm_lazily(rtx_timer_, now + pto);
}

void Connection::send_loss_probe(TimeNs now) noexcept {
    // RFC 8985 7.3: new data if the peer's window takes it, else the last
    // segment again. Neither counts as a timeout: no backoff, cwnd stays.
    const std::uint32_t flight = static_cast<std::uint32_t>(seq_diff(snd_nxt_, snd_una_));
    const std::uint32_t peer_room = snd_wnd_ > flight ? snd_wnd_ - flight : 0;
    const std::uint32_t unsent = unsent_bytes();
    tlp_outstanding_ = true;
    layer_->counters().tcp_loss_probes.add();
    if (unsent > 0 && peer_room > 0) {
        snd_nxt_ += transmit_data(snd_nxt_, std::min(unsent, peer_room), now);
        if (seq_gt(snd_nxt_, snd_max_)) snd_max_ = snd_nxt_;
        tlp_high_seq_ = snd_max_;
        return;
    }
    tlp_high_seq_ = snd_max_;
    const SeqNum data_end = seq_min(send_queue_end(), snd_max_);
    const std::uint32_t outstanding = seq_gt(data_end, snd_una_) ? static_cast<std::uint32_t>(seq_diff(data_end, snd_una_)) : 0;
    if (outstanding == 0) return arm_rto(now); // only a FIN is out: the RTO resends it
    const std::uint32_t len = std::min(outstanding, segment_room());
    transmit_data(data_end - len, len, now);
    if (!rtx_timer_.armed()) arm_rto(now);
}

void Connection::ack_scheduling(bool full_segment, TimeNs now) noexcept {
    // RFC 9293 3.8.6.3 / RFC 5681 4.2: ACK at least every second full-sized
    // segment; otherwise within the delayed-ACK time.
    if (full_segment) ++segments_since_ack_;
    if (segments_since_ack_ >= 2) {
        ack_pending_ = true;
    } else if (!delack_timer_.armed()) {
        layer_->timers().arm(delack_timer_, now + layer_->config().delayed_ack);
    }
}

// ------------------------------------------------------------ timers ----

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
    if (snd_una_ == snd_max_) return; // everything was acknowledged meanwhile
    if (probe_armed_) {
        probe_armed_ = false;
        return send_loss_probe(now);
    }
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

    // RFC 5681 3.1 eq. 4 and the loss window; then go back to SND.UNA.
    const std::uint32_t flight = static_cast<std::uint32_t>(seq_diff(snd_max_, snd_una_));
    ssthresh_ = std::max<std::uint32_t>(flight / 2, 2u * snd_mss_);
    cwnd_ = snd_mss_;
    bytes_acked_ca_ = 0;
    in_recovery_ = false;
    dupacks_ = 0;
    // RFC 2018 8 / RFC 6675 5.1: after a timeout the receiver may have
    // reneged; resend from SND.UNA as if nothing had been SACKed.
    scoreboard_.clear();
    snd_nxt_ = snd_una_;
    const std::uint32_t len = std::min<std::uint32_t>(snd_mss_, unsent_bytes());
    if (len > 0) {
        snd_nxt_ += transmit_data(snd_una_, len, now);
    } else {
        send_fin_if_due(now); // only the FIN was outstanding
    }
    if (!rtx_timer_.armed()) arm_rto(now);
    clamp_rto_to_user_timeout(now);
}

void Connection::on_persist_timer(TimeNs now) noexcept {
    if (unsent_bytes() == 0 || snd_nxt_ != snd_una_) {
        persist_started_ = false;
        return;
    }
    const std::uint32_t in_flight = 0;
    const std::uint32_t usable = std::min(snd_wnd_, cwnd_) - in_flight;
    if (usable > 0) {
        // The window opened without our noticing (a lost update), or the
        // SWS rule held back a small segment too long: send it now.
        const std::uint32_t len = std::min({static_cast<std::uint32_t>(snd_mss_), unsent_bytes(), usable});
        snd_nxt_ += transmit_data(snd_nxt_, len, now);
        if (seq_gt(snd_nxt_, snd_max_)) snd_max_ = snd_nxt_;
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
    send_control(tf::ack, snd_una_ - 1, now);
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
    const bool busy = snd_una_ != snd_max_ || unsent_bytes() > 0;
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
        send_control(tf::rst | tf::ack, snd_max_, now);
        layer_->counters().tcp_resets_sent.add();
        layer_->counters().tcp_connections_timed_out.add();
        return fail(ETIMEDOUT);
    }
    // SND.UNA - 1: a byte the peer already has, so it answers with an ACK
    // and takes nothing (Linux's tcp_write_wakeup without data).
    send_control(tf::ack, snd_una_ - 1, now);
    layer_->counters().tcp_keepalive_probes.add();
    ++keepalive_probes_;
    layer_->timers().arm(keepalive_timer_, now + keepalive_interval_);
}

// ------------------------------------------------------- application ----

void Connection::set_keepalive(bool on, TimeNs idle, TimeNs interval, std::uint32_t count) noexcept {
    keepalive_ = on;
    keepalive_idle_ = std::max<TimeNs>(idle, kNsPerMs);
    keepalive_interval_ = std::max<TimeNs>(interval, kNsPerMs);
    keepalive_count_ = count;
    keepalive_probes_ = 0;
    if (!on) {
        layer_->timers().cancel(keepalive_timer_);
        return;
    }
    if (last_received_ == 0) last_received_ = layer_->now();
    layer_->timers().arm(keepalive_timer_, std::max(last_received_ + keepalive_idle_, layer_->now() + kNsPerMs));
}

int Connection::send(Chunk data) noexcept {
    if (app_closed_ || fin_queued_ ||
        (state_ != State::established && state_ != State::close_wait && state_ != State::syn_sent &&
         state_ != State::syn_received))
        return -EPIPE;
    if (data.length > send_space()) return -EAGAIN;
    // By memory too, so that a peer that never opens its window pins at most
    // twice the send buffer, and the lcore's limit holds (Linux's
    // sk_stream_memory_free). An empty queue always takes one chunk: the
    // ACKs that an on_writable waits for need something in flight.
    if (!send_queue_.empty() &&
        (send_queue_.mem() + data.charge() > snd_mem_limit() ||
         layer_->memory().exceeds(mem_unsynced(), data.charge())))
        return -EAGAIN;
    if (data.length == 0) {
        data.release();
        return 0;
    }
    ChunkNode* node = layer_->chunks().get();
    if (node == nullptr) return -ENOBUFS;
    node->chunk = data;
    send_queue_.push_back(*node);
    layer_->end_app_call(*this);
    return 0;
}

std::uint32_t Connection::send_space() const noexcept {
    const std::uint32_t limit = opts_.send_buffer;
    const std::uint32_t by_bytes = send_queue_.size() < limit ? limit - send_queue_.size() : 0;
    const std::uint32_t by_mem = send_queue_.mem() < snd_mem_limit() ? snd_mem_limit() - send_queue_.mem() : 0;
    return std::min(by_bytes, by_mem);
}

void Connection::consumed(std::uint32_t n) noexcept {
    // The memory goes with the bytes, in proportion: which chunks the
    // application let go of is its own business.
    n = std::min(n, rcv_unconsumed_);
    if (n == rcv_unconsumed_)
        rcv_unconsumed_mem_ = 0; // the usual case: all of it
    else
        rcv_unconsumed_mem_ -= static_cast<std::uint32_t>(std::uint64_t{rcv_unconsumed_mem_} * n / rcv_unconsumed_);
    rcv_unconsumed_ -= n;
    if (!in_dispatch_) layer_->sync_memory(*this); // else the event's end does it
    if (state_ != State::established && state_ != State::fin_wait_1 && state_ != State::fin_wait_2) return;
    // Tell the peer when the window opens by a useful amount, above all out
    // of a (nearly) closed window, or it may wait for a persist probe.
    const std::uint32_t current = rcv_wnd();
    const std::uint32_t free = receive_space();
    const std::uint32_t mss = layer_->local_mss();
    if (free >= current + 2u * mss || (current < mss && free >= mss)) {
        ack_pending_ = true;
        layer_->end_app_call(*this);
    }
}

void Connection::shutdown() noexcept {
    if (fin_queued_) return;
    fin_queued_ = true;
    if (state_ == State::syn_sent) return; // the FIN follows once established
    layer_->end_app_call(*this);
}

void Connection::close() noexcept {
    if (app_closed_) return;
    app_closed_ = true;
    handler_ = nullptr;
    if (state_ == State::syn_sent || state_ == State::closed) {
        state_ = State::closed;
        dead_ = true;
    } else {
        fin_queued_ = true;
        if (state_ == State::fin_wait_2) layer_->timers().arm(time_wait_timer_, layer_->now() + layer_->config().time_wait);
        become_orphan(); // reset at once if the lcore has too many
    }
    layer_->end_app_call(*this);
}

void Connection::abort() noexcept {
    if (dead_) return;
    if (state_ != State::syn_sent && state_ != State::closed && state_ != State::time_wait) {
        send_control(tf::rst | tf::ack, snd_nxt_, layer_->now());
        layer_->counters().tcp_resets_sent.add();
    }
    app_closed_ = true;
    handler_ = nullptr;
    state_ = State::closed;
    dead_ = true;
    layer_->end_app_call(*this);
}

void Connection::fail(int error) noexcept {
    state_ = State::closed;
    dead_ = true;
    pending_.closed = true;
    pending_.error = error;
}

void Connection::finish() noexcept {
    // The exchange of FINs is over. The app hears of it only if it has not
    // closed (after shutdown() plus the peer's FIN, say).
    pending_.closed = true;
    pending_.error = 0;
    if (state_ == State::closed) dead_ = true;
}

void Connection::dispatch(TimeNs) noexcept {
    Pending p = pending_;
    pending_ = Pending{};
    if (p.accepted && listener_accepting_ != nullptr) {
        Listener* l = listener_accepting_;
        listener_accepting_ = nullptr;
        in_dispatch_ = true;
        if (l->on_accept != nullptr) l->on_accept(*this, l->user);
        in_dispatch_ = false;
        if (handler_ == nullptr && !app_closed_) {
            // Nobody took it: refuse, as a full accept queue would.
            p.data.release();
            abort_in_event();
            return;
        }
    }
    if (app_closed_ || handler_ == nullptr) {
        discard_undelivered(p.data);
        discard_ready();
        return;
    }
    const ConnectionHandler* h = handler_;
    in_dispatch_ = true;
    if (p.established && !p.accepted && h->on_established) h->on_established(*this, user_);
    if (p.data.length > 0) {
        if (!app_closed_ && h->on_data)
            h->on_data(*this, p.data, user_);
        else
            discard_undelivered(p.data);
    }
    // Held data the segment made contiguous, in order, after it.
    while (!ready_.empty()) {
        HeldSegment& n = ready_.front();
        ready_.pop_front();
        Chunk c = n.chunk;
        n.chunk = Chunk{};
        layer_->held_segments().put(n);
        if (!app_closed_ && h->on_data)
            h->on_data(*this, c, user_);
        else
            discard_undelivered(c);
    }
    if (p.peer_fin && !app_closed_ && h->on_peer_fin) h->on_peer_fin(*this, user_);
    if (p.writable && !app_closed_ && h->on_writable) h->on_writable(*this, user_);
    if (p.closed && !app_closed_) {
        handler_ = nullptr;
        if (h->on_closed) h->on_closed(*this, p.error, user_);
    }
    in_dispatch_ = false;
}

void Connection::discard_ready() noexcept {
    while (!ready_.empty()) {
        HeldSegment& n = ready_.front();
        ready_.pop_front();
        discard_undelivered(n.chunk);
        layer_->held_segments().put(n);
    }
}

void Connection::release_receive_state() noexcept {
    HeldSegmentPool& pool = layer_->held_segments();
    reassembly_.clear(pool);
    while (!ready_.empty()) {
        HeldSegment& n = ready_.front();
        ready_.pop_front();
        n.chunk.release();
        pool.put(n);
    }
    pending_.data.release();
}

void Connection::discard_undelivered(Chunk& data) noexcept {
    // Data we acknowledged and the application closed before seeing: RST,
    // not a FIN that tells the peer all went well (RFC 2525 2.17, Linux's
    // tcp_close with unread data).
    if (data.length > 0 && app_closed_ && !dead_) {
        layer_->counters().drop(Drop::tcp_data_after_close);
        abort_in_event();
    }
    data.release();
}

void Connection::abort_in_event() noexcept {
    if (state_ != State::closed && state_ != State::time_wait) {
        send_control(tf::rst | tf::ack, snd_nxt_, layer_->now());
        layer_->counters().tcp_resets_sent.add();
    }
    app_closed_ = true;
    state_ = State::closed;
    dead_ = true;
}

} // namespace lanetcp::tcp
