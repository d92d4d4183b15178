// Loss detection and recovery, as Linux's tcp_fastretrans_alert with RACK:
// RACK finds losses by time (RFC 8985 6, rack.hpp), Proportional Rate
// Reduction paces the repair (RFC 6937), and a reduction is undone when
// D-SACKs (RFC 3708) or timestamps (Eifel, RFC 3522) show it was needless.
// Without SACK, NewReno's duplicate ACKs (RFC 6582). The tail loss probe
// (RFC 8985 7) is here too. Congestion control proper is lib/tcp/cc.

#include "tcp/connection.hpp"

#include <algorithm>

#include "tcp/tcp_layer.hpp"

namespace lanetcp::tcp {

using wire::seq_diff;
using wire::seq_geq;
using wire::seq_gt;
using wire::seq_leq;
using wire::seq_lt;
using wire::seq_min;

void Connection::ack_recovery(const AckInfo& a, TimeNs now) noexcept {
    // What reached the peer with this ACK: newly acknowledged plus newly
    // SACKed (bytes SACKed before and acknowledged now are not new).
    const std::int64_t delivered_signed =
        std::int64_t{a.acked} + scoreboard_.sacked_bytes() - std::int64_t{a.sacked_before};
    const std::uint32_t delivered = delivered_signed > 0 ? static_cast<std::uint32_t>(delivered_signed) : 0;
    const bool advanced = seq_lt(a.prior_una, snd_.una);

    if (sack_ok_) {
        // RFC 8985 6.2 steps 1-3: the newest sending among what arrived.
        // A cumulative ACK with nothing SACKed or resent, in the open
        // state, can show no loss: what it covers was sent before anything
        // still out, and the first SACK after it updates RACK itself. The
        // common case skips the walk.
        const bool in_order = rec_.phase == Phase::open && a.sacked_before == 0 && scoreboard_.empty() &&
                              !rack_.has_retransmissions();
        if (!in_order)
            for (std::uint8_t i = 0; i < a.fresh_count; ++i)
                rack_.delivered(a.fresh[i].left, a.fresh[i].right, now, a.fack);
        rack_.acked_to(snd_.una);
        if (a.rtt > 0) rack_.rtt_sample(a.rtt);
        if (a.dsack) take_dsack(a, now);
        // RFC 6675's duplicate ACK: SND.UNA stays and new data is SACKed.
        // Counted only for DupThresh in reo_wnd().
        if (advanced)
            rec_.dupacks = 0;
        else if (a.fresh_count > 0 && rec_.dupacks < 255)
            ++rec_.dupacks;
    }

    // After a timeout: the first ACK to move SND.UNA echoes a timestamp
    // older than the retransmission's: the original arrived, the timeout
    // was spurious (Eifel detection, RFC 3522; Linux's tcp_try_undo_loss).
    if (rec_.phase == Phase::loss && advanced && rec_.undo_possible && spurious_by_timestamps(a.ts_echo))
        undo(layer_->counters().tcp_undo_eifel, now);
    if (rec_.phase == Phase::loss && rec_.frto != RecoveryState::Frto::off && frto_ack(a, now)) return;

    if (!sack_ok_) return newreno_ack(a, delivered, now);

    if (rec_.phase != Phase::open && seq_geq(snd_.una, rec_.recover)) {
        // Everything outstanding when the episode began is acknowledged. A
        // fast recovery whose every retransmission a D-SACK showed needless,
        // or whose hole the original filled, is undone (tcp_try_undo_recovery).
        const bool needless = rec_.undo_possible && rec_.phase == Phase::recovery &&
                              (rec_.undo_retrans <= 0 || spurious_by_timestamps(a.ts_echo));
        if (needless)
            undo(rec_.undo_retrans <= 0 ? layer_->counters().tcp_undo_dsack : layer_->counters().tcp_undo_eifel, now);
        else
            end_episode(now);
    }

    cc::AckEvent e = ack_event(a, delivered, now);

    if (rec_.phase == Phase::loss) {
        // Going back over what the timeout left: push() resends from
        // SND.NXT, in slow start. RACK runs here too (Linux's
        // tcp_identify_packet_loss in the loss state): a go-back
        // retransmission lost again is found by what was resent after it,
        // not by the next, doubled, timeout.
        cc_.on_ack(e);
        if (sack_ok_ && rec_.frto == RecoveryState::Frto::off) {
            detect_losses(now);
            retransmit_lost(now);
        }
        return;
    }
    const std::uint32_t lost_before = rec_.lost;
    detect_losses(now);
    if (rec_.phase == Phase::open && rec_.lost > 0) enter_recovery(now);
    if (rec_.phase == Phase::recovery) {
        e.in_recovery = true;
        cc_.on_ack(e); // bookkeeping only: PRR sets the window
        prr_update(delivered, advanced && rec_.lost <= lost_before);
        retransmit_lost(now);
    } else if (advanced) {
        // RFC 5681 3.1 (and Linux's tcp_may_raise_cwnd): the window grows
        // on in-order delivery only, not while the receiver reports holes.
        cc_.on_ack(e);
    }
}

void Connection::newreno_ack(const AckInfo& a, std::uint32_t delivered, TimeNs now) noexcept {
    if (a.duplicate) {
        ++rec_.dupacks;
        if (rec_.phase == Phase::recovery) {
            // RFC 6582 3.2 step 4: each duplicate is a segment that left.
            cc_.set_cwnd(cc_.cwnd() + snd_.mss);
        } else if (rec_.phase == Phase::open && rec_.dupacks == 3) {
            // RFC 5681 3.2: fast retransmit, and recovery with an inflated window.
            enter_recovery(now);
            const std::uint32_t len = std::min<std::uint32_t>(snd_.mss, send_queue_.size());
            if (len > 0) transmit_data(snd_.una, len, now);
            layer_->counters().tcp_fast_retransmits.add();
            cc_.set_cwnd(cc_.ssthresh() + 3u * snd_.mss);
        }
        return;
    }
    if (!seq_lt(a.prior_una, snd_.una)) return;
    rec_.dupacks = 0;
    if (rec_.phase == Phase::recovery) {
        if (seq_geq(snd_.una, rec_.recover)) {
            // RFC 6582 3.2 step 3, full acknowledgment: deflate the window.
            const std::uint32_t flight = flight_size();
            cc_.set_cwnd(std::min(cc_.ssthresh(), std::max<std::uint32_t>(flight, snd_.mss) + snd_.mss));
            rec_.phase = Phase::open;
        } else {
            // Partial acknowledgment: the next hole is lost too; resend it at once.
            const std::uint32_t outstanding = std::min<std::uint32_t>(snd_.mss, send_queue_.size());
            if (outstanding > 0) {
                transmit_data(snd_.una, outstanding, now);
                layer_->counters().tcp_fast_retransmits.add();
            }
            const std::uint32_t cwnd = cc_.cwnd() > a.acked ? cc_.cwnd() - a.acked : 0;
            cc_.set_cwnd(cwnd + snd_.mss);
        }
        return;
    }
    if (rec_.phase == Phase::loss && seq_geq(snd_.una, rec_.recover)) rec_.phase = Phase::open;
    cc::AckEvent e = ack_event(a, delivered, now);
    cc_.on_ack(e);
}

cc::AckEvent Connection::ack_event(const AckInfo& a, std::uint32_t delivered, TimeNs now) const noexcept {
    cc::AckEvent e;
    e.acked = delivered;
    e.ece_acked = a.ece ? delivered : 0; // DCTCP's share of marked bytes (RFC 8257 3.3)
    e.in_flight = a.prior_flight;
    e.rtt = a.rtt;
    e.srtt = rtt_.srtt();
    e.snd_una = snd_.una;
    e.snd_nxt = snd_.nxt;
    e.cwnd_limited = std::uint64_t{a.prior_flight} * 2 >= cc_.cwnd();
    e.now = now;
    return e;
}

void Connection::begin_episode(Phase phase) noexcept {
    rec_.phase = phase;
    rec_.recover = snd_.max;
    rec_.lost = 0;
    rec_.undo_marker = snd_.una;
    rec_.undo_retrans = 0;
    rec_.retrans_timed = false;
    rec_.undo_possible = true;
    tlp_outstanding_ = false;
    rtt_timing_ = false; // Karn: what is timed now may be resent
}

void Connection::enter_recovery(TimeNs now) noexcept {
    layer_->counters().tcp_recoveries.add();
    const std::uint32_t flight = flight_size();
    cc_.on_loss(flight, now);
    begin_episode(Phase::recovery);
    // RFC 6937: PRR counts from here.
    rec_.recover_fs = flight;
    rec_.prr_delivered = 0;
    rec_.prr_out = 0;
    if (probe_armed_) {
        // No probes during recovery (RFC 8985 7.2): the RTO it stood for,
        // counted from when it was armed.
        probe_armed_ = false;
        layer_->timers().arm(rtx_timer_, std::max(probe_armed_at_ + rtt_.backed_off(backoff_), now + kNsPerMs));
    }
    if (sack_ok_) detect_losses(now);
    trace(now, TraceEvent::loss);
}

void Connection::end_episode(TimeNs now) noexcept {
    if (rec_.phase == Phase::recovery) cc_.on_recovery_exit(now); // RFC 6937: cwnd = ssthresh
    back_to_open(now);
    trace(now, TraceEvent::recovery_exit);
}

void Connection::back_to_open(TimeNs now) noexcept {
    rec_.phase = Phase::open;
    rec_.lost = 0;
    rec_.dupacks = 0;
    rack_.recovery_ended();
    // The ACK that ended the episode restarted the timer as an RTO (no
    // probes during recovery); open again, what is out gets its tail loss
    // probe (RFC 8985 7.2; Linux's tcp_ack schedules one whenever the RTO is
    // pending), else one more loss at the tail would wait out 200 ms or more
    // instead of two round trips. Where no probe may go, the RTO stands as
    // it was.
    if (seq_lt(snd_.una, snd_.max) && !reorder_armed_ && may_probe()) arm_retransmission(now);
}

void Connection::undo(Counter& reason, TimeNs now) noexcept {
    // Back to the window before the reduction (Linux's tcp_undo_cwnd_reduction).
    cc_.undo(now);
    reason.add();
    rec_.undo_possible = false;
    // After a spurious timeout, the originals are on their way: no going
    // back over them (SND.NXT returns to SND.MAX, as F-RTO would).
    if (rec_.phase == Phase::loss && seq_lt(snd_.nxt, snd_.max)) snd_.nxt = snd_.max;
    back_to_open(now);
    trace(now, TraceEvent::undo);
}

bool Connection::frto_ack(const AckInfo& a, TimeNs now) noexcept {
    using Frto = RecoveryState::Frto;
    // RFC 5682 3.1 step 3.b (SACK-enhanced, as Linux's tcp_process_loss):
    // data sent before the timeout and never again since, [mark, high),
    // is delivered by this ACK: the originals were not all lost.
    const SeqNum mark = rec_.frto == Frto::after_rto ? a.prior_nxt : rec_.frto_mark;
    const SeqNum high = rec_.frto_high;
    bool original_delivered = false;
    for (std::uint8_t i = 0; i < a.fresh_count && !original_delivered; ++i)
        original_delivered = seq_lt(wire::seq_max(a.fresh[i].left, mark), seq_min(a.fresh[i].right, high));
    if (original_delivered && rec_.undo_possible) {
        undo(layer_->counters().tcp_undo_frto, now);
        rec_.frto = Frto::off;
        return true;
    }
    if (rec_.frto == Frto::new_data_sent) {
        // Step 3.a: after the new data, a duplicate ACK or a SACK (of the
        // new data, as nothing original arrived): the loss was real. Go
        // back over what is left, as a timeout does without F-RTO.
        bool sacked = !seq_lt(a.prior_una, snd_.una);
        for (std::uint8_t i = 0; i < a.fresh_count && !sacked; ++i) sacked = seq_geq(a.fresh[i].left, snd_.una);
        if (sacked) {
            rec_.frto = Frto::off;
            rec_.lost = 0;
            snd_.nxt = snd_.una;
        }
        return false;
    }
    // Step 2: the first ACK after the timeout.
    const bool advanced = seq_lt(a.prior_una, snd_.una);
    if (!advanced || !seq_lt(snd_.una, rec_.recover) || !seq_geq(snd_.nxt, snd_.una) ||
        unsent_after_max() == 0) {
        // 2.a: a duplicate, or everything acknowledged, or nothing new to
        // send: conventional recovery.
        rec_.frto = Frto::off;
        return false;
    }
    // 2.b: send new data (up to two segments, as the window allows) rather
    // than going back; their fate decides.
    // The originals not yet resent count as lost meanwhile (out of the
    // pipe), as Linux marks them at the timeout.
    rec_.frto = Frto::new_data_sent;
    rec_.frto_mark = snd_.nxt;
    rec_.lost = static_cast<std::uint32_t>(seq_diff(snd_.max, snd_.nxt));
    snd_.nxt = snd_.max;
    rec_.recover = snd_.max;
    return false;
}

bool Connection::spurious_by_timestamps(std::uint32_t ts_echo) const noexcept {
    return ts_ok_ && ts_echo != 0 && rec_.retrans_timed &&
           static_cast<std::int32_t>(ts_echo - rec_.retrans_tsval) < 0;
}

void Connection::take_dsack(const AckInfo& a, TimeNs now) noexcept {
    layer_->counters().tcp_dsacks_received.add();
    rack_.dsack_seen(now, rtt_.srtt());
    // RFC 3708: a duplicate of data resent in this episode: that
    // retransmission was not needed. All of them not needed: undo.
    const wire::SackBlock& d = a.dsack_block;
    if (!rec_.undo_possible || rec_.undo_retrans <= 0 || !seq_gt(d.right, rec_.undo_marker)) return;
    const std::uint32_t len = static_cast<std::uint32_t>(seq_diff(d.right, d.left));
    rec_.undo_retrans -= static_cast<std::int32_t>(std::max<std::uint32_t>(1, (len + snd_.mss - 1) / snd_.mss));
    // Late D-SACKs come after the episode ended (the original filled the
    // hole first): undo from the open state too, as Linux's tcp_try_undo_dsack.
    if (rec_.undo_retrans <= 0 && rec_.phase == Phase::open) undo(layer_->counters().tcp_undo_dsack, now);
}

TimeNs Connection::reo_wnd() const noexcept {
    // RFC 8985 6.2 step 4: no window once DupThresh segments are SACKed
    // (three duplicate ACKs, or three full segments' worth) or recovery
    // runs, unless reordering has been seen.
    const bool dupthresh =
        rec_.phase != Phase::open || rec_.dupacks >= 3 || scoreboard_.sacked_bytes() >= 3u * snd_.mss;
    return rack_.reo_wnd(dupthresh, rtt_.srtt());
}

void Connection::detect_losses(TimeNs now) noexcept {
    if (rec_.phase == Phase::open && scoreboard_.empty() && !rack_.has_retransmissions()) {
        // Nothing delivered out of order and nothing resent: nothing can
        // have been sent before what was delivered and not arrived.
        rec_.lost = 0;
        return;
    }
    const Rack::Scan s = rack_.scan(scoreboard_, snd_.una, loss_scan_end(), now, reo_wnd());
    rec_.lost = s.lost_bytes;
    if (s.wait > 0) {
        // RFC 8985 6.3: look again when the next would be lost.
        reorder_armed_ = true;
        probe_armed_ = false;
        layer_->timers().arm_lazily(rtx_timer_, now + s.wait);
    } else if (reorder_armed_) {
        reorder_armed_ = false;
        arm_retransmission(now);
    }
}

void Connection::prr_update(std::uint32_t delivered, bool slow_start_ok) noexcept {
    // RFC 6937 3: send in proportion to what is delivered while the pipe
    // is above ssthresh; below it, grow back towards ssthresh: one MSS more
    // than delivered (PRR-SSRB) when the ACK moved SND.UNA and showed no new
    // loss, else no more than delivered (PRR-CRB), as Linux's
    // tcp_cwnd_reduction.
    rec_.prr_delivered += delivered;
    const std::uint32_t pipe = this->pipe();
    const std::uint32_t ssthresh = cc_.ssthresh();
    std::int64_t sndcnt;
    if (pipe > ssthresh) {
        const std::uint64_t fs = std::max<std::uint32_t>(rec_.recover_fs, 1);
        sndcnt = static_cast<std::int64_t>((std::uint64_t{rec_.prr_delivered} * ssthresh + fs - 1) / fs) -
                 std::int64_t{rec_.prr_out};
    } else {
        const std::int64_t limit =
            std::max<std::int64_t>(std::int64_t{rec_.prr_delivered} - rec_.prr_out, delivered) +
            (slow_start_ok ? snd_.mss : 0u);
        sndcnt = std::min<std::int64_t>(ssthresh - pipe, limit);
    }
    if (sndcnt < 0) sndcnt = 0;
    // The first retransmission goes at once, whatever the proportion says
    // (fast retransmit; Linux's tcp_cwnd_reduction on new losses).
    if (rec_.prr_out == 0 && sndcnt < snd_.mss && rec_.lost > 0) sndcnt = snd_.mss;
    cc_.set_cwnd(pipe + static_cast<std::uint32_t>(sndcnt));
}

void Connection::retransmit_lost(TimeNs now) noexcept {
    // RFC 6675 NextSeg() rule 1 with RACK's verdict for IsLost(): the
    // lowest lost bytes first, while the pipe is below cwnd. A resent byte
    // is no longer lost (RACK times it anew), so the pipe grows as we go.
    const SeqNum data_end = seq_min(send_queue_end(), loss_scan_end());
    const TimeNs reo = reo_wnd();
    Counters& c = layer_->counters();
    while (rec_.lost > 0 && pipe() < cc_.cwnd()) {
        SeqNum start, end;
        if (!rack_.next_lost(scoreboard_, snd_.una, data_end, now, reo, start, end)) {
            rec_.lost = 0;
            return;
        }
        const std::uint32_t len = std::min<std::uint32_t>(snd_.mss, static_cast<std::uint32_t>(seq_diff(end, start)));
        const bool again = rack_.retransmitted(start, start + len);
        if (transmit_data(start, len, now) == 0) return;
        c.tcp_fast_retransmits.add();
        if (again) c.tcp_lost_retransmits.add();
        // The head went again: a round trip plus RTO from now before it
        // may be given up on (Linux's tcp_xmit_retransmit_queue), unless
        // RACK's own timer waits sooner.
        if (start == snd_.una && !reorder_armed_) arm_rto(now);
    }
}

void Connection::on_reorder_timer(TimeNs now) noexcept {
    // RFC 8985 6.3: the time RACK waited is up.
    reorder_armed_ = false;
    detect_losses(now);
    if (rec_.lost > 0) {
        layer_->counters().tcp_rack_reorder_timeouts.add();
        if (rec_.phase == Phase::open) enter_recovery(now);
        if (rec_.phase == Phase::recovery) {
            prr_update(0, false);
            retransmit_lost(now);
        } else if (rec_.phase == Phase::loss) {
            retransmit_lost(now); // slow start after the timeout: cwnd as it is
        }
    }
    if (!rtx_timer_.armed()) arm_retransmission(now);
    trace(now, TraceEvent::rack_timer);
}

void Connection::note_sent(SeqNum seq, std::uint32_t len, TimeNs now) noexcept {
    const SeqNum end = seq + len;
    const bool resent = seq_lt(seq, snd_.max);
    if (sack_ok_) {
        if (!resent) {
            rack_.sent_new(end, now);
        } else {
            rack_.sent_again(seq, seq_min(end, snd_.max), now);
            if (seq_gt(end, snd_.max)) rack_.sent_new(end, now);
        }
    }
    if (resent) {
        last_resent_tsval_ = ts_value(now);
        resent_timed_ = ts_ok_;
        if (rec_.phase != Phase::open) {
            ++rec_.undo_retrans;
            if (!rec_.retrans_timed && ts_ok_) { // the TSval it carries, exactly
                rec_.retrans_tsval = ts_value(now);
                rec_.retrans_timed = true;
            }
        }
        rec_.lost = rec_.lost > len ? rec_.lost - len : 0;
    }
    if (rec_.phase == Phase::recovery) rec_.prr_out += len;
}

void Connection::send_loss_probe(TimeNs now) noexcept {
    // RFC 8985 7.3: new data if the peer's window takes it, else the last
    // segment again. Neither counts as a timeout: no backoff, cwnd stays.
    const std::uint32_t flight = bytes_in_flight();
    const std::uint32_t peer_room = snd_.wnd > flight ? snd_.wnd - flight : 0;
    const std::uint32_t unsent = unsent_bytes();
    tlp_outstanding_ = true;
    layer_->counters().tcp_loss_probes.add();
    trace(now, TraceEvent::tlp);
    if (unsent > 0 && peer_room > 0) {
        snd_.nxt += transmit_data(snd_.nxt, std::min(unsent, peer_room), now);
        if (seq_gt(snd_.nxt, snd_.max)) snd_.max = snd_.nxt;
        tlp_high_seq_ = snd_.max;
        return;
    }
    tlp_high_seq_ = snd_.max;
    const std::uint32_t outstanding = unacked_data();
    if (outstanding == 0) return arm_rto(now); // only a FIN is out: the RTO resends it
    const std::uint32_t len = std::min(outstanding, segment_room());
    transmit_data(snd_.una + outstanding - len, len, now);
    if (!rtx_timer_.armed()) arm_rto(now);
}

} // namespace lanetcp::tcp
