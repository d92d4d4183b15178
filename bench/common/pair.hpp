// Two TcpLayers back to back over an in-memory wire that delivers at once,
// with a manual clock: the benchmarks' and lanetcp-insncount's counterpart of
// the unit tests' Pair (test/unit/tcp/harness.hpp), over the no-copy
// platform and without gtest.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "netif/counters.hpp"
#include "nocopy_platform.hpp"
#include "tcp/tcp_layer.hpp"

namespace lanetcp::bench {

using tcp::TcpConfig;
using tcp::TcpLayer;

inline constexpr wire::Ipv4Addr kIpA{0x0a000001}; // 10.0.0.1
inline constexpr wire::Ipv4Addr kIpB{0x0a000002}; // 10.0.0.2

struct Node {
    Node(wire::Ipv4Addr address, const TcpConfig& cfg, std::uint8_t key_seed);
    ~Node();
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;
    Counters counters;
    tcp::TcpOutput out;
    std::unique_ptr<TcpLayer> tcp;
    wire::Ipv4Addr ip;
};

class Pair {
public:
    explicit Pair(const TcpConfig& cfg);

    // Moves segments both ways until neither side has anything to send.
    void flush();
    // flush(), then time on to the next timer, until `done` or `limit`.
    bool run_until(const std::function<bool()>& done, TimeNs limit);

    Node a;
    Node b;
    TimeNs now = 0;
    // Time that passes per round of flush() (each side's batch delivered),
    // with both layers' timers run, as in a poll loop; 0: time stands still.
    TimeNs step = 0;
    std::uint64_t delivered = 0;      // segments over the wire
    std::uint64_t data_delivered = 0; // of which with payload

private:
    void deliver(Node& to, std::vector<tcp::WireSegment>& batch);
    std::vector<tcp::WireSegment> batch_a_;
    std::vector<tcp::WireSegment> batch_b_;
};

} // namespace lanetcp::bench
