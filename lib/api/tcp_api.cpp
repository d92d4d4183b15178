#include "api/tcp_api.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace lanetcp::api {

long send_bytes(tcp::Connection& c, rte_mempool* pool, const void* data, std::size_t len) noexcept {
    const auto* p = static_cast<const std::uint8_t*>(data);
    std::size_t taken = 0;
    const unsigned reserve = pool->size / 4;
    // The common pool's count, without the per-lcore caches that
    // rte_mempool_avail_count walks (all RTE_MAX_LCORE of them): a little
    // low, which errs on the safe side, and a few instructions.
    unsigned available = rte_mempool_get_ops(pool->ops_index)->get_count(pool);
    while (taken < len) {
        const std::uint32_t space = c.send_space();
        if (space == 0) break;
        if (available <= reserve && (taken > 0 || c.unsent_bytes() > 0 || c.bytes_in_flight() > 0))
            return taken > 0 ? static_cast<long>(taken) : -EAGAIN;
        if (available > 0) --available;
        rte_mbuf* m = rte_pktmbuf_alloc(pool);
        if (m == nullptr) return taken > 0 ? static_cast<long>(taken) : -ENOBUFS;
        const std::size_t room = rte_pktmbuf_tailroom(m);
        const auto n = static_cast<std::uint32_t>(std::min({room, len - taken, static_cast<std::size_t>(space)}));
        auto* dst = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, static_cast<std::uint16_t>(n)));
        std::memcpy(dst, p + taken, n);
        const int rc = c.send(tcp::chunk_of_mbuf(m, dst, n));
        if (rc != 0) {
            rte_pktmbuf_free(m);
            if (taken > 0) break;
            return rc;
        }
        taken += n;
    }
    return static_cast<long>(taken);
}

int send_mbufs(tcp::Connection& c, rte_mbuf* chain) noexcept {
    if (rte_pktmbuf_pkt_len(chain) > c.send_space()) return -EAGAIN;
    rte_mbuf* seg = chain;
    while (seg != nullptr) {
        rte_mbuf* next = seg->next;
        // Each segment stands alone from here on: a chunk is one segment.
        seg->next = nullptr;
        seg->nb_segs = 1;
        seg->pkt_len = seg->data_len;
        const int rc =
            c.send(tcp::chunk_of_mbuf(seg, rte_pktmbuf_mtod(seg, const std::uint8_t*), rte_pktmbuf_data_len(seg)));
        if (rc != 0) {
            // Cannot happen after the space check but for pool exhaustion:
            // free what was not queued rather than leak it.
            rte_pktmbuf_free(seg);
            rte_pktmbuf_free(next);
            return rc;
        }
        seg = next;
    }
    return 0;
}

} // namespace lanetcp::api
