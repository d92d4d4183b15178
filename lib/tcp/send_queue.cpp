#include "tcp/send_queue.hpp"

namespace lanetcp::tcp {

void SendQueue::consume(std::uint32_t n, ChunkPool& pool) noexcept {
    if (n > bytes_) n = bytes_;
    bytes_ -= n;
    // Offsets count from the front, which moves by n. A cursor past the
    // consumed bytes stays (transmission then never walks the queue from
    // the head: O(1) per segment); one inside them goes back to the front.
    if (cursor_ != nullptr && cursor_offset_ >= n)
        cursor_offset_ -= n;
    else
        cursor_ = nullptr;
    while (n > 0) {
        ChunkNode& front = list_.front();
        if (front.chunk.length > n) {
            front.chunk.trim_front(n);
            return;
        }
        n -= front.chunk.length;
        list_.pop_front();
        mem_ -= front.chunk.truesize;
        front.chunk.release();
        pool.put(front);
    }
    // Zero-length chunks left at the front hold no data; release them too.
    while (!list_.empty() && list_.front().chunk.length == 0) {
        ChunkNode& front = list_.front();
        if (&front == cursor_) cursor_ = nullptr;
        list_.pop_front();
        mem_ -= front.chunk.truesize;
        front.chunk.release();
        pool.put(front);
    }
}

void SendQueue::clear(ChunkPool& pool) noexcept {
    while (!list_.empty()) {
        ChunkNode& front = list_.front();
        list_.pop_front();
        front.chunk.release();
        pool.put(front);
    }
    bytes_ = 0;
    mem_ = 0;
    cursor_ = nullptr;
}

const ChunkNode* SendQueue::seek(std::uint32_t& offset) const noexcept {
    const ChunkNode* node;
    std::uint32_t start;
    if (cursor_ != nullptr && cursor_offset_ <= offset) {
        node = cursor_;
        start = cursor_offset_;
    } else {
        if (list_.empty()) return nullptr;
        node = &list_.front();
        start = 0;
    }
    while (node != nullptr && start + node->chunk.length <= offset) {
        start += node->chunk.length;
        node = next(node);
    }
    if (node == nullptr) return nullptr;
    cursor_ = node;
    cursor_offset_ = start;
    offset -= start;
    return node;
}

} // namespace lanetcp::tcp
