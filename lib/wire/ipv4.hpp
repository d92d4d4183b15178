// IPv4 header view (RFC 791). Options are skipped, not interpreted; fragments
// are reported as ParseError::fragment because the stack does not reassemble.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wire/addr.hpp"
#include "wire/bytes.hpp"
#include "wire/checksum.hpp"
#include "wire/result.hpp"

namespace lanetcp::wire {

inline constexpr std::size_t kIpv4MinHeaderLen = 20;
inline constexpr std::size_t kIpv4MaxHeaderLen = 60;

namespace ipproto {
inline constexpr std::uint8_t icmp = 1;
inline constexpr std::uint8_t tcp = 6;
inline constexpr std::uint8_t udp = 17;
} // namespace ipproto

// The ECN field, the low two bits of the old TOS byte (RFC 3168 5).
namespace ecn {
inline constexpr std::uint8_t not_ect = 0; // the sender does not do ECN
inline constexpr std::uint8_t ect1 = 1;    // ECN-Capable Transport (1)
inline constexpr std::uint8_t ect0 = 2;    // ECN-Capable Transport (0): what TCP sends (RFC 3168 6.1.2)
inline constexpr std::uint8_t ce = 3;      // Congestion Experienced: set by a router instead of a drop
inline constexpr std::uint8_t mask = 3;
} // namespace ecn

class Ipv4View {
public:
    enum class Checksum : bool { skip, verify };

    // `packet` is everything after the link header; it may be longer than the
    // datagram (Ethernet padding), never shorter.
    static Parsed<Ipv4View> parse(bytes packet, Checksum check = Checksum::verify) noexcept {
        if (packet.size() < kIpv4MinHeaderLen) return parse_failed<Ipv4View>(ParseError::truncated);
        const std::uint8_t* p = packet.data();
        if ((p[0] >> 4) != 4) return parse_failed<Ipv4View>(ParseError::bad_version);
        std::size_t ihl = std::size_t{p[0] & 0x0fu} * 4;
        if (ihl < kIpv4MinHeaderLen) return parse_failed<Ipv4View>(ParseError::bad_header_length);
        if (ihl > packet.size()) return parse_failed<Ipv4View>(ParseError::truncated);
        std::size_t total = load_be16(p + 2);
        if (total < ihl || total > packet.size()) return parse_failed<Ipv4View>(ParseError::bad_total_length);
        if (check == Checksum::verify && internet_checksum(p, ihl) != 0)
            return parse_failed<Ipv4View>(ParseError::bad_checksum);
        Ipv4View v{p, ihl, total};
        if (v.more_fragments() || v.fragment_offset() != 0) return {v, ParseError::fragment};
        return {v, ParseError::ok};
    }

    Ipv4View() = default;
    std::size_t header_length() const noexcept { return ihl_; }
    std::size_t total_length() const noexcept { return total_; }
    std::uint8_t tos() const noexcept { return p_[1]; }
    std::uint8_t ecn() const noexcept { return p_[1] & ecn::mask; }
    std::uint16_t id() const noexcept { return load_be16(p_ + 4); }
    bool dont_fragment() const noexcept { return (p_[6] & 0x40u) != 0; }
    bool more_fragments() const noexcept { return (p_[6] & 0x20u) != 0; }
    std::uint16_t fragment_offset() const noexcept { return load_be16(p_ + 6) & 0x1fffu; }
    std::uint8_t ttl() const noexcept { return p_[8]; }
    std::uint8_t protocol() const noexcept { return p_[9]; }
    std::uint16_t checksum() const noexcept { return load_be16(p_ + 10); }
    Ipv4Addr src() const noexcept { return Ipv4Addr::load(p_ + 12); }
    Ipv4Addr dst() const noexcept { return Ipv4Addr::load(p_ + 16); }
    bytes options() const noexcept { return {p_ + kIpv4MinHeaderLen, ihl_ - kIpv4MinHeaderLen}; }
    bytes payload() const noexcept { return {p_ + ihl_, total_ - ihl_}; }

private:
    Ipv4View(const std::uint8_t* p, std::size_t ihl, std::size_t total) noexcept : p_(p), ihl_(ihl), total_(total) {}
    const std::uint8_t* p_ = nullptr;
    std::size_t ihl_ = 0;
    std::size_t total_ = 0;
};

struct Ipv4Fields {
    Ipv4Addr src{};
    Ipv4Addr dst{};
    std::uint8_t protocol = 0;
    std::uint8_t ttl = 64;
    std::uint8_t tos = 0;
    std::uint16_t id = 0;
    bool dont_fragment = true;
    std::uint16_t payload_length = 0;
};

// Writes a 20-byte header. With Checksum::skip the checksum field is left 0
// for a NIC that computes it.
inline void emit_ipv4(std::uint8_t* p, const Ipv4Fields& f,
                      Ipv4View::Checksum fill = Ipv4View::Checksum::verify) noexcept {
    p[0] = 0x45;
    p[1] = f.tos;
    store_be16(p + 2, static_cast<std::uint16_t>(kIpv4MinHeaderLen + f.payload_length));
    store_be16(p + 4, f.id);
    store_be16(p + 6, f.dont_fragment ? 0x4000 : 0);
    p[8] = f.ttl;
    p[9] = f.protocol;
    store_be16(p + 10, 0);
    f.src.store(p + 12);
    f.dst.store(p + 16);
    if (fill == Ipv4View::Checksum::verify) store_be16(p + 10, internet_checksum(p, kIpv4MinHeaderLen));
}

} // namespace lanetcp::wire
