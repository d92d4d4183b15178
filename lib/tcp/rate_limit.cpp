#include "tcp/rate_limit.hpp"

#include "tcp/connection.hpp"
#include "tcp/tcp_layer.hpp"

#include <cstring>
#include <sodium.h>

namespace lanetcp::tcp {

static_assert(IsnGenerator::kKeyBytes == crypto_shorthash_KEYBYTES);

std::uint32_t ChallengeAckBudget::draw(std::uint64_t second, std::uint32_t limit) const noexcept {
    // 16 bytes: a length no other use of the key hashes (the ISN's and the
    // port offset's messages are 12 and 10 bytes), so no output is shared.
    std::uint8_t msg[16] = {'c', 'h', 'a', 'l', 'l', 'e', 'n', 'g'};
    std::memcpy(msg + 8, &second, 8);
    std::uint8_t out[crypto_shorthash_BYTES];
    crypto_shorthash(out, msg, sizeof msg, key_.data());
    std::uint64_t r;
    std::memcpy(&r, out, 8);
    // Linux: get_random_u32_inclusive(half, limit + half - 1).
    const std::uint64_t half = (static_cast<std::uint64_t>(limit) + 1) / 2;
    return static_cast<std::uint32_t>(half + (limit > 0 ? r % limit : 0));
}

bool ChallengeAckBudget::take(TimeNs now, std::uint32_t limit) noexcept {
    const std::uint64_t second = now / kNsPerSec;
    if (!started_ || second != second_) {
        started_ = true;
        second_ = second;
        left_ = draw(second, limit);
    }
    if (left_ == 0) return false;
    --left_;
    return true;
}

bool Connection::answer_invalid(const InSegment& seg, TimeNs now, Counter& skipped) noexcept {
    // Linux's tcp_oow_rate_limited: a segment that carries data (and no SYN)
    // is always answered; it is no part of an ACK loop, and its answer may
    // carry a D-SACK. Pure ACKs, SYNs and RSTs are answered once per
    // interval per connection.
    if (seg.length() > 0 && !seg.flags.syn()) return true;
    if (invalid_acks_.allow(now, layer_->config().invalid_ratelimit)) return true;
    skipped.add();
    return false;
}

} // namespace lanetcp::tcp
