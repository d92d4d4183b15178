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
    }
};

} // namespace lanetcp::tcp
