// Latency histogram with fixed log-linear buckets: 16 per power of two
// (values within 1/16 of each other share a bucket), from 1 ns to 2^64 ns.
// Recording is an index computation and an increment: no allocation.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>

namespace lanetcp::perf {

class Histogram {
public:
    static constexpr unsigned kSubBits = 4;
    static constexpr unsigned kSub = 1u << kSubBits;
    static constexpr unsigned kBuckets = kSub + (64 - kSubBits) * kSub;

    static unsigned index(std::uint64_t v) noexcept {
        if (v < kSub) return static_cast<unsigned>(v);
        const unsigned e = 63u - static_cast<unsigned>(std::countl_zero(v)); // >= kSubBits
        const auto sub = static_cast<unsigned>((v >> (e - kSubBits)) & (kSub - 1));
        return kSub + (e - kSubBits) * kSub + sub;
    }
    // The largest value bucket `i` holds.
    static std::uint64_t upper(unsigned i) noexcept {
        if (i < kSub) return i;
        const unsigned e = (i - kSub) / kSub + kSubBits;
        const unsigned sub = (i - kSub) % kSub;
        const std::uint64_t lo = static_cast<std::uint64_t>(kSub + sub) << (e - kSubBits);
        return lo + ((std::uint64_t{1} << (e - kSubBits)) - 1);
    }

    void record(std::uint64_t v) noexcept {
        ++buckets_[index(v)];
        ++count_;
        sum_ += v;
        min_ = std::min(min_, v);
        max_ = std::max(max_, v);
    }
    void merge(const Histogram& o) noexcept {
        for (unsigned i = 0; i < kBuckets; ++i) buckets_[i] += o.buckets_[i];
        count_ += o.count_;
        sum_ += o.sum_;
        min_ = std::min(min_, o.min_);
        max_ = std::max(max_, o.max_);
    }
    void clear() noexcept { *this = Histogram{}; }

    std::uint64_t count() const noexcept { return count_; }
    std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
    std::uint64_t max() const noexcept { return max_; }
    double mean() const noexcept { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0; }
    // The value at quantile q (0..1): the upper edge of its bucket, capped at the maximum seen.
    std::uint64_t quantile(double q) const noexcept {
        if (count_ == 0) return 0;
        auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_));
        if (rank >= count_) rank = count_ - 1;
        std::uint64_t seen = 0;
        for (unsigned i = 0; i < kBuckets; ++i) {
            seen += buckets_[i];
            if (seen > rank) return std::min(upper(i), max_);
        }
        return max_;
    }

private:
    std::array<std::uint64_t, kBuckets> buckets_{};
    std::uint64_t count_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t min_ = ~std::uint64_t{0};
    std::uint64_t max_ = 0;
};

} // namespace lanetcp::perf
