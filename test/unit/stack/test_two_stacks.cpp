// ARP and ICMP end to end between two stacks over the in-memory wire, on
// manual clocks: resolution, replies, retries, give-up, and mbuf accounting.
#include <gtest/gtest.h>

#include <cstring>

#include <rte_ethdev.h>

#include "two_stacks.hpp"
#include "wire/arp.hpp"
#include "wire/ethernet.hpp"

namespace lanetcp::testing {
namespace {

const wire::Ipv4Addr kA = *wire::Ipv4Addr::parse("10.9.0.1");
const wire::Ipv4Addr kB = *wire::Ipv4Addr::parse("10.9.0.2");
const wire::Ipv4Addr kNobody = *wire::Ipv4Addr::parse("10.9.0.99");

// Puts one ARP frame on the wire towards B, as if from a host on A's side.
void send_arp_to_b(TwoStacks& s, wire::MacAddr eth_dst, const wire::ArpFields& f) {
    rte_mbuf* m = rte_pktmbuf_alloc(s.pool);
    ASSERT_NE(m, nullptr);
    auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, 60));
    std::memset(p, 0, 60);
    wire::emit_ethernet(p, eth_dst, f.sender_mac, wire::ethertype::arp);
    wire::emit_arp(p + wire::kEthernetHeaderLen, f);
    ASSERT_EQ(rte_eth_tx_burst(s.port_a.port_id, 0, &m, 1), 1u);
}

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
    EXPECT_EQ(s.a->counters().arp_tx_requests.get(), 1u) << "no request within the delay";
    EXPECT_EQ(s.a->arp().cache().find(kB)->state, arp::NeighState::delay);
    s.advance(6 * kNsPerSec, 500 * kNsPerMs); // past the delay (5 s)
    EXPECT_EQ(s.a->counters().arp_tx_requests.get(), 2u) << "then re-confirmed by a unicast probe";
    EXPECT_EQ(s.a->arp().cache().find(kB)->state, arp::NeighState::reachable);
    EXPECT_EQ(s.mbufs_in_use_after_shutdown(), 0u);
}

TEST(TwoStacks, GratuitousArpUpdatesOnlyExistingEntries) {
    TwoStacks s;
    s.a->announce();
    s.settle();
    EXPECT_EQ(s.b->arp().cache().find(kA), nullptr) << "arp_accept=0: gratuitous ARP makes no entry";
    EXPECT_EQ(s.b->counters().dropped(Drop::arp_not_for_us), 1u);
    // Once B knows A, a gratuitous ARP with a new address replaces it at once.
    s.b->ipv4().send_echo_request(kA, 1, 1, 8, s.b->clock().now());
    s.settle();
    ASSERT_NE(s.b->arp().cache().find(kA), nullptr);
    const auto moved = *wire::MacAddr::parse("02:00:00:00:00:aa");
    send_arp_to_b(s, wire::MacAddr::broadcast(), {wire::ArpOp::request, moved, kA, {}, kA});
    s.settle();
    EXPECT_EQ(s.b->arp().cache().find(kA)->mac, moved);
    EXPECT_EQ(s.mbufs_in_use_after_shutdown(), 0u);
}

TEST(TwoStacks, UnsolicitedReplyMakesNoEntry) {
    TwoStacks s;
    const auto mac = *wire::MacAddr::parse("02:00:00:00:00:33");
    const wire::Ipv4Addr ip = *wire::Ipv4Addr::parse("10.9.0.33");
    send_arp_to_b(s, s.port_b.mac, {wire::ArpOp::reply, mac, ip, s.port_b.mac, kB});
    s.settle();
    EXPECT_EQ(s.b->arp().cache().find(ip), nullptr);
    EXPECT_EQ(s.b->arp().cache().size(), 0u);
    EXPECT_EQ(s.mbufs_in_use_after_shutdown(), 0u);
}

TEST(TwoStacks, RequestFloodWithRandomSendersCannotFillTheTable) {
    // B on a /16 with a 64-entry table; a flood of requests for B's address
    // from 5000 senders, half of them off B's subnet, every one answered.
    Config cb = TwoStacks::default_config("10.9.0.2/16");
    cb.arp.params.max_entries = 64;
    TwoStacks s(TwoStacks::default_config("10.9.0.1/24"), cb);
    s.b->ipv4().send_echo_request(kA, 1, 1, 8, s.b->clock().now()); // B talks to A: an entry in use
    s.settle();
    ASSERT_EQ(s.b->counters().icmp_rx_echo_replies.get(), 1u);
    const auto flood_mac = *wire::MacAddr::parse("02:00:00:00:00:66");
    std::uint32_t x = 7;
    std::size_t off_subnet = 0;
    for (int i = 0; i < 5000; ++i) {
        x = x * 1664525u + 1013904223u;
        const bool on_subnet = (x & 0x80000000u) != 0;
        // On subnet: 10.9.128.0/17 (never A or B); off: 172.16.0.0/12.
        const wire::Ipv4Addr sender{on_subnet ? 0x0a098000u | ((x >> 8) & 0x7fff) : 0xac100000u | (x >> 12)};
        off_subnet += on_subnet ? 0 : 1;
        send_arp_to_b(s, wire::MacAddr::broadcast(), {wire::ArpOp::request, flood_mac, sender, {}, kB});
        if (i % 64 == 63) s.settle();
    }
    s.settle();
    EXPECT_EQ(s.b->counters().arp_tx_replies.get(), 5000u + 0u) << "every request for B is answered";
    EXPECT_GT(off_subnet, 1000u);
    EXPECT_LE(s.b->arp().cache().size(), 64u);
    std::size_t off_subnet_entries = 0;
    for (std::uint32_t v = 0xac100000u; v < 0xac100000u + (1u << 20); v += 1)
        if (s.b->arp().cache().find(wire::Ipv4Addr{v}) != nullptr) ++off_subnet_entries;
    EXPECT_EQ(off_subnet_entries, 0u) << "never an entry for an off-subnet sender";
    // The entry B uses survived, and B still resolves new neighbours.
    ASSERT_NE(s.b->arp().cache().find(kA), nullptr);
    EXPECT_EQ(s.b->arp().cache().find(kA)->mac, s.port_a.mac);
    s.b->ipv4().send_echo_request(kA, 1, 2, 8, s.b->clock().now());
    s.b->ipv4().send_echo_request(kNobody, 1, 3, 8, s.b->clock().now());
    s.settle();
    EXPECT_EQ(s.b->counters().icmp_rx_echo_replies.get(), 2u);
    EXPECT_EQ(s.b->counters().dropped(Drop::arp_table_full), 0u);
    EXPECT_NE(s.b->arp().cache().find(kNobody), nullptr);
    EXPECT_EQ(s.mbufs_in_use_after_shutdown(), 0u);
}

TEST(TwoStacks, WaitingPacketsAreBoundedPerLcore) {
    Config ca = TwoStacks::default_config("10.9.0.1/24");
    ca.arp.params.max_pending = 8;
    ca.arp.params.max_pending_total = 5;
    TwoStacks s(ca);
    const wire::Ipv4Addr silent[3] = {*wire::Ipv4Addr::parse("10.9.0.101"), *wire::Ipv4Addr::parse("10.9.0.102"),
                                      *wire::Ipv4Addr::parse("10.9.0.103")};
    for (const auto ip : silent)
        for (std::uint16_t i = 0; i < 3; ++i) ASSERT_TRUE(s.a->ipv4().send_echo_request(ip, 1, i, 8, s.a->clock().now()));
    s.settle();
    const Counters& a = s.a->counters();
    EXPECT_EQ(s.a->arp().cache().pending_packets(), 5u);
    EXPECT_EQ(a.arp_tx_requests.get(), 3u) << "every next hop is asked for";
    EXPECT_EQ(a.dropped(Drop::arp_queue_overflow), 1u) << "the second host traded its oldest";
    EXPECT_EQ(a.dropped(Drop::arp_pending_full), 3u) << "the third host's packets found no room";
    EXPECT_EQ(s.mbufs_in_use_after_shutdown(), 0u);
    EXPECT_EQ(a.dropped(Drop::arp_unresolved), 5u);
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
