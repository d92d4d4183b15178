// Ethernet and IPv4 addresses as value types, with text conversion for
// configuration and logs.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wire/bytes.hpp"

namespace lanetcp::wire {

struct MacAddr {
    std::array<std::uint8_t, 6> b{};

    static constexpr MacAddr broadcast() noexcept { return MacAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
    static MacAddr load(const std::uint8_t* p) noexcept {
        MacAddr m;
        std::memcpy(m.b.data(), p, 6);
        return m;
    }
    void store(std::uint8_t* p) const noexcept { std::memcpy(p, b.data(), 6); }
    constexpr bool is_broadcast() const noexcept { return *this == broadcast(); }
    constexpr bool is_multicast() const noexcept { return (b[0] & 0x01) != 0; }
    constexpr bool is_zero() const noexcept { return *this == MacAddr{}; }
    constexpr bool operator==(const MacAddr&) const noexcept = default;

    static std::optional<MacAddr> parse(std::string_view text) noexcept;
    std::string to_string() const;
};

// Host byte order inside; converted at the wire boundary by load/store.
struct Ipv4Addr {
    std::uint32_t v = 0;

    static Ipv4Addr load(const std::uint8_t* p) noexcept { return Ipv4Addr{load_be32(p)}; }
    void store(std::uint8_t* p) const noexcept { store_be32(p, v); }
    static constexpr Ipv4Addr any() noexcept { return Ipv4Addr{0}; }
    static constexpr Ipv4Addr limited_broadcast() noexcept { return Ipv4Addr{0xffffffffu}; }
    constexpr bool is_any() const noexcept { return v == 0; }
    constexpr bool is_limited_broadcast() const noexcept { return v == 0xffffffffu; }
    constexpr bool is_multicast() const noexcept { return (v >> 28) == 0xe; }
    constexpr bool is_loopback() const noexcept { return (v >> 24) == 127; }
    constexpr auto operator<=>(const Ipv4Addr&) const noexcept = default;

    static std::optional<Ipv4Addr> parse(std::string_view text) noexcept;
    std::string to_string() const;
};

// An address with its prefix length, as in "10.9.0.2/24".
struct Ipv4Prefix {
    Ipv4Addr addr{};
    std::uint8_t length = 32;

    constexpr std::uint32_t mask() const noexcept {
        // A length over 32 cannot come from parse(); treat it as a host route.
        return length == 0 ? 0u : length >= 32 ? ~std::uint32_t{0} : ~std::uint32_t{0} << (32 - length);
    }
    constexpr bool contains(Ipv4Addr a) const noexcept { return (a.v & mask()) == (addr.v & mask()); }
    constexpr Ipv4Addr subnet_broadcast() const noexcept { return Ipv4Addr{(addr.v & mask()) | ~mask()}; }

    static std::optional<Ipv4Prefix> parse(std::string_view text) noexcept;
    std::string to_string() const;
};

} // namespace lanetcp::wire
