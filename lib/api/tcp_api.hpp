// What applications call besides Connection's own methods: sending bytes
// (copied into mbufs) or mbuf chains (no copy), and taking received chunks
// as mbufs.
#pragma once

#include <cstddef>
#include <cstdint>

#include <rte_mbuf.h>

#include "api/tcp_glue.hpp"
#include "tcp/connection.hpp"

namespace lanetcp::api {

// Copies up to `len` bytes into mbufs from `pool` and queues them. Returns
// how many bytes were taken (possibly fewer than `len` when the send buffer
// fills), or -EAGAIN (send buffer full, or the pool down to its reserve:
// on_writable follows), -EPIPE or -ENOBUFS when nothing could be.
//
// The last quarter of the pool is left to receiving and to segment
// headers: queued data that took every mbuf would leave none for the ACKs
// that free it, and the lcore would stop (Linux's tcp_mem pressure plays
// this part). A connection with nothing queued may still take one mbuf, so
// that it always gets an on_writable to come back on.
long send_bytes(tcp::Connection& c, rte_mempool* pool, const void* data, std::size_t len) noexcept;

// Queues an mbuf chain without copying: each segment becomes one chunk.
// All or nothing: on error (-EAGAIN when it does not fit) the chain is
// still the caller's.
int send_mbufs(tcp::Connection& c, rte_mbuf* chain) noexcept;

// A received chunk as an mbuf whose data is exactly the chunk's bytes.
// Ownership of the mbuf passes to the caller.
inline rte_mbuf* chunk_to_mbuf(const tcp::Chunk& chunk) noexcept {
    rte_mbuf* m = tcp::as_mbuf(chunk.buffer);
    const auto front = static_cast<std::uint16_t>(chunk.data - rte_pktmbuf_mtod(m, const std::uint8_t*));
    rte_pktmbuf_adj(m, front);
    rte_pktmbuf_trim(m, static_cast<std::uint16_t>(rte_pktmbuf_data_len(m) - chunk.length));
    return m;
}

} // namespace lanetcp::api
