#include "tcp/four_tuple.hpp"

#include <cstring>
#include <sodium.h>

namespace lanetcp::tcp {

static_assert(TupleHasher::kKeyBytes == crypto_shorthash_KEYBYTES);

std::uint64_t keyed_tuple_hash(const FourTuple& t, const std::uint8_t* key16) noexcept {
    std::uint8_t msg[12];
    std::memcpy(msg, &t.local_ip.v, 4);
    std::memcpy(msg + 4, &t.remote_ip.v, 4);
    std::memcpy(msg + 8, &t.local_port, 2);
    std::memcpy(msg + 10, &t.remote_port, 2);
    std::uint8_t out[crypto_shorthash_BYTES];
    crypto_shorthash(out, msg, sizeof msg, key16);
    std::uint64_t h;
    std::memcpy(&h, out, sizeof h);
    return h;
}

} // namespace lanetcp::tcp
