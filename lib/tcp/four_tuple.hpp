// The identity of a connection, from this host's point of view.
#pragma once

#include <array>
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

// The hash of a 4-tuple in the connection table and the syncache: SipHash-2-4
// (libsodium's crypto_shorthash) under a key drawn once per process, so that
// a peer cannot compute offline a set of tuples that fall into one bucket and
// turn every lookup into a walk of a long chain (the attack on unkeyed hash
// tables; Linux's inet_ehashfn is keyed for the same reason).
// SipHash-2-4 of the tuple's 12 bytes under a 16-byte key: what the keyed
// table hash and the ISN generator (RFC 6528's F) both compute.
std::uint64_t keyed_tuple_hash(const FourTuple& t, const std::uint8_t* key16) noexcept;

class TupleHasher {
public:
    static constexpr std::size_t kKeyBytes = 16;
    using Key = std::array<std::uint8_t, kKeyBytes>;

    TupleHasher() noexcept = default;
    explicit TupleHasher(const Key& key) noexcept : key_(key) {}
    std::size_t operator()(const FourTuple& t) const noexcept {
        return static_cast<std::size_t>(keyed_tuple_hash(t, key_.data()));
    }

private:
    Key key_{};
};

} // namespace lanetcp::tcp
