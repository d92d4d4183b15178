#include "tcp/rack.hpp"

#include <algorithm>

namespace lanetcp::tcp {

using wire::SeqNum;
using wire::seq_diff;
using wire::seq_geq;
using wire::seq_gt;
using wire::seq_leq;
using wire::seq_lt;
using wire::seq_max;
using wire::seq_min;

namespace {
// Stamps are compared as differences: correct across the wrap while the
// two are less than 35 minutes apart.
std::int32_t stamp_diff(Rack::Stamp a, Rack::Stamp b) noexcept { return static_cast<std::int32_t>(a - b); }
// Signed: a stamp from later in the same microsecond burst reads as 0 or
// less, never as a huge unsigned duration.
std::int64_t elapsed(Rack::Stamp since, TimeNs now) noexcept {
    return static_cast<std::int64_t>(stamp_diff(Rack::stamp(now), since)) * 1000;
}
} // namespace

void Rack::reset() noexcept { *this = Rack{}; }

void Rack::sent_new(SeqNum end, TimeNs now) noexcept {
    const Stamp t = stamp(now);
    const std::uint32_t order = ++sends_;
    // The same burst: the same microsecond and nothing resent in between
    // (else the burst's first bytes would seem sent after that retransmission).
    if (mark_count_ > 0 && marks_[mark_count_ - 1].t == t && marks_[mark_count_ - 1].order + 1 == order) {
        marks_[mark_count_ - 1].end = end;
        marks_[mark_count_ - 1].order = order;
        return;
    }
    if (mark_count_ == kMarks) {
        // Merge the neighbours closest in time, at the later time.
        std::size_t best = 0;
        std::int32_t best_gap = stamp_diff(marks_[1].t, marks_[0].t);
        for (std::size_t i = 1; i + 1 < mark_count_; ++i) {
            const std::int32_t gap = stamp_diff(marks_[i + 1].t, marks_[i].t);
            if (gap < best_gap) {
                best_gap = gap;
                best = i;
            }
        }
        std::copy(marks_.begin() + best + 1, marks_.begin() + mark_count_, marks_.begin() + best);
        --mark_count_;
    }
    marks_[mark_count_++] = Mark{end, t, order};
}

void Rack::sent_again(SeqNum start, SeqNum end, TimeNs now) noexcept {
    const Stamp t = stamp(now);
    const std::uint32_t order = ++sends_;
    if (rxt_count_ > 0) {
        Retransmission& last = rxts_[rxt_count_ - 1];
        if (last.t == t && last.end == start && last.order + 1 == order) { // back to back, as after a timeout
            last.end = end;
            last.order = order;
            return;
        }
    }
    if (rxt_count_ == kRetransmissions) {
        std::copy(rxts_.begin() + 1, rxts_.end(), rxts_.begin());
        --rxt_count_;
    }
    rxts_[rxt_count_++] = Retransmission{start, end, t, order};
}

void Rack::acked_to(SeqNum una) noexcept {
    std::size_t drop = 0;
    while (drop < mark_count_ && seq_leq(marks_[drop].end, una)) ++drop;
    if (drop > 0) {
        std::copy(marks_.begin() + drop, marks_.begin() + mark_count_, marks_.begin());
        mark_count_ = static_cast<std::uint8_t>(mark_count_ - drop);
    }
    if (rxt_count_ == 0) return;
    std::size_t out = 0;
    for (std::size_t i = 0; i < rxt_count_; ++i)
        if (seq_gt(rxts_[i].end, una)) rxts_[out++] = rxts_[i];
    rxt_count_ = static_cast<std::uint8_t>(out);
}

bool Rack::retransmitted(SeqNum start, SeqNum end) const noexcept {
    for (std::size_t i = 0; i < rxt_count_; ++i)
        if (seq_lt(rxts_[i].start, end) && seq_lt(start, rxts_[i].end)) return true;
    return false;
}

bool Rack::sent_time(SeqNum seq, Stamp& t, std::uint32_t& order, SeqNum& end, bool& retransmission) const noexcept {
    SeqNum limit = seq + (1u << 30);
    bool found = false;
    for (std::size_t i = rxt_count_; i-- > 0;) { // newest first: the latest sending counts
        const Retransmission& r = rxts_[i];
        if (seq_leq(r.start, seq) && seq_lt(seq, r.end)) {
            if (!found) {
                found = true;
                t = r.t;
                order = r.order;
                limit = seq_min(limit, r.end);
            }
        } else if (seq_gt(r.start, seq)) {
            limit = seq_min(limit, r.start);
        }
    }
    retransmission = found;
    if (!found) {
        std::size_t i = 0;
        while (i < mark_count_ && seq_leq(marks_[i].end, seq)) ++i;
        if (i == mark_count_) {
            // Not in the log: the SYN, or a FIN, or bytes sent before the
            // log began. No sending time to learn from or judge by.
            end = limit;
            return false;
        }
        t = marks_[i].t;
        order = marks_[i].order;
        limit = seq_min(limit, marks_[i].end);
    }
    end = limit;
    return true;
}

void Rack::delivered(SeqNum start, SeqNum end, TimeNs now, SeqNum fack) noexcept {
    SeqNum seq = start;
    while (seq_lt(seq, end)) {
        SeqNum piece_end;
        bool rxt;
        Stamp t = 0;
        std::uint32_t order = 0;
        const bool known = sent_time(seq, t, order, piece_end, rxt);
        piece_end = seq_min(piece_end, end);
        if (!known) { // the ACK of our SYN: nothing to learn (a stamp of 0 would look recent)
            seq = piece_end;
            continue;
        }
        // 6.2 step 2: a retransmitted segment acknowledged sooner than a
        // round trip after its retransmission was the original arriving:
        // its time says nothing.
        if (rxt && min_rtt_ != kNoRtt && elapsed(t, now) < static_cast<std::int64_t>(min_rtt_)) {
            seq = piece_end;
            continue;
        }
        // Step 3: delivered below what was delivered already, never resent:
        // the network reorders.
        if (!rxt && seq_lt(seq, fack)) reord_ = true;
        if (!have_xmit_ || stamp_diff(t, xmit_ts_) > 0 || (t == xmit_ts_ && (order > xmit_order_ || (order == xmit_order_ && seq_gt(piece_end, end_seq_))))) {
            have_xmit_ = true;
            xmit_ts_ = t;
            xmit_order_ = order;
            end_seq_ = piece_end;
            rtt_ = static_cast<TimeNs>(std::max<std::int64_t>(elapsed(t, now), 0));
        }
        seq = piece_end;
    }
}

void Rack::dsack_seen(TimeNs now, TimeNs srtt) noexcept {
    // 6.2 step 4: once per round trip, the window grows by a quarter of
    // the minimum RTT, and stays so for 16 recoveries.
    if (reo_wnd_persist_ > 0 && elapsed(dsack_round_, now) < static_cast<std::int64_t>(srtt)) return;
    dsack_round_ = stamp(now);
    if (reo_wnd_mult_ < 255) ++reo_wnd_mult_;
    reo_wnd_persist_ = 16;
}

void Rack::recovery_ended() noexcept {
    if (reo_wnd_persist_ > 0 && --reo_wnd_persist_ == 0) reo_wnd_mult_ = 1;
}

TimeNs Rack::reo_wnd(bool in_recovery, TimeNs srtt) const noexcept {
    if (!reord_ && in_recovery) return 0;
    if (min_rtt_ == kNoRtt) return 0;
    return std::min<TimeNs>(reo_wnd_mult_ * min_rtt_ / 4, srtt);
}

bool Rack::piece_lost(Stamp t, std::uint32_t order, SeqNum seq, TimeNs now, TimeNs reo_wnd,
                      TimeNs& wait) const noexcept {
    wait = 0;
    if (!have_xmit_) return false;
    const std::int32_t d = stamp_diff(t, xmit_ts_);
    // Sent before the latest delivered segment: by time; in the same
    // microsecond by the order of sending; in one mark (a burst sent in
    // order) by sequence number.
    const bool before =
        d < 0 || (d == 0 && (order < xmit_order_ || (order == xmit_order_ && seq_lt(seq, end_seq_))));
    if (!before) return false;
    const std::int64_t remaining = static_cast<std::int64_t>(rtt_ + reo_wnd) - elapsed(t, now);
    if (remaining <= 0) return true;
    wait = static_cast<TimeNs>(remaining);
    return false;
}

template <class F>
void Rack::for_each_unsacked(const SackScoreboard& sb, SeqNum from, SeqNum max, F&& f) const noexcept {
    SeqNum at = from;
    for (const wire::SackBlock& r : sb.ranges()) {
        if (!seq_lt(at, max)) return;
        if (seq_leq(r.right, at)) continue;
        if (seq_lt(at, r.left) && !f(at, seq_min(r.left, max))) return;
        at = seq_max(at, r.right);
    }
    if (seq_lt(at, max)) f(at, max);
}

template <class F>
void Rack::for_each_piece(const SackScoreboard& sb, SeqNum from, SeqNum max, TimeNs now, TimeNs reo_wnd,
                          F&& f) const noexcept {
    // Each un-SACKed piece of [from, max) with one sending time: lost or
    // not, and how long until it would be.
    for_each_unsacked(sb, from, max, [&](SeqNum a, SeqNum b) {
        for (SeqNum seq = a; seq_lt(seq, b);) {
            SeqNum piece_end;
            bool rxt;
            Stamp t = 0;
            std::uint32_t order = 0;
            const bool known = sent_time(seq, t, order, piece_end, rxt);
            piece_end = seq_min(piece_end, b);
            TimeNs wait = 0;
            const bool lost = known && piece_lost(t, order, seq, now, reo_wnd, wait);
            if (!f(seq, piece_end, lost, wait)) return false;
            seq = piece_end;
        }
        return true;
    });
}

Rack::Scan Rack::scan(const SackScoreboard& sb, SeqNum una, SeqNum max, TimeNs now, TimeNs reo_wnd) const noexcept {
    Scan s;
    if (!have_xmit_) return s;
    for_each_piece(sb, una, max, now, reo_wnd, [&](SeqNum start, SeqNum end, bool lost, TimeNs wait) {
        if (lost)
            s.lost_bytes += static_cast<std::uint32_t>(seq_diff(end, start));
        else if (wait > 0 && (s.wait == 0 || wait < s.wait))
            s.wait = wait;
        return true;
    });
    return s;
}

bool Rack::next_lost(const SackScoreboard& sb, SeqNum from, SeqNum max, TimeNs now, TimeNs reo_wnd, SeqNum& start,
                     SeqNum& end) const noexcept {
    if (!have_xmit_) return false;
    bool found = false;
    for_each_piece(sb, from, max, now, reo_wnd, [&](SeqNum a, SeqNum b, bool lost, TimeNs) {
        if (!lost) return true;
        start = a;
        end = b;
        found = true;
        return false;
    });
    return found;
}

} // namespace lanetcp::tcp
