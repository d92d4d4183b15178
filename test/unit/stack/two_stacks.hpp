// Two stacks in one process, joined by the in-memory wire, each one Lcore
// on its own manual clock, stepped by the test: deterministic end to end.
#pragma once

#include <memory>
#include <string>

#include "drivers/memwire.hpp"
#include "drivers/port.hpp"
#include "netif/mbuf_pool.hpp"
#include "stack/lcore.hpp"

namespace lanetcp::testing {

struct TwoStacks {
    static inline int instance = 0;

    explicit TwoStacks(Config config_a = default_config("10.9.0.1/24"),
                       Config config_b = default_config("10.9.0.2/24"))
        : name(fmt_name()), wire(name), config_a(std::move(config_a)), config_b(std::move(config_b)) {
        pool = create_mbuf_pool(name + "_pool", 4095, 0, 1500);
        port_a = start(wire.port_a());
        port_b = start(wire.port_b());
        a = make_lcore(port_a, this->config_a);
        b = make_lcore(port_b, this->config_b);
    }

    ~TwoStacks() {
        a.reset();
        b.reset();
        wire.unimpair(); // its rx callbacks must go before the ports
        drivers::stop_port(port_a.port_id);
        drivers::stop_port(port_b.port_id);
        rte_mempool_free(pool);
    }

    static Config default_config(const char* address) {
        Config c;
        c.interface.address = wire::Ipv4Prefix::parse(address);
        return c;
    }

    // Polls both sides until neither receives anything: the wire is quiet.
    void settle(int max_turns = 1000) {
        for (int i = 0; i < max_turns; ++i) {
            unsigned n = a->poll_once() + b->poll_once();
            if (n == 0 && wire.in_flight() == 0) return;
        }
    }

    // Moves both clocks forward in `step`s, polling after each.
    void advance(TimeNs total, TimeNs step = 10 * kNsPerMs) {
        for (TimeNs t = 0; t < total; t += step) {
            a->clock().advance(step);
            b->clock().advance(step);
            settle();
        }
    }

    // Shuts both lcores down and drains the wire; then every mbuf must be home.
    unsigned mbufs_in_use_after_shutdown() {
        a->shutdown();
        b->shutdown();
        settle();
        a->shutdown();
        b->shutdown();
        return mbufs_in_use(pool);
    }

    std::string name;
    drivers::MemWire wire;
    Config config_a, config_b;
    rte_mempool* pool = nullptr;
    drivers::PortInfo port_a, port_b;
    std::unique_ptr<Lcore> a, b;

private:
    static std::string fmt_name() { return "tw" + std::to_string(instance++); }

    drivers::PortInfo start(std::uint16_t port) {
        drivers::PortParams p;
        p.port_id = port;
        p.rx_pools = {pool};
        return drivers::start_port(p);
    }

    std::unique_ptr<Lcore> make_lcore(const drivers::PortInfo& port, const Config& config) {
        LcoreParams lp;
        lp.interface.port_id = port.port_id;
        lp.interface.mac = config.interface.mac.value_or(port.mac);
        lp.interface.address = *config.interface.address;
        lp.interface.gateway = config.interface.gateway;
        lp.pool = pool;
        lp.clock = Clock::manual(1 * kNsPerSec);
        return std::make_unique<Lcore>(lp, config);
    }
};

} // namespace lanetcp::testing
