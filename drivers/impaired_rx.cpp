#include "drivers/impaired_rx.hpp"

#include <fmt/format.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "drivers/port.hpp"
#include "impair/frame.hpp"

namespace lanetcp::drivers {

namespace {

// A segment's bytes may be written only if nobody else refers to them: the
// zero-copy send path chains the sender's own payload buffers behind a
// header mbuf, and a byte flipped there would be resent, checksummed anew.
bool writable(const rte_mbuf* m) noexcept { return RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1; }

// impair::Link's operations on a frame.
struct MbufOps {
    std::uint32_t wire_bytes(rte_mbuf* const& m) const noexcept { return rte_pktmbuf_pkt_len(m); }
    bool ect(rte_mbuf* const& m) const noexcept {
        return impair::frame_ect(rte_pktmbuf_mtod(m, const std::uint8_t*), rte_pktmbuf_data_len(m));
    }
    void mark_ce(rte_mbuf*& m) const noexcept {
        if (writable(m)) impair::frame_mark_ce(rte_pktmbuf_mtod(m, std::uint8_t*), rte_pktmbuf_data_len(m));
    }
    bool corrupt(rte_mbuf*& m, std::uint64_t bits) const noexcept {
        return writable(m) && impair::frame_corrupt(rte_pktmbuf_mtod(m, std::uint8_t*), rte_pktmbuf_data_len(m), bits);
    }
    bool copy(rte_mbuf* const& m, rte_mbuf*& out) const noexcept {
        out = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);
        return out != nullptr;
    }
    void drop(rte_mbuf*& m) const noexcept {
        rte_pktmbuf_free(m);
        m = nullptr;
    }
};

} // namespace

ImpairedRx::ImpairedRx(std::uint16_t port, std::uint16_t queue, const impair::Spec& spec, const Clock& clock)
    : link_(spec), clock_(&clock), port_(port), queue_(queue) {
    callback_ = rte_eth_add_rx_callback(port, queue, &ImpairedRx::on_rx, this);
    if (callback_ == nullptr)
        throw PortError(fmt::format("port {} queue {}: cannot add the impairment's rx callback: {}", port, queue,
                                    rte_strerror(rte_errno)));
}

ImpairedRx::~ImpairedRx() { detach(); }

void ImpairedRx::detach() noexcept {
    if (callback_ != nullptr) {
        // Nobody polls the queue now (the caller's promise): the callback's
        // memory can go at once (rte_eth_remove_rx_callback's note).
        if (rte_eth_remove_rx_callback(port_, queue_, callback_) == 0)
            rte_free(const_cast<rte_eth_rxtx_callback*>(callback_));
        callback_ = nullptr;
    }
    MbufOps ops;
    link_.clear(ops);
    held_.store(0, std::memory_order_relaxed);
}

std::uint16_t ImpairedRx::on_rx(std::uint16_t, std::uint16_t, rte_mbuf* pkts[], std::uint16_t nb, std::uint16_t max,
                                void* user) noexcept {
    auto& self = *static_cast<ImpairedRx*>(user);
    const TimeNs now = self.clock_->now();
    MbufOps ops;
    for (std::uint16_t i = 0; i < nb; ++i) {
        rte_mbuf* m = pkts[i];
        self.link_.send(now, std::move(m), ops);
    }
    std::uint16_t n = 0;
    rte_mbuf* m = nullptr;
    while (n < max && self.link_.receive(now, m)) pkts[n++] = m;
    self.held_.store(static_cast<unsigned>(self.link_.size()), std::memory_order_relaxed);
    return n;
}

} // namespace lanetcp::drivers
