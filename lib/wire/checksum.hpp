// The Internet checksum (RFC 1071) with incremental update (RFC 1624) and the
// TCP/UDP pseudo-header. Partial sums are kept in 64 bits and folded once.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wire/addr.hpp"
#include "wire/bytes.hpp"

namespace lanetcp::wire {

// One's-complement sum of `len` bytes, added to `initial`. The result is an
// unfolded partial sum: chain calls over several pieces of one datagram, as
// long as every piece but the last has even length.
std::uint64_t checksum_partial(const void* data, std::size_t len, std::uint64_t initial = 0) noexcept;

// Folds a partial sum to 16 bits, without the final complement.
constexpr std::uint16_t checksum_fold(std::uint64_t sum) noexcept {
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

// The checksum field value for `data` (complemented, in host order: store it
// with store_be16). A buffer whose embedded checksum is right gives 0 here.
inline std::uint16_t internet_checksum(const void* data, std::size_t len) noexcept {
    return static_cast<std::uint16_t>(~checksum_fold(checksum_partial(data, len)));
}

inline std::uint16_t internet_checksum(bytes b) noexcept { return internet_checksum(b.data(), b.size()); }

// Partial sum of the IPv4 pseudo-header (RFC 9293 3.1): source, destination,
// protocol and the upper-layer length.
constexpr std::uint64_t pseudo_header_sum(Ipv4Addr src, Ipv4Addr dst, std::uint8_t protocol,
                                          std::uint16_t l4_length) noexcept {
    return std::uint64_t{src.v >> 16} + (src.v & 0xffffu) + (dst.v >> 16) + (dst.v & 0xffffu) + protocol +
           l4_length;
}

// RFC 1624 eqn. 3: new checksum after one 16-bit word changes from `old_word`
// to `new_word`, without summing the whole buffer again.
constexpr std::uint16_t checksum_update16(std::uint16_t checksum, std::uint16_t old_word,
                                          std::uint16_t new_word) noexcept {
    std::uint32_t sum = static_cast<std::uint16_t>(~checksum);
    sum += static_cast<std::uint16_t>(~old_word);
    sum += new_word;
    return static_cast<std::uint16_t>(~checksum_fold(sum));
}

} // namespace lanetcp::wire
