// What lanetcp-httpd counts, per lcore; added up and printed at exit.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace lanetcp::httpd {

struct HttpCounters {
    std::uint64_t connections = 0;       // accepted
    std::uint64_t requests = 0;          // heads parsed (good or bad) and over-long heads
    std::uint64_t bytes_received = 0;    // request bytes taken from TCP
    std::uint64_t bytes_sent = 0;        // response bytes queued to TCP
    std::uint64_t keepalive_reuses = 0;  // requests after the first on a connection
    std::uint64_t closed_by_peer = 0;    // peer's FIN, or RST/timeout (below)
    std::uint64_t reset_or_timeout = 0;  // ended by RST or a TCP timeout
    std::uint64_t lingering_closes = 0;  // FIN after a final response, waited for the peer's
    std::uint64_t idle_timeouts = 0;     // closed after --idle-timeout without traffic
    std::uint64_t header_timeouts = 0;   // 408: no complete request head within --header-timeout
    std::uint64_t discarded_bytes = 0;   // arrived after a final response, or request bodies
    std::uint64_t out_of_buffers = 0;    // a response waited: pool down to its reserve, or no send chunk
    std::uint64_t aborted = 0;           // RST sent: the connection could not send any more (EPIPE)
    std::array<std::uint64_t, 600> by_status{};

    void add(const HttpCounters& o) noexcept;
    std::uint64_t responses() const noexcept;
    // Several lines, each "  httpd <name>=<value> ...".
    std::string format() const;
};

} // namespace lanetcp::httpd
