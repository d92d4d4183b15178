#include "wire/icmp.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "captured_frames.hpp"
#include "test_util.hpp"

namespace lanetcp::wire {
namespace {

using test::ExactCopy;

// The ICMP message of a captured frame (Ethernet 14 + IPv4 20).
bytes icmp_message(bytes frame) { return frame.subspan(kEthernetHeaderLen + kIpv4MinHeaderLen); }

TEST(Icmp, CapturedFramesCarryIcmpAfterAPlainHeader) {
    auto l3 = test::l3_of(test::kIcmpEchoRequest);
    EXPECT_EQ(l3.ip.protocol(), ipproto::icmp);
    EXPECT_EQ(l3.ip.header_length(), kIpv4MinHeaderLen);
    EXPECT_EQ(l3.l4.size(), icmp_message(test::kIcmpEchoRequest).size());
}

TEST(Icmp, ParsesCapturedEchoRequest) {
    ExactCopy msg{icmp_message(test::kIcmpEchoRequest)};
    auto icmp = IcmpView::parse(msg.view());
    ASSERT_TRUE(icmp) << to_string(icmp.error);
    EXPECT_EQ(icmp->type(), icmptype::echo_request);
    EXPECT_EQ(icmp->code(), 0);
    EXPECT_EQ(icmp->checksum(), 0xc269);
    EXPECT_EQ(icmp->echo_id(), 5645);
    EXPECT_EQ(icmp->echo_sequence(), 1);
    EXPECT_EQ(icmp->length(), 48u);
    ASSERT_EQ(icmp->body().size(), 40u);
    // ping -p 6c616e6574 fills the data after its 16-byte timestamp.
    std::string_view tail{reinterpret_cast<const char*>(icmp->body().data()) + 35, 5};
    EXPECT_EQ(tail, "lanet");
}

TEST(Icmp, ParsesCapturedEchoReply) {
    ExactCopy msg{icmp_message(test::kIcmpEchoReply)};
    auto icmp = IcmpView::parse(msg.view());
    ASSERT_TRUE(icmp) << to_string(icmp.error);
    EXPECT_EQ(icmp->type(), icmptype::echo_reply);
    EXPECT_EQ(icmp->checksum(), 0xca69);
    EXPECT_EQ(icmp->echo_id(), 5645);
    EXPECT_EQ(icmp->echo_sequence(), 1);
}

TEST(Icmp, EchoRequestToReplyMatchesLinuxReply) {
    ExactCopy msg{icmp_message(test::kIcmpEchoRequest)};
    echo_request_to_reply(msg.data());
    bytes linux_reply = icmp_message(test::kIcmpEchoReply);
    ASSERT_EQ(msg.size(), linux_reply.size());
    EXPECT_TRUE(std::equal(linux_reply.begin(), linux_reply.end(), msg.view().begin()));
    EXPECT_TRUE(IcmpView::parse(msg.view()));
}

TEST(Icmp, BadChecksumIsDetectedInEveryByte) {
    bytes original = icmp_message(test::kIcmpEchoRequest);
    for (std::size_t i = 0; i < original.size(); ++i) {
        ExactCopy msg{original};
        msg.data()[i] ^= 0x10;
        EXPECT_EQ(IcmpView::parse(msg.view()).error, ParseError::bad_checksum) << i;
        EXPECT_TRUE(IcmpView::parse(msg.view(), IcmpView::Checksum::skip)) << i;
    }
}

TEST(Icmp, EveryTruncatedPrefixIsRejected) {
    bytes full = icmp_message(test::kIcmpEchoRequest);
    for (std::size_t n = 0; n < full.size(); ++n) {
        ExactCopy prefix{full.first(n)};
        auto icmp = IcmpView::parse(prefix.view());
        ParseError expected = n < kIcmpHeaderLen ? ParseError::truncated : ParseError::bad_checksum;
        EXPECT_EQ(icmp.error, expected) << "prefix " << n;
    }
}

TEST(Icmp, HeaderOnlyMessageHasEmptyBody) {
    std::uint8_t msg[kIcmpHeaderLen] = {icmptype::echo_request, 0, 0, 0, 0x12, 0x34, 0x00, 0x07};
    store_be16(msg + 2, internet_checksum(msg, sizeof msg));
    ExactCopy exact{bytes{msg}};
    auto icmp = IcmpView::parse(exact.view());
    ASSERT_TRUE(icmp);
    EXPECT_TRUE(icmp->body().empty());
    EXPECT_EQ(icmp->echo_id(), 0x1234);
    EXPECT_EQ(icmp->echo_sequence(), 7);
}

} // namespace
} // namespace lanetcp::wire
