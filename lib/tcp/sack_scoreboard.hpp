// The sender's record of what the peer reported in SACK blocks (RFC 2018):
// merged, ascending ranges of sequence space above SND.UNA that have
// arrived. Loss recovery (RFC 6675) reads it to find the holes worth
// retransmitting and to leave alone what already arrived.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "wire/seq.hpp"
#include "wire/tcp_options.hpp"

namespace lanetcp::tcp {

class SackScoreboard {
public:
    static constexpr std::size_t kMaxRanges = 64;

    // Records `blocks` (from one ACK), keeping only what lies in
    // (snd_una, snd_max]. Returns whether any byte is newly SACKed.
    bool update(std::span<const wire::SackBlock> blocks, wire::SeqNum snd_una, wire::SeqNum snd_max) noexcept;
    // The same, and the blocks not already covered (clipped to what is
    // outstanding) go to `fresh`, as many as it holds: what this ACK
    // newly delivered, for RACK.
    bool update(std::span<const wire::SackBlock> blocks, wire::SeqNum snd_una, wire::SeqNum snd_max,
                std::span<wire::SackBlock> fresh, std::uint8_t& fresh_count) noexcept;

    // Forgets everything below the new SND.UNA.
    void advance(wire::SeqNum snd_una) noexcept;

    void clear() noexcept { count_ = 0; sacked_bytes_ = 0; }
    bool empty() const noexcept { return count_ == 0; }
    std::uint32_t sacked_bytes() const noexcept { return sacked_bytes_; }
    // The highest sequence number reported (end of the last range).
    wire::SeqNum highest() const noexcept { return ranges_[count_ - 1].right; }

    // SACKed bytes above `seq`; RFC 6675 IsLost() compares it with
    // DupThresh * SMSS.
    std::uint32_t sacked_above(wire::SeqNum seq) const noexcept;
    std::uint32_t sacked_below(wire::SeqNum seq) const noexcept;

    // When `seq` lies in a SACKed range, where that range ends.
    bool range_end(wire::SeqNum seq, wire::SeqNum& end) const noexcept;

    // The first hole at or after `from` and below highest(): [start, end).
    // False when there is none.
    bool next_hole(wire::SeqNum from, wire::SeqNum& start, wire::SeqNum& end) const noexcept;

    std::span<const wire::SackBlock> ranges() const noexcept { return {ranges_.data(), count_}; }

private:
    void insert(wire::SackBlock b) noexcept;
    void recount() noexcept;

    std::array<wire::SackBlock, kMaxRanges> ranges_{};
    std::size_t count_ = 0;
    std::uint32_t sacked_bytes_ = 0;
};

} // namespace lanetcp::tcp
