// TCP tunables, with Linux's defaults where Linux has one.
#pragma once

#include <cstdint>

#include "tcp/cc/algorithm.hpp"
#include "util/clock.hpp"

namespace lanetcp::tcp {

// ECN (RFC 3168), as Linux's net.ipv4.tcp_ecn: the values are Linux's.
enum class EcnMode : std::uint8_t {
    off = 0,     // never: a SYN asking for ECN gets a SYN-ACK without ECE
    request = 1, // ask on active opens, accept on passive ones
    accept = 2,  // accept when the peer asks, never ask (Linux's default)
};

struct TcpConfig {
    std::uint32_t max_connections = 16384;   // control blocks per lcore, all states
    std::uint32_t chunk_pool = 262144;       // send-queue chunks per lcore
    std::uint32_t reassembly_segments = 65536; // out-of-order segments held per lcore
    std::uint32_t send_buffer = 256 * 1024;  // bytes queued per connection before send() refuses
    std::uint32_t receive_buffer = 256 * 1024; // receive window; over 64 KB only with window scaling
    // What all connections' data on one lcore may pin, in bytes of truesize
    // (tcp_memory.hpp, Linux's tcp_mem): windows clamp above `pressure`,
    // connections holding data take no more above `limit`. 0: derived from
    // the lcore's mbuf pool (half and three quarters of it) by the stack;
    // unbounded in the bare engine.
    std::uint64_t memory_pressure = 0;
    std::uint64_t memory_limit = 0;
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
    std::uint32_t syncache_entries = 8192;   // half-open connections per lcore, all listeners
    bool syncookies = true;                  // SYN cookies past either bound (net.ipv4.tcp_syncookies = 1)
    bool sack = true;                        // offer and accept SACK (RFC 2018)
    bool window_scale = true;                // offer and accept window scaling (RFC 7323 2)
    bool timestamps = true;                  // offer and accept timestamps (RFC 7323 3)
    EcnMode ecn = EcnMode::accept;           // net.ipv4.tcp_ecn (lib/tcp/ecn.hpp)
    // RFC 5961 7: challenge ACKs per second per lcore, on average; each
    // second's budget is drawn from [limit/2, limit*3/2) (Linux after
    // CVE-2016-5696), so that it cannot be counted off-path.
    std::uint32_t challenge_ack_limit = 1000;
    // ACKs that answer invalid segments (out of window, PAWS, bad ACK) and
    // challenge ACKs: at most one per connection per interval
    // (net.ipv4.tcp_invalid_ratelimit); 0: no limit.
    TimeNs invalid_ratelimit = 500 * kNsPerMs;
    // Orphans: connections the application closed, finishing on their own.
    std::uint32_t orphan_retries = 0;        // net.ipv4.tcp_orphan_retries; 0: 8 while the peer seems alive
    std::uint32_t max_orphans = 8192;        // net.ipv4.tcp_max_orphans, per lcore
    // TCP_USER_TIMEOUT (RFC 5482) for every connection: how long sent data
    // may stay unacknowledged (retransmissions, zero-window probes) and how
    // long keepalive waits for an answer before ETIMEDOUT; 0: off.
    TimeNs user_timeout = 0;
    bool nodelay = false;                    // TCP_NODELAY for every connection
    bool loss_probes = true;                 // tail loss probes (RFC 8985 7), with SACK
    bool frto = true;                        // F-RTO (RFC 5682) after timeouts, with SACK (net.ipv4.tcp_frto)
    // Rows in the lcore's congestion trace (cc_trace.hpp, doc/trace.md),
    // 64 bytes each, allocated at start; 0: no trace.
    std::uint32_t trace_rows = 0;
    // Keepalive (RFC 9293 3.8.4) for every connection; off, as on Linux.
    bool keepalive = false;
    TimeNs keepalive_idle = 7200 * kNsPerSec;    // net.ipv4.tcp_keepalive_time
    TimeNs keepalive_interval = 75 * kNsPerSec;  // net.ipv4.tcp_keepalive_intvl
    std::uint32_t keepalive_count = 9;           // net.ipv4.tcp_keepalive_probes
    // Congestion control for every connection (net.ipv4.tcp_congestion_control;
    // CUBIC, as Linux); listeners, connect() and Connection::set_congestion_control
    // choose per connection. doc/congestion.md.
    cc::Algorithm congestion_control = cc::Algorithm::cubic;
};

// What one connection negotiates and how much it buffers: from TcpConfig
// unless a listener (passive opens) or connect() (active) says otherwise.
struct ConnectionOptions {
    std::uint32_t send_buffer = 256 * 1024;
    std::uint32_t receive_buffer = 256 * 1024;
    bool sack = true;
    bool window_scale = true;
    bool timestamps = true;
    bool nodelay = false;
    bool keepalive = false; // from ESTABLISHED on; Connection::set_keepalive changes it later
    TimeNs keepalive_idle = 7200 * kNsPerSec;
    TimeNs keepalive_interval = 75 * kNsPerSec;
    std::uint32_t keepalive_count = 9;
    TimeNs user_timeout = 0; // TCP_USER_TIMEOUT; Connection::set_user_timeout changes it later
    cc::Algorithm congestion_control = cc::Algorithm::cubic; // Connection::set_congestion_control changes it later
    EcnMode ecn = EcnMode::accept; // whether a SYN asks for ECN, and whether a SYN asking gets it

    static ConnectionOptions from(const TcpConfig& c) noexcept {
        ConnectionOptions o{c.send_buffer, c.receive_buffer, c.sack,           c.window_scale,       c.timestamps,
                            c.nodelay,     c.keepalive,      c.keepalive_idle, c.keepalive_interval, c.keepalive_count,
                            c.user_timeout};
        o.congestion_control = c.congestion_control;
        o.ecn = c.ecn;
        return o;
    }
};

// RFC 7323 2.3: the smallest shift that lets a 16-bit field cover `buffer`.
constexpr std::uint8_t window_scale_for(std::uint32_t buffer) noexcept {
    std::uint8_t shift = 0;
    while (shift < 14 && (65535u << shift) < buffer) ++shift;
    return shift;
}

} // namespace lanetcp::tcp
