#include "drivers/memwire.hpp"

#include <fmt/format.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_mbuf.h>

#include "drivers/port.hpp"

namespace lanetcp::drivers {

MemWire::MemWire(const std::string& name, std::uint16_t queues, unsigned ring_size, int socket)
    : queues_(queues), tsc_(Clock::tsc(rte_get_tsc_hz())) {
    auto make_ring = [&](const std::string& ring_name) {
        // Single producer and single consumer: each queue belongs to one lcore
        // on either end.
        rte_ring* r = rte_ring_create(ring_name.c_str(), ring_size, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (r == nullptr)
            throw PortError(fmt::format("memwire {}: cannot create ring {}: {}", name, ring_name,
                                        rte_strerror(rte_errno)));
        return r;
    };
    for (std::uint16_t q = 0; q < queues; ++q) {
        a_to_b_.push_back(make_ring(fmt::format("{}_ab{}", name, q)));
        b_to_a_.push_back(make_ring(fmt::format("{}_ba{}", name, q)));
    }
    int a = rte_eth_from_rings((name + "_a").c_str(), b_to_a_.data(), queues, a_to_b_.data(), queues,
                               static_cast<unsigned>(socket));
    int b = rte_eth_from_rings((name + "_b").c_str(), a_to_b_.data(), queues, b_to_a_.data(), queues,
                               static_cast<unsigned>(socket));
    if (a < 0 || b < 0)
        throw PortError(fmt::format("memwire {}: cannot create ring ports: {}", name, rte_strerror(rte_errno)));
    port_a_ = static_cast<std::uint16_t>(a);
    port_b_ = static_cast<std::uint16_t>(b);
}

MemWire::~MemWire() {
    unimpair();
    // The ports must be closed (stop_port) before the rings go; whatever is
    // still in flight is freed with them.
    auto drain = [](rte_ring* r) {
        void* obj = nullptr;
        while (rte_ring_dequeue(r, &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
        rte_ring_free(r);
    };
    for (rte_ring* r : a_to_b_) drain(r);
    for (rte_ring* r : b_to_a_) drain(r);
}

void MemWire::impair(const impair::Spec& a_to_b, const impair::Spec& b_to_a, const Clock* clock_b,
                     const Clock* clock_a) {
    unimpair();
    for (std::uint16_t q = 0; q < queues_; ++q) {
        impair::Spec ab = a_to_b, ba = b_to_a;
        ab.seed += q;
        ba.seed += q;
        impaired_.push_back(std::make_unique<ImpairedRx>(port_b_, q, ab, clock_b != nullptr ? *clock_b : tsc_));
        impaired_.push_back(std::make_unique<ImpairedRx>(port_a_, q, ba, clock_a != nullptr ? *clock_a : tsc_));
    }
}

void MemWire::unimpair() noexcept {
    for (auto& r : impaired_) r->detach();
    impaired_.clear();
}

impair::Stats MemWire::impair_stats(bool from_a) const noexcept {
    impair::Stats sum;
    for (std::size_t i = from_a ? 0 : 1; i < impaired_.size(); i += 2) {
        const impair::Stats& s = impaired_[i]->stats();
#define LANETCP_IMPAIR_SUM(name, text) sum.name += s.name;
        LANETCP_IMPAIR_STATS(LANETCP_IMPAIR_SUM)
#undef LANETCP_IMPAIR_SUM
    }
    return sum;
}

unsigned MemWire::in_flight() const noexcept {
    unsigned n = 0;
    for (const auto& r : impaired_) n += r->held();
    for (rte_ring* r : a_to_b_) n += rte_ring_count(r);
    for (rte_ring* r : b_to_a_) n += rte_ring_count(r);
    return n;
}

} // namespace lanetcp::drivers
