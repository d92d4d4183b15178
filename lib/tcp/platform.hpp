// What lib/tcp needs from the platform it runs on, resolved at link time:
// the stack links the DPDK implementation (lib/stack/tcp_platform.cpp, where a
// PacketBuffer is an rte_mbuf), unit tests link a recording fake. No virtual
// calls on the data path, and no DPDK header in lib/tcp.
#pragma once

#include <cstdint>

namespace lanetcp::tcp {

// Opaque holder of packet bytes with a reference count (an rte_mbuf).
struct PacketBuffer;

// The per-lcore transmit side (IPv4 output, mbuf pool) that segments go to.
class TcpOutput;

struct OutSegment;

// One more holder of `b`.
void buffer_ref(PacketBuffer* b) noexcept;
// One holder less; the buffer is freed when none is left.
void buffer_unref(PacketBuffer* b) noexcept;

// A fresh buffer for copying small payloads into (tcp_collapse's compact
// buffers), with one reference for the caller: `*data` is where bytes may
// be written, `*room` how many, `*truesize` the memory it takes. Null when
// the lcore has none to spare; the caller then keeps the data as it is.
PacketBuffer* buffer_alloc(TcpOutput& out, std::uint8_t** data, std::uint32_t* room, std::uint32_t* truesize) noexcept;

// Builds and sends one segment. The payload, if any, is referenced from the
// send queue, never copied; the platform takes its own references.
void transmit(TcpOutput& out, const OutSegment& segment) noexcept;

} // namespace lanetcp::tcp
