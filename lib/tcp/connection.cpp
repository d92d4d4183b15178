// The control block's set-up: construction, the two ways to open (active,
// and passive from the syncache or a SYN cookie) and what the peer's SYN says.

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
    snd_.iss = snd_.una = snd_.nxt = snd_.max = snd_.sml = iss;
    // Until the handshake shows whether the peer scales, the buffer is what
    // the shift we offer can express; take_peer_options settles it.
    rcv_.wscale = opts_.window_scale ? window_scale_for(opts_.receive_buffer) : 0;
    size_receive_buffer();
    rtt_ = RttEstimator(cfg.min_rto, cfg.max_rto, cfg.initial_rto);
    snd_.mss = 536;
    ts_offset_ = timestamp_offset(iss);
    last_data_sent_ = layer.now(); // Linux starts lsndtime at the handshake
}

void Connection::set_receive_buffer(std::uint32_t bytes) noexcept {
    opts_.receive_buffer = bytes;
    // Shrinking is fine: the window already advertised stays (see rcv_.adv).
    size_receive_buffer();
    if (state_ == State::established || state_ == State::fin_wait_1 || state_ == State::fin_wait_2) consumed(0);
}

void Connection::open_active(TimeNs now) noexcept {
    state_ = State::syn_sent;
    layer_->counters().tcp_active_opens.add();
    send_syn(now);
}

void Connection::take_peer_syn(const InSegment& syn, TimeNs now) noexcept {
    rcv_.irs = syn.seq;
    rcv_.nxt = rcv_.wup = syn.seq + 1;
    take_peer_options(syn.options, now);
    ecn_take_syn(syn);
    // A SYN's window is never scaled (RFC 7323 2.2), ours neither: the
    // right edge the peer knows is what our SYN or SYN-ACK says.
    rcv_.adv = rcv_.nxt + std::min<std::uint32_t>(receive_space(), 65535);
    snd_.wnd = snd_.max_wnd = syn.window;
    snd_.wl1 = syn.seq;
}

void Connection::open_from_request(const InSegment& syn, Listener& l, std::uint32_t synack_retransmits,
                                   bool timed, TimeNs synack_sent, TimeNs now) noexcept {
    take_peer_syn(syn, now);
    listener_ = &l;
    state_ = State::syn_received;
    snd_.nxt = snd_.max = snd_.iss + 1; // the SYN-ACK went
    retransmits_ = backoff_ = synack_retransmits;
    if (timed) { // the handshake's RTT sample, as send_syn would have timed it
        rtt_timing_ = true;
        rtt_seq_ = snd_.iss + 1;
        rtt_start_ = synack_sent;
    } else {
        // A SYN-ACK went more than once (or as a cookie): the ACK may echo
        // the TSval of one sent long before the one it answers, so no echo
        // of a SYN-ACK times a round trip (Karn, as for resent data below).
        resent_timed_ = ts_ok_;
        last_resent_tsval_ = ts_value(now);
    }
    arm_rto(now);
}

void Connection::take_peer_options(const wire::TcpOptions& o, TimeNs now) noexcept {
    // Each extension is on only if both SYNs carry it (RFC 2018 2, RFC 7323
    // 2.2 and 3.2): the SYN-ACK offers only what the SYN did.
    sack_ok_ = opts_.sack && o.sack_permitted;
    wscale_ok_ = opts_.window_scale && o.window_scale.has_value();
    snd_.wscale = wscale_ok_ ? *o.window_scale : 0;
    if (!wscale_ok_) rcv_.wscale = 0;
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
    snd_.mss = std::max<std::uint16_t>(64, std::min(peer, layer_->local_mss()));
    if (ts_ok_) snd_.mss = static_cast<std::uint16_t>(snd_.mss - 12);
    // RFC 6928 initial window, RFC 5681 ssthresh "arbitrarily high".
    std::uint32_t initial = std::min(layer_->config().initial_cwnd * snd_.mss, std::max(2u * snd_.mss, 14600u));
    if (layer_->config().initial_cwnd > 10) initial = layer_->config().initial_cwnd * snd_.mss;
    cc_.init(opts_.congestion_control, snd_.mss, initial, now);
}

} // namespace lanetcp::tcp
