#include "nocopy_platform.hpp"

#include <cstring>

#include "tcp/send_queue.hpp"

namespace lanetcp::tcp {

namespace {

nocopy::Stats g_stats;
PacketBuffer* g_free = nullptr; // buffers of kPooledCapacity bytes
constexpr std::uint32_t kPooledCapacity = 2048;

void free_buffer(PacketBuffer* b) noexcept {
    --g_stats.live;
    if (b->capacity == kPooledCapacity) {
        b->next_free = g_free;
        g_free = b;
        return;
    }
    delete[] b->bytes;
    delete b;
}

} // namespace

void buffer_ref(PacketBuffer* b) noexcept { ++b->refs; }

void buffer_unref(PacketBuffer* b) noexcept {
    if (--b->refs == 0 && !b->immortal) free_buffer(b);
}

PacketBuffer* buffer_alloc(TcpOutput&, std::uint8_t** data, std::uint32_t* room, std::uint32_t* truesize) noexcept {
    PacketBuffer* b = nocopy::allocate(kPooledCapacity);
    *data = b->bytes;
    *room = b->capacity;
    *truesize = b->capacity;
    return b;
}

void transmit(TcpOutput& out, const OutSegment& seg) noexcept {
    WireSegment& s = out.sent.emplace_back();
    s.tuple = seg.tuple;
    s.seq = seg.seq;
    s.ack = seg.ack;
    s.flags = seg.flags;
    s.window = seg.window;
    s.options = seg.options;
    s.tos = seg.tos;
    ++out.segments;
    if (seg.payload_length == 0 || seg.queue == nullptr) return;
    ++out.data_segments;
    int pieces = 0;
    seg.queue->for_each_piece(seg.payload_offset, seg.payload_length,
                              [&](const std::uint8_t* data, std::uint32_t len, PacketBuffer* buf) {
        if (++pieces == 1) {
            buffer_ref(buf);
            s.payload = Chunk{buf, data, len};
            return;
        }
        // Spans pieces: gather into one buffer (what a NIC's scatter list
        // would do for free).
        if (pieces == 2) {
            Chunk first = s.payload;
            PacketBuffer* b = nocopy::allocate(seg.payload_length);
            std::memcpy(b->bytes, first.data, first.length);
            s.payload = Chunk{b, b->bytes, first.length};
            first.release();
            ++nocopy::stats().payload_copies;
        }
        std::memcpy(const_cast<std::uint8_t*>(s.payload.data) + s.payload.length, data, len);
        s.payload.length += len;
    });
}

namespace nocopy {

Stats& stats() noexcept { return g_stats; }

PacketBuffer* allocate(std::uint32_t capacity) {
    PacketBuffer* b = nullptr;
    if (capacity <= kPooledCapacity && g_free != nullptr) {
        b = g_free;
        g_free = b->next_free;
    } else {
        const std::uint32_t cap = capacity <= kPooledCapacity ? kPooledCapacity : capacity;
        b = new PacketBuffer;
        b->capacity = cap;
        b->bytes = new std::uint8_t[cap];
        ++g_stats.buffers_allocated;
    }
    b->refs = 1;
    b->next_free = nullptr;
    ++g_stats.live;
    return b;
}

PacketBuffer* immortal_buffer(std::uint32_t len) {
    auto* b = new PacketBuffer;
    b->immortal = true;
    b->refs = 1;
    b->capacity = len;
    b->bytes = new std::uint8_t[len];
    for (std::uint32_t i = 0; i < len; ++i) b->bytes[i] = static_cast<std::uint8_t>(i * 131u + 7u);
    return b;
}

} // namespace nocopy
} // namespace lanetcp::tcp
