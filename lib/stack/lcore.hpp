// One lcore's share of the stack: everything on its data path, owned by it
// alone. poll_once() is one turn of the run-to-completion loop: rx burst,
// every packet through Ethernet → ARP/IPv4/ICMP, timers, one tx burst.
// Tests call poll_once() directly on a manual clock.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "api/tcp_glue.hpp"
#include "arp/arp_service.hpp"
#include "config/config.hpp"
#include "ipv4/ipv4_layer.hpp"
#include "l2/ethernet_input.hpp"
#include "netif/counters.hpp"
#include "netif/interface.hpp"
#include "netif/tx_queue.hpp"
#include "tcp/isn.hpp"
#include "tcp/tcp_layer.hpp"
#include "util/clock.hpp"

namespace lanetcp {

struct LcoreParams {
    unsigned lcore_id = 0;
    Interface interface;
    rte_mempool* pool = nullptr;
    Clock clock = Clock::manual();
    std::uint16_t burst = 32;
    // The ISN secret; one per process. Null: a fresh random one.
    const tcp::IsnGenerator::Key* isn_key = nullptr;
    // This lcore's slice of the ephemeral ports (0: the whole configured range).
    std::uint16_t ephemeral_first = 0;
    std::uint16_t ephemeral_last = 0;
};

class alignas(64) Lcore {
public:
    static constexpr std::uint16_t kMaxBurst = 512;

    Lcore(const LcoreParams& params, const Config& config);
    ~Lcore();
    Lcore(const Lcore&) = delete;
    Lcore& operator=(const Lcore&) = delete;

    // Sends a gratuitous ARP for our address; one lcore does it at start.
    void announce();

    // One loop turn; returns how many packets it received.
    unsigned poll_once();

    // Polls until `stop` is set; prints the connections whenever `dumps` grows.
    void run(const std::atomic<bool>& stop, const std::atomic<unsigned>& dumps);
    // Prints every connection to stderr if `dumps` changed since last time.
    void dump_connections_if_asked(const std::atomic<unsigned>& dumps);
    std::string describe_connections();

    // Frees every packet the lcore still holds (ARP queues, tx batch, inbox,
    // TCP's compact buffer) that no connection refers to.
    void shutdown();

    // This lcore's inbox, which other lcores write to.
    rte_ring* inbox() const noexcept { return inbox_; }
    void set_peers(std::vector<rte_ring*> peers) { arp_.set_peers(std::move(peers)); }
    // Every lcore's inbox, indexed by lcore order, for handing TCP segments
    // of active opens to the lcore whose port slice they belong to.
    void set_handoff(const TcpHandoff& handoff) { tcp_receiver_.set_handoff(handoff); }

    unsigned lcore_id() const noexcept { return lcore_id_; }
    Clock& clock() noexcept { return clock_; }
    const Counters& counters() const noexcept { return counters_; }
    const Interface& interface() const noexcept { return interface_; }
    ipv4::Ipv4Layer& ipv4() noexcept { return ipv4_; }
    tcp::TcpLayer& tcp() noexcept { return tcp_; }
    // The lcore's timer wheel, for applications: arm a CallbackTimer here
    // (from this lcore's thread only, e.g. in a TCP callback) and poll_once()
    // runs its handler when it is due, on the clock(). One wheel for TCP and
    // applications; see doc/architecture.md, "Application timers".
    TimerWheel& timers() noexcept { return tcp_.timers(); }
    rte_mempool* pool() const noexcept { return pool_; }
    const arp::ArpService& arp() const noexcept { return arp_; }

private:
    void drain_inbox(TimeNs now);

    unsigned lcore_id_;
    Interface interface_;
    rte_mempool* pool_;
    Clock clock_;
    std::uint16_t burst_;
    Counters counters_;
    TxQueue tx_;
    arp::ArpService arp_;
    ipv4::Ipv4Layer ipv4_;
    l2::EthernetInput ethernet_;
    tcp::TcpOutput tcp_output_;
    tcp::TcpLayer tcp_;
    TcpReceiver tcp_receiver_;
    rte_ring* inbox_ = nullptr;
    unsigned dumps_seen_ = 0;
    std::array<rte_mbuf*, kMaxBurst> rx_burst_{};
};

} // namespace lanetcp
