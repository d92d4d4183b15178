// The in-memory wire: two DPDK ports joined back to back inside one process,
// so that two stacks can talk with no NIC. Each direction is an rte_ring per
// queue; what one port transmits, the other receives, unchanged and in order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <rte_ring.h>

namespace lanetcp::drivers {

class MemWire {
public:
    // Creates ports "<name>_a" and "<name>_b" with `queues` queue pairs each.
    MemWire(const std::string& name, std::uint16_t queues = 1, unsigned ring_size = 4096, int socket = 0);
    ~MemWire();
    MemWire(const MemWire&) = delete;
    MemWire& operator=(const MemWire&) = delete;

    std::uint16_t port_a() const noexcept { return port_a_; }
    std::uint16_t port_b() const noexcept { return port_b_; }

    // Frames in flight (sent, not yet received), both directions.
    unsigned in_flight() const noexcept;

private:
    std::vector<rte_ring*> a_to_b_;
    std::vector<rte_ring*> b_to_a_;
    std::uint16_t port_a_ = 0;
    std::uint16_t port_b_ = 0;
};

} // namespace lanetcp::drivers
