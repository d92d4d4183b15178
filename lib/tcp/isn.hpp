// Initial sequence numbers per RFC 6528: ISN = M + F(4-tuple, secret), M a
// 4-microsecond clock and F a keyed hash (SipHash-2-4, as Linux uses), so
// that ISNs are unpredictable off-path and still increase per 4-tuple.
#pragma once

#include <array>
#include <cstdint>

#include "tcp/four_tuple.hpp"
#include "util/clock.hpp"
#include "wire/seq.hpp"

namespace lanetcp::tcp {

// The offset of a connection's TSval clock (RFC 7323 5.4 allows any): any
// fixed per-connection value hides the host's uptime; the ISS is already
// secret and unique, and scrambled it is unrelated to it. A function of the
// ISS alone, so that a SYN cookie's ACK (whose ISS is SEG.ACK - 1) finds it.
constexpr std::uint32_t timestamp_offset(wire::SeqNum iss) noexcept { return iss.raw() * 0x9e3779b1u; }

class IsnGenerator {
public:
    static constexpr std::size_t kKeyBytes = 16;
    using Key = std::array<std::uint8_t, kKeyBytes>;

    // A key from the system's random source (one per process is enough).
    static Key random_key();
    // An independent key for another use of the same secret (SYN cookies,
    // the connection table's hash): a keyed BLAKE2b of `purpose`.
    static Key derive_key(const Key& secret, const char* purpose) noexcept;

    explicit IsnGenerator(const Key& key) noexcept : key_(key) {}
    wire::SeqNum next(const FourTuple& t, TimeNs now) const noexcept;

    // Ephemeral port offset for a destination (RFC 6056 algorithm 3):
    // different peers see unrelated port sequences.
    std::uint32_t port_offset(wire::Ipv4Addr local, wire::Ipv4Addr remote, std::uint16_t remote_port) const noexcept;

private:
    Key key_;
};

} // namespace lanetcp::tcp
