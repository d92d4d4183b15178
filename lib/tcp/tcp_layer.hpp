// TCP on one lcore: the tables of listeners and connections, the control
// block pool, the timer wheel, and the demultiplexing of arriving segments.
// Owned by its lcore alone; nothing in it is shared or locked.
#pragma once

#include <array>
#include <boost/intrusive/list.hpp>
#include <boost/intrusive/unordered_set.hpp>
#include <cstdint>
#include <memory>
#include <vector>

#include "netif/counters.hpp"
#include "tcp/cc_trace.hpp"
#include "tcp/connection.hpp"
#include "tcp/isn.hpp"
#include "tcp/rate_limit.hpp"
#include "tcp/send_queue.hpp"
#include "tcp/syncache.hpp"
#include "tcp/syncookie.hpp"
#include "tcp/tcp_config.hpp"
#include "tcp/tcp_memory.hpp"
#include "timer/timer_wheel.hpp"

namespace lanetcp::tcp {

namespace bi = boost::intrusive;

struct Listener {
    std::uint16_t port = 0;
    wire::Ipv4Addr local_ip{};
    // Called when a passive open completes (ESTABLISHED). The application
    // sets the connection's handler here; without one, the connection is
    // reset (the accept queue is the callback: nothing waits unaccepted).
    void (*on_accept)(Connection&, void* user) = nullptr;
    void* user = nullptr;
    std::uint32_t syn_received = 0; // half-open connections, bounded by the backlog
    std::uint32_t backlog = 1024;
    // When the backlog (or the lcore's syncache) last overflowed and a SYN
    // got a cookie: ACKs to the listener are taken as cookies only for
    // SynCookies' lifetime after (Linux's tcp_synq_no_recent_overflow).
    bool cookies_sent = false;
    TimeNs last_overflow = 0;
    ConnectionOptions options{}; // for every connection it accepts; listen() copies TcpConfig's
};

class TcpLayer {
public:
    TcpLayer(const TcpConfig& config, TcpOutput& output, Counters& counters, const IsnGenerator::Key& key,
             wire::Ipv4Addr local_ip, std::uint16_t mtu, TimeNs now);
    ~TcpLayer();
    TcpLayer(const TcpLayer&) = delete;
    TcpLayer& operator=(const TcpLayer&) = delete;

    // A segment addressed to us; its payload chunk becomes TCP's.
    void input(InSegment& seg, TimeNs now) noexcept;

    // Runs due timers: the connections' and any CallbackTimer armed on
    // timers() (applications' timers on this lcore).
    void advance(TimeNs now) noexcept;

    // Passive open on `port`. Null with *error = -EADDRINUSE if taken.
    Listener* listen(std::uint16_t port, void (*on_accept)(Connection&, void*), void* user, int* error);
    void unlisten(Listener* l) noexcept;

    // Active open to remote_ip:remote_port from an ephemeral port (or
    // `local_port` when non-zero). Null with *error = -EADDRNOTAVAIL (no port
    // free), -ENOBUFS (no control block) or -EADDRINUSE.
    // `options`: null for TcpConfig's.
    Connection* connect(wire::Ipv4Addr remote_ip, std::uint16_t remote_port, const ConnectionHandler* handler,
                        void* user, TimeNs now, int* error, std::uint16_t local_port = 0,
                        const ConnectionOptions* options = nullptr) noexcept;

    // ---- for Connection ----
    const TcpConfig& config() const noexcept { return config_; }
    TcpOutput& output() noexcept { return output_; }
    Counters& counters() noexcept { return counters_; }
    TimerWheel& timers() noexcept { return timers_; }
    ChunkPool& chunks() noexcept { return chunks_; }
    HeldSegmentPool& held_segments() noexcept { return held_; }
    // What every connection's data pins on this lcore (tcp_memory.hpp).
    TcpMemory& memory() noexcept { return memory_; }
    const TcpMemory& memory() const noexcept { return memory_; }
    // Brings the lcore's total up to date with what `c` holds now.
    void sync_memory(Connection& c) noexcept {
        const std::int64_t delta = c.mem_unsynced();
        if (delta == 0) return;
        memory_.add(delta);
        c.mem_charged_ += delta;
        if (delta < 0) return;
        const std::uint64_t peak = counters_.tcp_memory_peak_bytes.get();
        if (memory_.allocated() > peak) counters_.tcp_memory_peak_bytes.add(memory_.allocated() - peak);
    }
    std::uint16_t local_mss() const noexcept { return local_mss_; }
    // RST in answer to `seg`, which has no connection (RFC 9293 3.10.7.1).
    void send_reset_for(const InSegment& seg) noexcept;
    // RFC 5961 7: whether one more challenge ACK fits this second's budget
    // (TcpConfig::challenge_ack_limit per lcore on average, randomised: see
    // ChallengeAckBudget); counts both outcomes.
    bool challenge_ack_allowed(TimeNs now) noexcept;
    // Orphans: connections closed by the application, not yet freed or in
    // TIME_WAIT (Linux's tcp_orphan_count, tcp_too_many_orphans).
    std::uint32_t orphans() const noexcept { return orphans_; }
    bool too_many_orphans(unsigned shift) const noexcept {
        return (static_cast<std::uint64_t>(orphans_) << shift) > config_.max_orphans;
    }
    void add_orphan() noexcept { ++orphans_; }
    void remove_orphan() noexcept { --orphans_; }
    // Returns a finished connection to the pool.
    void release(Connection& c) noexcept;
    // Called by a connection reaching ESTABLISHED from a passive open.
    void passive_open_done(Connection& c) noexcept;
    // After an input or timer event: callbacks, then output, then freeing.
    void end_event(Connection& c, TimeNs now) noexcept;
    // After an application call outside a callback.
    void end_app_call(Connection& c) noexcept;
    TimeNs now() const noexcept { return now_; }
    // The lcore's congestion trace (tcp.trace_rows rows; off when 0).
    CcTrace& cc_trace() noexcept { return cc_trace_; }

    std::size_t connections() const noexcept { return table_.size(); }
    // Half-open passive connections: request entries in the syncache.
    std::size_t half_open() const noexcept { return syncache_.size(); }
    const SynRequest* find_request(const FourTuple& t) noexcept { return syncache_.find(t); }
    std::size_t free_connections() const noexcept { return free_.size(); }
    Connection* find(const FourTuple& t) noexcept;
    template <class F>
    void for_each_connection(F&& fn) const {
        for (const Connection& c : table_) fn(c);
    }

private:
    struct TupleHash {
        TupleHasher hasher;
        std::size_t operator()(const FourTuple& t) const noexcept { return hasher(t); }
        std::size_t operator()(const Connection& c) const noexcept { return hasher(c.tuple()); }
    };
    struct TupleEqual {
        bool operator()(const FourTuple& t, const Connection& c) const noexcept { return t == c.tuple(); }
        bool operator()(const Connection& a, const Connection& b) const noexcept { return a.tuple() == b.tuple(); }
    };
    using Table = bi::unordered_set<
        Connection, bi::member_hook<Connection, Connection::TableHook, &Connection::table_hook>,
        bi::hash<TupleHash>, bi::equal<TupleEqual>, bi::constant_time_size<true>, bi::power_2_buckets<true>>;
    using FreeList =
        bi::list<Connection, bi::member_hook<Connection, Connection::ListHook, &Connection::list_hook>,
                 bi::constant_time_size<true>>;

    Connection* allocate() noexcept;
    // Timers, queued and held data: everything a connection holds but itself.
    void drop_resources(Connection& c) noexcept;
    // `iss`: the ISS to use instead of a fresh one (a SYN that ended a TIME_WAIT).
    void input_listen(Listener& l, InSegment& seg, TimeNs now, const SeqNum* iss = nullptr) noexcept;
    void after_event(Connection& c) noexcept;

    // ---- the syncache's handshake (syncache_input.cpp) ----
    // What one SYN-ACK says, from an entry or for a cookie.
    struct SynAck {
        FourTuple tuple;
        SeqNum iss{};
        SeqNum irs{};
        bool sack = false;
        bool window_scale = false;
        bool timestamps = false;
        bool ecn = false; // an ECN-setup SYN-ACK (RFC 3168 6.1.1): ECE
        std::uint32_t ts_value = 0;
        std::uint32_t ts_echo = 0;
    };
    void send_synack(const Listener& l, const SynAck& a) noexcept;
    void send_request_synack(const SynRequest& r, TimeNs now) noexcept;
    // A pure ACK from the request's side, for a segment that is dropped.
    void send_request_ack(const SynRequest& r, TimeNs now) noexcept;
    // RST, as a control block in SYN_RECEIVED sends on abort (the listener closed).
    void send_request_reset(const SynRequest& r) noexcept;
    // The SYN backlog or the syncache is full: a cookie instead of an entry.
    void send_cookie(Listener& l, const InSegment& syn, TimeNs now) noexcept;
    // An ACK to a listener that overflowed lately: a cookie? Handles the
    // segment whatever it is and returns true, or false when cookies are not in use.
    bool input_cookie(Listener& l, InSegment& seg, TimeNs now) noexcept;
    void input_request(SynRequest& r, InSegment& seg, TimeNs now) noexcept;
    void on_request_timer(SynRequest& r, TimeNs now) noexcept;
    void drop_request(SynRequest& r) noexcept;
    // The handshake is complete: a Connection in SYN_RECEIVED, as if it had
    // sent the SYN-ACK, then `ack` goes through it to ESTABLISHED.
    void establish(Listener& l, const InSegment& syn, SeqNum iss, std::uint32_t synack_retransmits, bool timed,
                   TimeNs synack_sent, InSegment& ack, TimeNs now) noexcept;
    bool port_in_use(const FourTuple& t) noexcept;

    TcpConfig config_;
    TcpOutput& output_;
    Counters& counters_;
    IsnGenerator isn_;
    TupleHasher hasher_;   // keyed per process, for the tables
    SynCookies cookies_;
    wire::Ipv4Addr local_ip_;
    std::uint16_t local_mss_;
    TimerWheel timers_;
    TcpMemory memory_;
    ChunkPool chunks_;
    HeldSegmentPool held_;
    std::unique_ptr<Connection[]> pool_;
    std::vector<Table::bucket_type> buckets_;
    Table table_;
    Connection* last_found_ = nullptr; // find()'s last hit, while it is in the table
    FreeList free_;
    Syncache syncache_;
    std::vector<std::unique_ptr<Listener>> listeners_;
    std::array<Listener*, 65536> listener_by_port_{};
    std::uint32_t next_ephemeral_ = 0;
    TimeNs now_ = 0;
    ChallengeAckBudget challenge_budget_;
    std::uint32_t orphans_ = 0;
    CcTrace cc_trace_;
};

inline void Connection::trace(TimeNs now, TraceEvent e) noexcept {
    CcTrace& t = layer_->cc_trace();
    if (t.enabled()) [[unlikely]]
        record_trace(t, now, e);
}

// Asked on nearly every ACK (arm_retransmission): inline, not a call.
inline bool Connection::may_probe() const noexcept {
    // Every synchronized state that may have data out, our FIN sent or not
    // (FIN_WAIT_2 has nothing out, so it never asks): a response whose tail
    // is lost right before close() is the common case of a short flow, and
    // Linux probes in any state. One range check: the states are in order.
    static_assert(State::established < State::fin_wait_1 && State::fin_wait_1 < State::fin_wait_2 &&
                  State::fin_wait_2 < State::close_wait && State::close_wait < State::closing &&
                  State::closing < State::last_ack);
    const bool open = state_ >= State::established && state_ <= State::last_ack;
    return open && sack_ok_ && layer_->config().loss_probes && rec_.phase == Phase::open && backoff_ == 0 &&
           !tlp_outstanding_ && rtt_.has_sample();
}

} // namespace lanetcp::tcp
