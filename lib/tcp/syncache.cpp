#include "tcp/syncache.hpp"

#include <algorithm>
#include <bit>

namespace lanetcp::tcp {

Syncache::Syncache(std::uint32_t capacity, const TupleHasher& hasher)
    : capacity_(capacity),
      entries_(std::make_unique<SynRequest[]>(capacity)),
      buckets_(std::bit_ceil(std::max<std::size_t>(capacity, 16))),
      table_(Table::bucket_traits(buckets_.data(), buckets_.size()), Hash{hasher}) {
    for (std::uint32_t i = 0; i < capacity; ++i) free_.push_back(entries_[i]);
}

Syncache::~Syncache() {
    table_.clear();
    free_.clear();
}

SynRequest* Syncache::find(const FourTuple& t) noexcept {
    if (table_.empty()) return nullptr; // the common case: no handshake under way
    auto it = table_.find(t, table_.hash_function(), Equal{});
    return it == table_.end() ? nullptr : &*it;
}

SynRequest* Syncache::insert(const FourTuple& t) noexcept {
    if (free_.empty()) return nullptr;
    SynRequest& r = free_.front();
    free_.pop_front();
    r.tuple = t;
    table_.insert(r);
    return &r;
}

void Syncache::erase(SynRequest& r) noexcept {
    table_.erase(table_.iterator_to(r));
    free_.push_front(r);
}

} // namespace lanetcp::tcp
