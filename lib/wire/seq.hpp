// TCP sequence numbers (RFC 9293 3.4). The sequence space wraps at 2^32, so
// order is only defined between numbers less than 2^31 apart: serial-number
// arithmetic as in RFC 1982, and the same rule as Linux's before()/after().
#pragma once

#include <cstdint>

namespace lanetcp::wire {

// A point in sequence space. There are deliberately no <, <=, >, >=
// operators: the order is not transitive over the whole space, and a
// built-in-looking operator invites std::sort, std::map and plain integer
// habits that break at the wrap. Use seq_lt() and friends.
class SeqNum {
public:
    constexpr SeqNum() noexcept = default;
    constexpr explicit SeqNum(std::uint32_t raw) noexcept : v_(raw) {}

    constexpr std::uint32_t raw() const noexcept { return v_; }

    // Offsets are plain counts of octets (SYN and FIN count one each).
    constexpr SeqNum operator+(std::uint32_t n) const noexcept { return SeqNum{v_ + n}; }
    constexpr SeqNum operator-(std::uint32_t n) const noexcept { return SeqNum{v_ - n}; }
    constexpr SeqNum& operator+=(std::uint32_t n) noexcept {
        v_ += n;
        return *this;
    }
    constexpr SeqNum& operator-=(std::uint32_t n) noexcept {
        v_ -= n;
        return *this;
    }
    constexpr bool operator==(const SeqNum&) const noexcept = default;

private:
    std::uint32_t v_ = 0;
};

// Signed distance from `b` to `a`: positive when `a` is after `b`. Exactly
// 2^31 apart gives INT32_MIN in both directions (RFC 1982 3.2 leaves that
// pair undefined); callers never keep windows that wide.
constexpr std::int32_t seq_diff(SeqNum a, SeqNum b) noexcept {
    // Conversion to a signed type is modular since C++20.
    return static_cast<std::int32_t>(a.raw() - b.raw());
}

constexpr bool seq_lt(SeqNum a, SeqNum b) noexcept { return seq_diff(a, b) < 0; }
constexpr bool seq_leq(SeqNum a, SeqNum b) noexcept { return seq_diff(a, b) <= 0; }
constexpr bool seq_gt(SeqNum a, SeqNum b) noexcept { return seq_diff(a, b) > 0; }
constexpr bool seq_geq(SeqNum a, SeqNum b) noexcept { return seq_diff(a, b) >= 0; }

constexpr SeqNum seq_max(SeqNum a, SeqNum b) noexcept { return seq_lt(a, b) ? b : a; }
constexpr SeqNum seq_min(SeqNum a, SeqNum b) noexcept { return seq_lt(a, b) ? a : b; }

// start <= seq < start + len, modulo 2^32: the shape of the RFC 9293 3.10.7.4
// acceptability test (RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND). An empty window
// contains nothing. Unsigned subtraction makes this exact for any len, with
// no 2^31 ambiguity.
constexpr bool seq_in_window(SeqNum seq, SeqNum start, std::uint32_t len) noexcept {
    return seq.raw() - start.raw() < len;
}

// lo <= seq <= hi, modulo 2^32, as Linux's between(): the form of the ACK
// test SND.UNA < SEG.ACK =< SND.NXT once shifted by one (RFC 9293 3.10.7.4).
// `hi` is taken to be at or after `lo`.
constexpr bool seq_between(SeqNum seq, SeqNum lo, SeqNum hi) noexcept {
    return seq.raw() - lo.raw() <= hi.raw() - lo.raw();
}

} // namespace lanetcp::wire
