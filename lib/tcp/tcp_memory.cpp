#include "tcp/tcp_memory.hpp"

#include <algorithm>
#include <cstring>

#include "tcp/platform.hpp"

namespace lanetcp::tcp {

bool TcpMemory::compact(TcpOutput& out, Chunk& c) noexcept {
    // Worth a copy only where the buffer is mostly waste: a full-sized
    // segment stays where it is (no copy on the bulk path).
    if (c.length == 0 || std::uint64_t{c.length} * 2 > c.charge()) return false;
    if (compact_room_ < c.length) {
        drop_compact_buffer();
        std::uint8_t* data = nullptr;
        std::uint32_t room = 0, truesize = 0;
        PacketBuffer* b = buffer_alloc(out, &data, &room, &truesize);
        if (b == nullptr) return false;
        compact_ = b;
        compact_next_ = data;
        compact_room_ = compact_capacity_ = room;
        compact_truesize_ = truesize;
        if (compact_room_ < c.length) return false;
    }
    // Its share of the buffer, but never less than an eighth of one: a
    // piece costs bookkeeping too (a chunk node, an application's queue
    // entry), and the pool of chunk nodes is about eight per mbuf.
    const std::uint32_t share = static_cast<std::uint32_t>(
        (std::uint64_t{c.length} * compact_truesize_ + compact_capacity_ - 1) / compact_capacity_);
    const std::uint32_t charge = std::max(share, compact_truesize_ / 8);
    if (charge >= c.charge()) return false;
    std::memcpy(compact_next_, c.data, c.length);
    buffer_ref(compact_);
    Chunk copy{compact_, compact_next_, c.length, charge};
    compact_next_ += c.length;
    compact_room_ -= c.length;
    c.release();
    c = copy;
    return true;
}

void TcpMemory::drop_compact_buffer() noexcept {
    if (compact_ != nullptr) buffer_unref(compact_);
    compact_ = nullptr;
    compact_next_ = nullptr;
    compact_room_ = compact_capacity_ = compact_truesize_ = 0;
}

} // namespace lanetcp::tcp
