// The impairment model of lib/impair applied to what one DPDK port queue
// receives: an rx callback (rte_eth_add_rx_callback) takes every frame the
// device returns into an impair::Link, and hands the application, in the same
// rte_eth_rx_burst() call, the frames now due. Works on any port; on the
// in-memory wire (MemWire::impair) it makes one direction of the wire lossy,
// slow, reordering... Time comes from a Clock: the TSC for real runs, the
// receiving lcore's manual clock in tests. Frames are edited in place only
// where the frame owns its bytes (the first segment, which holds the headers);
// duplicates are deep copies from the frame's own pool.
#pragma once

#include <atomic>
#include <cstdint>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "impair/link.hpp"
#include "util/clock.hpp"

namespace lanetcp::drivers {

class ImpairedRx {
public:
    // Attaches to (port, queue), which must be configured (start_port).
    // `clock` must outlive this object. Throws PortError.
    ImpairedRx(std::uint16_t port, std::uint16_t queue, const impair::Spec& spec, const Clock& clock);
    // detach(), then frees what is still held.
    ~ImpairedRx();
    ImpairedRx(const ImpairedRx&) = delete;
    ImpairedRx& operator=(const ImpairedRx&) = delete;

    // Removes the callback and frees every frame still on the impaired wire.
    // Call while the port exists and nobody polls the queue (before
    // stop_port); idempotent.
    void detach() noexcept;

    // Frames held (delayed, queued, reordered), as of the last poll.
    unsigned held() const noexcept { return held_.load(std::memory_order_relaxed); }
    // What the model did; read it when the polling lcore has stopped.
    const impair::Stats& stats() const noexcept { return link_.stats(); }

private:
    static std::uint16_t on_rx(std::uint16_t port, std::uint16_t queue, rte_mbuf* pkts[], std::uint16_t nb,
                               std::uint16_t max, void* self) noexcept;

    impair::Link<rte_mbuf*> link_;
    const Clock* clock_;
    std::uint16_t port_;
    std::uint16_t queue_;
    const rte_eth_rxtx_callback* callback_ = nullptr;
    std::atomic<unsigned> held_{0};
};

} // namespace lanetcp::drivers
