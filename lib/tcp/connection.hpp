// A TCP connection: the control block of RFC 9293 3.3.1 and the state
// machine that drives it. It is moved only by "segment arrived at time t"
// (input), "timer fired at time t" (on_timer) and the application's calls;
// what it sends goes to transmit() (platform.hpp). No DPDK, no allocation.
#pragma once

#include <boost/intrusive/list_hook.hpp>
#include <boost/intrusive/unordered_set_hook.hpp>
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

#include "tcp/cc/congestion.hpp"
#include "tcp/cc_trace.hpp"
#include "tcp/chunk.hpp"
#include "tcp/ecn.hpp"
#include "tcp/rack.hpp"
#include "tcp/rate_limit.hpp"
#include "tcp/reassembly.hpp"
#include "tcp/sack_scoreboard.hpp"
#include "tcp/rtt.hpp"
#include "tcp/segment.hpp"
#include "tcp/send_queue.hpp"
#include "tcp/tcp_config.hpp"
#include "tcp/tcp_memory.hpp"
#include "tcp/timer_kinds.hpp"
#include "timer/timer_wheel.hpp"
#include "util/counter.hpp"

namespace lanetcp::tcp {

class TcpLayer;
class Connection;
struct Listener;

enum class State : std::uint8_t {
    closed,
    listen,
    syn_sent,
    syn_received,
    established,
    fin_wait_1,
    fin_wait_2,
    close_wait,
    closing,
    last_ack,
    time_wait,
};

const char* to_string(State s) noexcept;

// What the application hears. Every callback runs with the connection in a
// consistent state and may call send(), shutdown(), close() or abort().
// After on_closed the connection is gone: drop every reference to it.
struct ConnectionHandler {
    void (*on_established)(Connection&, void* user) = nullptr; // active open done
    void (*on_data)(Connection&, Chunk data, void* user) = nullptr; // owns `data`; call consumed() when done
    void (*on_peer_fin)(Connection&, void* user) = nullptr;    // the peer will send nothing more
    void (*on_writable)(Connection&, void* user) = nullptr;    // acknowledged data made send space
    void (*on_closed)(Connection&, int error, void* user) = nullptr; // 0, ECONNRESET, ECONNREFUSED, ETIMEDOUT
};

class Connection {
public:
    using TableHook = boost::intrusive::unordered_set_member_hook<>;
    using ListHook = boost::intrusive::list_member_hook<>;

    Connection() noexcept;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // ---- application calls ----

    // Queues `data` (ownership passes on success) and sends what the windows
    // allow. Returns 0, -EAGAIN when the send buffer is full, -EPIPE after
    // shutdown/close or on a connection that cannot send any more, -ENOBUFS
    // when the lcore's chunk pool is exhausted. On error `data` stays the caller's.
    int send(Chunk data) noexcept;
    // Bytes send() would accept now.
    std::uint32_t send_space() const noexcept;
    // The application is done with `n` received bytes: the window reopens.
    void consumed(std::uint32_t n) noexcept;
    // Half-close: FIN after what is queued.
    void shutdown() noexcept;
    // FIN after what is queued; no more callbacks, not even on_closed: the
    // connection is the stack's from here on (it finishes the FIN exchange
    // and TIME_WAIT on its own). Data that arrives afterwards is answered
    // with RST, as Linux does.
    void close() noexcept;
    // RST now, drop everything; no further callbacks.
    void abort() noexcept;

    void set_handler(const ConnectionHandler* handler, void* user) noexcept {
        handler_ = handler;
        user_ = user;
    }
    void set_nodelay(bool on) noexcept { opts_.nodelay = on; }
    // Bytes send() may queue. Takes effect at once.
    void set_send_buffer(std::uint32_t bytes) noexcept { opts_.send_buffer = bytes; }
    // The receive window's size. It may grow up to what the window scale
    // agreed in the handshake can express (64 KB without scaling); it never
    // takes back window already advertised (RFC 9293 3.8.6.2.2).
    void set_receive_buffer(std::uint32_t bytes) noexcept;
    // Keepalive (RFC 9293 3.8.4), off unless asked for: after `idle` with
    // nothing received, a probe every `interval`; after `count` unanswered
    // probes the connection is reset and ends with ETIMEDOUT. Linux's
    // defaults: 7200 s, 75 s, 9.
    void set_keepalive(bool on, TimeNs idle = 7200 * kNsPerSec, TimeNs interval = 75 * kNsPerSec,
                       std::uint32_t count = 9) noexcept;
    // TCP_USER_TIMEOUT (RFC 5482, as Linux): data sent and unacknowledged
    // for `timeout`, whether retransmitted or held by a zero window whose
    // probes are answered, or keepalive probes unanswered for `timeout` since
    // the peer was last heard, end the connection with ETIMEDOUT. It replaces
    // retries2 and the keepalive count. 0: off.
    void set_user_timeout(TimeNs timeout) noexcept { opts_.user_timeout = timeout; }
    // Congestion control from now on (Linux's TCP_CONGESTION), at any time:
    // the new module starts from the current cwnd and ssthresh. 0, or
    // -EINVAL for a value outside cc::Algorithm.
    int set_congestion_control(cc::Algorithm a) noexcept;

    // ---- inspection ----
    State state() const noexcept { return state_; }
    const FourTuple& tuple() const noexcept { return tuple_; }
    std::uint16_t mss() const noexcept { return snd_.mss; }
    std::uint32_t cwnd() const noexcept { return cc_.cwnd(); }
    std::uint32_t ssthresh() const noexcept { return cc_.ssthresh(); }
    cc::Algorithm congestion_control() const noexcept { return cc_.algorithm(); }
    // Linux's congestion states: open, in fast recovery, after a timeout.
    enum class Phase : std::uint8_t { open, recovery, loss };
    Phase phase() const noexcept { return rec_.phase; }
    std::uint32_t send_window() const noexcept { return snd_.wnd; }
    std::uint32_t receive_window() const noexcept { return rcv_wnd(); }
    // The memory this connection's received and queued data pins (truesize).
    std::uint32_t receive_memory() const noexcept { return rcv_mem(); }
    std::uint32_t send_memory() const noexcept { return send_queue_.mem(); }
    const ConnectionOptions& options() const noexcept { return opts_; }
    // What the handshake agreed (RFC 7323, RFC 2018).
    bool window_scaling() const noexcept { return wscale_ok_; }
    std::uint8_t send_window_scale() const noexcept { return snd_.wscale; }
    std::uint8_t receive_window_scale() const noexcept { return rcv_.wscale; }
    bool timestamps() const noexcept { return ts_ok_; }
    bool sack() const noexcept { return sack_ok_; }
    // ECN (RFC 3168, ecn.hpp): agreed in the handshake; and whether we are
    // echoing a CE (ECE on what we send until the peer's CWR).
    bool ecn() const noexcept { return ecn_.ok; }
    bool ecn_echoing() const noexcept { return ecn_.demand_cwr; }
    // Sent from SND.UNA up to SND.NXT (after a timeout, SND.NXT walks back).
    std::uint32_t bytes_in_flight() const noexcept {
        return static_cast<std::uint32_t>(wire::seq_diff(snd_.nxt, snd_.una));
    }
    // RFC 5681's FlightSize: sent and not cumulatively acknowledged, up to SND.MAX.
    std::uint32_t flight_size() const noexcept {
        return static_cast<std::uint32_t>(wire::seq_diff(snd_.max, snd_.una));
    }
    // What is still in the network: in flight and not SACKed (the congestion
    // window's measure; RFC 6675's pipe without the retransmissions).
    std::uint32_t in_network() const noexcept { return bytes_in_flight() - scoreboard_.sacked_below(snd_.nxt); }
    // Data bytes sent and not acknowledged, up to SND.MAX, the FIN left out:
    // what a timeout or a loss probe may send again.
    std::uint32_t unacked_data() const noexcept {
        const SeqNum sent_end = wire::seq_min(send_queue_end(), snd_.max);
        return wire::seq_gt(sent_end, snd_.una) ? static_cast<std::uint32_t>(wire::seq_diff(sent_end, snd_.una)) : 0;
    }
    std::uint32_t unsent_bytes() const noexcept;
    // Queued and never sent: beyond SND.MAX.
    std::uint32_t unsent_after_max() const noexcept;
    std::uint32_t retransmissions() const noexcept { return retransmits_; }
    TimeNs rto() const noexcept { return rtt_.backed_off(backoff_); }
    const RttEstimator& rtt() const noexcept { return rtt_; }
    SeqNum snd_una() const noexcept { return snd_.una; }
    SeqNum snd_nxt() const noexcept { return snd_.nxt; }
    SeqNum snd_max() const noexcept { return snd_.max; }
    SeqNum rcv_nxt() const noexcept { return rcv_.nxt; }
    SeqNum iss() const noexcept { return snd_.iss; }
    SeqNum irs() const noexcept { return rcv_.irs; }
    bool retransmit_timer_armed() const noexcept { return rtx_timer_.armed(); }
    bool delayed_ack_armed() const noexcept { return delack_timer_.armed(); }
    bool persist_timer_armed() const noexcept { return persist_timer_.armed(); }
    TimeNs retransmit_deadline() const noexcept { return rtx_timer_.deadline(); }
    void* user() const noexcept { return user_; }
    // Closed by the application and not yet freed or in TIME_WAIT.
    bool orphan() const noexcept { return orphan_; }
    // One line: addresses, state, sequence numbers relative to ISS/IRS,
    // windows, congestion state and armed timers (describe.cpp).
    std::string describe(TimeNs now) const;

private:
    friend class TcpLayer;
    struct TupleOf;


    // Events gathered while a segment or timer is processed and delivered to
    // the application once the state is consistent again.
    struct Pending {
        Chunk data{};
        int error = 0;
        bool established = false;
        bool accepted = false;     // passive open: the listener's on_accept first
        bool peer_fin = false;
        bool writable = false;
        bool closed = false;
    };

    // ---- set-up (TcpLayer) ----
    void init(TcpLayer& layer, const FourTuple& tuple, SeqNum iss, const ConnectionOptions& options) noexcept;
    void open_active(TimeNs now) noexcept;                              // CLOSED -> SYN_SENT
    // LISTEN -> SYN_RECEIVED for a handshake the syncache ran or a SYN cookie
    // carried: the SYN-ACK is out already, `synack_retransmits` times resent;
    // `timed`: its RTT is measured from `synack_sent`.
    void open_from_request(const InSegment& syn, Listener& l, std::uint32_t synack_retransmits, bool timed,
                           TimeNs synack_sent, TimeNs now) noexcept;

    // ---- input, RFC 9293 3.10.7 ----
    void input(InSegment& seg, TimeNs now) noexcept;
    void input_syn_sent(InSegment& seg, TimeNs now) noexcept;
    bool acceptable(const InSegment& seg) const noexcept;
    bool trim_to_window(InSegment& seg) noexcept;
    void input_rst(const InSegment& seg) noexcept;
    bool input_ack(const InSegment& seg, TimeNs now) noexcept;
    void input_data(InSegment& seg, TimeNs now) noexcept;
    void input_fin(TimeNs now) noexcept;
    // What one ACK told, for loss recovery and congestion control.
    struct AckInfo {
        SeqNum prior_una{};
        SeqNum prior_nxt{};             // SND.NXT before it: below, data sent again after a timeout
        SeqNum fack{};                  // the highest byte delivered before this ACK
        std::uint32_t prior_flight = 0; // flight_size() before it
        std::uint32_t sacked_before = 0;
        std::uint32_t acked = 0;        // data bytes newly acknowledged cumulatively
        std::uint32_t ts_echo = 0;      // TSecr, 0: none
        TimeNs rtt = 0;                 // the RTT sample this ACK gave, 0: none
        // Newly delivered: by the cumulative ACK (less what was SACKed
        // before), then by the SACK blocks (less what they reported before).
        std::array<wire::SackBlock, 2 * wire::kTcpMaxSackBlocks> fresh{};
        std::uint8_t fresh_count = 0;
        bool duplicate = false;         // without SACK: RFC 5681's duplicate ACK
        bool dsack = false;             // the first block reports a duplicate (RFC 2883)
        bool ece = false;               // ECN is on and the ACK echoes a CE (RFC 3168 6.1.2)
        wire::SackBlock dsack_block{};
    };
    // SND.UNA moves to `ack`: the queue's front goes, RTT is sampled; fills
    // `a.acked` and `a.rtt`.
    void on_new_ack(SeqNum ack, TimeNs now, AckInfo& a) noexcept;
    bool paws_reject(const InSegment& seg, TimeNs now) const noexcept;
    void update_ts_recent(const InSegment& seg, TimeNs now) noexcept;
    std::uint32_t ts_value(TimeNs now) const noexcept {
        return static_cast<std::uint32_t>(now / kNsPerMs) + ts_offset_;
    }
    void challenge_ack(TimeNs now) noexcept;
    // ---- loss recovery and congestion control (recovery.cpp) ----
    void ack_recovery(const AckInfo& a, TimeNs now) noexcept;
    void newreno_ack(const AckInfo& a, std::uint32_t delivered, TimeNs now) noexcept; // without SACK: RFC 6582
    // An episode: fast recovery, or going back after a timeout (loss).
    void begin_episode(Phase phase) noexcept;
    void enter_recovery(TimeNs now) noexcept;
    void end_episode(TimeNs now) noexcept;
    // The episode is over, ended or undone: open, nothing lost, RACK told,
    // the timer a loss probe again.
    void back_to_open(TimeNs now) noexcept;
    void undo(Counter& reason, TimeNs now) noexcept; // the reduction was needless
    bool spurious_by_timestamps(std::uint32_t ts_echo) const noexcept; // Eifel, RFC 3522
    void take_dsack(const AckInfo& a, TimeNs now) noexcept;
    // RACK's verdict now: the lost bytes (rec_.lost) and the reordering timer.
    void detect_losses(TimeNs now) noexcept;
    void prr_update(std::uint32_t delivered, bool slow_start_ok) noexcept;
    // What the congestion-control module hears of this ACK.
    cc::AckEvent ack_event(const AckInfo& a, std::uint32_t delivered, TimeNs now) const noexcept;
    void retransmit_lost(TimeNs now) noexcept;
    void on_reorder_timer(TimeNs now) noexcept;
    TimeNs reo_wnd() const noexcept;
    // Bytes in the network for the congestion window: in flight, not SACKed
    // and not known lost (RFC 6675's pipe; Linux's tcp_packets_in_flight).
    std::uint32_t pipe() const noexcept {
        const std::uint32_t n = in_network();
        return n > rec_.lost ? n - rec_.lost : 0;
    }
    // Records a transmission of [seq, seq + len) for RACK and PRR.
    void note_sent(SeqNum seq, std::uint32_t len, TimeNs now) noexcept;
    // Where RACK looks for losses: all that was sent; after a timeout only
    // what was sent again (push() goes over the rest from SND.NXT anyway).
    SeqNum loss_scan_end() const noexcept { return rec_.phase == Phase::loss ? snd_.nxt : snd_.max; }
    // F-RTO's steps on an ACK after a timeout; true: the timeout was
    // spurious and is undone.
    bool frto_ack(const AckInfo& a, TimeNs now) noexcept;
    void take_peer_options(const wire::TcpOptions& o, TimeNs now) noexcept;
    // One row in the lcore's congestion trace (cc_trace.hpp) when it is on;
    // otherwise one branch. Inline in tcp_layer.hpp.
    void trace(TimeNs now, TraceEvent e) noexcept;
    void record_trace(CcTrace& t, TimeNs now, TraceEvent e) const noexcept; // cc_trace.cpp
    void take_peer_syn(const InSegment& syn, TimeNs now) noexcept; // IRS, RCV.NXT, options, window

    // ---- ECN, RFC 3168 (ecn.cpp) ----
    void ecn_take_syn(const InSegment& syn) noexcept;   // the peer's SYN or SYN-ACK: agreed?
    void ecn_mark_syn(OutSegment& out) noexcept;        // ECE|CWR on our SYN, ECE on our SYN-ACK
    // ECE while echoing a CE; on new data, ECT(0) and a queued CWR. Inline
    // test: a connection without ECN pays one branch per segment.
    void ecn_mark(OutSegment& out, bool new_data) noexcept {
        if (ecn_.ok) ecn_mark_agreed(out, new_data);
    }
    void ecn_mark_agreed(OutSegment& out, bool new_data) noexcept;
    void ecn_input(const InSegment& seg) noexcept {     // receiver: CE and CWR
        if (ecn_.ok) ecn_input_agreed(seg);
    }
    void ecn_input_agreed(const InSegment& seg) noexcept;
    void ecn_on_ece(TimeNs now) noexcept;               // sender: an ACK with ECE

    // ---- output (tcp_push_one / tcp_write_xmit) ----
    void push(TimeNs now) noexcept;
    bool send_test(std::uint32_t len, std::uint32_t unsent, std::uint32_t room) const noexcept;
    // Sends up to `len` bytes at `seq`, fewer if the options this segment
    // carries leave less room; returns how many went.
    std::uint32_t transmit_data(SeqNum seq, std::uint32_t len, TimeNs now) noexcept;
    // Payload room in the next segment: SND.MSS less the SACK blocks the
    // receive side is reporting (Linux's tcp_current_mss).
    std::uint32_t segment_room() const noexcept;
    void fill_options(wire::TcpOptions& o, TimeNs now) noexcept;
    void send_control(TcpFlags flags, SeqNum seq, TimeNs now) noexcept;
    void send_ack(TimeNs now) noexcept;
    void send_rst_for(const InSegment& seg) noexcept;
    void send_syn(TimeNs now) noexcept;
    void send_fin_if_due(TimeNs now) noexcept;
    std::uint16_t advertised_window() noexcept;
    std::uint32_t scaled_window(const InSegment& seg) const noexcept {
        return seg.flags.syn() ? seg.window : static_cast<std::uint32_t>(seg.window) << snd_.wscale;
    }
    void fill_common(OutSegment& out, TimeNs now) noexcept;
    void arm_rto(TimeNs now) noexcept;
    void arm_retransmission(TimeNs now) noexcept; // RTO, or a loss probe's PTO
    // RFC 8985 7.2: open, SACK, an RTT sample, no backoff, no probe out
    // (inline in tcp_layer.hpp).
    bool may_probe() const noexcept;
    void send_loss_probe(TimeNs now) noexcept;
    void ack_scheduling(std::uint32_t len, TimeNs now) noexcept; // after `len` new bytes in order
    void send_due_ack(TimeNs now) noexcept;                      // at the event's end, as rcv_.ack_due says

    // ---- giving up: orphans, user timeout (give_up.cpp) ----
    void become_orphan() noexcept;
    void leave_orphans() noexcept;
    std::uint32_t orphan_retries(bool alive) const noexcept;
    // Resets (or just frees) an orphan when the lcore has too many; true if so.
    bool orphan_out_of_resources(bool do_reset, TimeNs now) noexcept;
    // `when` from now, but no later than `since` + the user timeout.
    TimeNs clamp_to_user_timeout(TimeNs since, TimeNs when, TimeNs now) const noexcept;
    void clamp_rto_to_user_timeout(TimeNs now) noexcept; // after a timeout, from rtx_stamp_
    // Whether to answer an invalid segment with an ACK (rate_limit.cpp);
    // counts in `skipped` the answers not sent.
    bool answer_invalid(const InSegment& seg, TimeNs now, Counter& skipped) noexcept;

    // ---- timers ----
    void on_timer(std::uint8_t kind, TimeNs now) noexcept;
    void on_retransmit_timer(TimeNs now) noexcept;
    void on_persist_timer(TimeNs now) noexcept;
    void on_keepalive_timer(TimeNs now) noexcept;
    void enter_time_wait(TimeNs now) noexcept;

    // ---- application delivery and teardown ----
    void dispatch(TimeNs now) noexcept;
    void fail(int error) noexcept;   // the connection is over: tell the app, free after dispatch
    void finish() noexcept;          // closed cleanly from the app's point of view
    void abort_in_event() noexcept;  // RST and free, from inside an event
    void hold(SeqNum seq, Chunk data, bool fin) noexcept;
    void note_duplicate(SeqNum seq, std::uint32_t len) noexcept; // D-SACK, RFC 2883
    void fill_sack_blocks(wire::TcpOptions& o) const noexcept;
    bool held_block(SeqNum seq, wire::SackBlock& block) const noexcept; // the held block holding `seq`
    void remember_held(SeqNum seq) noexcept;
    void discard_ready() noexcept;
    void release_receive_state() noexcept; // the connection is being freed
    static constexpr std::uint32_t kMaxHeldSegments = 256;
    void discard_undelivered(Chunk& data) noexcept;
    bool our_fin_acked() const noexcept { return snd_.fin_sent && wire::seq_geq(snd_.una, snd_.fin_seq + 1); }
    // Sequence number of the first byte in the send queue: the SYN takes
    // the one before it until acknowledged. (Not a comparison of SND.UNA
    // with the ISS, which flips sign after 2 GiB.)
    SeqNum send_queue_start() const noexcept { return snd_.syn_acked ? snd_.una : snd_.iss + 1; }
    // The sequence number after the last queued byte (where our FIN goes).
    SeqNum send_queue_end() const noexcept { return send_queue_start() + send_queue_.size(); }
    // RCV.WND as last advertised: from RCV.NXT to the right edge, never negative.
    std::uint32_t rcv_wnd() const noexcept {
        const std::int32_t w = wire::seq_diff(rcv_.adv, rcv_.nxt);
        return w > 0 ? static_cast<std::uint32_t>(w) : 0;
    }
    // Receive buffer not held by data the application has not consumed.
    // The buffer asked for, as far as the window field and shift can say.
    void size_receive_buffer() noexcept {
        rcv_.buffer = std::min<std::uint32_t>(opts_.receive_buffer, 65535u << rcv_.wscale);
    }
    // Receive buffer not yet taken, by bytes and by memory: memory left,
    // halved as the limit was doubled, so full-sized segments see the buffer
    // they asked for and tiny ones a window that shrinks as fast as their
    // memory grows (Linux's tcp_space / tcp_win_from_space). Under lcore
    // memory pressure every window is clamped to a few segments (Linux's
    // tcp_clamp_window under tcp_memory_pressure).
    std::uint32_t receive_space() const noexcept {
        const std::uint32_t by_bytes = rcv_.buffer > rcv_.unconsumed ? rcv_.buffer - rcv_.unconsumed : 0;
        const std::uint32_t mem = rcv_mem();
        const std::uint32_t by_mem = mem < rcv_mem_limit() ? (rcv_mem_limit() - mem) / 2 : 0;
        const std::uint32_t space = std::min(by_bytes, by_mem);
        return memory_->under_pressure() ? std::min(space, pressure_window_) : space;
    }

    // ---- memory (receive_memory.cpp; Linux's tcp_try_rmem_schedule) ----
    // What received data pins: delivered and not consumed, and held out of order.
    std::uint32_t rcv_mem() const noexcept { return rcv_.unconsumed_mem + reassembly_.mem(); }
    // Linux's sk_rcvbuf next to the window (tcp_adv_win_scale 1): twice the
    // buffer, so that full-sized segments in their mbufs fit the window.
    std::uint32_t rcv_mem_limit() const noexcept { return 2 * rcv_.buffer; }
    std::uint32_t snd_mem_limit() const noexcept { return 2 * opts_.send_buffer; }
    // All this connection pins, and the part the lcore's total does not show yet.
    std::uint32_t mem() const noexcept { return rcv_mem() + send_queue_.mem(); }
    std::int64_t mem_unsynced() const noexcept { return std::int64_t{mem()} - mem_charged_; }
    bool rcv_mem_fits(std::uint32_t charge) const noexcept;
    // Room for `data` arriving at `seq`: copies small segments into compact
    // buffers, collapses and prunes the out-of-order queue. False: drop it.
    // Inline: the common case (a quarter of the limit not reached, no lcore
    // pressure) is two comparisons.
    bool admit(SeqNum seq, Chunk& data) noexcept {
        if (!memory_->under_pressure() && rcv_mem() + data.charge() <= rcv_mem_limit() / 4) return true;
        return admit_under_pressure(seq, data);
    }
    bool admit_under_pressure(SeqNum seq, Chunk& data) noexcept;
    void compact(Chunk& c) noexcept;

    TcpLayer* layer_ = nullptr;
    FourTuple tuple_{};
    State state_ = State::closed;

    // What ACK the end of the event owes (ReceiveState::ack_due).
    enum class AckDue : std::uint8_t { no, if_window_keeps_up, now };

    // Send sequence space (RFC 9293 3.3.1), as Seastar's tcb::_snd.
    struct SendState {
        // max is the highest sequence number ever sent: after a timeout nxt
        // goes back to una, and ACKs up to max stay acceptable.
        SeqNum iss{}, una{}, nxt{}, max{};
        SeqNum wl1{}, wl2{};     // segment seq and ack of the last window update
        SeqNum sml{};            // end of the last partial segment sent (Nagle, Minshall)
        SeqNum fin_seq{};        // sequence number our FIN occupies
        std::uint32_t wnd = 0;
        std::uint32_t max_wnd = 0;
        std::uint16_t mss = 536; // RFC 9293 3.7.1 default until the peer says
        std::uint8_t wscale = 0; // the peer's shift (RFC 7323 2): applied to windows it sends
        bool syn_acked = false;
        bool fin_queued = false; // shutdown() called
        bool fin_sent = false;
    };
    // Receive sequence space, as Seastar's tcb::_rcv.
    struct ReceiveState {
        SeqNum irs{}, nxt{};
        SeqNum adv{};                     // right edge of the window we last advertised
        SeqNum wup{};                     // RCV.NXT when we last advertised it (Linux's rcv_wup)
        std::uint32_t unconsumed = 0;     // delivered, not yet consumed by the app
        std::uint32_t unconsumed_mem = 0; // the memory those bytes pin (truesize)
        std::uint32_t buffer = 65535;     // the window asked for, as the shift can say it
        std::uint8_t wscale = 0;          // our shift (RFC 7323 2): applied to windows we send
        // The peer's full segment size as its segments show it (Linux's
        // icsk_ack.rcv_mss): the largest yet, never above our MSS, 536
        // (TCP_MSS_DEFAULT) until a larger one comes.
        std::uint16_t mss = 536;
        // An ACK owed, sent at the end of the event unless data carries it:
        // at once, or (more than one full segment unacknowledged) if the
        // window keeps up (send_due_ack).
        AckDue ack_due = AckDue::no;
        // D-SACK (RFC 2883): a duplicate to report in the next ACK's first block.
        bool dsack_pending = false;
        wire::SackBlock dsack{};
    };

    SendState snd_;
    SendQueue send_queue_;
    ReceiveState rcv_;
    std::int64_t mem_charged_ = 0; // mem() as last added to the lcore's TcpMemory
    const TcpMemory* memory_ = &kNoMemoryBound; // the lcore's (TcpLayer::memory())
    std::uint32_t pressure_window_ = 0;         // receive_space() under pressure: four segments
    static const TcpMemory kNoMemoryBound;      // before init(): never under pressure
    ConnectionOptions opts_{};

    bool wscale_ok_ = false; // window scaling agreed (RFC 7323 2)

    // Timestamps (RFC 7323 3-5). TSval is a millisecond clock with a
    // per-connection offset, so that it says nothing about uptime.
    bool ts_ok_ = false;
    std::uint32_t ts_offset_ = 0;
    std::uint32_t ts_recent_ = 0;
    TimeNs ts_recent_stamp_ = 0;  // when ts_recent_ was taken, for PAWS's 24-day rule

    // Congestion control: the module owns cwnd and ssthresh (lib/tcp/cc).
    cc::CongestionControl cc_;
    // Loss recovery (recovery.cpp).
    struct RecoveryState {
        Phase phase = Phase::open;
        std::uint8_t dupacks = 0;        // without SACK: RFC 5681's count
        bool undo_possible = false;      // the episode's reduction may still be undone
        SeqNum recover{};                // SND.MAX when the episode began (RFC 6582)
        std::uint32_t lost = 0;          // un-SACKed bytes RACK holds lost, not resent since
        // Proportional Rate Reduction (RFC 6937).
        std::uint32_t recover_fs = 0;    // FlightSize when recovery began
        std::uint32_t prr_delivered = 0; // delivered to the peer since
        std::uint32_t prr_out = 0;       // sent since
        // Undo (RFC 3708 by D-SACK, RFC 3522 by timestamps).
        SeqNum undo_marker{};            // SND.UNA when the episode began
        std::int32_t undo_retrans = 0;   // retransmissions no D-SACK has shown spurious yet
        std::uint32_t retrans_tsval = 0; // our TSval on the episode's first retransmission
        bool retrans_timed = false;      // retrans_tsval is set
        // F-RTO (RFC 5682 3): after a timeout, new data instead of going back,
        // to see whether the originals were only late.
        enum class Frto : std::uint8_t { off, after_rto, new_data_sent } frto = Frto::off;
        SeqNum frto_high{}; // SND.MAX at the timeout
        SeqNum frto_mark{}; // how far the data was sent again when the new data went
    } rec_;
    Rack rack_;                          // RACK (RFC 8985 6): what was sent when
    EcnState ecn_;                       // ECN (RFC 3168, ecn.hpp)

    // RTT (RFC 6298) and retransmission.
    RttEstimator rtt_;
    std::uint32_t last_resent_tsval_ = 0; // our TSval on the latest retransmission
    bool resent_timed_ = false;           // last_resent_tsval_ is set
    bool rtt_timing_ = false;
    SeqNum rtt_seq_{};
    TimeNs rtt_start_ = 0;
    std::uint32_t retransmits_ = 0; // consecutive timeouts, for giving up
    std::uint32_t total_retrans_ = 0; // segments retransmitted over the connection's life (the trace's)
    std::uint32_t backoff_ = 0;
    std::uint32_t persist_backoff_ = 0;
    std::uint32_t persist_probes_ = 0; // zero-window probes without an ACK in reply
    bool persist_started_ = false;     // probing since persist_since_ (Linux's icsk_probes_tstamp)
    TimeNs persist_since_ = 0;
    TimeNs rtx_armed_at_ = 0;          // when the retransmission timer was last started
    TimeNs rtx_stamp_ = 0;             // since when the timeouts in a row wait (Linux's retrans_stamp)
    TimeNs last_data_sent_ = 0;        // Linux's lsndtime, for orphans

    // Tail loss probe (RFC 8985 7): the retransmit timer is a PTO, and
    // a probe is out whose arrival a SACK up to tlp_high_seq_ would show.
    bool probe_armed_ = false;
    bool reorder_armed_ = false;  // the retransmit timer is RACK's reordering timer (RFC 8985 6.3)
    bool tlp_outstanding_ = false;
    SeqNum tlp_high_seq_{};
    TimeNs probe_armed_at_ = 0;

    Timer rtx_timer_;
    Timer delack_timer_;
    Timer persist_timer_;
    Timer time_wait_timer_;
    Timer keepalive_timer_;

    // Keepalive: the timer is re-armed lazily, from the last arrival.
    bool keepalive_ = false;
    TimeNs keepalive_idle_ = 0;
    TimeNs keepalive_interval_ = 0;
    std::uint32_t keepalive_count_ = 0;
    std::uint32_t keepalive_probes_ = 0;
    TimeNs last_received_ = 0;

    // Application side.
    const ConnectionHandler* handler_ = nullptr;
    void* user_ = nullptr;
    Pending pending_{};
    HeldList ready_;              // held data the last segment made contiguous, for dispatch
    ReassemblyQueue reassembly_;  // data ahead of RCV.NXT
    // Segments held most recently, one per block, newest first: the order
    // of SACK blocks (RFC 2018 4).
    static constexpr std::uint8_t kRecentHeld = 4;
    std::array<SeqNum, kRecentHeld> recent_held_{};
    std::uint8_t recent_held_count_ = 0;

    // SACK (RFC 2018, recovery per RFC 6675).
    bool sack_ok_ = false;
    SackScoreboard scoreboard_;
    bool app_closed_ = false;  // close() or abort(): no callbacks but on_closed
    bool orphan_ = false;      // counted in TcpLayer::orphans()
    InvalidAckLimiter invalid_acks_; // ACKs to invalid segments and challenge ACKs
    bool in_dispatch_ = false;
    bool dead_ = false;        // to be freed once the current event is done
    Listener* listener_ = nullptr; // while SYN_RECEIVED from a passive open
    Listener* listener_accepting_ = nullptr; // between ESTABLISHED and on_accept

public:
    TableHook table_hook;
    ListHook list_hook;   // free list, or a listener's pending list
};

} // namespace lanetcp::tcp
