#include "wire/ethernet.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>

#include "captured_frames.hpp"
#include "test_util.hpp"

namespace lanetcp::wire {
namespace {

using test::ExactCopy;

const MacAddr kHostA{{0x02, 0x77, 0x00, 0x00, 0x00, 0x01}};
const MacAddr kHostB{{0x02, 0x77, 0x00, 0x00, 0x00, 0x02}};

TEST(Ethernet, ParsesCapturedBroadcast) {
    ExactCopy frame{bytes{test::kArpRequest}};
    auto eth = EthernetView::parse(frame.view());
    ASSERT_TRUE(eth) << to_string(eth.error);
    EXPECT_TRUE(eth->dst().is_broadcast());
    EXPECT_EQ(eth->src(), kHostA);
    EXPECT_EQ(eth->ethertype(), ethertype::arp);
    EXPECT_EQ(eth->payload().size(), 28u);
    EXPECT_EQ(eth->payload().data(), frame.view().data() + kEthernetHeaderLen);
}

TEST(Ethernet, ParsesCapturedUnicastIpv4) {
    ExactCopy frame{bytes{test::kTcpSyn}};
    auto eth = EthernetView::parse(frame.view());
    ASSERT_TRUE(eth);
    EXPECT_EQ(eth->dst(), kHostB);
    EXPECT_EQ(eth->src(), kHostA);
    EXPECT_FALSE(eth->dst().is_multicast());
    EXPECT_EQ(eth->ethertype(), ethertype::ipv4);
    EXPECT_EQ(eth->payload().size(), test::kTcpSyn.size() - kEthernetHeaderLen);
}

TEST(Ethernet, HeaderOnlyFrameHasEmptyPayload) {
    ExactCopy frame{bytes{test::kTcpSyn.data(), kEthernetHeaderLen}};
    auto eth = EthernetView::parse(frame.view());
    ASSERT_TRUE(eth);
    EXPECT_TRUE(eth->payload().empty());
}

TEST(Ethernet, EveryShorterPrefixIsTruncated) {
    for (std::size_t n = 0; n < kEthernetHeaderLen; ++n) {
        ExactCopy prefix{bytes{test::kTcpSyn.data(), n}};
        EXPECT_EQ(EthernetView::parse(prefix.view()).error, ParseError::truncated) << n;
    }
}

TEST(Ethernet, EmitReproducesCapturedHeader) {
    std::array<std::uint8_t, kEthernetHeaderLen> out{};
    emit_ethernet(out.data(), kHostA, kHostB, ethertype::arp);
    EXPECT_TRUE(std::equal(out.begin(), out.end(), test::kArpReply.begin()));
    auto eth = EthernetView::parse(out);
    ASSERT_TRUE(eth);
    EXPECT_EQ(eth->dst(), kHostA);
    EXPECT_EQ(eth->src(), kHostB);
    EXPECT_EQ(eth->ethertype(), ethertype::arp);
}

} // namespace
} // namespace lanetcp::wire
