#include "tcp/isn.hpp"

#include <cstring>
#include <sodium.h>
#include <stdexcept>

namespace lanetcp::tcp {

static_assert(IsnGenerator::kKeyBytes == crypto_shorthash_KEYBYTES);

IsnGenerator::Key IsnGenerator::random_key() {
    if (sodium_init() < 0) throw std::runtime_error("libsodium initialisation failed");
    Key k;
    randombytes_buf(k.data(), k.size());
    return k;
}

IsnGenerator::Key IsnGenerator::derive_key(const Key& secret, const char* purpose) noexcept {
    Key k;
    crypto_generichash(k.data(), k.size(), reinterpret_cast<const unsigned char*>(purpose), std::strlen(purpose),
                       secret.data(), secret.size());
    return k;
}

wire::SeqNum IsnGenerator::next(const FourTuple& t, TimeNs now) const noexcept {
    // The low 32 bits of the keyed hash (its first four bytes, little-endian).
    const auto f = static_cast<std::uint32_t>(keyed_tuple_hash(t, key_.data()));
    return wire::SeqNum{f + static_cast<std::uint32_t>(now / (4 * kNsPerUs))};
}

std::uint32_t IsnGenerator::port_offset(wire::Ipv4Addr local, wire::Ipv4Addr remote,
                                        std::uint16_t remote_port) const noexcept {
    std::uint8_t msg[10];
    std::memcpy(msg, &local.v, 4);
    std::memcpy(msg + 4, &remote.v, 4);
    std::memcpy(msg + 8, &remote_port, 2);
    std::uint8_t out[crypto_shorthash_BYTES];
    crypto_shorthash(out, msg, sizeof msg, key_.data());
    std::uint32_t f;
    std::memcpy(&f, out, 4);
    return f;
}

} // namespace lanetcp::tcp
