// The passive open's handshake while it is only a request entry or a SYN
// cookie (Linux's tcp_check_req and cookie_v4_check, FreeBSD's
// syncache_expand): SYN-ACK and its retransmission, the checks on what the
// peer sends meanwhile, and the Connection it becomes on the right ACK.
// What is sent and answered is what the control block did in SYN_RECEIVED.
#include <algorithm>

#include "tcp/tcp_layer.hpp"

namespace lanetcp::tcp {

namespace tf = wire::tcpflag;
using wire::seq_geq;
using wire::seq_gt;
using wire::seq_leq;

namespace {

std::uint32_t ts_clock(TimeNs now) noexcept { return static_cast<std::uint32_t>(now / kNsPerMs); }

// The shift we offer and the buffer it lets us advertise, as Connection::init
// and take_peer_options settle them.
std::uint8_t our_window_scale(const ConnectionOptions& o, bool peer_scales) noexcept {
    return o.window_scale && peer_scales ? window_scale_for(o.receive_buffer) : 0;
}
std::uint32_t receive_buffer(const ConnectionOptions& o, std::uint8_t shift) noexcept {
    return std::min<std::uint32_t>(o.receive_buffer, 65535u << shift);
}

// RFC 6298 2.1 and 5.5: the initial RTO, doubled per retransmission.
TimeNs synack_timeout(const TcpConfig& c, std::uint32_t retransmits) noexcept {
    return RttEstimator(c.min_rto, c.max_rto, c.initial_rto).backed_off(retransmits);
}

} // namespace

void TcpLayer::send_synack(const Listener& l, const SynAck& a) noexcept {
    OutSegment out;
    out.tuple = a.tuple;
    out.seq = a.iss;
    out.ack = a.irs + 1;
    out.flags = tf::syn | tf::ack;
    // ECE alone, on every SYN-ACK of an accepted ECN-setup SYN (Linux's
    // tcp_ecn_make_synack); never ECT on a SYN-ACK (RFC 3168 6.1.1).
    if (a.ecn) out.flags = out.flags | tf::ece;
    const std::uint8_t shift = our_window_scale(l.options, a.window_scale);
    out.options.mss = local_mss_;
    out.options.sack_permitted = a.sack;
    if (a.window_scale) out.options.window_scale = shift;
    if (a.timestamps) out.options.timestamps = wire::TcpTimestamps{a.ts_value, a.ts_echo};
    // Never scaled in a SYN (RFC 7323 2.2).
    out.window = static_cast<std::uint16_t>(std::min<std::uint32_t>(receive_buffer(l.options, shift), 65535));
    transmit(output_, out);
    counters_.tcp_tx_segments.add();
}

void TcpLayer::send_request_synack(const SynRequest& r, TimeNs now) noexcept {
    send_synack(*r.listener, SynAck{r.tuple, r.iss, r.irs, r.sack_ok, r.wscale_ok, r.ts_ok, r.ecn_ok,
                                    ts_clock(now) + timestamp_offset(r.iss), r.ts_recent});
    if (r.retransmits > 0) counters_.tcp_retransmitted_segments.add();
}

void TcpLayer::send_request_ack(const SynRequest& r, TimeNs now) noexcept {
    const ConnectionOptions& o = r.listener->options;
    const std::uint8_t shift = our_window_scale(o, r.wscale_ok);
    OutSegment out;
    out.tuple = r.tuple;
    out.seq = r.iss + 1;
    out.ack = r.irs + 1;
    out.flags = tf::ack;
    // As Connection::advertised_window: the whole buffer, in units of the shift.
    const std::uint32_t unit = 1u << shift;
    out.window = static_cast<std::uint16_t>(std::min<std::uint32_t>((receive_buffer(o, shift) + unit - 1) >> shift, 65535));
    if (r.ts_ok) out.options.timestamps = wire::TcpTimestamps{ts_clock(now) + timestamp_offset(r.iss), r.ts_recent};
    transmit(output_, out);
    counters_.tcp_tx_segments.add();
}

void TcpLayer::send_request_reset(const SynRequest& r) noexcept {
    OutSegment out;
    out.tuple = r.tuple;
    out.seq = r.iss + 1;
    out.ack = r.irs + 1;
    out.flags = tf::rst | tf::ack;
    transmit(output_, out);
    counters_.tcp_tx_segments.add();
    counters_.tcp_resets_sent.add();
}

void TcpLayer::drop_request(SynRequest& r) noexcept {
    timers_.cancel(r.timer);
    if (r.listener != nullptr) --r.listener->syn_received;
    r.listener = nullptr;
    syncache_.erase(r);
}

void TcpLayer::on_request_timer(SynRequest& r, TimeNs now) noexcept {
    if (r.retransmits >= config_.synack_retries) {
        // As the control block did: give up silently, no RST.
        counters_.tcp_connections_timed_out.add();
        return drop_request(r);
    }
    ++r.retransmits;
    counters_.tcp_timeouts.add();
    send_request_synack(r, now);
    timers_.arm(r.timer, now + synack_timeout(config_, r.retransmits));
}

void TcpLayer::input_request(SynRequest& r, InSegment& seg, TimeNs now) noexcept {
    // RFC 9293 3.10.7.4 in SYN_RECEIVED, in the order Connection::input
    // takes it; only the ACK that completes the handshake makes a control block.
    Listener& l = *r.listener;
    const SeqNum rcv_nxt = r.irs + 1;
    const auto* ts = r.ts_ok && seg.options.timestamps ? &*seg.options.timestamps : nullptr;
    // RFC 7323 5.3 R1: an old timestamp marks an old duplicate.
    if (!seg.flags.rst() && ts != nullptr && static_cast<std::int32_t>(r.ts_recent - ts->value) > 0) {
        counters_.drop(Drop::tcp_paws);
        seg.payload.release();
        return send_request_ack(r, now);
    }
    // The sequence number, against the window the SYN-ACK advertised.
    const std::uint32_t wnd = std::min<std::uint32_t>(
        receive_buffer(l.options, our_window_scale(l.options, r.wscale_ok)), 65535);
    if (!(seq_geq(seg.seq + seg.length(), rcv_nxt) && seq_leq(seg.seq, rcv_nxt + wnd))) {
        seg.payload.release();
        if (seg.flags.rst()) return;
        counters_.drop(Drop::tcp_out_of_window);
        return send_request_ack(r, now);
    }
    // RFC 7323 4.3: TS.Recent from a segment at the left edge.
    if (ts != nullptr && seq_leq(seg.seq, rcv_nxt) && static_cast<std::int32_t>(ts->value - r.ts_recent) >= 0)
        r.ts_recent = ts->value;
    if (seg.flags.rst()) {
        seg.payload.release();
        // RFC 5961 3.2: only an exact match resets (back to LISTEN: the entry goes).
        if (seg.seq == rcv_nxt) {
            counters_.tcp_resets_received.add();
            return drop_request(r);
        }
        if (challenge_ack_allowed(now)) send_request_ack(r, now);
        return;
    }
    if (seg.flags.syn()) {
        seg.payload.release();
        // The same SYN again: our SYN-ACK was lost. Any other: RFC 5961 4.2.
        if (seg.seq + 1 == rcv_nxt) {
            r.resent = true; // which of the SYN-ACKs the ACK answers, nobody knows
            return send_request_synack(r, now);
        }
        if (challenge_ack_allowed(now)) send_request_ack(r, now);
        return;
    }
    if (!seg.flags.ack()) {
        counters_.drop(Drop::tcp_bad_flags);
        return seg.payload.release();
    }
    // SND.UNA < SEG.ACK =< SND.NXT, i.e. exactly our SYN: else <SEQ=SEG.ACK><CTL=RST>
    // and the entry stays (RFC 9293 3.10.7.4, fifth check).
    if (seg.ack != r.iss + 1) {
        seg.payload.release();
        send_reset_for(seg);
        counters_.drop(Drop::tcp_bad_ack);
        return;
    }
    // The handshake is done: the SYN as the entry kept it.
    InSegment syn;
    syn.tuple = r.tuple;
    syn.seq = r.irs;
    syn.flags = tf::syn;
    syn.window = r.peer_window;
    if (r.peer_mss != 0) syn.options.mss = r.peer_mss;
    if (r.wscale_ok) syn.options.window_scale = r.peer_wscale;
    syn.options.sack_permitted = r.sack_ok;
    if (r.ts_ok) syn.options.timestamps = wire::TcpTimestamps{r.ts_recent, 0};
    if (r.ecn_ok) syn.flags = syn.flags | tf::ece | tf::cwr;
    const SeqNum iss = r.iss;
    const std::uint32_t retransmits = r.retransmits;
    const bool timed = retransmits == 0 && !r.resent;
    const TimeNs sent = r.synack_sent;
    // The entry's place in the backlog passes to the connection.
    timers_.cancel(r.timer);
    r.listener = nullptr;
    syncache_.erase(r);
    establish(l, syn, iss, retransmits, timed, sent, seg, now);
}

void TcpLayer::establish(Listener& l, const InSegment& syn, SeqNum iss, std::uint32_t synack_retransmits, bool timed,
                         TimeNs synack_sent, InSegment& ack, TimeNs now) noexcept {
    Connection* c = allocate();
    if (c == nullptr) {
        // No control block: the peer's next segment finds no request and
        // gets a RST (or, after an overflow, tries the cookie path again).
        --l.syn_received;
        counters_.drop(Drop::tcp_table_full);
        ack.payload.release();
        return;
    }
    c->init(*this, syn.tuple, iss, l.options);
    table_.insert(*c);
    c->open_from_request(syn, l, synack_retransmits, timed, synack_sent, now);
    c->input(ack, now);
    end_event(*c, now);
}

void TcpLayer::send_cookie(Listener& l, const InSegment& syn, TimeNs now) noexcept {
    // Linux's tcp_conn_request with want_cookie: the MSS class in the ISS,
    // the other options in the TSval; without timestamps they cannot be
    // kept, and the SYN-ACK offers none of them (so neither side uses them).
    const wire::TcpOptions& o = syn.options;
    const bool ts = l.options.timestamps && o.timestamps.has_value();
    SynAck a;
    a.tuple = syn.tuple;
    a.irs = syn.seq;
    a.iss = cookies_.make(syn.tuple, syn.seq, o.mss.value_or(536), now);
    a.timestamps = ts;
    a.sack = ts && l.options.sack && o.sack_permitted;
    a.window_scale = ts && l.options.window_scale && o.window_scale.has_value();
    // ECN too rides in the TSval (Linux's cookie_init_timestamp): without
    // timestamps a cookie connection goes without it.
    a.ecn = ts && ecn_accept_syn(l.options.ecn, syn);
    if (ts) {
        SynCookies::Options opt;
        opt.window_scale = a.window_scale;
        opt.send_window_scale = a.window_scale ? *o.window_scale : 0;
        opt.sack = a.sack;
        opt.ecn = a.ecn;
        a.ts_value = SynCookies::encode_timestamp(ts_clock(now), opt) + timestamp_offset(a.iss);
        a.ts_echo = o.timestamps->value;
    }
    l.cookies_sent = true;
    l.last_overflow = now;
    send_synack(l, a);
    counters_.tcp_syncookies_sent.add();
}

bool TcpLayer::input_cookie(Listener& l, InSegment& seg, TimeNs now) noexcept {
    // Only an ACK (data and FIN allowed), and only while cookies may be out.
    if (!config_.syncookies || !l.cookies_sent || seg.flags.syn() || seg.flags.rst() ||
        now - l.last_overflow >= SynCookies::kValidSlots * SynCookies::kSlot)
        return false;
    const SeqNum irs = seg.seq - 1;
    const SeqNum iss = seg.ack - 1;
    const auto mss = cookies_.check(seg.tuple, irs, iss, now);
    if (!mss) {
        // Forged, for another connection, or expired: as Linux, a RST.
        counters_.tcp_syncookies_failed.add();
        counters_.drop(Drop::tcp_bad_syncookie);
        seg.payload.release();
        send_reset_for(seg);
        return true;
    }
    InSegment syn;
    syn.tuple = seg.tuple;
    syn.seq = irs;
    syn.flags = tf::syn;
    syn.window = seg.window; // the SYN's is lost; the ACK's replaces it at once
    syn.options.mss = *mss;
    // Our TSval, echoed, less the connection's offset: the options' bits.
    const auto& ts = seg.options.timestamps;
    if (l.options.timestamps && ts && ts->echo_reply != 0) {
        const SynCookies::Options o = SynCookies::decode_timestamp(ts->echo_reply - timestamp_offset(iss));
        if (o.window_scale && l.options.window_scale) syn.options.window_scale = o.send_window_scale;
        syn.options.sack_permitted = o.sack && l.options.sack;
        // cookie_ecn_ok: the bit says the SYN asked and we agreed.
        if (o.ecn && l.options.ecn != EcnMode::off) syn.flags = syn.flags | tf::ece | tf::cwr;
        syn.options.timestamps = wire::TcpTimestamps{ts->value, 0};
    }
    counters_.tcp_syncookies_accepted.add();
    counters_.tcp_passive_opens.add();
    ++l.syn_received; // given back as the connection reaches ESTABLISHED
    // No RTT sample from the handshake: when the SYN-ACK went is not kept.
    establish(l, syn, iss, 0, false, 0, seg, now);
    return true;
}

} // namespace lanetcp::tcp
