// Sending (Linux's tcp_push_one / tcp_write_xmit, FreeBSD's tcp_output): what
// the windows and Nagle allow, segment building, and the ACK clock.

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

std::uint32_t Connection::unsent_bytes() const noexcept {
    const SeqNum data_start = send_queue_start();
    const std::int32_t sent = seq_diff(snd_.nxt, data_start);
    const std::uint32_t sent_data = sent > 0 ? std::min<std::uint32_t>(static_cast<std::uint32_t>(sent), send_queue_.size()) : 0;
    return send_queue_.size() - sent_data;
}

std::uint32_t Connection::unsent_after_max() const noexcept {
    const std::int32_t n = seq_diff(send_queue_end(), snd_.max);
    return n > 0 ? static_cast<std::uint32_t>(n) : 0;
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
    const bool idle = snd_.nxt == snd_.una;
    const bool small_in_flight = seq_gt(snd_.sml, snd_.una) && seq_leq(snd_.sml, snd_.nxt);
    if (len == unsent && (opts_.nodelay || !small_in_flight || snd_.fin_queued)) return true;
    return (opts_.nodelay || idle) && len >= snd_.max_wnd / 2;
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
        if (!scoreboard_.empty() && scoreboard_.range_end(snd_.nxt, sacked_end)) {
            snd_.nxt = seq_min(sacked_end, send_queue_end());
            continue;
        }
        const std::uint32_t in_flight = bytes_in_flight();
        // The peer's window counts from SND.UNA; the congestion window
        // counts only what is still in the network (SACKed data left it).
        const std::uint32_t in_network = pipe();
        const std::uint32_t peer_room = snd_.wnd > in_flight ? snd_.wnd - in_flight : 0;
        const std::uint32_t cwnd = cc_.cwnd();
        const std::uint32_t cwnd_room = cwnd > in_network ? cwnd - in_network : 0;
        const std::uint32_t usable = std::min(peer_room, cwnd_room);
        const std::uint32_t room = segment_room();
        const std::uint32_t len = std::min({room, unsent, usable});
        if (len == 0 || !send_test(len, unsent, room)) break;
        snd_.nxt += transmit_data(snd_.nxt, len, now);
        sent_new = true;
        if (seq_gt(snd_.nxt, snd_.max)) snd_.max = snd_.nxt;
    }
    // RFC 8985 7.2: the probe timeout restarts after new data, measured
    // for the whole flight now out.
    if (sent_new && probe_armed_) arm_retransmission(now);
    send_fin_if_due(now);
    // Data waits and nothing is in flight to bring an ACK that would move
    // it: a zero (or too small) window. Probe it (RFC 9293 3.8.6.1).
    if (unsent_bytes() > 0 && snd_.nxt == snd_.una && !rtx_timer_.armed() && !persist_timer_.armed())
        layer_->timers().arm(persist_timer_, now + rtt_.backed_off(persist_backoff_));
}

void Connection::send_fin_if_due(TimeNs now) noexcept {
    if (!snd_.fin_queued || unsent_bytes() != 0) return;
    const SeqNum data_end = send_queue_end();
    if (snd_.nxt != data_end) return; // sent already, and not being resent
    if (!snd_.fin_sent) {
        if (state_ == State::established)
            state_ = State::fin_wait_1;
        else if (state_ == State::close_wait)
            state_ = State::last_ack;
        else
            return;
        snd_.fin_sent = true;
        snd_.fin_seq = data_end;
    }
    send_control(tf::fin | tf::ack, snd_.fin_seq, now);
    snd_.nxt = snd_.fin_seq + 1;
    if (seq_gt(snd_.nxt, snd_.max)) snd_.max = snd_.nxt;
    if (!rtx_timer_.armed()) arm_rto(now);
}

void Connection::fill_options(wire::TcpOptions& o, TimeNs now) noexcept {
    // RFC 7323 3.2: once agreed, every segment but a RST may carry them;
    // Linux puts them on all, RST included.
    if (ts_ok_) o.timestamps = wire::TcpTimestamps{ts_value(now), ts_recent_};
    if (sack_ok_ && (rcv_.dsack_pending || !reassembly_.empty())) {
        fill_sack_blocks(o);
        if (rcv_.dsack_pending) layer_->counters().tcp_dsacks_sent.add();
        rcv_.dsack_pending = false;
    }
}

std::uint32_t Connection::segment_room() const noexcept {
    if (!sack_ok_ || (reassembly_.empty() && !rcv_.dsack_pending)) return snd_.mss;
    // The blocks that will fit next to the timestamps (emit_tcp_options
    // leaves out what does not): 2 NOPs + kind + length + 8 per block.
    const std::uint32_t blocks = std::min<std::uint32_t>(reassembly_.segments() + (rcv_.dsack_pending ? 1u : 0u),
                                                         ts_ok_ ? 3u : 4u);
    return snd_.mss - (4u + 8u * blocks);
}

void Connection::fill_common(OutSegment& out, TimeNs now) noexcept {
    out.tuple = tuple_;
    out.ack = rcv_.nxt;
    out.window = advertised_window();
    rcv_.wup = rcv_.nxt;
    fill_options(out.options, now);
    // Whatever we send carries the latest ACK: no separate one is owed.
    rcv_.ack_due = AckDue::no;
    if (delack_timer_.armed()) layer_->timers().cancel(delack_timer_);
}

std::uint16_t Connection::advertised_window() noexcept {
    // The right edge never moves left (RFC 9293 3.8.6.2.2, no shrinking),
    // and it moves right only by a worthwhile amount (receiver-side SWS
    // avoidance): at least min(buffer/2, MSS), or to the whole buffer.
    const std::uint32_t free = receive_space();
    const SeqNum right = rcv_.nxt + free;
    if (seq_gt(right, rcv_.adv)) {
        const std::uint32_t current = rcv_wnd();
        const std::uint32_t step = std::min<std::uint32_t>(rcv_.buffer / 2, layer_->local_mss());
        if (free - current >= step || free == rcv_.buffer) rcv_.adv = right;
    }
    // RFC 7323 2.3: the field counts units of 2^RCV.WIND.SHIFT. Rounding
    // up keeps the edge the peer computes from moving left; the peer may
    // then send a few bytes past the buffer, which is soft.
    const std::uint32_t unit = 1u << rcv_.wscale;
    const std::uint32_t field = std::min<std::uint32_t>((rcv_wnd() + unit - 1) >> rcv_.wscale, 65535);
    const SeqNum edge = rcv_.nxt + (field << rcv_.wscale);
    if (seq_gt(edge, rcv_.adv)) rcv_.adv = edge;
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
    ecn_mark(out, !seq_lt(seq, snd_.max)); // ECT(0) on new data only
    transmit(layer_->output(), out);
    note_sent(seq, len, now);
    last_data_sent_ = now;
    if (len < room) snd_.sml = seq + len; // tcp_minshall_update
    Counters& c = layer_->counters();
    c.tcp_tx_segments.add();
    c.tcp_tx_bytes.add(len);
    if (seq_lt(seq, snd_.max)) {
        c.tcp_retransmitted_segments.add();
        ++total_retrans_;
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
    ecn_mark(out, false);
    transmit(layer_->output(), out);
    layer_->counters().tcp_tx_segments.add();
}

// SND.MAX, not SND.NXT: after a timeout SND.NXT goes back to SND.UNA, and a
// pure ACK carrying a sequence number the peer has passed would be
// refused and answered with another ACK, for ever (BSD's tcp_output does
// the same).
void Connection::send_ack(TimeNs now) noexcept { send_control(tf::ack, snd_.max, now); }

void Connection::send_syn(TimeNs now) noexcept {
    OutSegment out;
    out.tuple = tuple_;
    out.seq = snd_.iss;
    // A SYN offers what is switched on; a SYN-ACK accepts what the SYN
    // offered (RFC 2018 2, RFC 7323 2.2 and 3.2).
    const bool reply = state_ == State::syn_received;
    out.options.mss = layer_->local_mss();
    out.options.sack_permitted = reply ? sack_ok_ : opts_.sack;
    if (reply ? wscale_ok_ : opts_.window_scale) out.options.window_scale = rcv_.wscale;
    if (reply ? ts_ok_ : opts_.timestamps) out.options.timestamps = wire::TcpTimestamps{ts_value(now), reply ? ts_recent_ : 0};
    if (reply) {
        out.ack = rcv_.nxt;
        out.flags = tf::syn | tf::ack;
    } else {
        out.flags = tf::syn;
    }
    // Never scaled in a SYN (RFC 7323 2.2).
    out.window = static_cast<std::uint16_t>(std::min<std::uint32_t>(rcv_.buffer, 65535));
    ecn_mark_syn(out);
    transmit(layer_->output(), out);
    layer_->counters().tcp_tx_segments.add();
    if (retransmits_ > 0) layer_->counters().tcp_retransmitted_segments.add();
    snd_.nxt = snd_.iss + 1;
    if (seq_gt(snd_.nxt, snd_.max)) snd_.max = snd_.nxt;
    if (retransmits_ == 0 && !rtt_timing_) {
        rtt_timing_ = true;
        rtt_seq_ = snd_.iss + 1;
        rtt_start_ = now;
    }
    if (!rtx_timer_.armed()) arm_rto(now);
}

void Connection::ack_scheduling(std::uint32_t len, TimeNs now) noexcept {
    // RFC 9293 3.8.6.3 / RFC 5681 4.2: ACK at least every second full-sized
    // segment; otherwise within the delayed-ACK time. Counted in bytes, as
    // Linux's __tcp_ack_snd_check: more than one full segment's worth not yet
    // acknowledged (RCV.NXT past what the last ACK said) is ACKed now. A
    // count of full segments missed a full one followed by a short one (the
    // end of what the sender's buffer held): with the ACK before them lost,
    // the sender waited out our 40 ms delayed ACK, again and again at 1% loss.
    if (len > rcv_.mss) rcv_.mss = static_cast<std::uint16_t>(std::min<std::uint32_t>(len, layer_->local_mss()));
    if (static_cast<std::uint32_t>(wire::seq_diff(rcv_.nxt, rcv_.wup)) > rcv_.mss) {
        // Decided at the event's end, once the application has had the data.
        if (rcv_.ack_due == AckDue::no) rcv_.ack_due = AckDue::if_window_keeps_up;
    } else if (!delack_timer_.armed()) {
        layer_->timers().arm(delack_timer_, now + layer_->config().delayed_ack);
    }
}

void Connection::send_due_ack(TimeNs now) noexcept {
    if (rcv_.ack_due == AckDue::now) return send_ack(now);
    // As Linux's __tcp_ack_snd_check: the ACK for more than one full segment
    // goes at once while the window we can offer keeps up with the one we
    // last offered, i.e. the application consumes what comes. Linux offers at
    // most about half its buffer (tcp_win_from_space, rcv_ssthresh), so it
    // holds the ACK back only once less than half of the buffer is free; we
    // offer all of it, so half the buffer is our threshold too. Past it, an
    // ACK would only shrink a window the sender is filling, at the cost of a
    // packet to the sender: it waits for data to carry it, for the
    // application to consume (consumed()), or for the delayed-ACK timer.
    // Behind 1% loss an echo that could not send fast enough sent up to ten
    // times as many pure ACKs as a Linux echo server, to a peer whose CPU was
    // the bottleneck. The ACK that closes the window (less than a segment
    // left) still goes at once: it tells the sender to stop and probe, where
    // silence would draw a tail loss probe.
    const std::uint32_t free = receive_space();
    if (free >= rcv_.buffer / 2 || free < layer_->local_mss() ||
        free >= static_cast<std::uint32_t>(wire::seq_diff(rcv_.adv, rcv_.wup))) {
        send_ack(now);
    } else if (!delack_timer_.armed()) {
        layer_->timers().arm(delack_timer_, now + layer_->config().delayed_ack);
    }
}

} // namespace lanetcp::tcp
