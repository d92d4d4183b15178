// IPv4 on one lcore: validates what arrives (RFC 791, RFC 1122 3.2.1),
// answers ICMP echo, and sends datagrams through routing and ARP.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "arp/arp_service.hpp"
#include "netif/counters.hpp"
#include "netif/interface.hpp"
#include "util/clock.hpp"
#include "wire/ipv4.hpp"

namespace lanetcp {
// TCP's receive side, defined where TCP meets DPDK (lib/api/tcp_glue.cpp).
class TcpReceiver;
void tcp_receive(TcpReceiver& r, rte_mbuf* m, const wire::Ipv4View& ip, TimeNs now) noexcept;
} // namespace lanetcp

namespace lanetcp::ipv4 {

class Ipv4Layer {
public:
    Ipv4Layer(const Interface& ifc, arp::ArpService& arp, Counters& counters, rte_mempool* pool) noexcept
        : ifc_(ifc), arp_(arp), counters_(counters), pool_(pool) {}

    // `m` starts at the Ethernet header, which is `l2_len` bytes. Consumes `m`.
    void input(rte_mbuf* m, TimeNs now);

    // Prepends a 20-byte IPv4 header to `m` (which starts at the L4 header)
    // and sends it towards `f.dst`. Consumes `m`. False when it was dropped
    // (counted) rather than sent or queued for ARP.
    bool output(rte_mbuf* m, wire::Ipv4Fields f, TimeNs now);

    // An ICMP echo request with `payload_len` bytes of pattern, for tests and
    // tools. False when no mbuf could be had.
    bool send_echo_request(wire::Ipv4Addr dst, std::uint16_t id, std::uint16_t sequence,
                           std::uint16_t payload_len, TimeNs now);

    void set_tcp(TcpReceiver* tcp) noexcept { tcp_ = tcp; }
    // The time of the current loop turn, for output paths that have no clock.
    void set_now(TimeNs now) noexcept { now_ = now; }
    TimeNs clock_now() const noexcept { return now_; }

    // Next hop for `dst`: itself on our subnet, else the gateway.
    std::optional<wire::Ipv4Addr> next_hop(wire::Ipv4Addr dst) const noexcept {
        if (ifc_.address.contains(dst)) return dst;
        return ifc_.gateway;
    }

private:
    void icmp_input(rte_mbuf* m, const wire::Ipv4View& ip, TimeNs now);
    void echo_reply_in_place(rte_mbuf* m, const wire::Ipv4View& ip, TimeNs now);
    void drop(rte_mbuf* m, Drop reason) noexcept {
        counters_.drop(reason);
        rte_pktmbuf_free(m);
    }

    const Interface& ifc_;
    arp::ArpService& arp_;
    Counters& counters_;
    rte_mempool* pool_;
    std::uint16_t next_id_ = 0;
    TcpReceiver* tcp_ = nullptr;
    TimeNs now_ = 0;
};

} // namespace lanetcp::ipv4
