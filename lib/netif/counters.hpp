// Per-lcore packet counters: what each layer received and sent, and every
// drop by reason. Each lcore owns one instance; the stats printer sums them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "util/counter.hpp"

namespace lanetcp {

// Every reason the stack drops a packet. Names are "<layer>.<reason>" as
// printed; keep kDropNames in the same order.
enum class Drop : std::uint8_t {
    eth_truncated,
    eth_not_for_us,            // unicast to another MAC, or multicast we did not join
    eth_vlan,                  // 802.1Q / QinQ tagged frames: no VLAN support
    eth_unsupported_ethertype, // IPv6 and everything but ARP and IPv4
    eth_nonlinear,             // multi-segment frame that could not be linearised
    arp_truncated,
    arp_bad_format,            // not Ethernet/IPv4 ARP, or unknown opcode
    arp_bad_sender,            // sender is a broadcast/multicast/zero MAC or our own address
    arp_not_for_us,            // request for an address that is not ours
    arp_unresolved,            // next hop did not answer within the retries
    arp_queue_overflow,        // too many packets waiting for one next hop
    arp_table_full,
    ipv4_truncated,
    ipv4_bad_version,
    ipv4_bad_header_length,
    ipv4_bad_total_length,
    ipv4_bad_checksum,
    ipv4_fragment,             // no reassembly
    ipv4_not_for_us,
    ipv4_bad_source,           // broadcast, multicast, loopback or our own source address
    ipv4_unsupported_protocol, // UDP and everything but ICMP (and TCP once it lands)
    ipv4_no_route,             // off-subnet destination and no gateway
    ipv4_exceeds_mtu,          // a datagram to send is larger than the MTU: no fragmentation
    icmp_truncated,
    icmp_bad_checksum,
    icmp_broadcast_echo,       // echo to a broadcast address, ignored as Linux does
    icmp_unhandled_type,       // anything but echo request/reply
    tcp_no_listener,           // SYN or segment for a port or connection we do not have (answered with RST)
    tcp_bad_checksum,
    tcp_bad_header,            // data offset wrong, or the segment is shorter than its header
    tcp_bad_option,            // an option with an impossible length
    tcp_bad_flags,             // SYN+FIN, SYN+RST, no ACK where one is required ...
    tcp_syn_backlog_full,      // a listener has its maximum of half-open connections
    tcp_table_full,            // no free control block
    tcp_out_of_window,         // not acceptable (RFC 9293 3.10.7.4); answered with an ACK
    tcp_out_of_order,          // ahead of RCV.NXT with the reassembly queue full; dup ACK sent
    tcp_data_after_close,      // data after the application closed: answered with RST
    tcp_bad_ack,               // ACK for data never sent
    tcp_paws,                  // timestamp older than TS.Recent (RFC 7323 5.3); answered with an ACK
    tcp_handoff_full,          // the owning lcore's inbox was full
    tx_queue_full,             // the NIC's tx ring refused the packet
    tx_no_mbuf,                // pool empty when building a reply
    count_
};

inline constexpr std::size_t kDropCount = static_cast<std::size_t>(Drop::count_);

inline constexpr std::array<std::string_view, kDropCount> kDropNames = {
    "eth.truncated",
    "eth.not_for_us",
    "eth.vlan",
    "eth.unsupported_ethertype",
    "eth.nonlinear",
    "arp.truncated",
    "arp.bad_format",
    "arp.bad_sender",
    "arp.not_for_us",
    "arp.unresolved",
    "arp.queue_overflow",
    "arp.table_full",
    "ipv4.truncated",
    "ipv4.bad_version",
    "ipv4.bad_header_length",
    "ipv4.bad_total_length",
    "ipv4.bad_checksum",
    "ipv4.fragment",
    "ipv4.not_for_us",
    "ipv4.bad_source",
    "ipv4.unsupported_protocol",
    "ipv4.no_route",
    "ipv4.exceeds_mtu",
    "icmp.truncated",
    "icmp.bad_checksum",
    "icmp.broadcast_echo",
    "icmp.unhandled_type",
    "tcp.no_listener",
    "tcp.bad_checksum",
    "tcp.bad_header",
    "tcp.bad_option",
    "tcp.bad_flags",
    "tcp.syn_backlog_full",
    "tcp.table_full",
    "tcp.out_of_window",
    "tcp.out_of_order",
    "tcp.data_after_close",
    "tcp.bad_ack",
    "tcp.paws",
    "tcp.handoff_full",
    "tx.queue_full",
    "tx.no_mbuf",
};

// A reason added to Drop without a name would print as "".
static_assert([] {
    for (auto n : kDropNames)
        if (n.empty()) return false;
    return true;
}(), "every Drop needs its name in kDropNames");

constexpr std::string_view drop_name(Drop d) noexcept { return kDropNames[static_cast<std::size_t>(d)]; }

// Traffic counters by layer; the names printed are the member names.
#define LANETCP_TRAFFIC_COUNTERS(X) \
    X(port_rx_packets)              \
    X(port_rx_bytes)                \
    X(port_tx_packets)              \
    X(port_tx_bytes)                \
    X(arp_rx_requests)              \
    X(arp_rx_replies)               \
    X(arp_tx_requests)              \
    X(arp_tx_replies)               \
    X(ipv4_rx_packets)              \
    X(ipv4_tx_packets)              \
    X(icmp_rx_echo_requests)        \
    X(icmp_tx_echo_replies)         \
    X(icmp_tx_echo_requests)        \
    X(icmp_rx_echo_replies)         \
    X(tcp_rx_segments)              \
    X(tcp_tx_segments)              \
    X(tcp_rx_bytes)                 \
    X(tcp_tx_bytes)                 \
    X(tcp_retransmitted_segments)   \
    X(tcp_fast_retransmits)         \
    X(tcp_timeouts)                 \
    X(tcp_active_opens)             \
    X(tcp_passive_opens)            \
    X(tcp_established)              \
    X(tcp_resets_sent)              \
    X(tcp_resets_received)          \
    X(tcp_challenge_acks)           \
    X(tcp_challenge_acks_limited)   \
    X(tcp_dsacks_sent)              \
    X(tcp_loss_probes)              \
    X(tcp_connections_timed_out)    \
    X(tcp_connections_refused)      \
    X(tcp_handoffs)                 \
    X(tcp_out_of_order_held)        \
    X(tcp_keepalive_probes)

struct Counters {
#define LANETCP_DECLARE_COUNTER(name) Counter name;
    LANETCP_TRAFFIC_COUNTERS(LANETCP_DECLARE_COUNTER)
#undef LANETCP_DECLARE_COUNTER
    std::array<Counter, kDropCount> drops{};

    void drop(Drop d, std::uint64_t n = 1) noexcept { drops[static_cast<std::size_t>(d)].add(n); }
    std::uint64_t dropped(Drop d) const noexcept { return drops[static_cast<std::size_t>(d)].get(); }
};

// A plain-number copy of Counters, summed over lcores for printing.
struct CounterSnapshot {
#define LANETCP_DECLARE_FIELD(name) std::uint64_t name = 0;
    LANETCP_TRAFFIC_COUNTERS(LANETCP_DECLARE_FIELD)
#undef LANETCP_DECLARE_FIELD
    std::array<std::uint64_t, kDropCount> drops{};

    void accumulate(const Counters& c) noexcept {
#define LANETCP_ACCUMULATE(name) name += c.name.get();
        LANETCP_TRAFFIC_COUNTERS(LANETCP_ACCUMULATE)
#undef LANETCP_ACCUMULATE
        for (std::size_t i = 0; i < kDropCount; ++i) drops[i] += c.drops[i].get();
    }

    std::uint64_t total_drops() const noexcept {
        std::uint64_t t = 0;
        for (auto d : drops) t += d;
        return t;
    }
};

} // namespace lanetcp
