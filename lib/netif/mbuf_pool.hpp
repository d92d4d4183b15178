// mbuf pools: one per NUMA socket, with a per-lcore cache so that the data
// path allocates and frees without touching shared state.
#pragma once

#include <cstdint>
#include <string>

#include <rte_mbuf.h>
#include <rte_mempool.h>

namespace lanetcp {

// Creates a pool of `count` mbufs with room for a frame of `mtu` bytes.
// Throws std::runtime_error with a one-line reason.
rte_mempool* create_mbuf_pool(const std::string& name, std::uint32_t count, int socket, std::uint16_t mtu);

// mbufs that are allocated and not back in the pool (caches included).
inline unsigned mbufs_in_use(const rte_mempool* pool) noexcept { return rte_mempool_in_use_count(pool); }

} // namespace lanetcp
