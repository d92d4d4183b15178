// Human-readable counters: per layer traffic and drops by reason, plus the
// DPDK port's own statistics (missed, errors, rx_nombuf).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "netif/counters.hpp"

namespace lanetcp {

std::string format_counters(const CounterSnapshot& s);

// The ethdev's own counters for `port_id`, one line.
std::string format_port_stats(std::uint16_t port_id);

// mbufs out of their pools (held by connections, queues, rings) and the
// pools' size, one line: what peers make us pin (test_hostile.py reads it).
std::string format_mbuf_usage(unsigned in_use, unsigned size);

// {"counters": {...}, "drops": {"ipv4.bad_checksum": n, ...}} with every
// counter and every drop reason, zero or not, for scripts and tests.
std::string counters_json(const CounterSnapshot& s, unsigned mbufs_leaked);

} // namespace lanetcp
