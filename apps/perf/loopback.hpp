// Two lanetcp stacks in one process over the in-memory wire
// (drivers/memwire.hpp): a PerfServer on one, a PerfClient on the other.
// With two EAL lcores the server stack is polled on the second and the
// client stack on the main lcore; with one, both on the main lcore in turn.
#pragma once

#include <cstdint>
#include <string>

#include "impair/spec.hpp"
#include "perf/results.hpp"
#include "tcp/tcp_config.hpp"
#include "util/clock.hpp"

namespace lanetcp::perf {

struct LoopbackConfig {
    // The wire has no MTU of its own: frames as large as this go across
    // whole, and both stacks use an MSS of mtu - 40.
    std::uint16_t mtu = 9000;
    std::uint32_t mbufs = 16383;          // per stack
    TimeNs time_wait = 1 * kNsPerSec;     // shorter than Linux's 60 s: crr leaves one per connection
    std::uint32_t max_connections = 65536;
    std::uint16_t port = 5201;
    double hard_limit_s = 120;            // give up (incomplete) after this long
    // Both directions of the wire (doc/impairment.md); the server-to-client
    // direction's seed is derived from spec.seed. With corruption on, both
    // stacks compute and check TCP checksums, as on a NIC.
    impair::Spec impair{};
    // Both stacks' (from --congestion-control / --config).
    tcp::cc::Algorithm congestion_control = tcp::cc::Algorithm::cubic;
    tcp::EcnMode ecn = tcp::EcnMode::accept;
    // Both stacks' tcp.send_buffer and tcp.receive_buffer; 0: the default.
    std::uint32_t send_buffer = 0;
    std::uint32_t receive_buffer = 0;
    std::uint32_t trace_rows = 0;         // tcp.trace_rows for both stacks
    std::string trace_csv;                // both stacks' congestion traces, written at the end
};

struct LoopbackOutcome {
    Results results;
    unsigned leaked_mbufs = 0;
    std::uint64_t server_bytes = 0;       // everything the server received, headers included
    std::uint64_t server_requests = 0;    // requests it answered
    std::uint64_t server_connections = 0; // connections it accepted
    std::uint64_t server_bad_headers = 0;
    std::string description;              // one line: lcores, MTU, MSS
    std::string impairment;               // what the impaired wire did, both ways ("" if not impaired)
    std::string server_counters;          // the stacks' counters at the end
    std::string client_counters;
    std::string trace_summary;            // what was written to trace_csv
};

// Needs EAL up. Throws std::runtime_error when the stacks cannot be built.
LoopbackOutcome run_loopback(const ClientOptions& options, const LoopbackConfig& config);

} // namespace lanetcp::perf
