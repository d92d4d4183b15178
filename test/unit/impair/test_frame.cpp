// Frame edits: CE marking keeps the IPv4 header checksum right; corruption
// always breaks the TCP checksum and never touches Ethernet or IP headers.
#include <gtest/gtest.h>

#include <vector>

#include "impair/frame.hpp"
#include "impair/random.hpp"
#include "wire/bytes.hpp"
#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace lanetcp::impair {
namespace {

const wire::Ipv4Addr kSrc{0x0a000001}, kDst{0x0a000002};

std::vector<std::uint8_t> tcp_frame(std::uint8_t tos, std::size_t payload) {
    std::vector<std::uint8_t> f(14 + 20 + 20 + payload, 0);
    wire::store_be16(f.data() + 12, wire::ethertype::ipv4);
    wire::emit_ipv4(f.data() + 14, wire::Ipv4Fields{.src = kSrc,
                                                     .dst = kDst,
                                                     .protocol = wire::ipproto::tcp,
                                                     .ttl = 64,
                                                     .tos = tos,
                                                     .id = 0,
                                                     .dont_fragment = true,
                                                     .payload_length = static_cast<std::uint16_t>(20 + payload)});
    wire::emit_tcp(f.data() + 34, wire::TcpFields{.src_port = 1, .dst_port = 2, .window = 100});
    for (std::size_t i = 0; i < payload; ++i) f[54 + i] = static_cast<std::uint8_t>(i * 7);
    wire::fill_tcp_checksum(kSrc, kDst, wire::mutable_bytes{f.data() + 34, 20 + payload});
    return f;
}

bool ip_checksum_ok(const std::vector<std::uint8_t>& f) { return wire::internet_checksum(f.data() + 14, 20) == 0; }
bool tcp_checksum_ok(const std::vector<std::uint8_t>& f) {
    return wire::tcp_checksum_ok(kSrc, kDst, wire::bytes{f.data() + 34, f.size() - 34});
}

TEST(ImpairFrame, EctIsEct0OrEct1) {
    EXPECT_FALSE(frame_ect(tcp_frame(0x00, 10).data(), 64));
    EXPECT_TRUE(frame_ect(tcp_frame(0x02, 10).data(), 64));
    EXPECT_TRUE(frame_ect(tcp_frame(0x01, 10).data(), 64));
    EXPECT_FALSE(frame_ect(tcp_frame(0x03, 10).data(), 64));
}

TEST(ImpairFrame, CeMarkKeepsTheIpChecksumRight) {
    for (std::uint8_t tos : {0x02, 0x01, 0xb8 | 0x02}) {
        auto f = tcp_frame(tos, 100);
        ASSERT_TRUE(ip_checksum_ok(f));
        ASSERT_TRUE(frame_mark_ce(f.data(), f.size()));
        EXPECT_EQ(f[15] & 3, 3);
        EXPECT_EQ(f[15] & 0xfc, tos & 0xfc); // DSCP untouched
        EXPECT_TRUE(ip_checksum_ok(f)) << int(tos);
        EXPECT_TRUE(tcp_checksum_ok(f));
    }
    auto not_ect = tcp_frame(0x00, 100);
    const auto before = not_ect;
    EXPECT_FALSE(frame_mark_ce(not_ect.data(), not_ect.size()));
    EXPECT_EQ(not_ect, before);
}

TEST(ImpairFrame, CorruptionAlwaysBreaksTheTcpChecksum) {
    Random rng(1);
    for (std::size_t payload : {0, 1, 100, 1460}) {
        for (int i = 0; i < 2000; ++i) {
            auto f = tcp_frame(0, payload);
            ASSERT_TRUE(tcp_checksum_ok(f));
            const auto clean = f;
            ASSERT_TRUE(frame_corrupt(f.data(), f.size(), rng.next()));
            int changed = 0;
            for (std::size_t b = 0; b < f.size(); ++b) {
                if (f[b] == clean[b]) continue;
                ++changed;
                ASSERT_GE(b, payload > 0 ? 54u : 34u) << "a header byte it should not touch";
            }
            ASSERT_EQ(changed, 1);
            ASSERT_TRUE(ip_checksum_ok(f));
            ASSERT_FALSE(tcp_checksum_ok(f)) << "payload " << payload;
        }
    }
}

TEST(ImpairFrame, LeavesWhatIsNotIpv4Alone) {
    std::vector<std::uint8_t> arp(60, 0x11);
    wire::store_be16(arp.data() + 12, wire::ethertype::arp);
    const auto before = arp;
    EXPECT_FALSE(frame_corrupt(arp.data(), arp.size(), 12345));
    EXPECT_FALSE(frame_mark_ce(arp.data(), arp.size()));
    EXPECT_FALSE(frame_ect(arp.data(), arp.size()));
    EXPECT_EQ(arp, before);
    auto f = tcp_frame(0x02, 0);
    EXPECT_FALSE(frame_corrupt(f.data(), 20, 1)); // truncated: not even an IP header
}

} // namespace
} // namespace lanetcp::impair
