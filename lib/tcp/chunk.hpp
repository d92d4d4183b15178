// A run of bytes inside a packet buffer, owning one reference to it. The
// unit in which data moves through TCP without being copied.
#pragma once

#include <cstdint>

#include "tcp/platform.hpp"

namespace lanetcp::tcp {

struct Chunk {
    PacketBuffer* buffer = nullptr;
    const std::uint8_t* data = nullptr;
    std::uint32_t length = 0;
    // The memory this chunk keeps from being reused (Linux's skb->truesize):
    // a whole mbuf for a received frame however few bytes it carries, about
    // its length for a piece copied into a shared buffer. Receive and send
    // buffers are charged by it, so that a peer sending one byte per segment
    // fills them by memory and not by bytes. 0: the creator did not say;
    // charge() then counts the bytes.
    std::uint32_t truesize = 0;

    std::uint32_t charge() const noexcept { return truesize != 0 ? truesize : length; }

    // Drops the first `n` bytes (the part already acknowledged or delivered).
    void trim_front(std::uint32_t n) noexcept {
        data += n;
        length -= n;
    }
    void trim_back(std::uint32_t n) noexcept { length -= n; }
    void release() noexcept {
        if (buffer != nullptr) buffer_unref(buffer);
        buffer = nullptr;
        length = 0;
        truesize = 0;
    }
};

} // namespace lanetcp::tcp
