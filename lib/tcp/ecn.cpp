// ECN (RFC 3168) in the control block: the handshake's agreement, the marks
// on what we send, CE and CWR from the peer, and the reduction an ECE asks
// for. The rules and their reasons: ecn.hpp.

#include "tcp/connection.hpp"

#include "tcp/tcp_layer.hpp"

namespace lanetcp::tcp {

using wire::seq_leq;
namespace tf = wire::tcpflag;

void Connection::ecn_take_syn(const InSegment& syn) noexcept {
    if (state_ == State::syn_sent) {
        // Our SYN asked. A SYN-ACK agrees with ECE and without CWR (a peer
        // that merely reflects the flags sets both: tcp_ecn_rcv_synack); a
        // crossing SYN agrees as an ECN-setup SYN (tcp_ecn_rcv_syn).
        const bool agreed = syn.flags.ack() ? ecn_setup_synack(syn.flags) : ecn_setup_syn(syn.flags);
        ecn_.ok = ecn_.requested && agreed;
    } else {
        // Passive: the syncache or the cookie has decided, and the SYN it
        // hands over asks for ECN only if the connection is to have it.
        ecn_.ok = ecn_accept_syn(opts_.ecn, syn);
    }
    // No episode yet: a CWR is owed only after a reduction (ecn_mark).
    ecn_.cwr_episode = rec_.recover;
    if (ecn_.ok) layer_->counters().tcp_ecn_negotiated.add();
}

void Connection::ecn_mark_syn(OutSegment& out) noexcept {
    if (out.flags.ack()) {
        // SYN-ACK: ECE alone, if we agreed (tcp_ecn_send_synack).
        if (ecn_.ok) out.flags = out.flags | tf::ece;
        return;
    }
    // SYN: an ECN-setup SYN on the first transmission only. RFC 3168
    // 6.1.1.1: a resent SYN goes without, in case ECE|CWR is what a
    // middlebox drops (Linux's tcp_ecn_clear_syn, tcp_ecn_fallback = 1). A
    // SYN-ACK that still agrees, to the first SYN, is taken.
    if (retransmits_ == 0) ecn_.requested = opts_.ecn == EcnMode::request;
    if (ecn_.requested && retransmits_ == 0) out.flags = out.flags | tf::ece | tf::cwr;
}

void Connection::ecn_mark_agreed(OutSegment& out, bool new_data) noexcept {
    Counters& c = layer_->counters();
    // 6.1.3: ECE on every segment until the peer's CWR (as Linux, not only
    // on pure ACKs: data carries the echo too).
    if (ecn_.demand_cwr) {
        out.flags = out.flags | tf::ece;
        c.tcp_ecn_ece_sent.add();
    }
    // 6.1.5 and 6.1.6: only new data is ECN-capable; a retransmission, a
    // pure ACK, a FIN alone, a RST or a probe is not (a lost one would
    // otherwise be marked where it should be dropped, and a pure ACK's CE
    // could not be answered).
    if (!new_data) return;
    out.tos = static_cast<std::uint8_t>((out.tos & ~wire::ecn::mask) | wire::ecn::ect0);
    // 6.1.2: after any reduction (a loss episode began since the last CWR,
    // or an ECE was heeded), CWR on the first new data segment.
    if (rec_.recover != ecn_.cwr_episode) {
        ecn_.cwr_episode = rec_.recover;
        ecn_.queue_cwr = true;
    }
    if (ecn_.queue_cwr) {
        ecn_.queue_cwr = false;
        out.flags = out.flags | tf::cwr;
        c.tcp_ecn_cwr_sent.add();
    }
}

void Connection::ecn_input_agreed(const InSegment& seg) noexcept {
    Counters& c = layer_->counters();
    // 6.1.3: the sender reduced; stop echoing. Data with CWR is answered at
    // once: the sender's window may be down to a segment (tcp_ecn_accept_cwr).
    if (seg.flags.cwr()) {
        c.tcp_ecn_cwr_received.add();
        ecn_.demand_cwr = false;
        if (seg.payload.length > 0) rcv_.ack_due = AckDue::now;
    }
    // 6.1.3: a CE on data (pure ACKs are never ECT) starts the echo. The
    // first CE is answered at once, so the sender hears of it within an RTT
    // (Linux's quick ACK on a CE).
    if (seg.payload.length > 0 && seg.ecn == wire::ecn::ce) {
        c.tcp_ecn_ce_received.add();
        if (!ecn_.demand_cwr) {
            ecn_.demand_cwr = true;
            rcv_.ack_due = AckDue::now;
        }
    }
}

void Connection::ecn_on_ece(TimeNs now) noexcept {
    layer_->counters().tcp_ecn_ece_received.add();
    // 6.1.2: at most once per window of data: not again until an ACK
    // passes what was sent before this reduction. The receiver echoes until
    // our CWR, sent after it, reaches it, so every ACK up to and including
    // that edge may still carry ECE (Linux holds its CWR state until
    // something above high_seq is acknowledged, for the same reason).
    if (ecn_.reduced && seq_leq(snd_.una, ecn_.reduced_until)) return;
    ecn_.reduced = true;
    ecn_.reduced_until = snd_.max;
    ecn_.queue_cwr = true;
    // In fast recovery or after a timeout the loss has reduced the window
    // for this round already (Linux's CWR state ranks below both); the CWR
    // tells the receiver to stop echoing.
    if (rec_.phase != Phase::open) return;
    cc_.on_ece(flight_size(), now);
    layer_->counters().tcp_ecn_reductions.add();
    trace(now, TraceEvent::ece);
}

} // namespace lanetcp::tcp
