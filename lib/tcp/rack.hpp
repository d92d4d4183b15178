// RACK loss detection (RFC 8985 6): a segment is lost when a segment sent
// after it has been delivered and more than a round trip plus a reordering
// window has passed since it was sent. It replaces counting duplicate ACKs
// (RFC 6675's DupThresh) as the primary detector: it finds lost
// retransmissions and losses near the tail without waiting for a timeout,
// and it tolerates reordering by time instead of by segment count.
//
// Pure: the connection tells it what was sent when and what was delivered;
// it answers which un-SACKed bytes are lost and how long until the next
// could be. Times are kept as 32-bit microsecond stamps (compared as
// differences, so the 71-minute wrap does not matter) to keep the log small.
#pragma once

#include <array>
#include <cstdint>

#include "tcp/sack_scoreboard.hpp"
#include "util/clock.hpp"
#include "wire/seq.hpp"

namespace lanetcp::tcp {

class Rack {
public:
    using Stamp = std::uint32_t;
    static Stamp stamp(TimeNs t) noexcept { return static_cast<Stamp>(t / 1000); }

    // Sent data is remembered as a few marks: first transmissions in order
    // (bytes up to `end` left at `t`; times rise with sequence numbers) and
    // the latest retransmissions. When the marks run out, the two first
    // transmissions closest in time merge (at the later time: a loss among
    // them is found a little later, never too early); the oldest
    // retransmission is forgotten (its bytes fall back to their first
    // transmission's time, so they may be resent once too often, never held).
    static constexpr std::size_t kMarks = 16;
    static constexpr std::size_t kRetransmissions = 16;

    void reset() noexcept;

    // ---- what was sent, when ----
    void sent_new(wire::SeqNum end, TimeNs now) noexcept; // first transmission up to `end`
    void sent_again(wire::SeqNum start, wire::SeqNum end, TimeNs now) noexcept;
    void acked_to(wire::SeqNum una) noexcept;             // forget what lies below
    void forget_retransmissions() noexcept { rxt_count_ = 0; }
    bool has_retransmissions() const noexcept { return rxt_count_ > 0; }
    // Whether any byte of [start, end) was retransmitted (and is remembered so).
    bool retransmitted(wire::SeqNum start, wire::SeqNum end) const noexcept;
    // When byte `seq` last left (`t`); `end`: where that time stops
    // applying; `retransmission`: the time is a retransmission's. False:
    // not in the log (the SYN, bytes sent before it began), up to `end`.
    bool sent_time(wire::SeqNum seq, Stamp& t, std::uint32_t& order, wire::SeqNum& end,
                   bool& retransmission) const noexcept;

    // ---- what was delivered (RFC 8985 6.2 steps 1-3) ----
    // [start, end) newly acknowledged or SACKed by one ACK; `fack`: the
    // highest byte delivered before it (reordering shows as a delivery below).
    void delivered(wire::SeqNum start, wire::SeqNum end, TimeNs now, wire::SeqNum fack) noexcept;
    void rtt_sample(TimeNs rtt) noexcept {
        if (rtt < min_rtt_) min_rtt_ = rtt;
    }
    // A D-SACK arrived: the reordering window grows (6.2 step 4), for the
    // next 16 recoveries.
    void dsack_seen(TimeNs now, TimeNs srtt) noexcept;
    void recovery_ended() noexcept;

    // ---- detection (6.2 step 5) ----
    bool has_delivery() const noexcept { return have_xmit_; }
    bool reordering_seen() const noexcept { return reord_; }
    TimeNs rtt() const noexcept { return rtt_; }
    TimeNs min_rtt() const noexcept { return min_rtt_; }
    // RACK.reo_wnd: none in recovery until reordering was seen (then loss
    // is the likelier story), otherwise a quarter of the minimum RTT times
    // the multiplier, never more than SRTT.
    TimeNs reo_wnd(bool in_recovery, TimeNs srtt) const noexcept;

    struct Scan {
        std::uint32_t lost_bytes = 0; // un-SACKed bytes lost now
        TimeNs wait = 0;              // until the next would be lost; 0: none is pending
    };
    // Scans the un-SACKed bytes of [una, max).
    Scan scan(const SackScoreboard& sb, wire::SeqNum una, wire::SeqNum max, TimeNs now,
              TimeNs reo_wnd) const noexcept;
    // The first lost range at or above `from` (and below `max`): [start, end).
    bool next_lost(const SackScoreboard& sb, wire::SeqNum from, wire::SeqNum max, TimeNs now, TimeNs reo_wnd,
                   wire::SeqNum& start, wire::SeqNum& end) const noexcept;

private:
    // `order` counts transmissions: it orders sendings within one
    // microsecond (a burst, or a simulation where time stands still), as
    // Linux's tcp_rack_sent_after does with nanoseconds and sequence numbers.
    struct Mark {
        wire::SeqNum end;
        Stamp t;
        std::uint32_t order;
    };
    struct Retransmission {
        wire::SeqNum start, end;
        Stamp t;
        std::uint32_t order;
    };
    // Lost (true), or when it will be if it was sent before the latest
    // delivered segment (`wait` > 0); neither: `wait` = 0.
    bool piece_lost(Stamp t, std::uint32_t order, wire::SeqNum seq, TimeNs now, TimeNs reo_wnd,
                    TimeNs& wait) const noexcept;
    template <class F>
    void for_each_unsacked(const SackScoreboard& sb, wire::SeqNum from, wire::SeqNum max, F&& f) const noexcept;
    template <class F>
    void for_each_piece(const SackScoreboard& sb, wire::SeqNum from, wire::SeqNum max, TimeNs now, TimeNs reo_wnd,
                        F&& f) const noexcept;

    std::array<Mark, kMarks> marks_{}; // ascending, from the oldest byte still unacknowledged
    std::array<Retransmission, kRetransmissions> rxts_{}; // oldest first
    std::uint8_t mark_count_ = 0;
    std::uint8_t rxt_count_ = 0;
    bool have_xmit_ = false;
    bool reord_ = false;
    std::uint8_t reo_wnd_mult_ = 1;
    std::uint8_t reo_wnd_persist_ = 0;
    Stamp xmit_ts_ = 0;           // RACK.xmit_ts: sent latest among what was delivered
    std::uint32_t xmit_order_ = 0; // and its place in the order of sending (for RACK.end_seq's tie-break)
    wire::SeqNum end_seq_{};       // RACK.end_seq: within one mark, lower bytes left first
    std::uint32_t sends_ = 0;      // transmissions so far, the source of `order`
    Stamp dsack_round_ = 0;  // the last growth of the window, once per round trip
    TimeNs rtt_ = 0;         // RACK.rtt
    TimeNs min_rtt_ = kNoRtt;
    static constexpr TimeNs kNoRtt = TimeNs{1} << 62;
};

} // namespace lanetcp::tcp
