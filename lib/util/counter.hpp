// A statistics counter written by exactly one lcore and read by any thread.
// Relaxed atomics compile to a plain load/add/store on x86 (no lock prefix),
// and keep the cross-thread read well defined.
#pragma once

#include <atomic>
#include <cstdint>

namespace lanetcp {

class Counter {
public:
    void add(std::uint64_t n = 1) noexcept {
        value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    std::uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

} // namespace lanetcp
