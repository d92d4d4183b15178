// A whole stack in one process: one DPDK port, one Lcore per EAL lcore (each
// with its own rx/tx queue pair), mbuf pools per NUMA socket, signals, the
// stats printer, and an orderly shutdown that accounts for every mbuf.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <rte_mempool.h>

#include "config/config.hpp"
#include "drivers/port.hpp"
#include "netif/counters.hpp"
#include "stack/lcore.hpp"

namespace lanetcp {

// rte_eal_init with these arguments (argv[0] first). Throws std::runtime_error.
void init_eal(const std::vector<std::string>& args);
void cleanup_eal();

// An lcore's view of queue `queue` of a started port: its address, MTU and
// what the device offloads. The IP address and gateway are the caller's.
Interface interface_of(const drivers::PortInfo& port, std::uint16_t queue);

// Set by SIGINT/SIGTERM once install_signal_handlers() ran.
std::atomic<bool>& stop_requested();
// Counts SIGUSR1s: each asks every lcore to print its connections to stderr.
std::atomic<unsigned>& dump_requests();
void install_signal_handlers();

class Stack {
public:
    // Needs EAL up. Throws std::runtime_error (PortError, ConfigError) with a
    // one-line reason.
    explicit Stack(const Config& config);
    ~Stack();
    Stack(const Stack&) = delete;
    Stack& operator=(const Stack&) = delete;

    // Runs `fn` for every lcore, before run(): where apps listen or connect.
    template <class F>
    void for_each_lcore(F&& fn) {
        for (auto& lc : lcores_) fn(*lc);
    }

    // Runs every lcore until stop_requested() or the configured duration;
    // prints counters every stats interval.
    void run();

    // Stops the port and returns how many mbufs did not come back to their
    // pools (0 unless something leaked). Idempotent.
    unsigned shutdown();

    CounterSnapshot snapshot() const;
    const CounterSnapshot& final_snapshot() const noexcept { return final_snapshot_; }
    // Counters so far; after shutdown(), those at the moment it stopped.
    std::string format_stats() const;
    const drivers::PortInfo& port() const noexcept { return port_; }
    const std::vector<std::unique_ptr<Lcore>>& lcores() const noexcept { return lcores_; }

private:
    void run_main_lcore(Lcore& lc);

    Config config_;
    tcp::IsnGenerator::Key isn_key_;
    std::vector<rte_mempool*> pools_; // indexed by socket
    drivers::PortInfo port_{};
    bool port_started_ = false;
    std::vector<std::unique_ptr<Lcore>> lcores_;
    bool shut_down_ = false;
    std::string final_stats_;
    CounterSnapshot final_snapshot_{};
};

} // namespace lanetcp
