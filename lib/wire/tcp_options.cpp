#include "wire/tcp_options.hpp"

#include <algorithm>

namespace lanetcp::wire {

namespace {

constexpr std::size_t kMssLen = 4;
constexpr std::size_t kWindowScaleLen = 3;
constexpr std::size_t kSackPermittedLen = 2;
constexpr std::size_t kTimestampsLen = 10;
constexpr std::size_t kSackBaseLen = 2;
constexpr std::size_t kSackBlockLen = 8;
constexpr std::size_t kMaxOptionsLen = 40;

// Groups as emit_tcp_options() lays them out, each padded to 4 bytes.
constexpr std::size_t kTimestampsGroupLen = 12; // NOP NOP TS, or SACK-permitted TS
constexpr std::size_t kSackPermittedGroupLen = 4;
constexpr std::size_t kWindowScaleGroupLen = 4;
constexpr std::size_t kSackGroupBaseLen = 4;

std::size_t length_without_sack_blocks(const TcpOptions& o) noexcept {
    std::size_t n = 0;
    if (o.mss) n += kMssLen;
    if (o.timestamps) n += kTimestampsGroupLen;
    else if (o.sack_permitted) n += kSackPermittedGroupLen;
    if (o.window_scale) n += kWindowScaleGroupLen;
    return n;
}

// How many of the SACK blocks fit next to the other options, as Linux's
// tcp_established_options() decides.
std::size_t sack_blocks_that_fit(const TcpOptions& o) noexcept {
    std::size_t wanted = std::min<std::size_t>(o.sack_block_count, kTcpMaxSackBlocks);
    if (wanted == 0) return 0;
    std::size_t used = length_without_sack_blocks(o);
    if (used + kSackGroupBaseLen + kSackBlockLen > kMaxOptionsLen) return 0;
    return std::min(wanted, (kMaxOptionsLen - used - kSackGroupBaseLen) / kSackBlockLen);
}

} // namespace

// Deviations from Linux's tcp_parse_options(), which never rejects a segment
// for its options: where Linux stops parsing at a length byte that is
// missing, below 2 or past the end, and where it skips a known option of the
// wrong length, this reports bad_option so the caller can drop the segment
// instead of acting on half-understood options (RFC 9293 3.1 MUST-7 suggests
// treating an illegal option length as an error). Linux's value rules are
// kept: a zero MSS is ignored (it would stall the connection), a window
// scale above 14 is clamped (RFC 7323 2.3), and a repeated option
// overwrites the earlier one.
Parsed<TcpOptions> TcpOptions::parse(bytes options) noexcept {
    TcpOptions out;
    const std::uint8_t* p = options.data();
    std::size_t left = options.size();

    while (left > 0) {
        std::uint8_t kind = p[0];
        if (kind == tcpopt::eol) break; // the rest is padding (RFC 9293 3.2)
        if (kind == tcpopt::nop) {
            ++p;
            --left;
            continue;
        }
        if (left < 2) return parse_failed<TcpOptions>(ParseError::bad_option);
        std::size_t len = p[1];
        if (len < 2 || len > left) return parse_failed<TcpOptions>(ParseError::bad_option);

        switch (kind) {
        case tcpopt::mss:
            if (len != kMssLen) return parse_failed<TcpOptions>(ParseError::bad_option);
            if (std::uint16_t mss = load_be16(p + 2); mss != 0) out.mss = mss;
            break;
        case tcpopt::window_scale:
            if (len != kWindowScaleLen) return parse_failed<TcpOptions>(ParseError::bad_option);
            out.window_scale = std::min(p[2], kTcpMaxWindowScale);
            break;
        case tcpopt::sack_permitted:
            if (len != kSackPermittedLen) return parse_failed<TcpOptions>(ParseError::bad_option);
            out.sack_permitted = true;
            break;
        case tcpopt::timestamps:
            if (len != kTimestampsLen) return parse_failed<TcpOptions>(ParseError::bad_option);
            out.timestamps = TcpTimestamps{load_be32(p + 2), load_be32(p + 6)};
            break;
        case tcpopt::sack: {
            // Linux accepts any whole number of blocks and uses the first 4;
            // more than 4 cannot fit in a real header, so it is malformed.
            std::size_t body = len - kSackBaseLen;
            std::size_t count = body / kSackBlockLen;
            if (body % kSackBlockLen != 0 || count == 0 || count > kTcpMaxSackBlocks)
                return parse_failed<TcpOptions>(ParseError::bad_option);
            for (std::size_t i = 0; i < count; ++i) {
                const std::uint8_t* b = p + kSackBaseLen + i * kSackBlockLen;
                out.sack_blocks[i] = SackBlock{SeqNum{load_be32(b)}, SeqNum{load_be32(b + 4)}};
            }
            out.sack_block_count = static_cast<std::uint8_t>(count);
            break;
        }
        default:
            break; // unknown: skipped by its length (RFC 9293 3.1, MUST-6)
        }
        p += len;
        left -= len;
    }
    return {out, ParseError::ok};
}

std::size_t tcp_options_length(const TcpOptions& o) noexcept {
    std::size_t blocks = sack_blocks_that_fit(o);
    return length_without_sack_blocks(o) + (blocks == 0 ? 0 : kSackGroupBaseLen + blocks * kSackBlockLen);
}

std::size_t emit_tcp_options(std::uint8_t* p, const TcpOptions& o) noexcept {
    std::uint8_t* const start = p;
    if (o.mss) {
        p[0] = tcpopt::mss;
        p[1] = kMssLen;
        store_be16(p + 2, *o.mss);
        p += kMssLen;
    }
    if (o.timestamps) {
        // SACK-permitted rides in the two bytes that would otherwise be NOPs.
        if (o.sack_permitted) {
            p[0] = tcpopt::sack_permitted;
            p[1] = kSackPermittedLen;
        } else {
            p[0] = tcpopt::nop;
            p[1] = tcpopt::nop;
        }
        p[2] = tcpopt::timestamps;
        p[3] = kTimestampsLen;
        store_be32(p + 4, o.timestamps->value);
        store_be32(p + 8, o.timestamps->echo_reply);
        p += kTimestampsGroupLen;
    } else if (o.sack_permitted) {
        p[0] = tcpopt::nop;
        p[1] = tcpopt::nop;
        p[2] = tcpopt::sack_permitted;
        p[3] = kSackPermittedLen;
        p += kSackPermittedGroupLen;
    }
    if (o.window_scale) {
        p[0] = tcpopt::nop;
        p[1] = tcpopt::window_scale;
        p[2] = kWindowScaleLen;
        p[3] = *o.window_scale;
        p += kWindowScaleGroupLen;
    }
    if (std::size_t blocks = sack_blocks_that_fit(o); blocks != 0) {
        p[0] = tcpopt::nop;
        p[1] = tcpopt::nop;
        p[2] = tcpopt::sack;
        p[3] = static_cast<std::uint8_t>(kSackBaseLen + blocks * kSackBlockLen);
        p += kSackGroupBaseLen;
        for (std::size_t i = 0; i < blocks; ++i) {
            store_be32(p, o.sack_blocks[i].left.raw());
            store_be32(p + 4, o.sack_blocks[i].right.raw());
            p += kSackBlockLen;
        }
    }
    return static_cast<std::size_t>(p - start);
}

} // namespace lanetcp::wire
