#include "httpd/http_counters.hpp"

#include <fmt/format.h>

namespace lanetcp::httpd {

void HttpCounters::add(const HttpCounters& o) noexcept {
    connections += o.connections;
    requests += o.requests;
    bytes_received += o.bytes_received;
    bytes_sent += o.bytes_sent;
    keepalive_reuses += o.keepalive_reuses;
    closed_by_peer += o.closed_by_peer;
    reset_or_timeout += o.reset_or_timeout;
    lingering_closes += o.lingering_closes;
    idle_timeouts += o.idle_timeouts;
    header_timeouts += o.header_timeouts;
    discarded_bytes += o.discarded_bytes;
    out_of_buffers += o.out_of_buffers;
    aborted += o.aborted;
    for (std::size_t i = 0; i < by_status.size(); ++i) by_status[i] += o.by_status[i];
}

std::uint64_t HttpCounters::responses() const noexcept {
    std::uint64_t n = 0;
    for (std::uint64_t v : by_status) n += v;
    return n;
}

std::string HttpCounters::format() const {
    std::string out = fmt::format(
        "  httpd connections={} requests={} responses={} keepalive_reuses={} bytes_received={} bytes_sent={}\n"
        "  httpd closed_by_peer={} reset_or_timeout={} lingering_closes={} idle_timeouts={} header_timeouts={} "
        "discarded_bytes={} out_of_buffers={} aborted={}\n",
        connections, requests, responses(), keepalive_reuses, bytes_received, bytes_sent, closed_by_peer,
        reset_or_timeout, lingering_closes, idle_timeouts, header_timeouts, discarded_bytes, out_of_buffers, aborted);
    std::string statuses;
    for (std::size_t i = 0; i < by_status.size(); ++i)
        if (by_status[i] != 0) statuses += fmt::format(" status_{}={}", i, by_status[i]);
    out += "  httpd" + (statuses.empty() ? std::string(" status_none=0") : statuses) + "\n";
    return out;
}

} // namespace lanetcp::httpd
