// Per-lcore packet counters: what each layer received and sent, and every
// drop by reason. Each lcore owns one instance; the stats printer sums them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "util/counter.hpp"

namespace lanetcp {

// Every reason the stack drops a packet: X(enumerator, "<layer>.<reason>" as
// printed). This one list makes both the enum and the names.
#define LANETCP_DROP_REASONS(X) \
    X(eth_truncated, "eth.truncated") \
    X(eth_not_for_us, "eth.not_for_us") /* unicast to another MAC, or multicast we did not join */ \
    X(eth_vlan, "eth.vlan") /* 802.1Q / QinQ tagged frames: no VLAN support */ \
    X(eth_unsupported_ethertype, "eth.unsupported_ethertype") /* IPv6 and everything but ARP and IPv4 */ \
    X(eth_nonlinear, "eth.nonlinear") /* multi-segment frame that could not be linearised */ \
    X(arp_truncated, "arp.truncated") \
    X(arp_bad_format, "arp.bad_format") /* not Ethernet/IPv4 ARP, or unknown opcode */ \
    X(arp_bad_sender, "arp.bad_sender") /* sender is a broadcast/multicast/zero MAC or our own address */ \
    X(arp_not_for_us, "arp.not_for_us") /* request for an address that is not ours */ \
    X(arp_unresolved, "arp.unresolved") /* next hop did not answer within the retries */ \
    X(arp_queue_overflow, "arp.queue_overflow") /* too many packets waiting for one next hop */ \
    X(arp_pending_full, "arp.pending_full") /* arp.max_pending_total packets already wait on this lcore */ \
    X(arp_table_full, "arp.table_full") \
    X(ipv4_truncated, "ipv4.truncated") \
    X(ipv4_bad_version, "ipv4.bad_version") \
    X(ipv4_bad_header_length, "ipv4.bad_header_length") \
    X(ipv4_bad_total_length, "ipv4.bad_total_length") \
    X(ipv4_bad_checksum, "ipv4.bad_checksum") \
    X(ipv4_fragment, "ipv4.fragment") /* no reassembly */ \
    X(ipv4_not_for_us, "ipv4.not_for_us") \
    X(ipv4_bad_source, "ipv4.bad_source") /* broadcast, multicast, loopback or our own source address */ \
    X(ipv4_unsupported_protocol, "ipv4.unsupported_protocol") /* UDP and everything but ICMP (and TCP once it lands) */ \
    X(ipv4_no_route, "ipv4.no_route") /* off-subnet destination and no gateway */ \
    X(ipv4_exceeds_mtu, "ipv4.exceeds_mtu") /* a datagram to send is larger than the MTU: no fragmentation */ \
    X(icmp_truncated, "icmp.truncated") \
    X(icmp_bad_checksum, "icmp.bad_checksum") \
    X(icmp_broadcast_echo, "icmp.broadcast_echo") /* echo to a broadcast address, ignored as Linux does */ \
    X(icmp_unhandled_type, "icmp.unhandled_type") /* anything but echo request/reply */ \
    X(tcp_no_listener, "tcp.no_listener") /* SYN or segment for a port or connection we do not have (answered with RST) */ \
    X(tcp_bad_checksum, "tcp.bad_checksum") \
    X(tcp_bad_header, "tcp.bad_header") /* data offset wrong, or the segment is shorter than its header */ \
    X(tcp_bad_option, "tcp.bad_option") /* an option with an impossible length */ \
    X(tcp_bad_flags, "tcp.bad_flags") /* SYN+FIN, SYN+RST, no ACK where one is required ... */ \
    X(tcp_syn_backlog_full, "tcp.syn_backlog_full") /* a listener has its maximum of half-open connections (and SYN cookies are off) */ \
    X(tcp_bad_syncookie, "tcp.bad_syncookie") /* an ACK to a listener that sent SYN cookies, with a forged or expired one; answered with RST */ \
    X(tcp_table_full, "tcp.table_full") /* no free control block */ \
    X(tcp_out_of_window, "tcp.out_of_window") /* not acceptable (RFC 9293 3.10.7.4); answered with an ACK */ \
    X(tcp_out_of_order, "tcp.out_of_order") /* ahead of RCV.NXT with the reassembly queue full; dup ACK sent */ \
    X(tcp_data_after_close, "tcp.data_after_close") /* data after the application closed: answered with RST */ \
    X(tcp_bad_ack, "tcp.bad_ack") /* ACK for data never sent */ \
    X(tcp_paws, "tcp.paws") /* timestamp older than TS.Recent (RFC 7323 5.3); answered with an ACK */ \
    X(tcp_handoff_full, "tcp.handoff_full") /* the owning lcore's inbox was full */ \
    X(tcp_rcv_memory, "tcp.rcv_memory") /* data with no receive memory left (connection or lcore limit); ACKed */ \
    X(tcp_ofo_pruned, "tcp.ofo_pruned") /* out-of-order data given up to make room (tcp_prune_ofo_queue) */ \
    X(tx_queue_full, "tx.queue_full") /* the NIC's tx ring refused the packet */ \
    X(tx_no_mbuf, "tx.no_mbuf") /* pool empty when building a reply */

enum class Drop : std::uint8_t {
#define LANETCP_DROP_ENUM(name, printed) name,
    LANETCP_DROP_REASONS(LANETCP_DROP_ENUM)
#undef LANETCP_DROP_ENUM
    count_
};

inline constexpr std::size_t kDropCount = static_cast<std::size_t>(Drop::count_);

inline constexpr std::array<std::string_view, kDropCount> kDropNames = {
#define LANETCP_DROP_NAME(name, printed) printed,
    LANETCP_DROP_REASONS(LANETCP_DROP_NAME)
#undef LANETCP_DROP_NAME
};

constexpr std::string_view drop_name(Drop d) noexcept { return kDropNames[static_cast<std::size_t>(d)]; }

// Traffic counters by layer; the names printed are the member names.
#define LANETCP_TRAFFIC_COUNTERS(X) \
    X(port_rx_packets) \
    X(port_rx_bytes) \
    X(port_tx_packets) \
    X(port_tx_bytes) \
    X(arp_rx_requests) \
    X(arp_rx_replies) \
    X(arp_tx_requests) \
    X(arp_tx_replies) \
    X(ipv4_rx_packets) \
    X(ipv4_tx_packets) \
    X(icmp_rx_echo_requests) \
    X(icmp_tx_echo_replies) \
    X(icmp_tx_echo_requests) \
    X(icmp_rx_echo_replies) \
    X(tcp_rx_segments) \
    X(tcp_tx_segments) \
    X(tcp_rx_bytes) \
    X(tcp_tx_bytes) \
    X(tcp_retransmitted_segments) \
    X(tcp_fast_retransmits) \
    X(tcp_timeouts) \
    X(tcp_active_opens) \
    X(tcp_passive_opens) \
    X(tcp_established) \
    X(tcp_resets_sent) \
    X(tcp_resets_received) \
    X(tcp_challenge_acks) \
    X(tcp_challenge_acks_limited) \
    X(tcp_ack_skipped_challenge) /* challenge ACK not sent: the connection answered one within tcp.invalid_ratelimit_ms */ \
    X(tcp_ack_skipped_seq) /* ACK to an out-of-window segment not sent (tcp.invalid_ratelimit_ms) */ \
    X(tcp_ack_skipped_paws) /* ACK to a PAWS-rejected segment not sent (tcp.invalid_ratelimit_ms) */ \
    X(tcp_ack_skipped_bad_ack) /* ACK to an ACK of unsent data not sent (tcp.invalid_ratelimit_ms) */ \
    X(tcp_orphans_aborted) /* closed by the application and reset or freed: more than tcp.max_orphans */ \
    X(tcp_dsacks_sent) \
    X(tcp_loss_probes) \
    X(tcp_recoveries) /* loss recovery episodes entered (RACK or duplicate ACKs) */ \
    X(tcp_rack_reorder_timeouts) /* losses found by RACK's reordering timer, not by an ACK */ \
    X(tcp_lost_retransmits) /* retransmissions RACK found lost and sent again */ \
    X(tcp_undo_dsack) /* reductions undone: D-SACKs showed every retransmission spurious (RFC 3708) */ \
    X(tcp_undo_eifel) /* reductions undone: timestamps showed the original arrived (RFC 3522) */ \
    X(tcp_undo_frto) /* timeouts undone: F-RTO saw never-resent data delivered (RFC 5682) */ \
    X(tcp_dsacks_received) \
    X(tcp_connections_timed_out) \
    X(tcp_connections_refused) \
    X(tcp_handoffs) \
    X(tcp_out_of_order_held) \
    X(tcp_keepalive_probes) \
    X(tcp_collapsed_segments) \
    X(tcp_memory_peak_bytes) /* the most TCP data an lcore pinned at once (truesize; summed over lcores) */ \
    X(tcp_syncookies_sent) \
    X(tcp_syncookies_accepted) \
    X(tcp_syncookies_failed) \
    X(tcp_ecn_negotiated) /* connections whose handshake agreed on ECN (RFC 3168 6.1.1) */ \
    X(tcp_ecn_ce_received) /* data segments that arrived marked Congestion Experienced */ \
    X(tcp_ecn_ece_sent) /* segments sent with ECE: a CE arrived and the peer's CWR has not yet */ \
    X(tcp_ecn_ece_received) /* ACKs that arrived with ECE */ \
    X(tcp_ecn_cwr_sent) /* data segments sent with CWR: the window was reduced (ECE, loss or timeout) */ \
    X(tcp_ecn_cwr_received) \
    X(tcp_ecn_reductions) /* congestion window reductions for ECE, at most one per window of data */

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
