// What one lanetcp-perf client run measured, and how it is printed: the
// same for lanetcp-perf, lanetcp-perf-linux and lanetcp-bench.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "perf/histogram.hpp"
#include "perf/protocol.hpp"

namespace lanetcp::perf {

struct ClientOptions {
    Mode mode = Mode::bulk;
    std::uint32_t connections = 1;     // concurrent connections (streams)
    std::uint32_t request_size = 1;    // rr, crr
    std::uint32_t response_size = 1;   // rr, crr
    double seconds = 10;               // when neither bytes nor transactions bound the run
    std::uint64_t bytes = 0;           // bulk: exactly this many payload bytes in all (0: time-bound)
    std::uint64_t transactions = 0;    // rr/crr: exactly this many in all (0: time-bound)
    bool quiet = false;                // no progress lines
};

struct Results {
    std::string stack;                 // "lanetcp" or "linux"
    Mode mode = Mode::bulk;
    std::uint32_t connections = 0;
    std::uint32_t request_size = 0;
    std::uint32_t response_size = 0;
    double seconds = 0;                // from the first connect to the last completion
    std::uint64_t bytes = 0;           // bulk: payload bytes the server confirmed having received
    std::uint64_t bytes_sent = 0;      // bulk: payload bytes the client sent
    std::uint64_t transactions = 0;    // rr, crr: responses received in full
    std::uint64_t connections_opened = 0;
    std::uint64_t errors = 0;          // refused, reset, timed out, short or mismatched counts
    std::uint32_t mss = 0;             // lanetcp: the MSS the first connection used
    std::string congestion_control;    // the client's (its data sender's in bulk), when known
    Histogram latency;                 // rr, crr: per transaction, ns
    bool complete = true;              // every connection ended as the protocol says

    double gbits() const noexcept { return seconds > 0 ? static_cast<double>(bytes) * 8 / seconds / 1e9 : 0; }
    double per_second() const noexcept {
        return seconds > 0 ? static_cast<double>(transactions) / seconds : 0;
    }
    // The headline figure: Gbit/s for bulk, transactions/s for rr, connections/s for crr.
    double figure() const noexcept { return mode == Mode::bulk ? gbits() : per_second(); }
    const char* unit() const noexcept {
        return mode == Mode::bulk ? "Gbit/s" : mode == Mode::rr ? "transactions/s" : "connections/s";
    }
};

std::string format_summary(const Results& r);
nlohmann::json to_json(const Results& r);
// Writes `doc` to `path`; false (with errno set) on failure.
bool write_json(const std::string& path, const nlohmann::json& doc);
// "[  3.0s] 9.41 Gbit/s ..." for one second's worth of progress.
std::string format_progress(Mode mode, double at, double interval, std::uint64_t bytes, std::uint64_t transactions);
// Sizes like 1000, 64K, 100M, 2G.
std::uint64_t parse_size(const std::string& text); // throws std::invalid_argument

} // namespace lanetcp::perf
