// Loss detection and recovery: duplicate ACKs and SACK recovery (RFC 6675),
// early retransmit (RFC 5827) and the tail loss probe (RFC 8985 7).

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

void Connection::on_duplicate_ack(TimeNs now) noexcept {
    ++dupacks_;
    if (sack_ok_) {
        // RFC 6675 5: recovery starts on the DupThresh-th duplicate, or as
        // soon as DupThresh segments' worth above SND.UNA was SACKed.
        if (in_recovery_) {
            // Later data keeps arriving while the front hole, resent a while
            // ago, does not: the resend was lost too (what Linux's RACK
            // finds by time). Resend it now rather than wait for the RTO.
            if (una_rxt_time_ != 0 && una_rxt_seq_ == snd_.una && now - una_rxt_time_ > lost_rxt_delay())
                high_rxt_ = snd_.una;
            sack_retransmit(now);
        } else if (dupacks_ >= 3 || scoreboard_.sacked_above(snd_.una) >= 3u * snd_.mss || early_retransmit_due() ||
                   (tlp_outstanding_ && seq_geq(scoreboard_.highest(), tlp_high_seq_))) {
            // The last: the loss probe arrived and what was sent before it
            // did not (RFC 8985 7.4, by RACK's reasoning).
            enter_sack_recovery(now);
        }
        return;
    }
    if (in_recovery_) {
        cwnd_ += snd_.mss; // RFC 6582 3.2 step 4: each dup ACK is a segment that left
        return;
    }
    if (dupacks_ != 3) return;
    // RFC 5681 3.2 fast retransmit, entering NewReno recovery.
    const std::uint32_t flight = flight_size();
    ssthresh_ = std::max<std::uint32_t>(flight / 2, 2u * snd_.mss);
    recover_ = snd_.max;
    in_recovery_ = true;
    rtt_timing_ = false;
    const std::uint32_t len = std::min<std::uint32_t>(snd_.mss, send_queue_.size());
    if (len > 0) transmit_data(snd_.una, len, now);
    layer_->counters().tcp_fast_retransmits.add();
    cwnd_ = ssthresh_ + 3u * snd_.mss;
}

bool Connection::early_retransmit_due() const noexcept {
    // RFC 5827 (SACK variant): with fewer than four segments outstanding,
    // three duplicates can never come; all but one SACKed is enough, when
    // nothing new can go out to bring more. "Nothing new" here includes a
    // congestion window too small for another full segment, as with the
    // few segments in flight after losses (where Linux relies on RACK).
    const std::uint32_t flight = flight_size();
    const std::uint32_t oseg = (flight + snd_.mss - 1) / snd_.mss;
    if (oseg >= 4 || oseg < 2) return false;
    const std::uint32_t in_network = flight - scoreboard_.sacked_below(snd_.max);
    const bool can_send_new = unsent_bytes() > 0 && std::min(snd_.wnd > flight ? snd_.wnd - flight : 0u,
                                                             cwnd_ > in_network ? cwnd_ - in_network : 0u) >= snd_.mss;
    return !can_send_new && scoreboard_.sacked_above(snd_.una) >= (oseg - 1) * snd_.mss - (snd_.mss - 1);
}

void Connection::enter_sack_recovery(TimeNs now) noexcept {
    // RFC 6675 5 steps (1)-(4), with RFC 5681's ssthresh; no window
    // inflation: the scoreboard says what left the network.
    const std::uint32_t flight = flight_size();
    ssthresh_ = std::max<std::uint32_t>(flight / 2, 2u * snd_.mss);
    cwnd_ = ssthresh_;
    recover_ = snd_.max;
    in_recovery_ = true;
    tlp_outstanding_ = false;
    if (probe_armed_) {
        // No probes during recovery (RFC 8985 7.2): the RTO it stood for,
        // counted from when it was armed.
        probe_armed_ = false;
        layer_->timers().arm(rtx_timer_, std::max(probe_armed_at_ + rtt_.backed_off(backoff_), now + kNsPerMs));
    }
    rtt_timing_ = false;
    high_rxt_ = snd_.una;
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
        if (sent > 0 && in_network() >= cwnd_) return;
        SeqNum start, end;
        if (!scoreboard_.next_hole(seq_max(high_rxt_, snd_.una), start, end)) return;
        if (seq_geq(start, data_end)) return;
        if (seq_gt(end, data_end)) end = data_end;
        const std::uint32_t len = std::min<std::uint32_t>(snd_.mss, static_cast<std::uint32_t>(seq_diff(end, start)));
        high_rxt_ = start + transmit_data(start, len, now);
        layer_->counters().tcp_fast_retransmits.add();
        if (start == snd_.una) {
            una_rxt_seq_ = start;
            una_rxt_time_ = now;
        }
    }
}

void Connection::send_loss_probe(TimeNs now) noexcept {
    // RFC 8985 7.3: new data if the peer's window takes it, else the last
    // segment again. Neither counts as a timeout: no backoff, cwnd stays.
    const std::uint32_t flight = bytes_in_flight();
    const std::uint32_t peer_room = snd_.wnd > flight ? snd_.wnd - flight : 0;
    const std::uint32_t unsent = unsent_bytes();
    tlp_outstanding_ = true;
    layer_->counters().tcp_loss_probes.add();
    if (unsent > 0 && peer_room > 0) {
        snd_.nxt += transmit_data(snd_.nxt, std::min(unsent, peer_room), now);
        if (seq_gt(snd_.nxt, snd_.max)) snd_.max = snd_.nxt;
        tlp_high_seq_ = snd_.max;
        return;
    }
    tlp_high_seq_ = snd_.max;
    const SeqNum data_end = seq_min(send_queue_end(), snd_.max);
    const std::uint32_t outstanding = seq_gt(data_end, snd_.una) ? static_cast<std::uint32_t>(seq_diff(data_end, snd_.una)) : 0;
    if (outstanding == 0) return arm_rto(now); // only a FIN is out: the RTO resends it
    const std::uint32_t len = std::min(outstanding, segment_room());
    transmit_data(data_end - len, len, now);
    if (!rtx_timer_.armed()) arm_rto(now);
}

} // namespace lanetcp::tcp
