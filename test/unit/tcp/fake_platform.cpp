#include "fake_platform.hpp"

#include <cstring>
#include <gtest/gtest.h>

#include "tcp/send_queue.hpp"
#include "wire/ipv4.hpp"

namespace lanetcp::tcp {

namespace {
std::int64_t g_live = 0;
} // namespace

void buffer_ref(PacketBuffer* b) noexcept {
    EXPECT_GT(b->refs, 0) << "reference to a freed buffer";
    ++b->refs;
}

void buffer_unref(PacketBuffer* b) noexcept {
    EXPECT_GT(b->refs, 0) << "buffer freed twice";
    if (--b->refs == 0) {
        --g_live;
        delete b;
    }
}

PacketBuffer* buffer_alloc(TcpOutput& out, std::uint8_t** data, std::uint32_t* room, std::uint32_t* truesize) noexcept {
    if (out.buffers_left == 0) return nullptr;
    if (out.buffers_left > 0) --out.buffers_left;
    auto* b = new PacketBuffer;
    ++g_live;
    b->bytes.assign(fake::kCompactCapacity, 0);
    *data = b->bytes.data();
    *room = fake::kCompactCapacity;
    *truesize = fake::kCompactCapacity + fake::kBufferOverhead;
    return b;
}

void transmit(TcpOutput& out, const OutSegment& seg) noexcept {
    SentSegment s;
    s.tuple = seg.tuple;
    s.seq = seg.seq;
    s.ack = seg.ack;
    s.flags = seg.flags;
    s.window = seg.window;
    s.options = seg.options;
    s.tos = seg.tos;
    if (seg.payload_length > 0) {
        EXPECT_NE(seg.queue, nullptr);
        std::uint32_t copied = 0;
        seg.queue->for_each_piece(seg.payload_offset, seg.payload_length,
                                  [&](const std::uint8_t* data, std::uint32_t len, PacketBuffer* buf) {
            EXPECT_NE(buf, nullptr);
            EXPECT_GT(buf->refs, 0) << "payload in a freed buffer";
            s.payload.append(reinterpret_cast<const char*>(data), len);
            copied += len;
        });
        EXPECT_EQ(copied, seg.payload_length) << "send queue shorter than the segment";
    }
    out.sent.push_back(std::move(s));
}

namespace fake {

std::int64_t live_buffers() noexcept { return g_live; }

Chunk make_chunk(const std::uint8_t* data, std::uint32_t length) {
    auto* b = new PacketBuffer;
    ++g_live;
    b->bytes.assign(kHeadroom, 0xee);
    b->bytes.insert(b->bytes.end(), data, data + length);
    return Chunk{b, b->bytes.data() + kHeadroom, length, kHeadroom + length + kBufferOverhead};
}

Chunk make_chunk(std::string_view data) {
    return make_chunk(reinterpret_cast<const std::uint8_t*>(data.data()), static_cast<std::uint32_t>(data.size()));
}

InSegment make_segment(const FourTuple& receiver_tuple, SeqNum seq, SeqNum ack, TcpFlags flags,
                       std::uint16_t window, std::string_view payload) {
    InSegment in;
    in.tuple = receiver_tuple;
    in.seq = seq;
    in.ack = ack;
    in.flags = flags;
    in.window = window;
    // The platform frees a frame without data at once: only data becomes a chunk.
    if (!payload.empty()) in.payload = make_chunk(payload);
    return in;
}

InSegment to_input(const SentSegment& s) {
    const FourTuple reversed{s.tuple.remote_ip, s.tuple.local_ip, s.tuple.remote_port, s.tuple.local_port};
    InSegment in = make_segment(reversed, s.seq, s.ack, s.flags, s.window, s.payload);
    in.options = s.options;
    in.ecn = s.tos & wire::ecn::mask; // as sent: no router on this wire marks CE
    return in;
}

std::string flags_string(TcpFlags f) {
    static constexpr const char* kNames[] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
    std::string out;
    for (int i = 0; i < 8; ++i) {
        if ((f.bits & (1u << i)) == 0) continue;
        if (!out.empty()) out += '|';
        out += kNames[i];
    }
    return out.empty() ? "none" : out;
}

} // namespace fake
} // namespace lanetcp::tcp
