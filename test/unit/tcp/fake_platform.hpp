// A fake of the platform lib/tcp runs on (tcp/platform.hpp): packet buffers
// are reference-counted heap byte arrays with a global live count, so a test
// can assert that nothing leaked, and TcpOutput records every segment TCP
// transmits as a plain value, payload bytes copied out of the send queue.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tcp/chunk.hpp"
#include "tcp/platform.hpp"
#include "tcp/segment.hpp"

namespace lanetcp::tcp {

// The fake rte_mbuf: a few bytes of "headers" in front of the data, as a
// received frame has, so that a chunk never starts at the buffer's start.
struct PacketBuffer {
    std::vector<std::uint8_t> bytes;
    int refs = 1;
};

// One segment as TCP handed it to transmit().
struct SentSegment {
    FourTuple tuple; // from the sender's point of view
    SeqNum seq{};
    SeqNum ack{};
    TcpFlags flags{};
    std::uint16_t window = 0;
    wire::TcpOptions options{};
    std::uint8_t tos = 0;
    std::string payload;

    // SEG.LEN: payload plus SYN and FIN.
    std::uint32_t length() const noexcept {
        return static_cast<std::uint32_t>(payload.size()) + (flags.syn() ? 1u : 0u) + (flags.fin() ? 1u : 0u);
    }
    SeqNum end() const noexcept { return seq + length(); }
};

// Everything one TcpLayer sent, oldest first.
class TcpOutput {
public:
    std::vector<SentSegment> sent;
    // Buffers buffer_alloc may still hand out (compaction); negative: no limit.
    std::int64_t buffers_left = -1;

    // Hands over what was sent so far and forgets it.
    std::vector<SentSegment> take() {
        std::vector<SentSegment> s;
        s.swap(sent);
        return s;
    }
};

namespace fake {

inline constexpr std::uint32_t kHeadroom = 54; // Ethernet + IPv4 + TCP headers
// What a buffer costs besides its bytes (an rte_mbuf's struct), in a chunk's truesize.
inline constexpr std::uint32_t kBufferOverhead = 128;
// The room of a buffer from buffer_alloc (an mbuf's data room).
inline constexpr std::uint32_t kCompactCapacity = 2048;

// Buffers allocated and not yet freed (all references dropped).
std::int64_t live_buffers() noexcept;

// A fresh buffer holding `data` after some headroom, as a chunk owning the
// buffer's only reference.
Chunk make_chunk(std::string_view data);
Chunk make_chunk(const std::uint8_t* data, std::uint32_t length);

// A segment as it would arrive at `receiver_tuple.local_*` from the peer.
InSegment make_segment(const FourTuple& receiver_tuple, SeqNum seq, SeqNum ack, TcpFlags flags,
                       std::uint16_t window, std::string_view payload = {});

// `s` as its receiver sees it: tuple reversed, payload in a new buffer.
InSegment to_input(const SentSegment& s);

// Printable flags, "SYN|ACK".
std::string flags_string(TcpFlags f);

} // namespace fake
} // namespace lanetcp::tcp
