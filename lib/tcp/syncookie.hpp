// SYN cookies (RFC 4987 3.6): when a listener's SYN backlog is full, the
// SYN-ACK's ISS itself carries what the handshake needs, so nothing is kept
// for the half-open connection and a SYN flood cannot fill any table. The
// ACK that completes the handshake brings the cookie back (SEG.ACK - 1), and
// a valid one recreates the request.
//
// The scheme is Bernstein's, as Linux's net/ipv4/syncookies.c uses it:
//   ISS = H0(4-tuple, IRS) + (slot << 24 | (H1(4-tuple, IRS, slot) + mss_class) mod 2^24)
// with H0 and H1 keyed hashes (SipHash-2-4, one key per process), `slot` a
// 64-second clock (its low 8 bits ride in the top byte), and mss_class an
// index into a small table of common MSS values (Linux's msstab): the MSS is
// rounded down to one of them. A cookie is valid in the slot it was made in
// and the next one (64 to 128 s), as Linux's MAX_SYNCOOKIE_AGE.
//
// 32 bits carry no more than that. When timestamps are on, the options the
// SYN offered (window scale, SACK permitted, ECN) go in the low 6 bits of our
// TSval instead (Linux's cookie_init_timestamp), and come back in the ACK's
// TSecr (cookie_timestamp_decode). Without timestamps they are lost: the
// connection runs without window scaling and SACK.
//
// Pure: no state but the key, no allocation, no clock of its own.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "tcp/four_tuple.hpp"
#include "util/clock.hpp"
#include "wire/seq.hpp"

namespace lanetcp::tcp {

class SynCookies {
public:
    static constexpr std::size_t kKeyBytes = 16;
    using Key = std::array<std::uint8_t, kKeyBytes>;

    // MSS classes, ascending: what a SYN's MSS is rounded down to. 536 is
    // RFC 9293's default, 1300 common behind tunnels, 1440 PPPoE, 1460 Ethernet.
    static constexpr std::array<std::uint16_t, 4> kMssClasses{536, 1300, 1440, 1460};
    // Length of the cookie clock's tick; a cookie lives for kValidSlots of them.
    static constexpr TimeNs kSlot = 64 * kNsPerSec;
    static constexpr std::uint32_t kValidSlots = 2;

    explicit SynCookies(const Key& key) noexcept : key_(key) {}

    // The MSS class a SYN offering `mss` gets: the largest not above it
    // (the smallest class when `mss` is below all of them).
    static std::uint8_t mss_class(std::uint16_t mss) noexcept;

    // The ISS for a SYN from `t` whose sequence number is `irs`, offering
    // `mss`, at `now`. The MSS the connection will use is
    // kMssClasses[mss_class(mss)].
    wire::SeqNum make(const FourTuple& t, wire::SeqNum irs, std::uint16_t mss, TimeNs now) const noexcept;

    // The MSS a cookie carries, or nothing when the cookie is not ours, for
    // another 4-tuple or IRS, or older than kValidSlots.
    std::optional<std::uint16_t> check(const FourTuple& t, wire::SeqNum irs, wire::SeqNum iss,
                                       TimeNs now) const noexcept;

    // ---- options in the timestamp (RFC 7323 TSval, 1 ms clock) ----
    struct Options {
        bool window_scale = false; // the SYN carried the option
        std::uint8_t send_window_scale = 0; // its shift (0-14)
        bool sack = false;
        bool ecn = false;
    };
    static constexpr unsigned kTsBits = 6; // low TSval bits carrying Options
    // A timestamp clock value, at most `now_ms` and within 2^kTsBits ms of
    // it, whose low bits encode `o`. Our TSval is this plus the connection's
    // offset, so the clock never goes back on the connection.
    static std::uint32_t encode_timestamp(std::uint32_t now_ms, const Options& o) noexcept;
    // The options from an echoed TSval less the connection's offset.
    static Options decode_timestamp(std::uint32_t ts) noexcept;

private:
    std::uint32_t hash(const FourTuple& t, wire::SeqNum irs, std::uint32_t slot, std::uint8_t which) const noexcept;

    Key key_;
};

} // namespace lanetcp::tcp
