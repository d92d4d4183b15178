// A segment-level test script (doc/scripts.md) as the runner sees it: the
// config settings, then events in time order. The parser checks the syntax;
// what the numbers mean (relative sequence numbers, counters) is the runner's.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "util/clock.hpp"

namespace lanetcp::scripts {

// A script or command-line mistake, already phrased as "file:line: what".
struct ScriptError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string where(const std::string& file, int line);

// A number, or `*` (on `>` lines only): anything matches.
struct Value {
    bool any = false;
    std::uint32_t v = 0;
};

struct OptionItem {
    enum class Kind { mss, sack_ok, wscale, ts, sack, nop, eol };
    Kind kind = Kind::nop;
    std::vector<Value> values; // mss, wscale: 1; TS: val, ecr; sack: left, right per block
};

// `FLAGS SEQ:END(LEN) [ack N] win N [<options>]`, numbers relative (see doc).
struct SegmentSpec {
    // The IP header's ECN codepoint (RFC 3168 5), written as packetdrill
    // does before the flags: `[noecn]` (the default), `[ect0]`, `[ect1]`,
    // `[ce]`; `[*]` on `>` lines accepts any.
    std::uint8_t ecn = 0;
    bool any_ecn = false;
    std::uint8_t flags = 0;
    std::uint32_t seq = 0;
    std::uint32_t end = 0;
    std::uint32_t len = 0;
    std::optional<Value> ack; // present exactly when the ACK flag is
    Value win;
    bool any_options = false; // `<...>`
    std::vector<OptionItem> options;
};

struct Event {
    enum class Kind { inbound, outbound, call };
    Kind kind = Kind::call;
    int line = 0;
    std::string text; // as written, for messages
    TimeNs time = 0;  // absolute, from the start of the script
    SegmentSpec seg;
    std::vector<std::string> words; // a call: command and arguments
};

struct Setting {
    int line = 0;
    std::string key;
    std::string value;
};

struct Script {
    std::string file;
    std::vector<Setting> config;
    std::vector<Event> events;
};

// Reads and parses `file`; throws ScriptError.
Script parse_script(const std::string& file);

// The same syntax back, for what the stack actually did.
std::string format_flags(std::uint8_t flags);
std::string format_segment(const SegmentSpec& s);
std::string format_time(TimeNs t); // seconds, "1.040"

} // namespace lanetcp::scripts
