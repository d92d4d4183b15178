// TCP options (RFC 9293 3.2): the ones this stack negotiates or uses, parsed
// into a fixed-size value and emitted in the layout Linux uses.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "wire/bytes.hpp"
#include "wire/result.hpp"
#include "wire/seq.hpp"

namespace lanetcp::wire {

namespace tcpopt {
inline constexpr std::uint8_t eol = 0;
inline constexpr std::uint8_t nop = 1;
inline constexpr std::uint8_t mss = 2;            // RFC 9293 3.2, 3.7.1
inline constexpr std::uint8_t window_scale = 3;   // RFC 7323 2
inline constexpr std::uint8_t sack_permitted = 4; // RFC 2018 2
inline constexpr std::uint8_t sack = 5;           // RFC 2018 3
inline constexpr std::uint8_t timestamps = 8;     // RFC 7323 3
} // namespace tcpopt

// RFC 7323 2.3: a larger shift would let the window exceed 2^30 and break the
// sequence-space comparisons.
inline constexpr std::uint8_t kTcpMaxWindowScale = 14;
// 40 option bytes hold at most 4 blocks of 8 (RFC 2018 3).
inline constexpr std::size_t kTcpMaxSackBlocks = 4;

// Sequence numbers [left, right): right is the first one after the block.
struct SackBlock {
    SeqNum left{};
    SeqNum right{};
    constexpr bool operator==(const SackBlock&) const noexcept = default;
};

struct TcpTimestamps {
    std::uint32_t value = 0;      // TSval
    std::uint32_t echo_reply = 0; // TSecr
    constexpr bool operator==(const TcpTimestamps&) const noexcept = default;
};

// The options of one segment. Parsing is context-free: whether an option is
// allowed on this segment (MSS, window scale and SACK-permitted only on a
// SYN, SACK only after SACK-permitted was exchanged) is for the caller to
// judge, as Linux's tcp_parse_options() does with its syn/estab checks.
struct TcpOptions {
    std::optional<std::uint16_t> mss;
    std::optional<std::uint8_t> window_scale; // already clamped to kTcpMaxWindowScale
    bool sack_permitted = false;
    std::optional<TcpTimestamps> timestamps;
    std::uint8_t sack_block_count = 0;
    std::array<SackBlock, kTcpMaxSackBlocks> sack_blocks{};

    std::span<const SackBlock> sacks() const noexcept {
        return {sack_blocks.data(), sack_block_count < kTcpMaxSackBlocks ? sack_block_count : kTcpMaxSackBlocks};
    }

    // `options` is TcpView::options(): the bytes between the fixed header
    // and the data.
    static Parsed<TcpOptions> parse(bytes options) noexcept;
};

// Bytes emit_tcp_options() writes for `o`: a multiple of 4, never more than
// 40.
std::size_t tcp_options_length(const TcpOptions& o) noexcept;

// Writes the options present in `o` at `p` (room for 40 bytes is always
// enough) and returns the byte count, a multiple of 4. The layout is Linux's
// (tcp_options_write()), so that middleboxes and peers see nothing unusual:
//
//   SYN:  MSS | SACK-permitted, timestamps | NOP, window scale
//   data: NOP, NOP, timestamps | NOP, NOP, SACK blocks
//
// NOPs pad each group to 4 bytes, so no padding is needed at the end. SACK
// blocks that do not fit in the 40 bytes next to the other options are left
// out from the last one on; the first block is the one RFC 2018 4 says must
// be reported.
std::size_t emit_tcp_options(std::uint8_t* p, const TcpOptions& o) noexcept;

} // namespace lanetcp::wire
