#include "stack/lcore.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>

namespace lanetcp {

namespace {
constexpr unsigned kInboxSize = 1024;

tcp::TcpConfig tcp_config_for(const tcp::TcpConfig& shared, const LcoreParams& p, std::uint32_t mbufs_per_lcore) {
    tcp::TcpConfig c = shared;
    if (p.ephemeral_first != 0) {
        c.ephemeral_first = p.ephemeral_first;
        c.ephemeral_last = p.ephemeral_last;
    }
    // TCP's memory bounds from this lcore's share of the mbuf pool (an
    // mbuf's truesize as chunks count it): pressure at half, the limit at
    // three quarters, the last quarter the reserve for received frames,
    // headers and control segments (tcp_memory.hpp).
    if (p.pool != nullptr) {
        const std::uint64_t footprint = std::uint64_t{mbufs_per_lcore} *
            (sizeof(rte_mbuf) + rte_pktmbuf_priv_size(p.pool) + rte_pktmbuf_data_room_size(p.pool));
        if (c.memory_limit == 0) c.memory_limit = footprint * 3 / 4;
        if (c.memory_pressure == 0) c.memory_pressure = std::min(footprint / 2, c.memory_limit);
    }
    return c;
}
constexpr unsigned kPrefetchAhead = 3;
} // namespace

Lcore::Lcore(const LcoreParams& params, const Config& config)
    : lcore_id_(params.lcore_id),
      interface_(params.interface),
      pool_(params.pool),
      clock_(params.clock),
      burst_(std::min<std::uint16_t>(params.burst, kMaxBurst)),
      tx_(params.interface.port_id, params.interface.queue_id, counters_),
      arp_(interface_, tx_, counters_, params.pool, config.arp),
      ipv4_(interface_, arp_, counters_, params.pool),
      ethernet_(interface_, arp_, ipv4_, counters_),
      tcp_output_(interface_, ipv4_, params.pool, counters_,
                  {interface_.tx_tcp_checksum, interface_.tx_multi_segment, interface_.in_process_wire}),
      tcp_(tcp_config_for(config.tcp, params, config.engine.mbufs_per_lcore), tcp_output_, counters_,
           params.isn_key ? *params.isn_key : tcp::IsnGenerator::random_key(),
           interface_.ip(), interface_.mtu, clock_.now()),
      tcp_receiver_(tcp_, interface_, counters_) {
    ipv4_.set_tcp(&tcp_receiver_);
    // Many producers (every other lcore), one consumer (this one).
    std::string name = fmt::format("lt_inbox_p{}_q{}", interface_.port_id, interface_.queue_id);
    inbox_ = rte_ring_create(name.c_str(), kInboxSize, static_cast<int>(rte_socket_id()), RING_F_SC_DEQ);
    if (inbox_ == nullptr)
        throw std::runtime_error(fmt::format("cannot create ring {}: {}", name, rte_strerror(rte_errno)));
}

Lcore::~Lcore() {
    shutdown();
    rte_ring_free(inbox_);
}

void Lcore::announce() {
    arp_.announce();
    tx_.flush();
}

unsigned Lcore::poll_once() {
    const TimeNs now = clock_.now();
    ipv4_.set_now(now);
    // Neighbours other lcores learned first, so this burst's replies use them.
    drain_inbox(now);
    const std::uint16_t n = rte_eth_rx_burst(interface_.port_id, interface_.queue_id, rx_burst_.data(), burst_);
    if (n > 0) {
        std::uint64_t bytes = 0;
        for (std::uint16_t i = 0; i < std::min<std::uint16_t>(n, kPrefetchAhead); ++i)
            rte_prefetch0(rte_pktmbuf_mtod(rx_burst_[i], void*));
        for (std::uint16_t i = 0; i < n; ++i) {
            if (i + kPrefetchAhead < n) rte_prefetch0(rte_pktmbuf_mtod(rx_burst_[i + kPrefetchAhead], void*));
            bytes += rte_pktmbuf_pkt_len(rx_burst_[i]);
            ethernet_.input(rx_burst_[i], now);
        }
        counters_.port_rx_packets.add(n);
        counters_.port_rx_bytes.add(bytes);
    }
    arp_.tick(now);
    tcp_.advance(now);
    tx_.flush();
    return n;
}

void Lcore::drain_inbox(TimeNs now) {
    // Rarely non-empty: ARP another lcore learned, and segments of our
    // active opens that the NIC's hash sent to another lcore.
    if (rte_ring_empty(inbox_)) return;
    void* objs[32];
    unsigned n = rte_ring_dequeue_burst(inbox_, objs, 32, nullptr);
    for (unsigned i = 0; i < n; ++i) {
        auto* m = static_cast<rte_mbuf*>(objs[i]);
        if (m->hash.usr == kInboxHandoff)
            ethernet_.input(m, now);
        else
            ethernet_.input_from_peer(m, now);
    }
}

void Lcore::run(const std::atomic<bool>& stop, const std::atomic<unsigned>& dumps) {
    for (unsigned turn = 0; !stop.load(std::memory_order_relaxed); ++turn) {
        poll_once();
        if ((turn & 255) == 0) dump_connections_if_asked(dumps);
    }
}

void Lcore::dump_connections_if_asked(const std::atomic<unsigned>& dumps) {
    const unsigned asked = dumps.load(std::memory_order_relaxed);
    if (asked == dumps_seen_) return;
    dumps_seen_ = asked;
    const std::string text = describe_connections();
    std::fwrite(text.data(), 1, text.size(), stderr); // one write: lcores do not interleave lines
    std::fflush(stderr);
}

std::string Lcore::describe_connections() {
    const TimeNs now = clock_.now();
    std::string text = fmt::format("lcore {}: {} connection(s)\n", lcore_id_, tcp_.connections());
    tcp_.for_each_connection([&](const tcp::Connection& c) { text += "  " + c.describe(now) + "\n"; });
    return text;
}

void Lcore::shutdown() {
    arp_.shutdown();
    void* obj = nullptr;
    while (rte_ring_dequeue(inbox_, &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
    tx_.flush();
    // The buffer small segments were being copied into stays with the
    // pieces still held, if any; ours goes, or it would outlive every
    // connection that used it.
    tcp_.memory().drop_compact_buffer();
}

} // namespace lanetcp
