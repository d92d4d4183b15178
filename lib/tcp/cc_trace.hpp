// The congestion trace: what cwnd, ssthresh, the flight and the RTT
// estimate were at each ACK and each loss-recovery event, one row each, in
// a preallocated ring per lcore (one per TcpLayer). Off by default
// (tcp.trace_rows = 0): then a connection's trace() is one load and one
// branch that is never taken. Written out as CSV (doc/trace.md) and drawn
// by bench/plot_trace.py.
//
// When the ring is full a new row overwrites the oldest one not yet
// drained, and dropped() counts it: the CSV keeps the newest rows.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string_view>
#include <vector>

#include "tcp/four_tuple.hpp"
#include "util/clock.hpp"

namespace lanetcp::tcp {

// Every event a row can record: X(name). The CSV says the name.
#define LANETCP_TRACE_EVENTS(X)                                                                          \
    X(ack)           /* an ACK that moved SND.UNA, SACKed, or came during recovery */                    \
    X(loss)          /* fast recovery began: cwnd reduced (RACK or three duplicate ACKs) */              \
    X(rto)           /* the retransmission timer fired: loss state, cwnd one segment */                  \
    X(recovery_exit) /* the episode ended: everything outstanding at its start is acknowledged */        \
    X(ece)           /* the peer echoed congestion (RFC 3168 6.1.2): cwnd reduced, once per window */    \
    X(undo)          /* the reduction was needless (D-SACK, Eifel): cwnd and ssthresh restored */        \
    X(tlp)           /* a tail loss probe went out (RFC 8985 7.3) */                                     \
    X(rack_timer)    /* RACK's reordering timer fired (RFC 8985 6.3): losses looked for again */         \
    X(persist)       /* a zero-window probe went out: the peer's window is shut */

enum class TraceEvent : std::uint8_t {
#define LANETCP_TRACE_EVENT_ENUM(name) name,
    LANETCP_TRACE_EVENTS(LANETCP_TRACE_EVENT_ENUM)
#undef LANETCP_TRACE_EVENT_ENUM
};

const char* to_string(TraceEvent e) noexcept;

// One row: 64 bytes, one cache line.
struct TraceRow {
    TimeNs time = 0;              // the stack's clock (ns)
    FourTuple tuple{};            // which connection
    std::uint32_t cwnd = 0;       // bytes
    std::uint32_t ssthresh = 0;   // bytes
    std::uint32_t in_flight = 0;  // sent and neither acknowledged nor SACKed (in_network())
    std::uint32_t srtt_us = 0;
    std::uint32_t rttvar_us = 0;
    std::uint32_t delivered = 0;  // bytes acknowledged cumulatively since the ISS, plus SACKed (mod 2^32)
    std::uint32_t lost = 0;       // bytes RACK holds lost and not yet resent
    std::uint32_t retrans = 0;    // segments this connection has retransmitted so far
    std::uint32_t snd_wnd = 0;    // the peer's receive window (0: it is shut, zero-window probes)
    std::uint32_t rcv_wnd = 0;    // ours, as last advertised (0: our application stopped reading)
    std::uint8_t timeouts = 0;    // consecutive retransmission timeouts (the backoff), at most 255
    TraceEvent event = TraceEvent::ack;
    std::uint8_t phase = 0;       // Connection::Phase: 0 open, 1 recovery, 2 loss
    std::uint8_t state = 0;       // tcp::State
};
static_assert(sizeof(TraceRow) == 64);

class CcTrace {
public:
    // `rows` = 0: off, nothing allocated.
    explicit CcTrace(std::uint32_t rows = 0);

    bool enabled() const noexcept { return !rows_.empty(); }
    std::uint32_t capacity() const noexcept { return static_cast<std::uint32_t>(rows_.size()); }
    // The slot for a new row. Overwrites the oldest undrained row when full.
    TraceRow& next() noexcept {
        if (pending_ == rows_.size()) {
            ++dropped_;
        } else {
            ++pending_;
        }
        ++written_;
        TraceRow& r = rows_[head_];
        if (++head_ == rows_.size()) head_ = 0;
        return r;
    }
    std::uint64_t written() const noexcept { return written_; } // rows ever recorded
    std::uint64_t dropped() const noexcept { return dropped_; } // overwritten before being drained
    std::uint32_t pending() const noexcept { return pending_; } // recorded and not drained yet

    // Hands every undrained row to `fn`, oldest first, and forgets them.
    template <class F>
    void drain(F&& fn) {
        const std::size_t n = rows_.size();
        std::size_t i = (head_ + n - pending_) % (n == 0 ? 1 : n);
        for (; pending_ > 0; --pending_) {
            fn(static_cast<const TraceRow&>(rows_[i]));
            if (++i == n) i = 0;
        }
    }

private:
    std::vector<TraceRow> rows_;
    std::size_t head_ = 0;       // where the next row goes
    std::uint32_t pending_ = 0;  // rows before head_ not drained
    std::uint64_t written_ = 0;
    std::uint64_t dropped_ = 0;
};

// CSV (doc/trace.md): one header line, then one line per row.
extern const char* const kTraceCsvHeader; // without the newline
void write_trace_csv_row(std::FILE* f, const TraceRow& r, unsigned lcore);
// Drains `t` into `f` (header first if `header`); returns rows written.
std::uint64_t write_trace_csv(std::FILE* f, CcTrace& t, unsigned lcore, bool header);

} // namespace lanetcp::tcp
