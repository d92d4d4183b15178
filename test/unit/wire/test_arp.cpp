#include "wire/arp.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>

#include "captured_frames.hpp"
#include "test_util.hpp"
#include "wire/ethernet.hpp"

namespace lanetcp::wire {
namespace {

using test::ExactCopy;

const MacAddr kHostA{{0x02, 0x77, 0x00, 0x00, 0x00, 0x01}};
const MacAddr kHostB{{0x02, 0x77, 0x00, 0x00, 0x00, 0x02}};
constexpr Ipv4Addr kIpA{0x0a4d0001}; // 10.77.0.1
constexpr Ipv4Addr kIpB{0x0a4d0002}; // 10.77.0.2

bytes arp_body(bytes frame) { return frame.subspan(kEthernetHeaderLen); }

TEST(Arp, ParsesCapturedRequest) {
    ExactCopy body{arp_body(test::kArpRequest)};
    auto arp = ArpView::parse(body.view());
    ASSERT_TRUE(arp) << to_string(arp.error);
    EXPECT_EQ(arp->op(), ArpOp::request);
    EXPECT_EQ(arp->sender_mac(), kHostA);
    EXPECT_EQ(arp->sender_ip(), kIpA);
    // arping's first request carries the broadcast address as target.
    EXPECT_TRUE(arp->target_mac().is_broadcast());
    EXPECT_EQ(arp->target_ip(), kIpB);
}

TEST(Arp, ParsesCapturedReply) {
    ExactCopy body{arp_body(test::kArpReply)};
    auto arp = ArpView::parse(body.view());
    ASSERT_TRUE(arp);
    ArpFields f = arp->fields();
    EXPECT_EQ(f.op, ArpOp::reply);
    EXPECT_EQ(f.sender_mac, kHostB);
    EXPECT_EQ(f.sender_ip, kIpB);
    EXPECT_EQ(f.target_mac, kHostA);
    EXPECT_EQ(f.target_ip, kIpA);
}

TEST(Arp, EveryShorterPrefixIsTruncated) {
    for (bytes frame : {bytes{test::kArpRequest}, bytes{test::kArpReply}}) {
        for (std::size_t n = 0; n < kArpLen; ++n) {
            ExactCopy prefix{arp_body(frame).first(n)};
            EXPECT_EQ(ArpView::parse(prefix.view()).error, ParseError::truncated) << n;
        }
    }
}

TEST(Arp, EveryTruncatedFrameFailsSomewhereOnTheWayUp) {
    for (bytes frame : {bytes{test::kArpRequest}, bytes{test::kArpReply}}) {
        for (std::size_t n = 0; n < frame.size(); ++n) {
            ExactCopy prefix{frame.first(n)};
            auto eth = EthernetView::parse(prefix.view());
            if (!eth) continue;
            EXPECT_EQ(eth->ethertype(), ethertype::arp);
            EXPECT_FALSE(ArpView::parse(eth->payload())) << "prefix " << n;
        }
    }
}

TEST(Arp, TrailingPaddingIsIgnored) {
    std::array<std::uint8_t, 46> padded{}; // minimum Ethernet payload
    std::copy_n(arp_body(test::kArpReply).begin(), kArpLen, padded.begin());
    auto arp = ArpView::parse(padded);
    ASSERT_TRUE(arp);
    EXPECT_EQ(arp->target_ip(), kIpA);
}

struct Corruption {
    const char* what;
    std::size_t offset;
    std::uint8_t value;
    ParseError expected;
};

class ArpMalformed : public ::testing::TestWithParam<Corruption> {};

TEST_P(ArpMalformed, IsRejected) {
    const Corruption& c = GetParam();
    ExactCopy body{arp_body(test::kArpReply)};
    body.data()[c.offset] = c.value;
    EXPECT_EQ(ArpView::parse(body.view()).error, c.expected) << c.what;
}

INSTANTIATE_TEST_SUITE_P(
    Fields, ArpMalformed,
    ::testing::Values(Corruption{"htype 6 (IEEE 802)", 1, 6, ParseError::bad_hardware_type},
                      Corruption{"htype high byte", 0, 1, ParseError::bad_hardware_type},
                      Corruption{"ptype 0x86dd", 2, 0x86, ParseError::bad_hardware_type},
                      Corruption{"ptype low byte", 3, 0x06, ParseError::bad_hardware_type},
                      Corruption{"hlen 8", 4, 8, ParseError::bad_hardware_type},
                      Corruption{"hlen 0", 4, 0, ParseError::bad_hardware_type},
                      Corruption{"plen 16", 5, 16, ParseError::bad_hardware_type},
                      Corruption{"opcode 0", 7, 0, ParseError::bad_opcode},
                      Corruption{"opcode 3 (RARP request)", 7, 3, ParseError::bad_opcode},
                      Corruption{"opcode 0x0101", 6, 1, ParseError::bad_opcode}));

TEST(Arp, EmitReproducesCapturedReply) {
    std::array<std::uint8_t, kArpLen> out{};
    emit_arp(out.data(), ArpFields{ArpOp::reply, kHostB, kIpB, kHostA, kIpA});
    bytes captured = arp_body(test::kArpReply);
    EXPECT_TRUE(std::equal(out.begin(), out.end(), captured.begin()));
}

TEST(Arp, EmitThenParseRoundTrips) {
    ArpFields in{ArpOp::request, kHostA, Ipv4Addr{0xc0a80101}, MacAddr{}, Ipv4Addr{0xc0a801fe}};
    std::array<std::uint8_t, kArpLen> out{};
    emit_arp(out.data(), in);
    auto arp = ArpView::parse(out);
    ASSERT_TRUE(arp);
    ArpFields back = arp->fields();
    EXPECT_EQ(back.op, in.op);
    EXPECT_EQ(back.sender_mac, in.sender_mac);
    EXPECT_EQ(back.sender_ip, in.sender_ip);
    EXPECT_EQ(back.target_mac, in.target_mac);
    EXPECT_EQ(back.target_ip, in.target_ip);
}

} // namespace
} // namespace lanetcp::wire
