// The client's protocol bookkeeping and the end-of-run reports that
// lanetcp-perf (on lanetcp) and lanetcp-perf-linux (on sockets) share. No
// DPDK here: both executables compile it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "perf/histogram.hpp"
#include "perf/options.hpp"
#include "perf/results.hpp"

namespace lanetcp::perf {

// A bulk connection's share of `bytes` payload bytes (0: time-bound, no
// limit): connection i of n.
std::uint64_t bulk_budget(std::uint64_t bytes, std::uint64_t n, std::uint64_t i) noexcept;

// One more rr/crr transaction may begin: not stopping, and `limit` (0: none)
// not reached; counts it in `issued`.
bool claim_transaction(bool stopping, std::uint64_t limit, std::uint64_t& issued) noexcept;

// At the deadline: whether a connection is shut now (bulk always, rr between
// transactions; crr ends on its own).
inline bool shut_at_deadline(Mode mode, bool in_transaction) noexcept {
    return mode == Mode::bulk || (mode == Mode::rr && !in_transaction);
}

// What a client connection knows when the server's FIN comes.
struct FinState {
    bool shut = false;                 // the client sent its FIN
    const std::uint8_t* trailer = nullptr;
    std::uint32_t trailer_got = 0;
    std::uint64_t sent = 0;            // bulk: payload bytes sent
    bool in_transaction = false;
};

// Whether the connection ended as the protocol says; bulk: adds the count
// the server confirmed to `confirmed`.
bool fin_ok(Mode mode, const FinState& s, std::uint64_t& confirmed) noexcept;

// What a server connection's received bytes asked for.
struct ServerFeed {
    std::uint64_t response_bytes = 0; // owed for the requests completed
    std::uint64_t requests = 0;       // completed
    bool close = false;               // crr: close once the response is sent
    bool bad = false;                 // a bad header: drop the connection
};

// Feeds [p, p+len) to a server connection's protocol; stops at a bad header.
ServerFeed feed_server(ServerProtocol& proto, const std::uint8_t* p, std::size_t len) noexcept;

// A client's counters, as both clients keep them.
struct ClientCounts {
    std::uint64_t confirmed = 0, sent = 0, completed = 0, opened = 0, errors = 0;
    std::uint32_t mss = 0;
};

Results client_results(const char* stack, const ClientOptions& o, std::uint32_t connections, double seconds,
                       const ClientCounts& counts, const Histogram& latency, bool complete);

// client_options(), the reason printed on stderr on failure ("NAME: error: ...").
std::optional<ClientOptions> client_options_or_complain(const char* name, const CommonFlags& flags);

// Writes `doc` to `path` unless it is empty; 1 with a line on stderr when it
// cannot, else 0.
int write_json_or_complain(const char* name, const std::string& path, const nlohmann::json& doc);

// The server's one-line summary and its JSON; the exit code.
int report_server(const char* name, const char* stack, std::uint64_t connections, std::uint64_t bytes,
                  std::uint64_t requests, std::uint64_t bad, const std::string& json);

// The client's summary, its JSON, and an error when the run did not
// complete; the exit code.
int report_client(const char* name, const Results& r, const std::string& json);

} // namespace lanetcp::perf
