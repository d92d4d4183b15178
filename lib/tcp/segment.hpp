// Segments as the control block sees them: parsed fields in, fields plus a
// window of the send queue out. Wire formats stay in lib/wire; buffers stay
// with the platform.
#pragma once

#include <cstdint>

#include "tcp/chunk.hpp"
#include "tcp/four_tuple.hpp"
#include "wire/seq.hpp"
#include "wire/tcp.hpp"
#include "wire/tcp_options.hpp"

namespace lanetcp::tcp {

using wire::SeqNum;
using wire::TcpFlags;

struct InSegment {
    FourTuple tuple;          // local = our side (the datagram's destination)
    SeqNum seq{};
    SeqNum ack{};
    TcpFlags flags{};
    std::uint16_t window = 0; // as on the wire, before scaling
    wire::TcpOptions options{};
    Chunk payload{};          // owned by the segment; TCP keeps or releases it
    std::uint8_t ecn = 0;     // the IP header's ECN codepoint (wire::ecn), RFC 3168 5

    std::uint32_t length() const noexcept { // SEG.LEN, RFC 9293 3.3.1
        return payload.length + (flags.syn() ? 1u : 0u) + (flags.fin() ? 1u : 0u);
    }
};

class SendQueue;

struct OutSegment {
    FourTuple tuple;
    SeqNum seq{};
    SeqNum ack{};
    TcpFlags flags{};
    std::uint16_t window = 0; // already scaled down for the wire
    wire::TcpOptions options{};
    std::uint8_t tos = 0;     // the IP header's TOS byte: its ECN field is ECT(0) on new data when ECN is on
    // Payload: `payload_length` bytes of `queue` starting at `payload_offset`
    // bytes past its first unacknowledged byte.
    const SendQueue* queue = nullptr;
    std::uint32_t payload_offset = 0;
    std::uint32_t payload_length = 0;
};

} // namespace lanetcp::tcp
