// Parse outcome shared by every header view. Parsers never throw and never
// read past the span they are given: each length and offset is checked first.
#pragma once

#include <cstdint>
#include <string_view>

namespace lanetcp::wire {

enum class ParseError : std::uint8_t {
    ok = 0,
    truncated,           // buffer shorter than the header (or than a length field says)
    bad_version,         // IPv4 version field is not 4
    bad_header_length,   // IHL < 5 or TCP data offset < 5 (a header past the buffer is `truncated`)
    bad_total_length,    // IPv4 total length < header length or > bytes present
    bad_checksum,
    fragment,            // IPv4 fragment (MF set or offset non-zero): not reassembled
    bad_hardware_type,   // ARP htype/ptype/hlen/plen not Ethernet+IPv4
    bad_opcode,          // ARP opcode not request/reply
    bad_option,          // TCP option with an impossible length
};

constexpr std::string_view to_string(ParseError e) noexcept {
    switch (e) {
    case ParseError::ok: return "ok";
    case ParseError::truncated: return "truncated";
    case ParseError::bad_version: return "bad_version";
    case ParseError::bad_header_length: return "bad_header_length";
    case ParseError::bad_total_length: return "bad_total_length";
    case ParseError::bad_checksum: return "bad_checksum";
    case ParseError::fragment: return "fragment";
    case ParseError::bad_hardware_type: return "bad_hardware_type";
    case ParseError::bad_opcode: return "bad_opcode";
    case ParseError::bad_option: return "bad_option";
    }
    return "unknown";
}

// A view plus the reason it could not be built. `value` is meaningful only
// when `error == ParseError::ok`.
template <class View>
struct Parsed {
    View value{};
    ParseError error = ParseError::ok;
    constexpr explicit operator bool() const noexcept { return error == ParseError::ok; }
    constexpr const View* operator->() const noexcept { return &value; }
};

template <class View>
constexpr Parsed<View> parse_failed(ParseError e) noexcept {
    return Parsed<View>{View{}, e};
}

} // namespace lanetcp::wire
