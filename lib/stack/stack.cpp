#include "stack/stack.hpp"

#include <fmt/format.h>

#include <csignal>
#include <stdexcept>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "netif/mbuf_pool.hpp"
#include "stack/stats.hpp"

namespace lanetcp {

std::atomic<bool>& stop_requested() {
    static std::atomic<bool> flag{false};
    return flag;
}

std::atomic<unsigned>& dump_requests() {
    static std::atomic<unsigned> count{0};
    return count;
}

namespace {

extern "C" void on_stop_signal(int) { stop_requested().store(true, std::memory_order_relaxed); }
extern "C" void on_dump_signal(int) { dump_requests().fetch_add(1, std::memory_order_relaxed); }

int run_worker(void* arg) {
    static_cast<Lcore*>(arg)->run(stop_requested(), dump_requests());
    return 0;
}

} // namespace

Interface interface_of(const drivers::PortInfo& port, std::uint16_t queue) {
    Interface ifc;
    ifc.port_id = port.port_id;
    ifc.queue_id = queue;
    ifc.mac = port.mac;
    ifc.mtu = port.mtu;
    ifc.rx_ipv4_checksum = port.rx_ipv4_checksum;
    ifc.tx_ipv4_checksum = port.tx_ipv4_checksum;
    ifc.rx_l4_checksum = port.rx_l4_checksum;
    ifc.tx_tcp_checksum = port.tx_tcp_checksum;
    ifc.in_process_wire = port.in_process;
    ifc.tx_multi_segment = port.multi_segment_tx;
    return ifc;
}

void install_signal_handlers() {
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
    std::signal(SIGUSR1, on_dump_signal);
}

void init_eal(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    // rte_eal_init may permute argv; give it copies it can own.
    static std::vector<std::string> storage;
    storage = args;
    for (std::string& a : storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (rte_eal_init(static_cast<int>(storage.size()), argv.data()) < 0)
        throw std::runtime_error(fmt::format("DPDK EAL initialisation failed: {} (check the EAL arguments before `--`)",
                                             rte_strerror(rte_errno)));
}

void cleanup_eal() { rte_eal_cleanup(); }

Stack::Stack(const Config& config) : config_(config), isn_key_(tcp::IsnGenerator::random_key()) {
    validate(config_);
    const unsigned lcore_count = rte_lcore_count();
    const unsigned sockets = std::max(1u, rte_socket_count());

    std::vector<unsigned> lcores_per_socket(sockets, 0);
    unsigned lcore_id = 0;
    RTE_LCORE_FOREACH(lcore_id) {
        lcores_per_socket[std::min(rte_lcore_to_socket_id(lcore_id), sockets - 1)]++;
    }
    pools_.assign(sockets, nullptr);
    for (unsigned s = 0; s < sockets; ++s) {
        if (lcores_per_socket[s] == 0) continue;
        pools_[s] = create_mbuf_pool(fmt::format("lt_pool_s{}", s),
                                     config_.engine.mbufs_per_lcore * lcores_per_socket[s], static_cast<int>(s),
                                     config_.interface.mtu);
    }

    drivers::PortParams pp;
    pp.port_id = config_.interface.dpdk_port;
    pp.queues = static_cast<std::uint16_t>(lcore_count);
    pp.rx_descriptors = config_.engine.rx_descriptors;
    pp.tx_descriptors = config_.engine.tx_descriptors;
    pp.mtu = config_.interface.mtu;
    std::vector<unsigned> lcore_ids;
    RTE_LCORE_FOREACH(lcore_id) {
        lcore_ids.push_back(lcore_id);
        pp.rx_pools.push_back(pools_[std::min(rte_lcore_to_socket_id(lcore_id), sockets - 1)]);
    }
    port_ = drivers::start_port(pp);
    port_started_ = true;

    wire::MacAddr mac = port_.mac;
    if (config_.interface.mac && *config_.interface.mac != port_.mac) {
        rte_ether_addr a{};
        config_.interface.mac->store(a.addr_bytes);
        // An extra unicast filter, not a new device address: on net_tap the
        // device address is also the kernel interface's, and the two ends
        // must differ. A device without filters hears us in promiscuous mode.
        if (rte_eth_dev_mac_addr_add(port_.port_id, &a, 0) != 0) rte_eth_promiscuous_enable(port_.port_id);
        mac = *config_.interface.mac;
    }

    // Each lcore hands out its own slice of the ephemeral ports (see TcpHandoff).
    const auto n = static_cast<std::uint32_t>(lcore_ids.size());
    const std::uint32_t first = config_.tcp.ephemeral_first;
    const std::uint32_t span = (config_.tcp.ephemeral_last - first + 1u) / n;
    if (span == 0) throw ConfigError("tcp.ephemeral_first..ephemeral_last has fewer ports than lcores");
    for (std::uint16_t q = 0; q < lcore_ids.size(); ++q) {
        LcoreParams lp;
        lp.ephemeral_first = static_cast<std::uint16_t>(first + q * span);
        lp.ephemeral_last = static_cast<std::uint16_t>(q + 1u == n ? config_.tcp.ephemeral_last : first + (q + 1u) * span - 1);
        lp.lcore_id = lcore_ids[q];
        lp.interface = interface_of(port_, q);
        lp.interface.mac = mac;
        lp.interface.address = *config_.interface.address;
        lp.interface.gateway = config_.interface.gateway;
        lp.isn_key = &isn_key_;
        lp.pool = pp.rx_pools[q];
        lp.clock = Clock::tsc(rte_get_tsc_hz());
        lp.burst = config_.engine.burst;
        lcores_.push_back(std::make_unique<Lcore>(lp, config_));
    }
    TcpHandoff handoff{config_.tcp.ephemeral_first, config_.tcp.ephemeral_last, 0, {}};
    for (auto& lc : lcores_) handoff.inboxes.push_back(lc->inbox());
    for (std::uint16_t i = 0; i < lcores_.size(); ++i) {
        std::vector<rte_ring*> peers;
        for (auto& other : lcores_)
            if (other != lcores_[i]) peers.push_back(other->inbox());
        lcores_[i]->set_peers(std::move(peers));
        handoff.self = i;
        lcores_[i]->set_handoff(handoff);
    }
}

Stack::~Stack() { shutdown(); }

CounterSnapshot Stack::snapshot() const {
    CounterSnapshot s;
    for (const auto& lc : lcores_) s.accumulate(lc->counters());
    return s;
}

std::string Stack::format_stats() const {
    if (lcores_.empty()) return final_stats_;
    unsigned in_use = 0, size = 0;
    for (const rte_mempool* p : pools_) {
        if (p == nullptr) continue;
        in_use += mbufs_in_use(p);
        size += p->size;
    }
    return format_counters(snapshot()) + (port_started_ ? format_port_stats(port_.port_id) : std::string{}) +
           format_mbuf_usage(in_use, size);
}

void Stack::run_main_lcore(Lcore& lc) {
    const Clock& clock = lc.clock();
    const TimeNs start = clock.now();
    const auto interval = static_cast<TimeNs>(config_.engine.stats_interval_s * kNsPerSec);
    const auto duration = static_cast<TimeNs>(config_.engine.duration_s * kNsPerSec);
    TimeNs next_stats = start + interval;
    auto& stop = stop_requested();
    for (unsigned turn = 0; !stop.load(std::memory_order_relaxed); ++turn) {
        lc.poll_once();
        if ((turn & 255) != 0) continue;
        lc.dump_connections_if_asked(dump_requests());
        const TimeNs now = clock.now();
        if (interval != 0 && now >= next_stats) {
            next_stats = now + interval;
            fmt::print("[{:.1f}s] counters\n{}", static_cast<double>(now - start) / kNsPerSec, format_stats());
            std::fflush(stdout);
        }
        if (duration != 0 && now - start >= duration) stop.store(true, std::memory_order_relaxed);
    }
}

void Stack::run() {
    fmt::print("{}\n", drivers::describe_link(port_.port_id));
    fmt::print("lanetcp: {} on port {} mac {} mtu {}, {} lcore(s){}\n", config_.interface.address->to_string(),
               port_.port_id, lcores_.front()->interface().mac.to_string(), port_.mtu, lcores_.size(),
               config_.interface.gateway ? ", gateway " + config_.interface.gateway->to_string() : std::string{});
    std::fflush(stdout);
    if (config_.arp.gratuitous) lcores_.front()->announce();
    for (std::size_t i = 1; i < lcores_.size(); ++i) {
        if (rte_eal_remote_launch(run_worker, lcores_[i].get(), lcores_[i]->lcore_id()) != 0)
            throw std::runtime_error(fmt::format("cannot launch lcore {}", lcores_[i]->lcore_id()));
    }
    run_main_lcore(*lcores_.front());
    rte_eal_mp_wait_lcore();
}

unsigned Stack::shutdown() {
    if (shut_down_) return 0;
    shut_down_ = true;
    for (auto& lc : lcores_) lc->shutdown();
    final_stats_ = format_stats();
    final_snapshot_ = snapshot();
    if (port_started_) drivers::stop_port(port_.port_id);
    lcores_.clear();
    unsigned leaked = 0;
    for (rte_mempool* p : pools_) {
        if (p == nullptr) continue;
        leaked += mbufs_in_use(p);
        rte_mempool_free(p);
    }
    pools_.clear();
    return leaked;
}

} // namespace lanetcp
