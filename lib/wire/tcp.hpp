// TCP header view and emission (RFC 9293 3.1). Options are handed out as raw
// bytes; wire/tcp_options.hpp interprets them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wire/addr.hpp"
#include "wire/bytes.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"
#include "wire/result.hpp"
#include "wire/seq.hpp"

namespace lanetcp::wire {

inline constexpr std::size_t kTcpMinHeaderLen = 20;
inline constexpr std::size_t kTcpMaxHeaderLen = 60; // data offset is 4 bits of 32-bit words
inline constexpr std::size_t kTcpMaxOptionsLen = kTcpMaxHeaderLen - kTcpMinHeaderLen;

// The eight control bits of header byte 13 (RFC 9293 3.1; ECE and CWR from
// RFC 3168 23.2). The reserved bits and AE in byte 12 are not exposed:
// nothing here negotiates accurate ECN, and a receiver must ignore them.
struct TcpFlags {
    std::uint8_t bits = 0;

    constexpr bool fin() const noexcept { return (bits & 0x01u) != 0; }
    constexpr bool syn() const noexcept { return (bits & 0x02u) != 0; }
    constexpr bool rst() const noexcept { return (bits & 0x04u) != 0; }
    constexpr bool psh() const noexcept { return (bits & 0x08u) != 0; }
    constexpr bool ack() const noexcept { return (bits & 0x10u) != 0; }
    constexpr bool urg() const noexcept { return (bits & 0x20u) != 0; }
    constexpr bool ece() const noexcept { return (bits & 0x40u) != 0; }
    constexpr bool cwr() const noexcept { return (bits & 0x80u) != 0; }

    // Every flag of `f` is set.
    constexpr bool has(TcpFlags f) const noexcept { return (bits & f.bits) == f.bits; }
    // At least one flag of `f` is set.
    constexpr bool any_of(TcpFlags f) const noexcept { return (bits & f.bits) != 0; }

    friend constexpr TcpFlags operator|(TcpFlags a, TcpFlags b) noexcept {
        return TcpFlags{static_cast<std::uint8_t>(a.bits | b.bits)};
    }
    friend constexpr TcpFlags operator&(TcpFlags a, TcpFlags b) noexcept {
        return TcpFlags{static_cast<std::uint8_t>(a.bits & b.bits)};
    }
    constexpr bool operator==(const TcpFlags&) const noexcept = default;
};

namespace tcpflag {
inline constexpr TcpFlags fin{0x01};
inline constexpr TcpFlags syn{0x02};
inline constexpr TcpFlags rst{0x04};
inline constexpr TcpFlags psh{0x08};
inline constexpr TcpFlags ack{0x10};
inline constexpr TcpFlags urg{0x20};
inline constexpr TcpFlags ece{0x40};
inline constexpr TcpFlags cwr{0x80};
} // namespace tcpflag

class TcpView {
public:
    // `segment` is the whole segment, header and data: exactly the IPv4
    // payload, because the segment length comes only from the IP header. A
    // data offset past its end is therefore a malformed header
    // (bad_header_length), not a short capture. The checksum is not checked
    // here because it needs the IP addresses: see tcp_checksum_ok().
    static Parsed<TcpView> parse(bytes segment) noexcept {
        if (segment.size() < kTcpMinHeaderLen) return parse_failed<TcpView>(ParseError::truncated);
        const std::uint8_t* p = segment.data();
        std::size_t header_len = (std::size_t{p[12]} >> 4) * 4;
        if (header_len < kTcpMinHeaderLen || header_len > segment.size())
            return parse_failed<TcpView>(ParseError::bad_header_length);
        return {TcpView{p, header_len, segment.size()}, ParseError::ok};
    }

    TcpView() = default;
    std::uint16_t src_port() const noexcept { return load_be16(p_); }
    std::uint16_t dst_port() const noexcept { return load_be16(p_ + 2); }
    SeqNum seq() const noexcept { return SeqNum{load_be32(p_ + 4)}; }
    SeqNum ack() const noexcept { return SeqNum{load_be32(p_ + 8)}; }
    std::size_t header_length() const noexcept { return header_len_; }
    TcpFlags flags() const noexcept { return TcpFlags{p_[13]}; }
    std::uint16_t window() const noexcept { return load_be16(p_ + 14); }
    std::uint16_t checksum() const noexcept { return load_be16(p_ + 16); }
    std::uint16_t urgent_pointer() const noexcept { return load_be16(p_ + 18); }
    bytes options() const noexcept { return {p_ + kTcpMinHeaderLen, header_len_ - kTcpMinHeaderLen}; }
    bytes payload() const noexcept { return {p_ + header_len_, len_ - header_len_}; }

    // SEG.LEN of RFC 9293 3.3.1: the sequence space the segment occupies,
    // data plus one for each of SYN and FIN.
    std::uint32_t sequence_length() const noexcept {
        return static_cast<std::uint32_t>(len_ - header_len_) + (flags().syn() ? 1u : 0u) +
               (flags().fin() ? 1u : 0u);
    }

private:
    TcpView(const std::uint8_t* p, std::size_t header_len, std::size_t len) noexcept
        : p_(p), header_len_(header_len), len_(len) {}
    const std::uint8_t* p_ = nullptr;
    std::size_t header_len_ = 0;
    std::size_t len_ = 0;
};

// Partial sum of the pseudo-header for a segment of `segment_length` bytes.
inline std::uint64_t tcp_pseudo_header_sum(Ipv4Addr src, Ipv4Addr dst, std::uint16_t segment_length) noexcept {
    return pseudo_header_sum(src, dst, ipproto::tcp, segment_length);
}

// The checksum over pseudo-header and segment as it stands (RFC 9293 3.1),
// complemented and in host order. With the checksum field zeroed this is the
// value to store; with a correct checksum in place it is 0.
inline std::uint16_t tcp_checksum(Ipv4Addr src, Ipv4Addr dst, bytes segment) noexcept {
    auto length = static_cast<std::uint16_t>(segment.size());
    return static_cast<std::uint16_t>(
        ~checksum_fold(checksum_partial(segment.data(), segment.size(), tcp_pseudo_header_sum(src, dst, length))));
}

// A segment cannot be longer than an IPv4 datagram allows; one that claims to
// be is rejected rather than checked with a truncated length.
inline bool tcp_checksum_ok(Ipv4Addr src, Ipv4Addr dst, bytes segment) noexcept {
    return segment.size() >= kTcpMinHeaderLen && segment.size() <= 0xffffu - kIpv4MinHeaderLen &&
           tcp_checksum(src, dst, segment) == 0;
}

// Computes and stores the checksum of a complete segment (header, options
// and data in place).
inline void fill_tcp_checksum(Ipv4Addr src, Ipv4Addr dst, mutable_bytes segment) noexcept {
    store_be16(segment.data() + 16, 0);
    store_be16(segment.data() + 16, tcp_checksum(src, dst, segment));
}

// What a NIC doing TCP checksum offload expects in the checksum field: the
// folded pseudo-header sum, not complemented (DPDK's rte_ipv4_phdr_cksum).
inline std::uint16_t tcp_offload_checksum_seed(Ipv4Addr src, Ipv4Addr dst, std::uint16_t segment_length) noexcept {
    return checksum_fold(tcp_pseudo_header_sum(src, dst, segment_length));
}

struct TcpFields {
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
    SeqNum seq{};
    SeqNum ack{};
    TcpFlags flags{};
    std::uint16_t window = 0;
    std::uint16_t urgent_pointer = 0;
    // Bytes of options that follow the fixed header: a multiple of 4, at
    // most kTcpMaxOptionsLen (emit_tcp_options() always returns such a count).
    std::uint8_t options_length = 0;
};

// Writes the 20-byte fixed header with a data offset that covers
// `f.options_length`; the options themselves go at p + kTcpMinHeaderLen.
// The checksum field is left 0: fill_tcp_checksum() once the data is in
// place, or tcp_offload_checksum_seed() for the NIC. Returns the header
// length, i.e. where the data starts.
inline std::size_t emit_tcp(std::uint8_t* p, const TcpFields& f) noexcept {
    std::size_t header_len = kTcpMinHeaderLen + f.options_length;
    store_be16(p, f.src_port);
    store_be16(p + 2, f.dst_port);
    store_be32(p + 4, f.seq.raw());
    store_be32(p + 8, f.ack.raw());
    p[12] = static_cast<std::uint8_t>((header_len / 4) << 4);
    p[13] = f.flags.bits;
    store_be16(p + 14, f.window);
    store_be16(p + 16, 0);
    store_be16(p + 18, f.urgent_pointer);
    return header_len;
}

} // namespace lanetcp::wire
