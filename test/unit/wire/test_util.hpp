// Helpers shared by the wire-layer tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "wire/bytes.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"

namespace lanetcp::wire::test {

// A heap copy of exactly `src.size()` bytes. Parsers are fed these instead of
// slices of a larger array so that AddressSanitizer reports a read even one
// byte past the end: a prefix of a constexpr array has valid memory behind it.
class ExactCopy {
public:
    explicit ExactCopy(bytes src) : size_(src.size()), data_(new std::uint8_t[src.size()]) {
        if (size_ != 0) std::memcpy(data_.get(), src.data(), size_);
    }
    bytes view() const noexcept { return {data_.get(), size_}; }
    mutable_bytes mut() noexcept { return {data_.get(), size_}; }
    std::uint8_t* data() noexcept { return data_.get(); }
    std::size_t size() const noexcept { return size_; }

private:
    std::size_t size_;
    std::unique_ptr<std::uint8_t[]> data_;
};

// The IPv4 header and the upper-layer bytes of a captured Ethernet frame.
// Captured frames are known-good, so a failure here is a broken fixture.
struct L3 {
    Ipv4View ip;
    bytes l4;
};

inline L3 l3_of(bytes frame) {
    auto eth = EthernetView::parse(frame);
    if (!eth || eth->ethertype() != ethertype::ipv4) return {};
    auto ip = Ipv4View::parse(eth->payload());
    if (!ip) return {};
    return {ip.value, ip->payload()};
}

} // namespace lanetcp::wire::test
