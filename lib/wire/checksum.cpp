#include "wire/checksum.hpp"

#include <cstring>

namespace lanetcp::wire {

// Sums 32-bit big-endian-agnostic words into a 64-bit accumulator: the one's
// complement sum is byte-order independent (RFC 1071 §2(B)) as long as the
// bytes are summed in native order and the result is swapped once at the end.
std::uint64_t checksum_partial(const void* data, std::size_t len, std::uint64_t initial) noexcept {
    const auto* p = static_cast<const std::uint8_t*>(data);
    std::uint64_t sum = 0;

    // 32 bytes per iteration: eight 32-bit loads into a 64-bit sum cannot
    // overflow for any buffer shorter than 2^32 words.
    while (len >= 32) {
        std::uint32_t w[8];
        std::memcpy(w, p, sizeof w);
        sum += std::uint64_t{w[0]} + w[1] + w[2] + w[3] + w[4] + w[5] + w[6] + w[7];
        p += 32;
        len -= 32;
    }
    while (len >= 4) {
        std::uint32_t w;
        std::memcpy(&w, p, 4);
        sum += w;
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        std::uint16_t w;
        std::memcpy(&w, p, 2);
        sum += w;
        p += 2;
        len -= 2;
    }
    if (len == 1) {
        // A trailing odd byte is the high byte of a zero-padded word on the
        // wire; in native little-endian order it is the low byte.
        std::uint8_t last[2] = {*p, 0};
        std::uint16_t w;
        std::memcpy(&w, last, 2);
        sum += w;
    }

    std::uint16_t folded = checksum_fold(sum);
    if constexpr (std::endian::native == std::endian::little) folded = __builtin_bswap16(folded);
    return initial + folded;
}

} // namespace lanetcp::wire
