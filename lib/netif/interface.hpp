// What every layer on one lcore needs to know about the interface it serves:
// our addresses, the port and queue it polls, and what the NIC offloads.
#pragma once

#include <cstdint>
#include <optional>

#include "wire/addr.hpp"

namespace lanetcp {

// What a frame in an lcore's inbox ring is, kept in the mbuf's user tag.
enum InboxTag : std::uint32_t {
    kInboxArpCopy = 1, // ARP another lcore learned from: learn, do not answer
    kInboxHandoff = 2, // a frame for a connection this lcore owns: process it
};

struct Interface {
    std::uint16_t port_id = 0;
    std::uint16_t queue_id = 0;
    wire::MacAddr mac{};
    wire::Ipv4Prefix address{};
    std::optional<wire::Ipv4Addr> gateway;
    std::uint16_t mtu = 1500;
    bool rx_ipv4_checksum = false;
    bool tx_ipv4_checksum = false;
    bool rx_l4_checksum = false;
    bool tx_tcp_checksum = false;
    bool tx_multi_segment = false;
    // Frames never leave the process (the in-memory wire): like Linux's
    // veth, which passes CHECKSUM_PARTIAL through and has the receiver
    // trust it, TCP checksums are neither computed nor verified.
    bool in_process_wire = false;

    wire::Ipv4Addr ip() const noexcept { return address.addr; }

    // Addresses an IPv4 datagram may be sent to and still be ours: RFC 1122
    // 3.3.6, our unicast address and both broadcast forms.
    bool accepts(wire::Ipv4Addr dst) const noexcept {
        return dst == address.addr || dst.is_limited_broadcast() || dst == address.subnet_broadcast();
    }
    bool is_broadcast(wire::Ipv4Addr dst) const noexcept {
        return dst.is_limited_broadcast() || dst == address.subnet_broadcast();
    }
};

} // namespace lanetcp
