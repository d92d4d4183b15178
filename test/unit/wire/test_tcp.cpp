#include "wire/tcp.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "captured_frames.hpp"
#include "test_util.hpp"
#include "wire/tcp_options.hpp"

namespace lanetcp::wire {
namespace {

using test::ExactCopy;

constexpr Ipv4Addr kIpA{0x0a4d0001};  // 10.77.0.1, the client of the handshake
constexpr Ipv4Addr kIpB{0x0a4d0002};  // 10.77.0.2, the server
constexpr Ipv4Addr kIpA1{0x0a4d0101}; // 10.77.1.1, the RST/SACK capture
constexpr Ipv4Addr kIpB1{0x0a4d0102}; // 10.77.1.2

struct Captured {
    const char* name;
    bytes frame;
};

const Captured kAllTcp[] = {
    {"syn", test::kTcpSyn},       {"syn-ack", test::kTcpSynAck}, {"data", test::kTcpData},
    {"fin-ack", test::kTcpFinAck}, {"rst", test::kTcpRst},       {"sack1", test::kTcpSack1},
    {"sack3", test::kTcpSack3},
};

// Parses the segment of a captured frame out of an exact copy of it.
struct Segment {
    explicit Segment(bytes frame) : l3(test::l3_of(frame)), copy(l3.l4) {}
    Parsed<TcpView> parse() const { return TcpView::parse(copy.view()); }
    test::L3 l3;
    ExactCopy copy;
};

// Reads every accessor, so that ASan sees any read outside the segment.
std::size_t touch_everything(const TcpView& v) {
    std::size_t acc = v.src_port() + v.dst_port() + v.seq().raw() + v.ack().raw() + v.header_length() +
                      v.flags().bits + v.window() + v.checksum() + v.urgent_pointer() + v.sequence_length();
    for (std::uint8_t b : v.options()) acc += b;
    for (std::uint8_t b : v.payload()) acc += b;
    return acc;
}

TEST(Tcp, ParsesCapturedSyn) {
    Segment seg{test::kTcpSyn};
    auto tcp = seg.parse();
    ASSERT_TRUE(tcp) << to_string(tcp.error);
    EXPECT_EQ(tcp->src_port(), 37088);
    EXPECT_EQ(tcp->dst_port(), 7777);
    EXPECT_EQ(tcp->seq(), SeqNum{3952233552u});
    EXPECT_EQ(tcp->ack(), SeqNum{0});
    EXPECT_EQ(tcp->header_length(), 40u);
    EXPECT_EQ(tcp->flags(), tcpflag::syn);
    EXPECT_EQ(tcp->window(), 64240);
    EXPECT_EQ(tcp->checksum(), 0x2aa0);
    EXPECT_EQ(tcp->urgent_pointer(), 0);
    EXPECT_EQ(tcp->options().size(), 20u);
    EXPECT_EQ(tcp->options().data(), seg.copy.view().data() + 20);
    EXPECT_TRUE(tcp->payload().empty());
    EXPECT_EQ(tcp->sequence_length(), 1u);
    EXPECT_TRUE(tcp_checksum_ok(kIpA, kIpB, seg.copy.view()));
}

TEST(Tcp, ParsesCapturedSynAck) {
    Segment seg{test::kTcpSynAck};
    auto tcp = seg.parse();
    ASSERT_TRUE(tcp);
    EXPECT_EQ(tcp->src_port(), 7777);
    EXPECT_EQ(tcp->dst_port(), 37088);
    EXPECT_EQ(tcp->seq(), SeqNum{4216549838u});
    EXPECT_EQ(tcp->ack(), SeqNum{3952233553u});
    EXPECT_EQ(tcp->flags(), tcpflag::syn | tcpflag::ack);
    EXPECT_EQ(tcp->window(), 65160);
    EXPECT_EQ(tcp->checksum(), 0xd6b1);
    EXPECT_EQ(tcp->sequence_length(), 1u);
    EXPECT_TRUE(tcp_checksum_ok(kIpB, kIpA, seg.copy.view()));
}

TEST(Tcp, ParsesCapturedDataSegment) {
    Segment seg{test::kTcpData};
    auto tcp = seg.parse();
    ASSERT_TRUE(tcp);
    EXPECT_EQ(tcp->seq(), SeqNum{3952233553u});
    EXPECT_EQ(tcp->ack(), SeqNum{4216549839u});
    EXPECT_EQ(tcp->header_length(), 32u);
    EXPECT_EQ(tcp->flags(), tcpflag::psh | tcpflag::ack);
    EXPECT_EQ(tcp->window(), 63);
    EXPECT_EQ(tcp->checksum(), 0x008d);
    std::string_view data{reinterpret_cast<const char*>(tcp->payload().data()), tcp->payload().size()};
    EXPECT_EQ(data, "hello lanetcp\n");
    EXPECT_EQ(tcp->sequence_length(), 14u);
    EXPECT_TRUE(tcp_checksum_ok(kIpA, kIpB, seg.copy.view()));
}

TEST(Tcp, ParsesCapturedFinAndRst) {
    Segment fin{test::kTcpFinAck};
    auto f = fin.parse();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->seq(), SeqNum{4216549858u});
    EXPECT_EQ(f->ack(), SeqNum{3952233567u});
    EXPECT_EQ(f->flags(), tcpflag::fin | tcpflag::ack);
    EXPECT_EQ(f->sequence_length(), 1u);
    EXPECT_TRUE(tcp_checksum_ok(kIpB, kIpA, fin.copy.view()));

    Segment rst{test::kTcpRst};
    auto r = rst.parse();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->src_port(), 9);
    EXPECT_EQ(r->dst_port(), 50578);
    EXPECT_EQ(r->seq(), SeqNum{0});
    EXPECT_EQ(r->ack(), SeqNum{787612727u});
    EXPECT_EQ(r->header_length(), 20u);
    EXPECT_TRUE(r->options().empty());
    EXPECT_EQ(r->flags(), tcpflag::rst | tcpflag::ack);
    EXPECT_EQ(r->window(), 0);
    EXPECT_EQ(r->checksum(), 0xa06f);
    EXPECT_EQ(r->sequence_length(), 0u);
    EXPECT_TRUE(tcp_checksum_ok(kIpB1, kIpA1, rst.copy.view()));
}

TEST(Tcp, ParsesCapturedSackAcks) {
    Segment s1{test::kTcpSack1};
    auto a = s1.parse();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->header_length(), 44u);
    EXPECT_EQ(a->flags(), tcpflag::ack);
    EXPECT_EQ(a->ack(), SeqNum{209392495u});
    EXPECT_EQ(a->checksum(), 0x5e22);
    EXPECT_TRUE(tcp_checksum_ok(kIpB1, kIpA1, s1.copy.view()));

    Segment s3{test::kTcpSack3};
    auto b = s3.parse();
    ASSERT_TRUE(b);
    EXPECT_EQ(b->header_length(), 60u);
    EXPECT_EQ(b->options().size(), kTcpMaxOptionsLen);
    EXPECT_EQ(b->checksum(), 0xb670);
    EXPECT_TRUE(tcp_checksum_ok(kIpB1, kIpA1, s3.copy.view()));
}

TEST(Tcp, ChecksumDependsOnPseudoHeader) {
    Segment seg{test::kTcpData};
    EXPECT_TRUE(tcp_checksum_ok(kIpA, kIpB, seg.copy.view()));
    EXPECT_FALSE(tcp_checksum_ok(kIpA, Ipv4Addr{kIpB.v + 1}, seg.copy.view()));
    EXPECT_FALSE(tcp_checksum_ok(Ipv4Addr{0x0a4d0101}, kIpB, seg.copy.view()));
    EXPECT_EQ(tcp_checksum(kIpA, kIpB, seg.copy.view()), 0);
}

TEST(Tcp, BadChecksumIsDetectedInEveryByte) {
    for (const Captured& c : kAllTcp) {
        Segment seg{c.frame};
        for (std::size_t i = 0; i < seg.copy.size(); ++i) {
            ExactCopy bad{seg.copy.view()};
            bad.data()[i] ^= 0x04;
            EXPECT_FALSE(tcp_checksum_ok(seg.l3.ip.src(), seg.l3.ip.dst(), bad.view())) << c.name << " byte " << i;
        }
    }
}

TEST(Tcp, ChecksumOkRejectsImpossibleLengths) {
    // One byte more than an IPv4 datagram can carry. Its checksum is filled
    // in as tcp_checksum() computes it, with the length cut to 16 bits, so
    // only the length check can reject it.
    std::vector<std::uint8_t> big(0xffff - kIpv4MinHeaderLen + 1, 0x5a);
    fill_tcp_checksum(kIpA, kIpB, big);
    EXPECT_EQ(tcp_checksum(kIpA, kIpB, big), 0);
    EXPECT_FALSE(tcp_checksum_ok(kIpA, kIpB, big));
    big.pop_back();
    fill_tcp_checksum(kIpA, kIpB, big);
    EXPECT_TRUE(tcp_checksum_ok(kIpA, kIpB, big));
    EXPECT_FALSE(tcp_checksum_ok(kIpA, kIpB, bytes{}));
}

TEST(Tcp, EveryTruncatedPrefixIsRejectedOrFailsTheChecksum) {
    for (const Captured& c : kAllTcp) {
        Segment seg{c.frame};
        std::size_t header_len = seg.parse()->header_length();
        for (std::size_t n = 0; n < seg.copy.size(); ++n) {
            ExactCopy prefix{seg.copy.view().first(n)};
            auto tcp = TcpView::parse(prefix.view());
            if (n < kTcpMinHeaderLen) {
                EXPECT_EQ(tcp.error, ParseError::truncated) << c.name << " prefix " << n;
            } else if (n < header_len) {
                EXPECT_EQ(tcp.error, ParseError::bad_header_length) << c.name << " prefix " << n;
            } else {
                // A prefix holding the whole header is a well-formed shorter
                // segment; only the checksum can tell.
                ASSERT_TRUE(tcp) << c.name << " prefix " << n;
                EXPECT_EQ(tcp->payload().size(), n - header_len);
                touch_everything(tcp.value);
                EXPECT_FALSE(tcp_checksum_ok(seg.l3.ip.src(), seg.l3.ip.dst(), prefix.view()))
                    << c.name << " prefix " << n;
            }
        }
    }
}

TEST(Tcp, RejectsDataOffsetBelowFive) {
    for (std::uint8_t doff = 0; doff < 5; ++doff) {
        Segment seg{test::kTcpSyn};
        seg.copy.data()[12] = static_cast<std::uint8_t>(doff << 4);
        EXPECT_EQ(seg.parse().error, ParseError::bad_header_length) << int{doff};
    }
}

TEST(Tcp, RejectsDataOffsetBeyondSegment) {
    // The SYN is 40 bytes: data offset 10 fits exactly, 11..15 do not.
    for (std::uint8_t doff = 11; doff <= 15; ++doff) {
        Segment seg{test::kTcpSyn};
        seg.copy.data()[12] = static_cast<std::uint8_t>(doff << 4);
        EXPECT_EQ(seg.parse().error, ParseError::bad_header_length) << int{doff};
    }
    Segment rst{test::kTcpRst}; // 20 bytes, no room for any option
    rst.copy.data()[12] = 0x60;
    EXPECT_EQ(rst.parse().error, ParseError::bad_header_length);
}

TEST(Tcp, ReservedBitsDoNotLeakIntoFlags) {
    Segment seg{test::kTcpSyn};
    seg.copy.data()[12] |= 0x0f; // reserved + AE
    auto tcp = seg.parse();
    ASSERT_TRUE(tcp);
    EXPECT_EQ(tcp->header_length(), 40u);
    EXPECT_EQ(tcp->flags(), tcpflag::syn);
}

TEST(TcpFlags, EachBitHasItsAccessor) {
    const TcpFlags all[] = {tcpflag::fin, tcpflag::syn, tcpflag::rst, tcpflag::psh,
                            tcpflag::ack, tcpflag::urg, tcpflag::ece, tcpflag::cwr};
    for (std::size_t i = 0; i < 8; ++i) {
        TcpFlags f = all[i];
        EXPECT_EQ(f.bits, 1u << i);
        const bool got[] = {f.fin(), f.syn(), f.rst(), f.psh(), f.ack(), f.urg(), f.ece(), f.cwr()};
        for (std::size_t j = 0; j < 8; ++j) EXPECT_EQ(got[j], i == j) << i << " " << j;
    }
}

TEST(TcpFlags, SetOperations) {
    TcpFlags synack = tcpflag::syn | tcpflag::ack;
    EXPECT_TRUE(synack.has(tcpflag::syn));
    EXPECT_TRUE(synack.has(tcpflag::syn | tcpflag::ack));
    EXPECT_FALSE(synack.has(tcpflag::syn | tcpflag::fin));
    EXPECT_TRUE(synack.any_of(tcpflag::fin | tcpflag::ack));
    EXPECT_FALSE(synack.any_of(tcpflag::fin | tcpflag::rst));
    EXPECT_EQ(synack & tcpflag::ack, tcpflag::ack);
    EXPECT_NE(synack, tcpflag::syn);
    EXPECT_TRUE(TcpFlags{}.has(TcpFlags{}));
}

// Builds a whole segment the way the transmit path will: options first (to
// know their length), then the fixed header, then data, then the checksum.
std::vector<std::uint8_t> build_segment(Ipv4Addr src, Ipv4Addr dst, TcpFields f, const TcpOptions& o,
                                        std::string_view data) {
    std::vector<std::uint8_t> seg(kTcpMaxHeaderLen + data.size(), 0xee);
    std::size_t opt_len = emit_tcp_options(seg.data() + kTcpMinHeaderLen, o);
    f.options_length = static_cast<std::uint8_t>(opt_len);
    std::size_t header_len = emit_tcp(seg.data(), f);
    EXPECT_EQ(header_len, kTcpMinHeaderLen + opt_len);
    std::memcpy(seg.data() + header_len, data.data(), data.size());
    seg.resize(header_len + data.size());
    fill_tcp_checksum(src, dst, seg);
    return seg;
}

void expect_same_bytes(bytes got, bytes want) {
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], want[i]) << "byte " << i;
}

TEST(Tcp, EmitReproducesCapturedSyn) {
    TcpFields f;
    f.src_port = 37088;
    f.dst_port = 7777;
    f.seq = SeqNum{3952233552u};
    f.flags = tcpflag::syn;
    f.window = 64240;
    TcpOptions o;
    o.mss = 1460;
    o.sack_permitted = true;
    o.timestamps = TcpTimestamps{732429059u, 0};
    o.window_scale = 10;
    auto seg = build_segment(kIpA, kIpB, f, o, "");
    expect_same_bytes(seg, Segment{test::kTcpSyn}.copy.view());
}

TEST(Tcp, EmitReproducesCapturedDataSegment) {
    TcpFields f;
    f.src_port = 37088;
    f.dst_port = 7777;
    f.seq = SeqNum{3952233553u};
    f.ack = SeqNum{4216549839u};
    f.flags = tcpflag::psh | tcpflag::ack;
    f.window = 63;
    TcpOptions o;
    o.timestamps = TcpTimestamps{732429060u, 3356760846u};
    auto seg = build_segment(kIpA, kIpB, f, o, "hello lanetcp\n");
    expect_same_bytes(seg, Segment{test::kTcpData}.copy.view());
}

TEST(Tcp, EmitReproducesCapturedRstWithoutOptions) {
    TcpFields f;
    f.src_port = 9;
    f.dst_port = 50578;
    f.ack = SeqNum{787612727u};
    f.flags = tcpflag::rst | tcpflag::ack;
    auto seg = build_segment(kIpB1, kIpA1, f, TcpOptions{}, "");
    expect_same_bytes(seg, Segment{test::kTcpRst}.copy.view());
}

TEST(Tcp, EmitThenParseRoundTrips) {
    TcpFields f;
    f.src_port = 0xfedc;
    f.dst_port = 443;
    f.seq = SeqNum{0xffffffffu};
    f.ack = SeqNum{0x80000000u};
    f.flags = tcpflag::urg | tcpflag::ack | tcpflag::cwr | tcpflag::ece;
    f.window = 0xabcd;
    f.urgent_pointer = 3;
    TcpOptions o;
    o.timestamps = TcpTimestamps{1, 2};
    o.sack_block_count = 1;
    o.sack_blocks[0] = SackBlock{SeqNum{100}, SeqNum{200}};
    auto seg = build_segment(Ipv4Addr{0xc0a80001}, Ipv4Addr{0xc0a80002}, f, o, "xyz");
    ExactCopy exact{seg};
    auto tcp = TcpView::parse(exact.view());
    ASSERT_TRUE(tcp) << to_string(tcp.error);
    EXPECT_EQ(tcp->src_port(), f.src_port);
    EXPECT_EQ(tcp->dst_port(), f.dst_port);
    EXPECT_EQ(tcp->seq(), f.seq);
    EXPECT_EQ(tcp->ack(), f.ack);
    EXPECT_EQ(tcp->flags(), f.flags);
    EXPECT_EQ(tcp->window(), f.window);
    EXPECT_EQ(tcp->urgent_pointer(), f.urgent_pointer);
    EXPECT_EQ(tcp->header_length(), 20u + 12u + 12u);
    EXPECT_EQ(tcp->payload().size(), 3u);
    EXPECT_TRUE(tcp_checksum_ok(Ipv4Addr{0xc0a80001}, Ipv4Addr{0xc0a80002}, exact.view()));
    auto opts = TcpOptions::parse(tcp->options());
    ASSERT_TRUE(opts);
    ASSERT_EQ(opts->sacks().size(), 1u);
    EXPECT_EQ(opts->sacks()[0], o.sack_blocks[0]);
}

TEST(Tcp, EmitWritesOnlyTheFixedHeader) {
    std::array<std::uint8_t, 64> buf{};
    buf.fill(0xee);
    TcpFields f;
    f.options_length = 12;
    EXPECT_EQ(emit_tcp(buf.data(), f), 32u);
    EXPECT_EQ(buf[12] >> 4, 8);
    EXPECT_TRUE(std::all_of(buf.begin() + 20, buf.end(), [](std::uint8_t b) { return b == 0xee; }));
}

TEST(Tcp, OffloadSeedPlusSegmentSumGivesTheChecksum) {
    // A NIC sums the segment with the seed in the checksum field and stores
    // the complement: that must equal the software checksum.
    Segment seg{test::kTcpData};
    ExactCopy s{seg.copy.view()};
    auto length = static_cast<std::uint16_t>(s.size());
    store_be16(s.data() + 16, tcp_offload_checksum_seed(kIpA, kIpB, length));
    EXPECT_EQ(internet_checksum(s.view()), 0x008d);
}

} // namespace
} // namespace lanetcp::wire
