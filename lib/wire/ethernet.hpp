// Ethernet II header view (IEEE 802.3 framing without FCS, as PMDs deliver it).
#pragma once

#include <cstddef>
#include <cstdint>

#include "wire/addr.hpp"
#include "wire/bytes.hpp"
#include "wire/result.hpp"

namespace lanetcp::wire {

inline constexpr std::size_t kEthernetHeaderLen = 14;
inline constexpr std::size_t kEthernetMinFrameLen = 60; // without FCS

namespace ethertype {
inline constexpr std::uint16_t ipv4 = 0x0800;
inline constexpr std::uint16_t arp = 0x0806;
inline constexpr std::uint16_t vlan = 0x8100;
inline constexpr std::uint16_t ipv6 = 0x86dd;
inline constexpr std::uint16_t qinq = 0x88a8;
} // namespace ethertype

class EthernetView {
public:
    static Parsed<EthernetView> parse(bytes frame) noexcept {
        if (frame.size() < kEthernetHeaderLen) return parse_failed<EthernetView>(ParseError::truncated);
        return {EthernetView{frame}, ParseError::ok};
    }

    EthernetView() = default;
    MacAddr dst() const noexcept { return MacAddr::load(p_); }
    MacAddr src() const noexcept { return MacAddr::load(p_ + 6); }
    std::uint16_t ethertype() const noexcept { return load_be16(p_ + 12); }
    bytes payload() const noexcept { return {p_ + kEthernetHeaderLen, len_ - kEthernetHeaderLen}; }

private:
    explicit EthernetView(bytes b) noexcept : p_(b.data()), len_(b.size()) {}
    const std::uint8_t* p_ = nullptr;
    std::size_t len_ = 0;
};

inline void emit_ethernet(std::uint8_t* p, MacAddr dst, MacAddr src, std::uint16_t type) noexcept {
    dst.store(p);
    src.store(p + 6);
    store_be16(p + 12, type);
}

} // namespace lanetcp::wire
