// ICMPv4 (RFC 792): the header every message shares, and echo's id/sequence.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wire/bytes.hpp"
#include "wire/checksum.hpp"
#include "wire/result.hpp"

namespace lanetcp::wire {

inline constexpr std::size_t kIcmpHeaderLen = 8;

namespace icmptype {
inline constexpr std::uint8_t echo_reply = 0;
inline constexpr std::uint8_t dest_unreachable = 3;
inline constexpr std::uint8_t echo_request = 8;
inline constexpr std::uint8_t time_exceeded = 11;
} // namespace icmptype

class IcmpView {
public:
    enum class Checksum : bool { skip, verify };

    // `message` is the whole ICMP message (the IPv4 payload): the checksum
    // covers all of it.
    static Parsed<IcmpView> parse(bytes message, Checksum check = Checksum::verify) noexcept {
        if (message.size() < kIcmpHeaderLen) return parse_failed<IcmpView>(ParseError::truncated);
        if (check == Checksum::verify && internet_checksum(message) != 0)
            return parse_failed<IcmpView>(ParseError::bad_checksum);
        return {IcmpView{message}, ParseError::ok};
    }

    IcmpView() = default;
    std::uint8_t type() const noexcept { return p_[0]; }
    std::uint8_t code() const noexcept { return p_[1]; }
    std::uint16_t checksum() const noexcept { return load_be16(p_ + 2); }
    std::uint16_t echo_id() const noexcept { return load_be16(p_ + 4); }
    std::uint16_t echo_sequence() const noexcept { return load_be16(p_ + 6); }
    bytes body() const noexcept { return {p_ + kIcmpHeaderLen, len_ - kIcmpHeaderLen}; }
    std::size_t length() const noexcept { return len_; }

private:
    explicit IcmpView(bytes b) noexcept : p_(b.data()), len_(b.size()) {}
    const std::uint8_t* p_ = nullptr;
    std::size_t len_ = 0;
};

// Turns an echo request at `p` into the matching reply in place: only the type
// changes, so the checksum is updated incrementally (RFC 1624) instead of
// summing the payload again.
inline void echo_request_to_reply(std::uint8_t* p) noexcept {
    std::uint16_t old_word = load_be16(p);
    p[0] = icmptype::echo_reply;
    std::uint16_t new_word = load_be16(p);
    store_be16(p + 2, checksum_update16(load_be16(p + 2), old_word, new_word));
}

} // namespace lanetcp::wire
