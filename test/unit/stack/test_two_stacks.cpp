// ARP and ICMP end to end between two stacks over the in-memory wire, on
// manual clocks: resolution, replies, retries, give-up, and mbuf accounting.
#include <gtest/gtest.h>

#include "two_stacks.hpp"

namespace lanetcp::testing {
namespace {

const wire::Ipv4Addr kA = *wire::Ipv4Addr::parse("10.9.0.1");
const wire::Ipv4Addr kB = *wire::Ipv4Addr::parse("10.9.0.2");
const wire::Ipv4Addr kNobody = *wire::Ipv4Addr::parse("10.9.0.99");

TEST(TwoStacks, PingResolvesArpThenGetsReply) {
    TwoStacks s;
    ASSERT_TRUE(s.a->ipv4().send_echo_request(kB, 7, 1, 56, s.a->clock().now()));
    s.settle();
    const Counters& a = s.a->counters();
    const Counters& b = s.b->counters();
    EXPECT_EQ(a.arp_tx_requests.get(), 1u);
    EXPECT_EQ(b.arp_rx_requests.get(), 1u);
    EXPECT_EQ(b.arp_tx_replies.get(), 1u);
    EXPECT_EQ(a.arp_rx_replies.get(), 1u);
    EXPECT_EQ(b.icmp_rx_echo_requests.get(), 1u);
    EXPECT_EQ(b.icmp_tx_echo_replies.get(), 1u);
    EXPECT_EQ(a.icmp_rx_echo_replies.get(), 1u);
    // B learned A from the request addressed to it: no ARP of its own.
    EXPECT_EQ(b.arp_tx_requests.get(), 0u);
    ASSERT_NE(s.a->arp().cache().find(kB), nullptr);
    EXPECT_EQ(s.a->arp().cache().find(kB)->mac, s.port_b.mac);
    ASSERT_NE(s.b->arp().cache().find(kA), nullptr);
    EXPECT_EQ(s.b->arp().cache().find(kA)->mac, s.port_a.mac);
    EXPECT_EQ(a.dropped(Drop::arp_unresolved) + b.dropped(Drop::arp_unresolved), 0u);
    EXPECT_EQ(s.mbufs_in_use_after_shutdown(), 0u);
}

TEST(TwoStacks, ManyPingsOneArpExchange) {
    TwoStacks s;
    for (std::uint16_t i = 0; i < 1000; ++i) {
        ASSERT_TRUE(s.a->ipv4().send_echo_request(kB, 1, i, static_cast<std::uint16_t>(i % 1400), s.a->clock().now()));
        if (i % 8 == 7) s.settle(); // stay within the ARP queue while unresolved
    }
    s.settle();
    EXPECT_EQ(s.a->counters().arp_tx_requests.get(), 1u);
    EXPECT_EQ(s.b->counters().icmp_tx_echo_replies.get(), 1000u);
    EXPECT_EQ(s.a->counters().icmp_rx_echo_replies.get(), 1000u);
    CounterSnapshot b;
    b.accumulate(s.b->counters());
    EXPECT_EQ(b.total_drops(), 0u);
    EXPECT_EQ(s.mbufs_in_use_after_shutdown(), 0u);
}

TEST(TwoStacks, UnansweredArpRetriesThenDropsQueuedPackets) {
    Config small = TwoStacks::default_config("10.9.0.1/24");
    small.arp.params.max_pending = 8;
    TwoStacks s(small);
    for (std::uint16_t i = 0; i < 10; ++i)
        ASSERT_TRUE(s.a->ipv4().send_echo_request(kNobody, 1, i, 8, s.a->clock().now()));
    s.settle();
    const Counters& a = s.a->counters();
    EXPECT_EQ(a.arp_tx_requests.get(), 1u);
    EXPECT_EQ(a.dropped(Drop::arp_queue_overflow), 2u) << "8 wait, the 2 oldest are pushed out";
    s.advance(2500 * kNsPerMs);
    EXPECT_EQ(a.arp_tx_requests.get(), 3u) << "retried every second";
    EXPECT_EQ(a.dropped(Drop::arp_unresolved), 0u);
    s.advance(1000 * kNsPerMs);
    EXPECT_EQ(a.arp_tx_requests.get(), 3u);
    EXPECT_EQ(a.dropped(Drop::arp_unresolved), 8u);
    EXPECT_EQ(s.a->arp().cache().find(kNobody), nullptr);
    // B saw three requests for an address that is not its own.
    EXPECT_EQ(s.b->counters().dropped(Drop::arp_not_for_us), 3u);
    EXPECT_EQ(s.mbufs_in_use_after_shutdown(), 0u);
}

TEST(TwoStacks, ShutdownFreesPacketsStillWaitingForArp) {
    TwoStacks s;
    for (std::uint16_t i = 0; i < 5; ++i) s.a->ipv4().send_echo_request(kNobody, 1, i, 100, s.a->clock().now());
    s.settle();
    EXPECT_EQ(s.a->arp().cache().pending_packets(), 5u);
    EXPECT_EQ(s.mbufs_in_use_after_shutdown(), 0u);
    EXPECT_EQ(s.a->counters().dropped(Drop::arp_unresolved), 5u);
}

TEST(TwoStacks, StaleEntryIsReprobedWithUnicastRequest) {
    TwoStacks s;
    s.a->ipv4().send_echo_request(kB, 1, 1, 8, s.a->clock().now());
    s.settle();
    ASSERT_EQ(s.a->counters().icmp_rx_echo_replies.get(), 1u);
    s.advance(31 * kNsPerSec, 500 * kNsPerMs); // past reachable time (30 s)
    EXPECT_EQ(s.a->arp().cache().find(kB)->state, arp::NeighState::stale);
    s.a->ipv4().send_echo_request(kB, 1, 2, 8, s.a->clock().now());
    s.settle();
    EXPECT_EQ(s.a->counters().icmp_rx_echo_replies.get(), 2u) << "a stale entry is still used";
    EXPECT_EQ(s.a->counters().arp_tx_requests.get(), 2u) << "and re-confirmed";
    EXPECT_EQ(s.a->arp().cache().find(kB)->state, arp::NeighState::reachable);
    EXPECT_EQ(s.mbufs_in_use_after_shutdown(), 0u);
}

TEST(TwoStacks, GratuitousArpUpdatesOnlyExistingEntries) {
    TwoStacks s;
    s.a->announce();
    s.settle();
    EXPECT_EQ(s.b->arp().cache().find(kA), nullptr) << "RFC 826: not meant for B, no new entry";
    EXPECT_EQ(s.b->counters().dropped(Drop::arp_not_for_us), 1u);
    EXPECT_EQ(s.mbufs_in_use_after_shutdown(), 0u);
}

TEST(TwoStacks, OffSubnetWithoutGatewayIsNoRoute) {
    TwoStacks s;
    s.a->ipv4().send_echo_request(*wire::Ipv4Addr::parse("192.0.2.1"), 1, 1, 8, s.a->clock().now());
    s.settle();
    EXPECT_EQ(s.a->counters().dropped(Drop::ipv4_no_route), 1u);
    EXPECT_EQ(s.a->counters().arp_tx_requests.get(), 0u);
    EXPECT_EQ(s.mbufs_in_use_after_shutdown(), 0u);
}

TEST(TwoStacks, OffSubnetGoesThroughTheGateway) {
    Config ca = TwoStacks::default_config("10.9.0.1/24");
    ca.interface.gateway = kB; // B plays the router; it gets the frame, not the address
    TwoStacks s(ca);
    s.a->ipv4().send_echo_request(*wire::Ipv4Addr::parse("192.0.2.1"), 1, 1, 8, s.a->clock().now());
    s.settle();
    EXPECT_EQ(s.a->counters().arp_tx_requests.get(), 1u);
    EXPECT_NE(s.a->arp().cache().find(kB), nullptr);
    EXPECT_EQ(s.b->counters().dropped(Drop::ipv4_not_for_us), 1u);
    EXPECT_EQ(s.mbufs_in_use_after_shutdown(), 0u);
}

TEST(TwoStacks, StaticEntrySkipsArp) {
    const auto b_mac = *wire::MacAddr::parse("02:00:00:00:00:0b");
    Config ca = TwoStacks::default_config("10.9.0.1/24");
    ca.arp.static_entries.push_back({kB, b_mac});
    Config cb = TwoStacks::default_config("10.9.0.2/24");
    cb.interface.mac = b_mac;
    cb.arp.static_entries.push_back({kA, *wire::MacAddr::parse("02:00:00:00:00:0a")});
    ca.interface.mac = *wire::MacAddr::parse("02:00:00:00:00:0a");
    TwoStacks s(ca, cb);
    s.a->ipv4().send_echo_request(kB, 1, 1, 8, s.a->clock().now());
    s.settle();
    EXPECT_EQ(s.a->counters().icmp_rx_echo_replies.get(), 1u);
    EXPECT_EQ(s.a->counters().arp_tx_requests.get() + s.b->counters().arp_tx_requests.get(), 0u);
    EXPECT_EQ(s.mbufs_in_use_after_shutdown(), 0u);
}

} // namespace
} // namespace lanetcp::testing
