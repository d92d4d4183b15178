#include "wire/addr.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string_view>

namespace lanetcp::wire {
namespace {

TEST(MacAddr, ParsesColonAndDashForms) {
    auto m = MacAddr::parse("02:77:aB:cd:0e:F1");
    ASSERT_TRUE(m);
    EXPECT_EQ(*m, (MacAddr{{0x02, 0x77, 0xab, 0xcd, 0x0e, 0xf1}}));
    EXPECT_EQ(MacAddr::parse("02-77-ab-cd-0e-f1"), m);
    EXPECT_EQ(m->to_string(), "02:77:ab:cd:0e:f1");
}

TEST(MacAddr, RejectsMalformedText) {
    for (std::string_view bad : {"", "02:77:ab:cd:0e", "02:77:ab:cd:0e:f1:00", "02:77:ab:cd:0e:g1", "0277.abcd.0ef1",
                                 "02:77:ab:cd:0e:f", "2:77:ab:cd:0e:f1 ", "02 77 ab cd 0e f1"}) {
        EXPECT_FALSE(MacAddr::parse(bad)) << bad;
    }
}

TEST(MacAddr, Predicates) {
    EXPECT_TRUE(MacAddr::broadcast().is_broadcast());
    EXPECT_TRUE(MacAddr::broadcast().is_multicast());
    EXPECT_TRUE((MacAddr{{0x01, 0x00, 0x5e, 0, 0, 1}}).is_multicast());
    EXPECT_FALSE((MacAddr{{0x02, 0x77, 0, 0, 0, 1}}).is_multicast());
    EXPECT_TRUE(MacAddr{}.is_zero());
    EXPECT_FALSE((MacAddr{{0, 0, 0, 0, 0, 1}}).is_zero());
}

TEST(MacAddr, LoadStoreRoundTrip) {
    const std::array<std::uint8_t, 6> raw{0x02, 0x77, 0x00, 0x00, 0x00, 0x02};
    MacAddr m = MacAddr::load(raw.data());
    EXPECT_EQ(m.to_string(), "02:77:00:00:00:02");
    std::array<std::uint8_t, 6> out{};
    m.store(out.data());
    EXPECT_EQ(out, raw);
}

TEST(Ipv4Addr, ParsesDottedQuad) {
    auto a = Ipv4Addr::parse("10.77.0.1");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->v, 0x0a4d0001u);
    EXPECT_EQ(a->to_string(), "10.77.0.1");
    EXPECT_EQ(Ipv4Addr::parse("0.0.0.0"), Ipv4Addr::any());
    EXPECT_EQ(Ipv4Addr::parse("255.255.255.255"), Ipv4Addr::limited_broadcast());
}

TEST(Ipv4Addr, RejectsMalformedText) {
    for (std::string_view bad : {"", "10.77.0", "10.77.0.1.2", "10.77.0.256", "10.77.0.-1", "10.77..1", "010.77.0.1",
                                 "10.77.0.01", " 10.77.0.1", "10.77.0.1 ", "10.77.0.1/24", "+10.77.0.1",
                                 "4294967296.0.0.1", "10.77.0.x"}) {
        EXPECT_FALSE(Ipv4Addr::parse(bad)) << bad;
    }
}

TEST(Ipv4Addr, LoadStoreIsNetworkOrder) {
    const std::array<std::uint8_t, 4> raw{10, 77, 0, 2};
    Ipv4Addr a = Ipv4Addr::load(raw.data());
    EXPECT_EQ(a.v, 0x0a4d0002u);
    std::array<std::uint8_t, 4> out{};
    a.store(out.data());
    EXPECT_EQ(out, raw);
}

TEST(Ipv4Addr, Predicates) {
    EXPECT_TRUE(Ipv4Addr{0xe0000001}.is_multicast());
    EXPECT_FALSE(Ipv4Addr{0xf0000001}.is_multicast());
    EXPECT_TRUE(Ipv4Addr{0x7f000001}.is_loopback());
    EXPECT_FALSE(Ipv4Addr{0x0a4d0001}.is_loopback());
    EXPECT_LT(Ipv4Addr{0x0a000001}, Ipv4Addr{0x0b000000});
}

TEST(Ipv4Prefix, ParsesAndMatches) {
    auto p = Ipv4Prefix::parse("10.77.0.2/24");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->length, 24);
    EXPECT_EQ(p->mask(), 0xffffff00u);
    EXPECT_TRUE(p->contains(Ipv4Addr{0x0a4d00fe}));
    EXPECT_FALSE(p->contains(Ipv4Addr{0x0a4d0100}));
    EXPECT_EQ(p->subnet_broadcast(), Ipv4Addr{0x0a4d00ff});
    EXPECT_EQ(p->to_string(), "10.77.0.2/24");
}

TEST(Ipv4Prefix, ExtremeLengths) {
    auto all = Ipv4Prefix::parse("0.0.0.0/0");
    ASSERT_TRUE(all);
    EXPECT_EQ(all->mask(), 0u);
    EXPECT_TRUE(all->contains(Ipv4Addr{0xdeadbeef}));
    auto host = Ipv4Prefix::parse("10.77.0.2/32");
    ASSERT_TRUE(host);
    EXPECT_EQ(host->mask(), 0xffffffffu);
    EXPECT_TRUE(host->contains(Ipv4Addr{0x0a4d0002}));
    EXPECT_FALSE(host->contains(Ipv4Addr{0x0a4d0003}));
}

TEST(Ipv4Prefix, RejectsMalformedText) {
    for (std::string_view bad : {"10.77.0.2", "10.77.0.2/", "10.77.0.2/33", "10.77.0.2/-1", "10.77.0.2/24x",
                                 "10.77.0/24", "/24"}) {
        EXPECT_FALSE(Ipv4Prefix::parse(bad)) << bad;
    }
}

} // namespace
} // namespace lanetcp::wire
