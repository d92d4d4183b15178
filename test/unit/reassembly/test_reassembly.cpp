// The reassembly queue on its own: ordering, overlap trimming, duplicates,
// FIN, bounds, and that every buffer reference is given back.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tcp/reassembly.hpp"

// A buffer that counts its references, standing in for an mbuf.
namespace lanetcp::tcp {
struct PacketBuffer {
    int refs = 1;
    std::vector<std::uint8_t> bytes;
};
static int live_buffers = 0;
void buffer_ref(PacketBuffer* b) noexcept { ++b->refs; }
void buffer_unref(PacketBuffer* b) noexcept {
    if (--b->refs == 0) {
        delete b;
        --live_buffers;
    }
}
} // namespace lanetcp::tcp

namespace lanetcp::tcp {
namespace {

using wire::SeqNum;

// Bytes [seq, seq+len) of a stream whose byte n is 'a' + n % 26.
Chunk stream_chunk(std::uint32_t seq, std::uint32_t len) {
    auto* b = new PacketBuffer;
    ++live_buffers;
    for (std::uint32_t i = 0; i < len; ++i) b->bytes.push_back(static_cast<std::uint8_t>('a' + (seq + i) % 26));
    return Chunk{b, b->bytes.data(), len};
}

struct Fixture : ::testing::Test {
    HeldSegmentPool pool{64};
    ReassemblyQueue q;
    SeqNum rcv_nxt{1000};
    std::string delivered;

    ReassemblyQueue::Insert put(std::uint32_t seq, std::uint32_t len, bool fin = false) {
        return q.insert(SeqNum{seq}, stream_chunk(seq, len), fin, rcv_nxt, pool, 16);
    }
    bool pop() {
        return q.pop_ready(rcv_nxt, pool, [&](HeldSegment& s) {
            delivered.append(reinterpret_cast<const char*>(s.chunk.data), s.chunk.length);
            s.chunk.release();
            pool.put(s);
        });
    }
    std::string expected(std::uint32_t from, std::uint32_t to) {
        std::string s;
        for (std::uint32_t i = from; i < to; ++i) s += static_cast<char>('a' + i % 26);
        return s;
    }
    void TearDown() override {
        q.clear(pool);
        EXPECT_EQ(live_buffers, 0) << "a buffer reference leaked";
        EXPECT_EQ(pool.available(), 64u);
    }
};

TEST_F(Fixture, HoldsUntilTheHoleFillsThenReleasesInOrder) {
    EXPECT_EQ(put(1200, 100), ReassemblyQueue::Insert::held);
    EXPECT_EQ(put(1100, 100), ReassemblyQueue::Insert::held);
    EXPECT_FALSE(pop());
    EXPECT_EQ(rcv_nxt, SeqNum{1000}) << "nothing continues 1000 yet";
    rcv_nxt = SeqNum{1100}; // the in-order segment 1000..1100 arrived
    EXPECT_FALSE(pop());
    EXPECT_EQ(rcv_nxt, SeqNum{1300});
    EXPECT_EQ(delivered, expected(1100, 1300));
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.bytes(), 0u);
}

TEST_F(Fixture, DuplicatesAndCoveredDataAreReleased) {
    EXPECT_EQ(put(1100, 100), ReassemblyQueue::Insert::held);
    EXPECT_EQ(put(1100, 100), ReassemblyQueue::Insert::duplicate);
    EXPECT_EQ(put(1120, 50), ReassemblyQueue::Insert::duplicate);
    EXPECT_EQ(put(900, 50), ReassemblyQueue::Insert::duplicate) << "entirely before RCV.NXT";
    EXPECT_EQ(q.segments(), 1u);
    EXPECT_EQ(q.bytes(), 100u);
}

TEST_F(Fixture, OverlapsAreTrimmedToWhatIsNew) {
    put(1100, 100);           // 1100..1200
    put(1150, 100);           // overlaps the tail: keeps 1200..1250
    put(1050, 100);           // overlaps the head: keeps 1050..1100
    put(1300, 50);            // separate
    put(1240, 70);            // bridges 1250..1300 (and trims at 1300)
    EXPECT_EQ(q.bytes(), 300u);
    rcv_nxt = SeqNum{1050};
    pop();
    EXPECT_EQ(rcv_nxt, SeqNum{1350});
    EXPECT_EQ(delivered, expected(1050, 1350));
}

TEST_F(Fixture, ASegmentCoveringHeldOnesReplacesThem) {
    put(1100, 10);
    put(1120, 10);
    put(1140, 10);
    EXPECT_EQ(put(1090, 100), ReassemblyQueue::Insert::held);
    EXPECT_EQ(q.segments(), 1u);
    EXPECT_EQ(q.bytes(), 100u);
    rcv_nxt = SeqNum{1090};
    pop();
    EXPECT_EQ(delivered, expected(1090, 1190));
}

TEST_F(Fixture, HeldFinIsReportedWhenReached) {
    put(1100, 50, /*fin=*/true);
    rcv_nxt = SeqNum{1100};
    EXPECT_TRUE(pop());
    EXPECT_EQ(rcv_nxt, SeqNum{1150}) << "points at the FIN's sequence number";
    EXPECT_EQ(delivered, expected(1100, 1150));
}

TEST_F(Fixture, BareFinAheadIsHeld) {
    EXPECT_EQ(put(1100, 0, /*fin=*/true), ReassemblyQueue::Insert::held);
    rcv_nxt = SeqNum{1100};
    EXPECT_TRUE(pop());
}

TEST_F(Fixture, SegmentCapRefusesMore) {
    for (std::uint32_t i = 0; i < 16; ++i) EXPECT_EQ(put(1100 + 20 * i, 10), ReassemblyQueue::Insert::held);
    EXPECT_EQ(put(2000, 10), ReassemblyQueue::Insert::full);
    EXPECT_EQ(q.segments(), 16u);
}

TEST_F(Fixture, WorksAcrossTheSequenceWrap) {
    rcv_nxt = SeqNum{0xfffffff0u};
    EXPECT_EQ(put(0x00000010u, 16), ReassemblyQueue::Insert::held);
    EXPECT_EQ(put(0x00000000u, 16), ReassemblyQueue::Insert::held);
    EXPECT_EQ(put(0xfffffff0u + 8, 8), ReassemblyQueue::Insert::held);
    rcv_nxt = SeqNum{0xfffffff8u};
    pop();
    EXPECT_EQ(rcv_nxt, SeqNum{0x00000020u});
    EXPECT_EQ(q.bytes(), 0u);
}

} // namespace
} // namespace lanetcp::tcp
