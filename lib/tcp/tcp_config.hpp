// TCP tunables, with Linux's defaults where Linux has one.
#pragma once

#include <cstdint>

#include "util/clock.hpp"

namespace lanetcp::tcp {

struct TcpConfig {
    std::uint32_t max_connections = 16384;   // control blocks per lcore, all states
    std::uint32_t chunk_pool = 262144;       // send-queue chunks per lcore
    std::uint32_t reassembly_segments = 65536; // out-of-order segments held per lcore
    std::uint32_t send_buffer = 256 * 1024;  // bytes queued per connection before send() refuses
    std::uint32_t receive_buffer = 65535;    // receive window (no window scaling yet)
    std::uint16_t mss = 1460;                // ours, before clamping to the MTU
    TimeNs min_rto = 200 * kNsPerMs;         // TCP_RTO_MIN
    TimeNs max_rto = 120 * kNsPerSec;        // TCP_RTO_MAX
    TimeNs initial_rto = 1 * kNsPerSec;      // RFC 6298 2.1
    std::uint32_t retries2 = 15;             // net.ipv4.tcp_retries2
    std::uint32_t syn_retries = 6;           // net.ipv4.tcp_syn_retries
    std::uint32_t synack_retries = 5;        // net.ipv4.tcp_synack_retries
    TimeNs time_wait = 60 * kNsPerSec;       // TCP_TIMEWAIT_LEN (2*MSL)
    TimeNs delayed_ack = 40 * kNsPerMs;      // TCP_DELACK_MIN
    std::uint32_t initial_cwnd = 10;         // segments, RFC 6928
    std::uint16_t ephemeral_first = 32768;   // net.ipv4.ip_local_port_range
    std::uint16_t ephemeral_last = 60999;
    std::uint32_t syn_backlog = 1024;        // SYN_RECEIVED per listener
    bool sack = true;                        // offer and accept SACK (RFC 2018)
    bool window_scale = true;                // offer and accept window scaling (RFC 7323 2)
    bool timestamps = true;                  // offer and accept timestamps (RFC 7323 3)
    std::uint32_t challenge_ack_limit = 1000; // challenge ACKs per second per lcore (RFC 5961 7)
};

} // namespace lanetcp::tcp
