#include "netif/mbuf_pool.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include <rte_errno.h>

namespace lanetcp {

rte_mempool* create_mbuf_pool(const std::string& name, std::uint32_t count, int socket, std::uint16_t mtu) {
    // Room for a whole frame in one segment, so that the common case never chains.
    const unsigned frame = mtu + 14u + 4u; // + Ethernet header and a VLAN tag's worth
    const auto data_room = static_cast<std::uint16_t>(
        std::max<unsigned>(RTE_MBUF_DEFAULT_BUF_SIZE, RTE_PKTMBUF_HEADROOM + frame));
    const unsigned cache = std::min<unsigned>(RTE_MEMPOOL_CACHE_MAX_SIZE, 256);
    rte_mempool* pool = rte_pktmbuf_pool_create(name.c_str(), count, cache, 0, data_room, socket);
    if (pool == nullptr) {
        throw std::runtime_error(fmt::format(
            "cannot create mbuf pool '{}' of {} mbufs on socket {}: {} (with --no-huge, raise -m; otherwise reserve "
            "hugepages)",
            name, count, socket, rte_strerror(rte_errno)));
    }
    return pool;
}

} // namespace lanetcp
