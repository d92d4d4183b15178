#include "tcp/syncookie.hpp"

#include <cstring>
#include <sodium.h>

namespace lanetcp::tcp {

static_assert(SynCookies::kKeyBytes == crypto_shorthash_KEYBYTES);

namespace {
constexpr unsigned kSlotShift = 24; // the slot's low 8 bits in the top byte
constexpr std::uint32_t kDataMask = (1u << kSlotShift) - 1;
constexpr std::uint32_t kSlotMask = 0xffu;
// Timestamp bits: the peer's window shift (15 = none), SACK, ECN.
constexpr std::uint32_t kTsWscaleMask = 0x0f;
constexpr std::uint32_t kTsNoWscale = 0x0f;
constexpr std::uint32_t kTsSack = 1u << 4;
constexpr std::uint32_t kTsEcn = 1u << 5;
static_assert(SynCookies::kMssClasses.size() <= (1u << kSlotShift));

std::uint32_t slot_of(TimeNs now) noexcept { return static_cast<std::uint32_t>(now / SynCookies::kSlot); }
} // namespace

std::uint32_t SynCookies::hash(const FourTuple& t, wire::SeqNum irs, std::uint32_t slot,
                               std::uint8_t which) const noexcept {
    std::uint8_t msg[21];
    std::memcpy(msg, &t.local_ip.v, 4);
    std::memcpy(msg + 4, &t.remote_ip.v, 4);
    std::memcpy(msg + 8, &t.local_port, 2);
    std::memcpy(msg + 10, &t.remote_port, 2);
    const std::uint32_t seq = irs.raw();
    std::memcpy(msg + 12, &seq, 4);
    std::memcpy(msg + 16, &slot, 4);
    msg[20] = which; // H0 and H1 are unrelated functions
    std::uint8_t out[crypto_shorthash_BYTES];
    crypto_shorthash(out, msg, sizeof msg, key_.data());
    std::uint32_t h;
    std::memcpy(&h, out, 4);
    return h;
}

std::uint8_t SynCookies::mss_class(std::uint16_t mss) noexcept {
    std::uint8_t i = static_cast<std::uint8_t>(kMssClasses.size() - 1);
    while (i > 0 && kMssClasses[i] > mss) --i;
    return i;
}

wire::SeqNum SynCookies::make(const FourTuple& t, wire::SeqNum irs, std::uint16_t mss, TimeNs now) const noexcept {
    const std::uint32_t slot = slot_of(now);
    const std::uint32_t data = (hash(t, irs, slot, 1) + mss_class(mss)) & kDataMask;
    return wire::SeqNum{hash(t, irs, 0, 0) + ((slot & kSlotMask) << kSlotShift) + data};
}

std::optional<std::uint16_t> SynCookies::check(const FourTuple& t, wire::SeqNum irs, wire::SeqNum iss,
                                                TimeNs now) const noexcept {
    const std::uint32_t v = iss.raw() - hash(t, irs, 0, 0);
    const std::uint32_t slot_now = slot_of(now);
    const std::uint32_t age = (slot_now - (v >> kSlotShift)) & kSlotMask;
    if (age >= kValidSlots) return std::nullopt;
    const std::uint32_t cls = (v - hash(t, irs, slot_now - age, 1)) & kDataMask;
    if (cls >= kMssClasses.size()) return std::nullopt;
    return kMssClasses[cls];
}

std::uint32_t SynCookies::encode_timestamp(std::uint32_t now_ms, const Options& o) noexcept {
    std::uint32_t bits = o.window_scale ? (o.send_window_scale & kTsWscaleMask) : kTsNoWscale;
    if (o.sack) bits |= kTsSack;
    if (o.ecn) bits |= kTsEcn;
    const std::uint32_t low = (1u << kTsBits) - 1;
    std::uint32_t ts = (now_ms & ~low) | bits;
    // Never ahead of the clock: the connection's later TSvals must not go back.
    if (static_cast<std::int32_t>(ts - now_ms) > 0) ts -= 1u << kTsBits;
    return ts;
}

SynCookies::Options SynCookies::decode_timestamp(std::uint32_t ts) noexcept {
    Options o;
    const std::uint32_t shift = ts & kTsWscaleMask;
    // RFC 7323 2.3: 14 is the largest shift; a larger one in the SYN was
    // taken as 14 (and 15 means "no option"), so anything above is 14.
    if (shift != kTsNoWscale) {
        o.window_scale = true;
        o.send_window_scale = static_cast<std::uint8_t>(shift > 14 ? 14 : shift);
    }
    o.sack = (ts & kTsSack) != 0;
    o.ecn = (ts & kTsEcn) != 0;
    return o;
}

} // namespace lanetcp::tcp
