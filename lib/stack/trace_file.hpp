// Writes the lcores' congestion traces (tcp/cc_trace.hpp) to one CSV file,
// after they stopped: the `--trace FILE.csv` of every app (doc/trace.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lanetcp {

class Lcore;

struct TraceFileSummary {
    std::uint64_t rows = 0;    // rows written
    std::uint64_t dropped = 0; // rows the rings overwrote before the end
};

// Throws std::runtime_error when the file cannot be written.
TraceFileSummary write_trace_file(const std::string& path, const std::vector<Lcore*>& lcores);

// "lanetcp: trace: N rows to FILE" and, if rows were lost, how many and what to raise.
std::string describe_trace_file(const std::string& path, const TraceFileSummary& s);

} // namespace lanetcp
