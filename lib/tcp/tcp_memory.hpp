// The memory TCP holds on one lcore, as Linux's tcp_mem: every connection's
// received data (in order and out of order) and queued send data, charged by
// what it pins (Chunk::truesize), not by its bytes. Above `pressure` every
// receive window is clamped and small segments are copied into compact
// buffers on arrival; above `limit` a connection that already holds data
// takes no more. The limit sits below the lcore's mbuf pool, so that what is
// left (the reserve) always serves received frames and the ACKs, RSTs,
// SYN-ACKs, ARP and ICMP replies built from it: no peer can make the lcore deaf.
//
// It also owns the compact buffer (tcp_collapse's copies): one buffer per
// lcore that small payloads are copied into, one after another, so that a
// flood of one-byte segments pins a few buffers instead of one each.
#pragma once

#include <cstdint>

#include "tcp/chunk.hpp"

namespace lanetcp::tcp {

class TcpMemory {
public:
    TcpMemory() = default;
    TcpMemory(const TcpMemory&) = delete;
    TcpMemory& operator=(const TcpMemory&) = delete;
    ~TcpMemory() { drop_compact_buffer(); }

    // Bytes of truesize; 0 for either: no bound.
    void configure(std::uint64_t pressure, std::uint64_t limit) noexcept {
        pressure_ = pressure == 0 ? kUnbounded : pressure;
        limit_ = limit == 0 ? kUnbounded : limit;
    }

    std::uint64_t allocated() const noexcept { return allocated_; }
    std::uint64_t pressure() const noexcept { return pressure_; }
    std::uint64_t limit() const noexcept { return limit_; }
    void add(std::int64_t delta) noexcept { allocated_ = static_cast<std::uint64_t>(static_cast<std::int64_t>(allocated_) + delta); }
    bool under_pressure() const noexcept { return allocated_ >= pressure_; }
    // Whether `more` bytes (and `pending`, charged but not yet added) go past the limit.
    bool exceeds(std::int64_t pending, std::uint32_t more) const noexcept {
        return static_cast<std::int64_t>(allocated_) + pending + more > static_cast<std::int64_t>(limit_);
    }

    // Copies `c`'s bytes into the compact buffer when that saves memory
    // (the chunk pins at least twice its length); `c` then refers to the
    // copy, charged its share of the buffer. False when nothing changed
    // (not worth it, or no buffer to be had).
    bool compact(TcpOutput& out, Chunk& c) noexcept;

    // Gives the compact buffer back (its pieces keep it alive as long as they last).
    void drop_compact_buffer() noexcept;

private:
    static constexpr std::uint64_t kUnbounded = ~std::uint64_t{0} >> 2;

    std::uint64_t allocated_ = 0;
    std::uint64_t pressure_ = kUnbounded;
    std::uint64_t limit_ = kUnbounded;

    PacketBuffer* compact_ = nullptr; // our reference to the buffer being filled
    std::uint8_t* compact_next_ = nullptr;
    std::uint32_t compact_room_ = 0;
    std::uint32_t compact_capacity_ = 0;
    std::uint32_t compact_truesize_ = 0;
};

} // namespace lanetcp::tcp
