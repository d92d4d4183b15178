// Where TCP meets DPDK: segments from IPv4 input become InSegments (the
// mbuf's payload handed over as a Chunk, not copied), and the platform
// functions of tcp/platform.hpp build mbufs for what TCP sends: a header
// mbuf with the payload chained as indirect mbufs on the send queue's data.
#pragma once

#include <vector>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "ipv4/ipv4_layer.hpp"
#include "netif/counters.hpp"
#include "netif/interface.hpp"
#include "tcp/platform.hpp"
#include "tcp/tcp_layer.hpp"

namespace lanetcp::tcp {

inline rte_mbuf* as_mbuf(PacketBuffer* b) noexcept { return reinterpret_cast<rte_mbuf*>(b); }
inline PacketBuffer* as_buffer(rte_mbuf* m) noexcept { return reinterpret_cast<PacketBuffer*>(m); }

// The memory an mbuf takes whatever it carries: the rte_mbuf, its private
// area and its data room (a chunk's truesize).
inline std::uint32_t mbuf_truesize(const rte_mbuf* m) noexcept {
    return static_cast<std::uint32_t>(sizeof(rte_mbuf)) + m->priv_size + m->buf_len;
}

// `len` bytes at `data` in `m`, owning the reference the caller had.
inline Chunk chunk_of_mbuf(rte_mbuf* m, const std::uint8_t* data, std::uint32_t len) noexcept {
    return Chunk{as_buffer(m), data, len, mbuf_truesize(m)};
}

// The per-lcore transmit side TCP sends through.
class TcpOutput {
public:
    struct Offloads {
        bool tcp_checksum = false; // the NIC fills TCP checksums
        bool multi_segment = false; // the NIC sends mbuf chains
        bool no_checksum = false;   // the in-process wire: nobody checks (Interface::in_process_wire)
    };

    TcpOutput(const Interface& ifc, ipv4::Ipv4Layer& ipv4, rte_mempool* pool, Counters& counters,
              Offloads offloads) noexcept
        : ifc_(ifc), ipv4_(ipv4), pool_(pool), counters_(counters), offloads_(offloads) {}

    void send(const OutSegment& seg) noexcept;
    // An empty mbuf for tcp/platform.hpp's buffer_alloc.
    PacketBuffer* alloc(std::uint8_t** data, std::uint32_t* room, std::uint32_t* truesize) noexcept;

private:
    const Interface& ifc_;
    ipv4::Ipv4Layer& ipv4_;
    rte_mempool* pool_;
    Counters& counters_;
    Offloads offloads_;
};

} // namespace lanetcp::tcp

namespace lanetcp {

// Which lcore owns an ephemeral port: each has a slice of the range, so the
// replies to an active open can be sent to the lcore that made it, whatever
// queue the NIC's hash put them on.
struct TcpHandoff {
    std::uint16_t first = 0;      // the whole ephemeral range
    std::uint16_t last = 0;
    std::uint16_t self = 0;       // this lcore's index
    std::vector<rte_ring*> inboxes; // every lcore's, by index

    std::uint16_t owner(std::uint16_t port) const noexcept {
        const auto n = static_cast<std::uint32_t>(inboxes.size());
        const std::uint32_t span = (static_cast<std::uint32_t>(last - first) + 1) / n;
        const std::uint32_t i = (static_cast<std::uint32_t>(port - first)) / span;
        return static_cast<std::uint16_t>(i < n ? i : n - 1);
    }
    bool in_range(std::uint16_t port) const noexcept { return port >= first && port <= last; }
};

// IPv4's hand-off to TCP (declared by the IPv4 layer, see ipv4_layer.hpp).
class TcpReceiver {
public:
    TcpReceiver(tcp::TcpLayer& layer, const Interface& ifc, Counters& counters) noexcept
        : layer_(layer), ifc_(ifc), counters_(counters) {}

    void receive(rte_mbuf* m, const wire::Ipv4View& ip, TimeNs now) noexcept;
    void set_handoff(const TcpHandoff& h) { handoff_ = h; }

private:
    void drop(rte_mbuf* m, Drop reason) noexcept {
        counters_.drop(reason);
        rte_pktmbuf_free(m);
    }

    bool handed_off(rte_mbuf* m, const tcp::FourTuple& t) noexcept;

    tcp::TcpLayer& layer_;
    const Interface& ifc_;
    Counters& counters_;
    TcpHandoff handoff_;
};

} // namespace lanetcp
