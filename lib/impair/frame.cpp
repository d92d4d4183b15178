#include "impair/frame.hpp"

#include <algorithm>

#include "wire/bytes.hpp"
#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"

namespace lanetcp::impair {

namespace {

constexpr std::size_t kL3 = wire::kEthernetHeaderLen;

// Length of the IPv4 header, 0 if the frame does not hold an IPv4 header.
std::size_t ipv4_header(const std::uint8_t* f, std::size_t len) noexcept {
    if (len < kL3 + wire::kIpv4MinHeaderLen || wire::load_be16(f + 12) != wire::ethertype::ipv4) return 0;
    if ((f[kL3] >> 4) != 4) return 0;
    const std::size_t ihl = static_cast<std::size_t>(f[kL3] & 0x0f) * 4;
    if (ihl < wire::kIpv4MinHeaderLen || kL3 + ihl > len) return 0;
    return ihl;
}

} // namespace

bool frame_ect(const std::uint8_t* f, std::size_t len) noexcept {
    if (ipv4_header(f, len) == 0) return false;
    const unsigned ecn = f[kL3 + 1] & 0x03u;
    return ecn == 1 || ecn == 2;
}

bool frame_mark_ce(std::uint8_t* f, std::size_t len) noexcept {
    if (!frame_ect(f, len)) return false;
    std::uint8_t* ip = f + kL3;
    const std::uint16_t old_word = wire::load_be16(ip); // version/IHL and TOS
    ip[1] |= 0x03u;
    const std::uint16_t new_word = wire::load_be16(ip);
    wire::store_be16(ip + 10, wire::checksum_update16(wire::load_be16(ip + 10), old_word, new_word));
    return true;
}

bool frame_corrupt(std::uint8_t* f, std::size_t len, std::uint64_t bits) noexcept {
    const std::size_t ihl = ipv4_header(f, len);
    if (ihl == 0) return false;
    const std::size_t l4 = kL3 + ihl;
    if (l4 >= len) return false;
    std::size_t lo = l4, hi = len;
    if (f[kL3 + 9] == wire::ipproto::tcp && l4 + 13 < len) {
        const std::size_t tcp_header = static_cast<std::size_t>(f[l4 + 12] >> 4) * 4;
        if (tcp_header >= 20 && l4 + tcp_header < len) lo = l4 + tcp_header; // payload
        else hi = std::min(len, l4 + std::max<std::size_t>(tcp_header, 20));
    }
    const std::size_t pos = lo + static_cast<std::size_t>((bits & 0xffffffffu) % (hi - lo));
    const auto mask = static_cast<std::uint8_t>(((bits >> 32) % 255) + 1);
    f[pos] ^= mask;
    return true;
}

} // namespace lanetcp::impair
