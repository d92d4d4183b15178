// Transmit batching for one (port, queue): packets are collected while a
// burst is processed and handed to the NIC in one rte_eth_tx_burst at its end.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "netif/counters.hpp"

namespace lanetcp {

class TxQueue {
public:
    static constexpr std::uint16_t kCapacity = 128;
    static constexpr int kFullRingRetries = 4;

    TxQueue(std::uint16_t port, std::uint16_t queue, Counters& counters) noexcept
        : port_(port), queue_(queue), counters_(counters) {}
    TxQueue(const TxQueue&) = delete;
    TxQueue& operator=(const TxQueue&) = delete;

    void push(rte_mbuf* m) noexcept {
        pad_to_minimum(m);
        if (count_ == kCapacity) flush();
        batch_[count_++] = m;
    }

    void flush() noexcept {
        if (count_ == 0) return;
        std::uint64_t bytes = 0;
        for (std::uint16_t i = 0; i < count_; ++i) bytes += rte_pktmbuf_pkt_len(batch_[i]);
        std::uint16_t sent = 0;
        for (int attempt = 0; attempt < kFullRingRetries && sent < count_; ++attempt)
            sent += rte_eth_tx_burst(port_, queue_, batch_.data() + sent, count_ - sent);
        // A ring still full after a few tries means the link is slower than
        // we are: drop rather than stall the lcore, and count it.
        for (std::uint16_t i = sent; i < count_; ++i) {
            bytes -= rte_pktmbuf_pkt_len(batch_[i]);
            rte_pktmbuf_free(batch_[i]);
        }
        counters_.port_tx_packets.add(sent);
        counters_.port_tx_bytes.add(bytes);
        if (sent < count_) counters_.drop(Drop::tx_queue_full, count_ - sent);
        count_ = 0;
    }

    std::uint16_t pending() const noexcept { return count_; }

private:
    // Ethernet's 60-byte minimum (without FCS): NICs pad in hardware, but
    // software devices (af_packet, tap, pcap) send what they are given.
    static void pad_to_minimum(rte_mbuf* m) noexcept {
        constexpr std::uint32_t kMinFrame = 60;
        const std::uint32_t len = rte_pktmbuf_pkt_len(m);
        if (len >= kMinFrame) return;
        char* tail = rte_pktmbuf_append(m, static_cast<std::uint16_t>(kMinFrame - len));
        if (tail != nullptr) std::memset(tail, 0, kMinFrame - len);
    }

    std::uint16_t port_;
    std::uint16_t queue_;
    Counters& counters_;
    std::uint16_t count_ = 0;
    std::array<rte_mbuf*, kCapacity> batch_{};
};

} // namespace lanetcp
