// A platform for lib/tcp (tcp/platform.hpp) that costs next to nothing, for
// benchmarks: packet buffers are reference-counted and recycled through a
// free list, and transmit() records each segment as a few fields plus
// references to the send-queue pieces its payload lies in, never copying the
// bytes. Unlike the unit tests' recording fake (test/unit/tcp/fake_platform),
// nothing here allocates in the steady state, so what a benchmark measures
// is lib/tcp and not the fake.
//
// Only one platform can be linked into a program: this one, not the unit
// tests' fake and not the DPDK one.
#pragma once

#include <cstdint>
#include <vector>

#include "tcp/chunk.hpp"
#include "tcp/platform.hpp"
#include "tcp/segment.hpp"
#include "wire/ipv4.hpp"

namespace lanetcp::tcp {

struct PacketBuffer {
    std::uint32_t refs = 0;
    bool immortal = false;          // a static buffer: never freed nor recycled
    std::uint32_t capacity = 0;
    std::uint8_t* bytes = nullptr;  // `capacity` bytes
    PacketBuffer* next_free = nullptr;
};

// One segment as TCP handed it to transmit(). The payload is `payload`, one
// chunk owning a reference, when it lies in a single send-queue piece (the
// usual case); otherwise the bytes are copied into a fresh buffer (counted in
// nocopy::stats().payload_copies).
struct WireSegment {
    FourTuple tuple; // the sender's view
    SeqNum seq{};
    SeqNum ack{};
    TcpFlags flags{};
    std::uint16_t window = 0;
    wire::TcpOptions options{};
    std::uint8_t tos = 0;
    Chunk payload{};
};

class TcpOutput {
public:
    TcpOutput() { sent.reserve(1024); }
    ~TcpOutput() { clear(); }
    TcpOutput(const TcpOutput&) = delete;
    TcpOutput& operator=(const TcpOutput&) = delete;

    // Drops what was sent (and the payload references it holds).
    void clear() noexcept {
        for (WireSegment& s : sent) s.payload.release();
        sent.clear();
    }
    std::vector<WireSegment> sent;
    std::uint64_t segments = 0;      // transmitted so far
    std::uint64_t data_segments = 0; // of which with payload
};

namespace nocopy {

struct Stats {
    std::uint64_t buffers_allocated = 0; // from the heap (the free list was empty)
    std::uint64_t payload_copies = 0;    // segments whose payload spanned pieces
    std::int64_t live = 0;               // buffers not back in the free list
};
Stats& stats() noexcept;

// A buffer of at least `capacity` bytes with one reference, from the free list
// when one of that size is there.
PacketBuffer* allocate(std::uint32_t capacity);

// A static buffer of `len` bytes that chunks can point into without it ever
// being freed: what an application sends from.
PacketBuffer* immortal_buffer(std::uint32_t len);

// A chunk of [offset, offset + len) in `b`, taking a reference.
inline Chunk chunk_of(PacketBuffer* b, std::uint32_t offset, std::uint32_t len) noexcept {
    buffer_ref(b);
    return Chunk{b, b->bytes + offset, len};
}

// `s` as its receiver sees it: tuple reversed, the payload reference moved over.
inline InSegment to_input(WireSegment& s) noexcept {
    InSegment in;
    in.tuple = FourTuple{s.tuple.remote_ip, s.tuple.local_ip, s.tuple.remote_port, s.tuple.local_port};
    in.seq = s.seq;
    in.ack = s.ack;
    in.flags = s.flags;
    in.window = s.window;
    in.options = s.options;
    in.payload = s.payload;
    in.ecn = s.tos & wire::ecn::mask;
    s.payload = Chunk{};
    return in;
}

} // namespace nocopy
} // namespace lanetcp::tcp
