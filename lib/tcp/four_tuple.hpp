// The identity of a connection, from this host's point of view.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wire/addr.hpp"

namespace lanetcp::tcp {

struct FourTuple {
    wire::Ipv4Addr local_ip{};
    wire::Ipv4Addr remote_ip{};
    std::uint16_t local_port = 0;
    std::uint16_t remote_port = 0;

    constexpr bool operator==(const FourTuple&) const noexcept = default;
};

inline std::size_t hash_value(const FourTuple& t) noexcept {
    // One multiply-xorshift round over the packed tuple: cheap and spreads
    // ports and low address bits (what varies on a busy server) over the table.
    std::uint64_t x = (std::uint64_t{t.remote_ip.v} << 32 | t.local_ip.v) ^
                      (std::uint64_t{t.remote_port} << 16 | t.local_port) * 0x9e3779b97f4a7c15ull;
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 32;
    return static_cast<std::size_t>(x);
}

} // namespace lanetcp::tcp
