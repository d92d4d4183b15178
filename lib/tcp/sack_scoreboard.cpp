#include "tcp/sack_scoreboard.hpp"

namespace lanetcp::tcp {

using wire::SackBlock;
using wire::SeqNum;
using wire::seq_diff;
using wire::seq_geq;
using wire::seq_gt;
using wire::seq_leq;
using wire::seq_lt;
using wire::seq_max;
using wire::seq_min;

bool SackScoreboard::update(std::span<const SackBlock> blocks, SeqNum snd_una, SeqNum snd_max) noexcept {
    std::uint8_t ignored = 0;
    return update(blocks, snd_una, snd_max, {}, ignored);
}

bool SackScoreboard::update(std::span<const SackBlock> blocks, SeqNum snd_una, SeqNum snd_max,
                            std::span<SackBlock> fresh, std::uint8_t& fresh_count) noexcept {
    bool newly = false;
    fresh_count = 0;
    for (SackBlock b : blocks) {
        // RFC 2018 and RFC 6675 5.1: ignore blocks that are not sane (right
        // not after left, or outside what is outstanding); D-SACKs below
        // SND.UNA carry nothing for recovery either.
        if (!seq_lt(b.left, b.right) || !seq_leq(b.right, snd_max) || !seq_gt(b.right, snd_una)) continue;
        if (seq_lt(b.left, snd_una)) b.left = snd_una;
        // New unless one range already covers it (comparing totals would
        // miss a new block that pushed another out of a full scoreboard).
        // The parts no range covers are what this block newly reports.
        SeqNum at = b.left;
        for (std::size_t i = 0; i < count_ && seq_lt(at, b.right); ++i) {
            const SackBlock& r = ranges_[i];
            if (seq_leq(r.right, at)) continue;
            if (seq_geq(r.left, b.right)) break;
            if (seq_lt(at, r.left)) {
                newly = true;
                if (fresh_count < fresh.size()) fresh[fresh_count++] = SackBlock{at, r.left};
            }
            at = seq_max(at, r.right);
        }
        if (seq_lt(at, b.right)) {
            newly = true;
            if (fresh_count < fresh.size()) fresh[fresh_count++] = SackBlock{at, b.right};
        }
        insert(b);
    }
    recount();
    return newly;
}

std::uint32_t SackScoreboard::sacked_below(SeqNum seq) const noexcept { return sacked_bytes_ - sacked_above(seq); }

bool SackScoreboard::range_end(SeqNum seq, SeqNum& end) const noexcept {
    for (std::size_t i = 0; i < count_; ++i) {
        if (seq_leq(ranges_[i].left, seq) && seq_lt(seq, ranges_[i].right)) {
            end = ranges_[i].right;
            return true;
        }
    }
    return false;
}

void SackScoreboard::insert(SackBlock b) noexcept {
    // Merge with every range it touches, then place it in order.
    std::size_t out = 0;
    std::array<SackBlock, kMaxRanges> merged{};
    bool placed = false;
    for (std::size_t i = 0; i < count_; ++i) {
        SackBlock r = ranges_[i];
        if (seq_lt(r.right, b.left)) {
            merged[out++] = r;
        } else if (seq_lt(b.right, r.left)) {
            if (!placed) {
                merged[out++] = b;
                placed = true;
            }
            if (out < kMaxRanges) merged[out++] = r;
        } else {
            b.left = seq_min(b.left, r.left);
            b.right = seq_max(b.right, r.right);
        }
    }
    if (!placed && out < kMaxRanges) merged[out++] = b;
    // When full, the highest ranges go first: the low holes are the ones
    // being repaired, and they need the ranges above them.
    ranges_ = merged;
    count_ = out;
}

void SackScoreboard::advance(SeqNum snd_una) noexcept {
    std::size_t out = 0;
    for (std::size_t i = 0; i < count_; ++i) {
        SackBlock r = ranges_[i];
        if (seq_leq(r.right, snd_una)) continue;
        if (seq_lt(r.left, snd_una)) r.left = snd_una;
        ranges_[out++] = r;
    }
    count_ = out;
    recount();
}

void SackScoreboard::recount() noexcept {
    sacked_bytes_ = 0;
    for (std::size_t i = 0; i < count_; ++i)
        sacked_bytes_ += static_cast<std::uint32_t>(seq_diff(ranges_[i].right, ranges_[i].left));
}

std::uint32_t SackScoreboard::sacked_above(SeqNum seq) const noexcept {
    std::uint32_t n = 0;
    for (std::size_t i = 0; i < count_; ++i) {
        const SackBlock& r = ranges_[i];
        if (seq_leq(r.right, seq)) continue;
        n += static_cast<std::uint32_t>(seq_diff(r.right, seq_max(r.left, seq)));
    }
    return n;
}

bool SackScoreboard::next_hole(SeqNum from, SeqNum& start, SeqNum& end) const noexcept {
    SeqNum at = from;
    for (std::size_t i = 0; i < count_; ++i) {
        const SackBlock& r = ranges_[i];
        if (seq_leq(r.right, at)) continue;
        if (seq_lt(at, r.left)) {
            start = at;
            end = r.left;
            return true;
        }
        at = r.right; // inside a SACKed range: the hole, if any, starts after it
    }
    return false;
}

} // namespace lanetcp::tcp
