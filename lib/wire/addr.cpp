#include "wire/addr.hpp"

#include <charconv>
#include <cstdio>

namespace lanetcp::wire {

namespace {

// Parses a decimal number of at most `max` with no sign, no leading garbage,
// and consumes exactly the digits.
bool take_decimal(std::string_view& s, unsigned max, unsigned& out) noexcept {
    if (s.empty() || s.front() < '0' || s.front() > '9') return false;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec != std::errc{} || out > max) return false;
    s.remove_prefix(static_cast<std::size_t>(ptr - s.data()));
    return true;
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

} // namespace

std::optional<MacAddr> MacAddr::parse(std::string_view text) noexcept {
    // Exactly "xx:xx:xx:xx:xx:xx" (or with '-'), two hex digits per byte.
    if (text.size() != 17) return std::nullopt;
    MacAddr m;
    for (std::size_t i = 0; i < 6; ++i) {
        int hi = hex_value(text[i * 3]);
        int lo = hex_value(text[i * 3 + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        if (i < 5 && text[i * 3 + 2] != ':' && text[i * 3 + 2] != '-') return std::nullopt;
        m.b[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return m;
}

std::string MacAddr::to_string() const {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
    return buf;
}

std::optional<Ipv4Addr> Ipv4Addr::parse(std::string_view text) noexcept {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
        unsigned octet = 0;
        // Reject leading zeros ("010") so that nobody mistakes octal for decimal.
        if (text.size() > 1 && text[0] == '0' && text[1] >= '0' && text[1] <= '9') return std::nullopt;
        if (!take_decimal(text, 255, octet)) return std::nullopt;
        v = v << 8 | octet;
        if (i < 3) {
            if (text.empty() || text.front() != '.') return std::nullopt;
            text.remove_prefix(1);
        }
    }
    if (!text.empty()) return std::nullopt;
    return Ipv4Addr{v};
}

std::string Ipv4Addr::to_string() const {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
    return buf;
}

std::optional<Ipv4Prefix> Ipv4Prefix::parse(std::string_view text) noexcept {
    auto slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto addr = Ipv4Addr::parse(text.substr(0, slash));
    if (!addr) return std::nullopt;
    std::string_view len_text = text.substr(slash + 1);
    unsigned len = 0;
    if (!take_decimal(len_text, 32, len) || !len_text.empty()) return std::nullopt;
    return Ipv4Prefix{*addr, static_cast<std::uint8_t>(len)};
}

std::string Ipv4Prefix::to_string() const {
    return addr.to_string() + "/" + std::to_string(length);
}

} // namespace lanetcp::wire
