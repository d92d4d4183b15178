// ARP for IPv4 over Ethernet (RFC 826). Anything else (other hardware or
// protocol types, other address lengths) is rejected at parse time.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wire/addr.hpp"
#include "wire/bytes.hpp"
#include "wire/result.hpp"

namespace lanetcp::wire {

inline constexpr std::size_t kArpLen = 28;

enum class ArpOp : std::uint16_t { request = 1, reply = 2 };

struct ArpFields {
    ArpOp op = ArpOp::request;
    MacAddr sender_mac{};
    Ipv4Addr sender_ip{};
    MacAddr target_mac{};
    Ipv4Addr target_ip{};
};

class ArpView {
public:
    static Parsed<ArpView> parse(bytes b) noexcept {
        if (b.size() < kArpLen) return parse_failed<ArpView>(ParseError::truncated);
        const std::uint8_t* p = b.data();
        if (load_be16(p) != 1 || load_be16(p + 2) != 0x0800 || p[4] != 6 || p[5] != 4)
            return parse_failed<ArpView>(ParseError::bad_hardware_type);
        std::uint16_t op = load_be16(p + 6);
        if (op != 1 && op != 2) return parse_failed<ArpView>(ParseError::bad_opcode);
        return {ArpView{p}, ParseError::ok};
    }

    ArpView() = default;
    ArpOp op() const noexcept { return static_cast<ArpOp>(load_be16(p_ + 6)); }
    MacAddr sender_mac() const noexcept { return MacAddr::load(p_ + 8); }
    Ipv4Addr sender_ip() const noexcept { return Ipv4Addr::load(p_ + 14); }
    MacAddr target_mac() const noexcept { return MacAddr::load(p_ + 18); }
    Ipv4Addr target_ip() const noexcept { return Ipv4Addr::load(p_ + 24); }
    ArpFields fields() const noexcept { return {op(), sender_mac(), sender_ip(), target_mac(), target_ip()}; }

private:
    explicit ArpView(const std::uint8_t* p) noexcept : p_(p) {}
    const std::uint8_t* p_ = nullptr;
};

// Writes kArpLen bytes.
inline void emit_arp(std::uint8_t* p, const ArpFields& f) noexcept {
    store_be16(p, 1);
    store_be16(p + 2, 0x0800);
    p[4] = 6;
    p[5] = 4;
    store_be16(p + 6, static_cast<std::uint16_t>(f.op));
    f.sender_mac.store(p + 8);
    f.sender_ip.store(p + 14);
    f.target_mac.store(p + 18);
    f.target_ip.store(p + 24);
}

} // namespace lanetcp::wire
