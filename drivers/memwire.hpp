// The in-memory wire: two DPDK ports joined back to back inside one process,
// so that two stacks can talk with no NIC. Each direction is an rte_ring per
// queue; what one port transmits, the other receives, unchanged and in order,
// unless impair() puts an impairment model (lib/impair, doc/impairment.md) on
// each direction.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <rte_ring.h>

#include "drivers/impaired_rx.hpp"
#include "impair/spec.hpp"
#include "util/clock.hpp"

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

    // Frames in flight (sent, not yet received), both directions, those the
    // impairment holds included.
    unsigned in_flight() const noexcept;

    // From now on, what port A sends meets `a_to_b` and what port B sends
    // meets `b_to_a` (queue q's model is seeded with seed + q). Applied as
    // frames are received, so call it once both ports are started; time comes
    // from `clock_b` (the lcore polling port B) and `clock_a`, the TSC when
    // null. Throws PortError.
    void impair(const impair::Spec& a_to_b, const impair::Spec& b_to_a, const Clock* clock_b = nullptr,
                const Clock* clock_a = nullptr);
    // Takes the impairment off again, freeing the frames it held; call before
    // the ports are stopped, with nobody polling them. The destructor does it
    // too, if the ports are still there.
    void unimpair() noexcept;
    bool impaired() const noexcept { return !impaired_.empty(); }
    // What the impairment did to frames A sent (true) or B sent, summed over
    // queues; read it when nobody polls.
    impair::Stats impair_stats(bool from_a) const noexcept;

private:
    std::vector<rte_ring*> a_to_b_;
    std::vector<rte_ring*> b_to_a_;
    std::uint16_t port_a_ = 0;
    std::uint16_t port_b_ = 0;
    std::uint16_t queues_ = 1;
    Clock tsc_;
    // Per queue: B's receiver (A's frames), then A's receiver (B's frames).
    std::vector<std::unique_ptr<ImpairedRx>> impaired_;
};

} // namespace lanetcp::drivers
