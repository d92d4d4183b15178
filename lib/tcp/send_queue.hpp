// Data the application handed to a connection and the peer has not yet
// acknowledged, as a list of chunks (no copies). Chunk nodes come from a
// per-lcore pool sized at start, so sending never allocates.
#pragma once

#include <boost/intrusive/slist.hpp>
#include <cstdint>
#include <vector>

#include "tcp/chunk.hpp"

namespace lanetcp::tcp {

namespace bi = boost::intrusive;

struct ChunkNode : bi::slist_base_hook<bi::link_mode<bi::normal_link>> {
    Chunk chunk;
};

using ChunkList = bi::slist<ChunkNode, bi::cache_last<true>, bi::constant_time_size<false>>;

class ChunkPool {
public:
    explicit ChunkPool(std::uint32_t capacity) : nodes_(capacity) {
        for (ChunkNode& n : nodes_) free_.push_front(n);
        available_ = capacity;
    }
    ChunkPool(const ChunkPool&) = delete;
    ChunkPool& operator=(const ChunkPool&) = delete;
    ~ChunkPool() { free_.clear(); }

    ChunkNode* get() noexcept {
        if (free_.empty()) return nullptr;
        ChunkNode& n = free_.front();
        free_.pop_front();
        --available_;
        return &n;
    }
    void put(ChunkNode& n) noexcept {
        n.chunk = Chunk{};
        free_.push_front(n);
        ++available_;
    }
    std::uint32_t available() const noexcept { return available_; }

private:
    std::vector<ChunkNode> nodes_;
    ChunkList free_;
    std::uint32_t available_ = 0;
};

class SendQueue {
public:
    SendQueue() = default;
    SendQueue(const SendQueue&) = delete;
    SendQueue& operator=(const SendQueue&) = delete;
    ~SendQueue() { list_.clear(); } // nodes belong to the pool; clear(pool) releases data first

    std::uint32_t size() const noexcept { return bytes_; }
    bool empty() const noexcept { return bytes_ == 0; }
    // The memory the queued chunks pin (their truesize), acknowledged
    // bytes included while their buffer is still held.
    std::uint32_t mem() const noexcept { return mem_; }

    // The chunk's charge is fixed from here on (Chunk::truesize).
    void push_back(ChunkNode& node) noexcept {
        node.chunk.truesize = node.chunk.charge();
        bytes_ += node.chunk.length;
        mem_ += node.chunk.truesize;
        list_.push_back(node);
    }

    // Drops `n` acknowledged bytes from the front.
    void consume(std::uint32_t n, ChunkPool& pool) noexcept;

    // Releases everything (connection gone).
    void clear(ChunkPool& pool) noexcept;

    // Calls f(const std::uint8_t* data, std::uint32_t length, PacketBuffer*)
    // for the pieces that make up bytes [offset, offset + length).
    template <class F>
    void for_each_piece(std::uint32_t offset, std::uint32_t length, F&& f) const noexcept {
        const ChunkNode* node = seek(offset);
        while (node != nullptr && length > 0) {
            const Chunk& c = node->chunk;
            std::uint32_t take = c.length - offset < length ? c.length - offset : length;
            f(c.data + offset, take, c.buffer);
            length -= take;
            offset = 0;
            node = next(node);
        }
    }

private:
    // The chunk holding byte `offset`, with `offset` reduced to inside it.
    // Transmission walks forward, so the last position found is remembered.
    const ChunkNode* seek(std::uint32_t& offset) const noexcept;
    const ChunkNode* next(const ChunkNode* n) const noexcept {
        auto it = list_.iterator_to(*n);
        ++it;
        return it == list_.end() ? nullptr : &*it;
    }

    ChunkList list_;
    std::uint32_t bytes_ = 0;
    std::uint32_t mem_ = 0;
    mutable const ChunkNode* cursor_ = nullptr; // a node, and the offset it starts at
    mutable std::uint32_t cursor_offset_ = 0;
};

} // namespace lanetcp::tcp
