#include "wire/ipv4.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "captured_frames.hpp"
#include "test_util.hpp"
#include "wire/ethernet.hpp"

namespace lanetcp::wire {
namespace {

using test::ExactCopy;

constexpr Ipv4Addr kIpA{0x0a4d0001}; // 10.77.0.1
constexpr Ipv4Addr kIpB{0x0a4d0002}; // 10.77.0.2

bytes ip_packet(bytes frame) { return frame.subspan(kEthernetHeaderLen); }

// Re-seals a header after a deliberate edit so that only the edit is wrong.
void reseal(std::uint8_t* ip) {
    std::size_t ihl = std::size_t{ip[0] & 0x0fu} * 4;
    store_be16(ip + 10, 0);
    store_be16(ip + 10, internet_checksum(ip, ihl));
}

TEST(Ipv4, ParsesCapturedTcpSyn) {
    ExactCopy pkt{ip_packet(test::kTcpSyn)};
    auto ip = Ipv4View::parse(pkt.view());
    ASSERT_TRUE(ip) << to_string(ip.error);
    EXPECT_EQ(ip->header_length(), 20u);
    EXPECT_EQ(ip->total_length(), 60u);
    EXPECT_EQ(ip->tos(), 0);
    EXPECT_EQ(ip->id(), 28697);
    EXPECT_TRUE(ip->dont_fragment());
    EXPECT_FALSE(ip->more_fragments());
    EXPECT_EQ(ip->fragment_offset(), 0);
    EXPECT_EQ(ip->ttl(), 64);
    EXPECT_EQ(ip->protocol(), ipproto::tcp);
    EXPECT_EQ(ip->checksum(), 0xb606);
    EXPECT_EQ(ip->src(), kIpA);
    EXPECT_EQ(ip->dst(), kIpB);
    EXPECT_TRUE(ip->options().empty());
    EXPECT_EQ(ip->payload().size(), 40u);
    EXPECT_EQ(ip->payload().data(), pkt.view().data() + 20);
}

TEST(Ipv4, ParsesCapturedIcmpReplyWithoutDf) {
    ExactCopy pkt{ip_packet(test::kIcmpEchoReply)};
    auto ip = Ipv4View::parse(pkt.view());
    ASSERT_TRUE(ip) << to_string(ip.error);
    EXPECT_EQ(ip->id(), 62951);
    EXPECT_FALSE(ip->dont_fragment());
    EXPECT_EQ(ip->protocol(), ipproto::icmp);
    EXPECT_EQ(ip->checksum(), 0x7035);
    EXPECT_EQ(ip->src(), kIpB);
    EXPECT_EQ(ip->dst(), kIpA);
    EXPECT_EQ(ip->total_length(), 68u);
}

TEST(Ipv4, AllCapturedHeadersVerify) {
    for (bytes frame : {bytes{test::kIcmpEchoRequest}, bytes{test::kIcmpEchoReply}, bytes{test::kTcpSyn},
                        bytes{test::kTcpSynAck}, bytes{test::kTcpData}, bytes{test::kTcpFinAck},
                        bytes{test::kTcpRst}, bytes{test::kTcpSack1}, bytes{test::kTcpSack3}}) {
        ExactCopy pkt{ip_packet(frame)};
        auto ip = Ipv4View::parse(pkt.view());
        ASSERT_TRUE(ip) << to_string(ip.error);
        EXPECT_EQ(ip->total_length(), pkt.size());
        EXPECT_EQ(internet_checksum(pkt.data(), ip->header_length()), 0);
    }
}

TEST(Ipv4, EveryTruncatedPrefixIsRejected) {
    for (bytes frame : {bytes{test::kIcmpEchoRequest}, bytes{test::kTcpSyn}, bytes{test::kTcpData},
                        bytes{test::kTcpRst}, bytes{test::kTcpSack3}}) {
        bytes full = ip_packet(frame);
        for (std::size_t n = 0; n < full.size(); ++n) {
            ExactCopy prefix{full.first(n)};
            auto ip = Ipv4View::parse(prefix.view());
            ParseError expected = n < kIpv4MinHeaderLen ? ParseError::truncated : ParseError::bad_total_length;
            EXPECT_EQ(ip.error, expected) << "prefix " << n << " of " << full.size();
        }
    }
}

TEST(Ipv4, EveryTruncatedFrameFailsSomewhereOnTheWayUp) {
    // Ethernet then IPv4, as the receive path runs them.
    for (bytes frame : {bytes{test::kIcmpEchoRequest}, bytes{test::kIcmpEchoReply}, bytes{test::kTcpSyn},
                        bytes{test::kTcpSynAck}, bytes{test::kTcpData}, bytes{test::kTcpFinAck},
                        bytes{test::kTcpRst}, bytes{test::kTcpSack1}, bytes{test::kTcpSack3}}) {
        for (std::size_t n = 0; n < frame.size(); ++n) {
            ExactCopy prefix{frame.first(n)};
            auto eth = EthernetView::parse(prefix.view());
            if (!eth) continue;
            EXPECT_FALSE(Ipv4View::parse(eth->payload())) << "prefix " << n;
        }
    }
}

TEST(Ipv4, EthernetPaddingIsNotPayload) {
    std::vector<std::uint8_t> padded(ip_packet(test::kTcpRst).begin(), ip_packet(test::kTcpRst).end());
    ASSERT_EQ(padded.size(), 40u);
    padded.resize(46, 0); // a 60-byte minimum frame
    auto ip = Ipv4View::parse(padded);
    ASSERT_TRUE(ip);
    EXPECT_EQ(ip->total_length(), 40u);
    EXPECT_EQ(ip->payload().size(), 20u);
}

TEST(Ipv4, RejectsWrongVersion) {
    for (std::uint8_t first : {0x65, 0x05, 0xf5}) {
        ExactCopy pkt{ip_packet(test::kTcpSyn)};
        pkt.data()[0] = first;
        EXPECT_EQ(Ipv4View::parse(pkt.view()).error, ParseError::bad_version) << int{first};
    }
}

TEST(Ipv4, RejectsHeaderLengthBelowFive) {
    for (std::uint8_t ihl = 0; ihl < 5; ++ihl) {
        ExactCopy pkt{ip_packet(test::kTcpSyn)};
        pkt.data()[0] = static_cast<std::uint8_t>(0x40 | ihl);
        EXPECT_EQ(Ipv4View::parse(pkt.view()).error, ParseError::bad_header_length) << int{ihl};
    }
}

TEST(Ipv4, RejectsHeaderLengthBeyondBuffer) {
    // The RST's datagram is 40 bytes; IHL 11..15 claims 44..60.
    for (std::uint8_t ihl = 11; ihl <= 15; ++ihl) {
        ExactCopy pkt{ip_packet(test::kTcpRst)};
        pkt.data()[0] = static_cast<std::uint8_t>(0x40 | ihl);
        EXPECT_EQ(Ipv4View::parse(pkt.view()).error, ParseError::truncated) << int{ihl};
    }
}

TEST(Ipv4, RejectsHeaderLengthBeyondTotalLength) {
    // IHL 6 (24 bytes) fits the buffer but not a total length of 22.
    ExactCopy pkt{ip_packet(test::kTcpRst)};
    pkt.data()[0] = 0x46;
    store_be16(pkt.data() + 2, 22);
    reseal(pkt.data());
    EXPECT_EQ(Ipv4View::parse(pkt.view()).error, ParseError::bad_total_length);
}

TEST(Ipv4, RejectsTotalLengthOutOfRange) {
    for (std::uint16_t total : {0, 1, 19, 41, 0xffff}) {
        ExactCopy pkt{ip_packet(test::kTcpRst)};
        store_be16(pkt.data() + 2, total);
        reseal(pkt.data());
        EXPECT_EQ(Ipv4View::parse(pkt.view()).error, ParseError::bad_total_length) << total;
    }
}

TEST(Ipv4, HeaderOnlyDatagramIsAccepted) {
    ExactCopy pkt{ip_packet(test::kTcpRst)};
    store_be16(pkt.data() + 2, 20);
    reseal(pkt.data());
    auto ip = Ipv4View::parse(pkt.view());
    ASSERT_TRUE(ip);
    EXPECT_TRUE(ip->payload().empty());
}

TEST(Ipv4, BadChecksumIsDetectedForEveryHeaderByte) {
    bytes original = ip_packet(test::kTcpSyn);
    // Bytes 0, 2 and 3 (version/IHL, total length) have checks of their own
    // that fire before the checksum for most values.
    for (std::size_t i = 1; i < kIpv4MinHeaderLen; ++i) {
        if (i == 2 || i == 3) continue;
        ExactCopy pkt{original};
        pkt.data()[i] ^= 0x01;
        EXPECT_EQ(Ipv4View::parse(pkt.view()).error, ParseError::bad_checksum) << i;
        // Without verification the same bytes pass (or, for the fragment
        // bits in 6 and 7, are reported as a fragment).
        EXPECT_NE(Ipv4View::parse(pkt.view(), Ipv4View::Checksum::skip).error, ParseError::bad_checksum) << i;
    }
}

TEST(Ipv4, FragmentsAreReportedWithTheirView) {
    {
        ExactCopy pkt{ip_packet(test::kTcpSyn)};
        pkt.data()[6] = 0x20; // MF, offset 0
        reseal(pkt.data());
        auto ip = Ipv4View::parse(pkt.view());
        EXPECT_EQ(ip.error, ParseError::fragment);
        EXPECT_TRUE(ip.value.more_fragments());
        EXPECT_EQ(ip.value.id(), 28697);
    }
    {
        ExactCopy pkt{ip_packet(test::kTcpSyn)};
        store_be16(pkt.data() + 6, 0x00b9); // last fragment at offset 185*8
        reseal(pkt.data());
        auto ip = Ipv4View::parse(pkt.view());
        EXPECT_EQ(ip.error, ParseError::fragment);
        EXPECT_FALSE(ip.value.more_fragments());
        EXPECT_EQ(ip.value.fragment_offset(), 0x00b9);
    }
}

TEST(Ipv4, OptionsAreSkipped) {
    // The RST's header with a 4-byte option block (NOP NOP NOP EOL) inserted.
    bytes rst = ip_packet(test::kTcpRst);
    std::vector<std::uint8_t> buf(rst.begin(), rst.begin() + 20);
    buf.insert(buf.end(), {0x01, 0x01, 0x01, 0x00});
    buf.insert(buf.end(), rst.begin() + 20, rst.end());
    buf[0] = 0x46;
    store_be16(buf.data() + 2, static_cast<std::uint16_t>(buf.size()));
    reseal(buf.data());
    ExactCopy pkt{buf};
    auto ip = Ipv4View::parse(pkt.view());
    ASSERT_TRUE(ip) << to_string(ip.error);
    EXPECT_EQ(ip->header_length(), 24u);
    ASSERT_EQ(ip->options().size(), 4u);
    EXPECT_EQ(ip->options()[3], 0x00);
    ASSERT_EQ(ip->payload().size(), 20u);
    EXPECT_TRUE(std::equal(ip->payload().begin(), ip->payload().end(), rst.begin() + 20));
}

TEST(Ipv4, EmitReproducesCapturedHeader) {
    std::array<std::uint8_t, kIpv4MinHeaderLen> out{};
    Ipv4Fields f;
    f.src = kIpA;
    f.dst = kIpB;
    f.protocol = ipproto::tcp;
    f.ttl = 64;
    f.id = 28697;
    f.dont_fragment = true;
    f.payload_length = 40;
    emit_ipv4(out.data(), f);
    bytes captured = ip_packet(test::kTcpSyn).first(kIpv4MinHeaderLen);
    EXPECT_TRUE(std::equal(out.begin(), out.end(), captured.begin()));
}

TEST(Ipv4, EmitThenParseRoundTrips) {
    std::array<std::uint8_t, kIpv4MinHeaderLen + 8> out{};
    Ipv4Fields f{Ipv4Addr{0xc0a80001}, Ipv4Addr{0x08080808}, ipproto::udp, 3, 0xb8, 0xbeef, false, 8};
    emit_ipv4(out.data(), f);
    auto ip = Ipv4View::parse(out);
    ASSERT_TRUE(ip) << to_string(ip.error);
    EXPECT_EQ(ip->src(), f.src);
    EXPECT_EQ(ip->dst(), f.dst);
    EXPECT_EQ(ip->protocol(), f.protocol);
    EXPECT_EQ(ip->ttl(), f.ttl);
    EXPECT_EQ(ip->tos(), f.tos);
    EXPECT_EQ(ip->ecn(), 0);
    EXPECT_EQ(ip->id(), f.id);
    EXPECT_FALSE(ip->dont_fragment());
    EXPECT_EQ(ip->payload().size(), 8u);
}

TEST(Ipv4, EmitWithoutChecksumLeavesFieldZero) {
    std::array<std::uint8_t, kIpv4MinHeaderLen> out{};
    out.fill(0xaa);
    Ipv4Fields f{kIpA, kIpB, ipproto::tcp, 64, 0, 1, true, 0};
    emit_ipv4(out.data(), f, Ipv4View::Checksum::skip);
    EXPECT_EQ(load_be16(out.data() + 10), 0);
    EXPECT_EQ(Ipv4View::parse(out).error, ParseError::bad_checksum);
    EXPECT_TRUE(Ipv4View::parse(out, Ipv4View::Checksum::skip));
}

} // namespace
} // namespace lanetcp::wire
