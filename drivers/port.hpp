// Brings up any DPDK ethdev (PCI NIC, net_af_packet, net_tap, net_pcap,
// net_ring, the in-memory wire) with one rx and one tx queue per worker lcore,
// negotiating offloads from what the device reports.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <rte_mempool.h>

#include "wire/addr.hpp"

namespace lanetcp::drivers {

class PortError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct PortParams {
    std::uint16_t port_id = 0;
    std::uint16_t queues = 1;           // rx and tx queue pairs, one per worker lcore
    std::uint16_t rx_descriptors = 1024;
    std::uint16_t tx_descriptors = 1024;
    std::uint16_t mtu = 1500;
    std::vector<rte_mempool*> rx_pools; // one per queue (the pool of the lcore that polls it)
};

// What the stack may rely on once the port is up.
struct PortInfo {
    std::uint16_t port_id = 0;
    std::string driver;
    wire::MacAddr mac{};
    std::uint16_t mtu = 1500;
    int socket = 0;
    bool rx_ipv4_checksum = false; // the NIC flags good/bad IPv4 header checksums
    bool rx_l4_checksum = false;   // ... and TCP/UDP checksums
    bool tx_ipv4_checksum = false; // the NIC fills IPv4 header checksums
    bool tx_tcp_checksum = false;  // ... and TCP checksums from the pseudo-header sum
    bool multi_segment_tx = false;
    // net_ring (the in-memory wire): frames never leave this process.
    bool in_process = false;
};

// Configures and starts the port. Throws PortError with a one-line reason.
PortInfo start_port(const PortParams& params);

// Stops and closes the port, releasing every mbuf its queues hold.
void stop_port(std::uint16_t port_id);

// One line: "port 0 (net_af_packet): link up, 10000 Mbps, full duplex".
std::string describe_link(std::uint16_t port_id);

// Ports EAL created from --vdev / PCI probing.
std::uint16_t available_ports();

} // namespace lanetcp::drivers
