// Segment arrival, RFC 9293 3.10.7 (FreeBSD's tcp_input, Linux's
// tcp_rcv_state_process): acceptability, RST, ACK processing, data and FIN.

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
using wire::seq_max;
using wire::seq_min;
namespace tf = wire::tcpflag;

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
        if (answer_invalid(seg, now, layer_->counters().tcp_ack_skipped_paws)) rcv_.ack_due = AckDue::now;
        seg.payload.release();
        return;
    }
    // First check: sequence number (RFC 9293 3.10.7.4).
    if (!acceptable(seg)) {
        if (!seg.flags.rst()) {
            layer_->counters().drop(Drop::tcp_out_of_window);
            // A retransmission of data we have: report it (RFC 2883).
            if (seg.payload.length > 0 && seq_lt(seg.seq, rcv_.nxt))
                note_duplicate(seg.seq, std::min<std::uint32_t>(seg.payload.length,
                                                                static_cast<std::uint32_t>(seq_diff(rcv_.nxt, seg.seq))));
            // Answered (rate-limited for pure ACKs: an ACK war between two
            // stacks that disagree must not run at wire speed).
            if (answer_invalid(seg, now, layer_->counters().tcp_ack_skipped_seq)) rcv_.ack_due = AckDue::now;
        }
        seg.payload.release();
        return;
    }
    // Second: RST. RFC 5961 3.2: only an exact match resets; anything else
    // in the window gets a challenge ACK, so a blind attacker has to guess
    // the exact sequence number.
    if (seg.flags.rst()) {
        seg.payload.release();
        if (seg.seq == rcv_.nxt)
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
        seg.seq + 1 == rcv_.nxt && seg.ack == snd_.nxt && seg.payload.length == 0) {
        seg.flags = TcpFlags{static_cast<std::uint8_t>(seg.flags.bits & ~tf::syn.bits)};
        seg.seq += 1;
        rcv_.ack_due = AckDue::now;
    }
    // Fourth: SYN in a synchronized state. RFC 5961 4.2: challenge ACK. A
    // retransmitted SYN in SYN_RECEIVED means our SYN-ACK was lost.
    if (seg.flags.syn()) {
        seg.payload.release();
        if (state_ == State::syn_received && seg.seq + 1 == rcv_.nxt) {
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
    if (seg.payload.length > 0 && seq_lt(seg.seq, rcv_.nxt)) {
        // Some or all of it arrived before (RFC 2883 4.1.1, 4.1.2).
        const std::uint32_t old = static_cast<std::uint32_t>(seq_diff(rcv_.nxt, seg.seq));
        note_duplicate(seg.seq, std::min(old, seg.payload.length));
    }
    if (seg.length() > 0 && seq_leq(seg.seq + seg.length(), rcv_.nxt)) {
        // All of it arrived before: our ACK was lost, so repeat it at once
        // (Linux's tcp_data_queue). A retransmitted FIN in TIME_WAIT also
        // restarts the 2*MSL wait (RFC 9293 3.10.7.4, eighth check).
        rcv_.ack_due = AckDue::now;
        if (state_ == State::time_wait && seg.flags.fin())
            layer_->timers().arm(time_wait_timer_, now + layer_->config().time_wait);
    }
    // Data past the right edge (a zero-window probe carrying a byte, say)
    // is dropped; the ACK tells the sender where the window is.
    if (trim_to_window(seg)) rcv_.ack_due = AckDue::now;
    ecn_input(seg); // CE and CWR, on what is left of the segment

    // Seventh: text. Eighth: FIN, once everything before it has arrived.
    const SeqNum data_end = seg.seq + seg.payload.length;
    if (seg.payload.length > 0) {
        input_data(seg, now);
        if (dead_) return;
    } else {
        seg.payload.release();
    }
    if (seg.flags.fin()) {
        if (data_end == rcv_.nxt)
            input_fin(now);
        else if (seq_gt(data_end, rcv_.nxt) && state_ != State::close_wait && state_ != State::closing &&
                 state_ != State::last_ack && state_ != State::time_wait)
            hold(data_end, Chunk{}, true); // a bare FIN ahead of a hole
    }
}

namespace {
// Far above any window (RFC 7323's 1 GiB); keeps cwnd arithmetic in 32 bits.
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
    if (seg.flags.ack() && seg.length() == 0 && seg.seq == rcv_.nxt && seg.ack == snd_.una &&
        scaled_window(seg) == snd_.wnd && static_cast<TimeNs>(behind) * kNsPerMs <= rto())
        return false;
    // 5.5: after 24 days idle the clock may have wrapped; TS.Recent is stale.
    return now - ts_recent_stamp_ <= kPawsIdle;
}

void Connection::update_ts_recent(const InSegment& seg, TimeNs now) noexcept {
    // RFC 7323 4.3 (2), as Linux's tcp_replace_ts_recent: only from a
    // segment that starts at or before the left edge we last acknowledged,
    // so an early out-of-order segment cannot push TS.Recent ahead.
    if (!ts_ok_ || !seg.options.timestamps || seq_gt(seg.seq, rcv_.wup)) return;
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
    if (layer_->challenge_ack_allowed(now)) rcv_.ack_due = AckDue::now;
}

void Connection::note_duplicate(SeqNum seq, std::uint32_t len) noexcept {
    if (!sack_ok_ || len == 0) return;
    // At once: the peer resent what we had, so it may be waiting on us.
    rcv_.ack_due = AckDue::now;
    rcv_.dsack_pending = true;
    rcv_.dsack = wire::SackBlock{seq, seq + len};
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
    return seq_geq(seg.seq + seg.length(), rcv_.wup) && seq_leq(seg.seq, rcv_.nxt + wnd);
}

bool Connection::trim_to_window(InSegment& seg) noexcept {
    if (seq_lt(seg.seq, rcv_.nxt)) {
        std::uint32_t skip = static_cast<std::uint32_t>(seq_diff(rcv_.nxt, seg.seq));
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
    const SeqNum right = rcv_.nxt + wnd;
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
    const bool ack_ok = seg.flags.ack() && seq_gt(seg.ack, snd_.iss) && seq_leq(seg.ack, snd_.max);
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
    snd_.wl2 = seg.ack;
    if (!ack_ok) {
        // Simultaneous open (RFC 9293 3.5, figure 8).
        state_ = State::syn_received;
        send_syn(now);
        return;
    }
    if (rtt_timing_ && retransmits_ == 0) { // Karn: only an unretransmitted SYN
        rtt_.sample(now - rtt_start_);
        if (now > rtt_start_) rack_.rtt_sample(now - rtt_start_);
    }
    rtt_timing_ = false;
    // RFC 6298 5.7: a SYN that timed out leaves data starting at 3 s.
    if (retransmits_ > 0 && !rtt_.has_sample()) rtt_.fall_back(kRtoAfterSynTimeout);
    snd_.una = seg.ack;
    snd_.syn_acked = true;
    if (seq_lt(snd_.nxt, snd_.una)) snd_.nxt = snd_.una;
    retransmits_ = 0;
    backoff_ = 0;
    layer_->timers().cancel(rtx_timer_);
    state_ = State::established;
    layer_->counters().tcp_established.add();
    pending_.established = true;
    if (opts_.keepalive)
        set_keepalive(true, opts_.keepalive_idle, opts_.keepalive_interval, opts_.keepalive_count);
    rcv_.ack_due = AckDue::now; // the third segment of the handshake (data may carry it)
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
        if (!(seq_lt(snd_.una, seg.ack) && seq_leq(seg.ack, snd_.max))) {
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
        snd_.wnd = snd_.max_wnd = scaled_window(seg);
        snd_.wl1 = seg.seq;
        snd_.wl2 = seg.ack;
        layer_->passive_open_done(*this);
        pending_.established = true;
        if (opts_.keepalive)
            set_keepalive(true, opts_.keepalive_idle, opts_.keepalive_interval, opts_.keepalive_count);
    }

    if (seq_gt(seg.ack, snd_.max)) { // acknowledges what was never sent
        layer_->counters().drop(Drop::tcp_bad_ack);
        if (answer_invalid(seg, now, layer_->counters().tcp_ack_skipped_bad_ack)) rcv_.ack_due = AckDue::now;
        return false;
    }
    // RFC 5961 5.2: an ACK older than any window we could have had.
    if (seq_lt(seg.ack, snd_.una - std::max<std::uint32_t>(snd_.max_wnd, 65535))) {
        challenge_ack(now);
        return false;
    }
    // RFC 7323 4.3: TS.Recent only from a segment that passed the checks,
    // the ACK's included, so a forged segment with an ACK that fails them
    // cannot move it (Linux's tcp_replace_ts_recent in tcp_ack, which an
    // old duplicate ACK does not reach either).
    if (seq_geq(seg.ack, snd_.una)) update_ts_recent(seg, now);

    const std::uint32_t old_wnd = snd_.wnd;
    // SACK blocks arrive on data segments as much as on pure ACKs; with
    // them, an ACK that reports newly arrived data counts as a duplicate
    // whatever it carries (RFC 6675 2), so loss is found in both directions
    // of an interactive or echo exchange, not only on one-way bulk.
    AckInfo a;
    a.prior_una = snd_.una;
    a.prior_nxt = snd_.nxt;
    a.fack = scoreboard_.empty() ? snd_.una : scoreboard_.highest();
    a.prior_flight = flight_size();
    a.sacked_before = scoreboard_.sacked_bytes();
    a.ts_echo = ts_ok_ && seg.options.timestamps ? seg.options.timestamps->echo_reply : 0;
    a.ece = ecn_.ok && seg.flags.ece() && seq_geq(seg.ack, snd_.una); // not from an old ACK
    bool new_sack = false;
    if (sack_ok_ && seq_lt(snd_.una, seg.ack) && seq_leq(seg.ack, snd_.max)) {
        // What the cumulative ACK newly delivers: [SND.UNA, ack) less what
        // was SACKed before (RACK looks only at new deliveries).
        SeqNum at = snd_.una;
        for (const wire::SackBlock& r : scoreboard_.ranges()) {
            if (!seq_lt(at, seg.ack) || a.fresh_count == a.fresh.size()) break;
            if (seq_leq(r.right, at)) continue;
            if (seq_lt(at, r.left)) a.fresh[a.fresh_count++] = wire::SackBlock{at, seq_min(r.left, seg.ack)};
            at = seq_max(at, r.right);
        }
        if (seq_lt(at, seg.ack) && a.fresh_count < a.fresh.size()) a.fresh[a.fresh_count++] = wire::SackBlock{at, seg.ack};
    }
    if (sack_ok_ && seg.options.sack_block_count > 0) {
        const auto blocks = seg.options.sacks();
        // RFC 2883 4: the first block is a D-SACK when it lies below the
        // cumulative ACK or inside the second block.
        const wire::SackBlock& first = blocks[0];
        a.dsack = seq_leq(first.right, seg.ack) ||
                  (blocks.size() > 1 && seq_leq(blocks[1].left, first.left) && seq_leq(first.right, blocks[1].right));
        a.dsack_block = first;
        std::uint8_t count = 0;
        new_sack = scoreboard_.update(blocks, snd_.una, snd_.max,
                                      std::span(a.fresh).subspan(a.fresh_count), count);
        a.fresh_count = static_cast<std::uint8_t>(a.fresh_count + count);
    }
    const std::uint32_t window = scaled_window(seg);
    if (seq_lt(snd_.una, seg.ack)) {
        on_new_ack(seg.ack, now, a);
    } else if (!sack_ok_ && seg.ack == snd_.una && seq_lt(snd_.una, snd_.max) && seg.payload.length == 0 &&
               !seg.flags.fin() && window == snd_.wnd) {
        a.duplicate = true;
    }

    // Window update (RFC 9293 3.10.7.4, fifth check): only from a segment at
    // least as new as the one that set it last, and not from an old ACK.
    if (seq_geq(seg.ack, snd_.una) &&
        (seq_lt(snd_.wl1, seg.seq) || (snd_.wl1 == seg.seq && seq_leq(snd_.wl2, seg.ack)))) {
        snd_.wnd = window;
        snd_.wl1 = seg.seq;
        snd_.wl2 = seg.ack;
        snd_.max_wnd = std::max(snd_.max_wnd, snd_.wnd);
        if (snd_.wnd > old_wnd && persist_timer_.armed()) {
            layer_->timers().cancel(persist_timer_);
            // Linux's tcp_ack_probe: the probing is over only when the window
            // takes the next segment; a byte or two more (from a peer that
            // would keep an orphan probing slowly for ever) keeps the backoff
            // and the start of the wait.
            if (snd_.wnd >= std::min<std::uint32_t>(unsent_bytes(), snd_.mss)) {
                persist_backoff_ = 0;
                persist_started_ = false;
            }
        }
    }
    // The peer is alive: zero-window probes go on as long as it answers
    // (Linux resets icsk_probes_out on every ACK), still backing off.
    persist_probes_ = 0;

    if (seq_lt(a.prior_una, snd_.una) || new_sack || a.duplicate || a.dsack || rec_.phase != Phase::open) {
        ack_recovery(a, now);
        trace(now, TraceEvent::ack);
    }
    if (a.ece) ecn_on_ece(now);

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

void Connection::on_new_ack(SeqNum ack, TimeNs now, AckInfo& a) noexcept {
    // Sequence space holds the SYN and FIN too; only data leaves the queue.
    const SeqNum data_start = send_queue_start();
    const SeqNum data_end = send_queue_end();
    const SeqNum acked_to = seq_lt(ack, data_end) ? ack : data_end;
    const std::uint32_t data_acked =
        seq_gt(acked_to, data_start) ? static_cast<std::uint32_t>(seq_diff(acked_to, data_start)) : 0;
    send_queue_.consume(data_acked, layer_->chunks());
    // The SYN takes sequence space but carried no data: acknowledging it
    // does not grow the congestion window (the handshake of a passive open).
    a.acked = static_cast<std::uint32_t>(seq_diff(ack, snd_.una)) - (snd_.syn_acked ? 0u : 1u);
    snd_.syn_acked = true;
    snd_.una = ack;
    if (seq_lt(snd_.nxt, snd_.una)) snd_.nxt = snd_.una;
    scoreboard_.advance(snd_.una);

    bool sampled = false;
    if (rtt_timing_ && seq_geq(ack, rtt_seq_)) {
        a.rtt = now - rtt_start_;
        rtt_.sample(a.rtt);
        rtt_timing_ = false;
        sampled = true;
    } else if (a.ts_echo != 0) {
        // RFC 7323 4.1: the echoed timestamp times a round trip even across
        // retransmissions (no Karn ambiguity); 1 ms resolution, so only
        // when no segment was being timed more finely. Not an echo older
        // than our latest retransmission: the receiver echoes what last
        // moved its window, and a duplicate it drops (the original arrived,
        // its ACKs were lost) does not; timing from an earlier sending would
        // fold the timeouts waited into the RTT, and each RTO would grow.
        const std::uint32_t ms = ts_value(now) - a.ts_echo;
        const bool before_retransmission =
            resent_timed_ && static_cast<std::int32_t>(a.ts_echo - last_resent_tsval_) < 0;
        if (ms < 0x7fffffffu && !before_retransmission) {
            a.rtt = static_cast<TimeNs>(ms) * kNsPerMs;
            rtt_.sample(a.rtt);
            sampled = true;
        }
    }
    retransmits_ = 0;
    // Karn (RFC 6298 5, Linux's tcp_ack_update_rtt): the backed-off timer
    // stays until a valid measurement, which a resent segment cannot give.
    if (sampled) backoff_ = 0;

    // RFC 6298 5.2 and 5.3: removed when all is acknowledged, restarted
    // otherwise.
    if (tlp_outstanding_ && seq_geq(snd_.una, tlp_high_seq_)) tlp_outstanding_ = false;
    if (seq_lt(snd_.una, snd_.max))
        arm_retransmission(now);
    else
        layer_->timers().cancel(rtx_timer_);

    if (data_acked > 0) {
        pending_.writable = true;
        persist_started_ = false; // data moved: any zero-window wait is over
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
        rcv_.ack_due = AckDue::now;
        return;
    }
    if (seg.seq != rcv_.nxt) {
        // Ahead of a hole: hold it, and say so at once with a duplicate ACK
        // (RFC 5681 4.2) so that the sender repairs the hole fast.
        hold(seg.seq, seg.payload, seg.flags.fin());
        seg.payload = Chunk{};
        seg.flags = TcpFlags{static_cast<std::uint8_t>(seg.flags.bits & ~tf::fin.bits)};
        return;
    }
    const std::uint32_t len = seg.payload.length;
    rcv_.nxt += len;
    rcv_.unconsumed += len;
    rcv_.unconsumed_mem += seg.payload.truesize;
    layer_->counters().tcp_rx_bytes.add(len);
    pending_.data = seg.payload;
    seg.payload = Chunk{};
    if (reassembly_.empty()) return ack_scheduling(len, now);

    // The hole before held data may have filled: take what now follows on,
    // each in the node that held it.
    const bool fin = reassembly_.pop_ready(rcv_.nxt, layer_->held_segments(), [&](HeldSegment& n) {
        ready_.push_back(n);
        rcv_.unconsumed += n.chunk.length;
        rcv_.unconsumed_mem += n.chunk.truesize;
        layer_->counters().tcp_rx_bytes.add(n.chunk.length);
    });
    rcv_.ack_due = AckDue::now; // RFC 5681 4.2: a segment that fills a hole is ACKed at once
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
    const std::uint8_t first_regular = rcv_.dsack_pending ? 1 : 0;
    if (rcv_.dsack_pending) o.sack_blocks[o.sack_block_count++] = rcv_.dsack;
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
    rcv_.ack_due = AckDue::now;
    const std::uint32_t len = data.length;
    const auto r = reassembly_.insert(seq, data, fin, rcv_.nxt, layer_->held_segments(), kMaxHeldSegments);
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
    rcv_.nxt += 1;
    rcv_.ack_due = AckDue::now;
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

} // namespace lanetcp::tcp
