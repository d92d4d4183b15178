#include "drivers/port.hpp"

#include <fmt/format.h>

#include <string_view>

#include <rte_ethdev.h>

namespace lanetcp::drivers {

namespace {

std::string error_text(int rc) { return rte_strerror(rc < 0 ? -rc : rc); }

} // namespace

std::uint16_t available_ports() { return rte_eth_dev_count_avail(); }

PortInfo start_port(const PortParams& p) {
    if (!rte_eth_dev_is_valid_port(p.port_id)) {
        throw PortError(fmt::format(
            "DPDK port {} does not exist ({} port(s) available): give a device with --vdev=... or a PCI address "
            "in the EAL arguments",
            p.port_id, rte_eth_dev_count_avail()));
    }
    if (p.rx_pools.size() != p.queues) throw PortError("start_port: one rx pool per queue is required");

    rte_eth_dev_info dev{};
    if (int rc = rte_eth_dev_info_get(p.port_id, &dev); rc != 0)
        throw PortError(fmt::format("port {}: cannot read device info: {}", p.port_id, error_text(rc)));
    if (p.queues > dev.max_rx_queues || p.queues > dev.max_tx_queues) {
        throw PortError(fmt::format("port {} ({}): {} worker lcores need {} queue pairs, the device has {} rx / {} tx",
                                    p.port_id, dev.driver_name, p.queues, p.queues, dev.max_rx_queues,
                                    dev.max_tx_queues));
    }

    PortInfo info;
    info.port_id = p.port_id;
    info.driver = dev.driver_name;
    info.socket = rte_eth_dev_socket_id(p.port_id);
    if (info.socket < 0) info.socket = 0;

    rte_eth_conf conf{};
    // Offloads: take what the device has; software fills in the rest.
    const std::uint64_t rx_want = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
    const std::uint64_t tx_want =
        RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
    conf.rxmode.offloads = dev.rx_offload_capa & rx_want;
    conf.txmode.offloads = dev.tx_offload_capa & tx_want;
    // net_tap in DPDK 22.11 computes TCP checksums in software and gets them
    // wrong for chained mbufs (our zero-copy segments): Linux counts them as
    // TcpInCsumErrors. Our own software checksum is right; use it there.
    if (std::string_view(dev.driver_name) == "net_tap") conf.txmode.offloads &= ~RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
    info.rx_ipv4_checksum = (conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) != 0;
    info.rx_l4_checksum = (conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_TCP_CKSUM) != 0;
    info.tx_ipv4_checksum = (conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0;
    info.tx_tcp_checksum = (conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) != 0;
    info.in_process = std::string_view(dev.driver_name) == "net_ring";
    info.multi_segment_tx = (conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0;

    if (p.queues > 1 && dev.flow_type_rss_offloads != 0) {
        // Spread flows over the lcores' queues by the 4-tuple.
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf =
            (RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP) & dev.flow_type_rss_offloads;
    }

    if (int rc = rte_eth_dev_configure(p.port_id, p.queues, p.queues, &conf); rc != 0)
        throw PortError(fmt::format("port {} ({}): configure failed: {}", p.port_id, dev.driver_name, error_text(rc)));

    std::uint16_t rx_desc = p.rx_descriptors;
    std::uint16_t tx_desc = p.tx_descriptors;
    if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(p.port_id, &rx_desc, &tx_desc); rc != 0)
        throw PortError(fmt::format("port {}: descriptor counts rejected: {}", p.port_id, error_text(rc)));

    for (std::uint16_t q = 0; q < p.queues; ++q) {
        rte_eth_rxconf rxconf = dev.default_rxconf;
        rxconf.offloads = conf.rxmode.offloads;
        if (int rc = rte_eth_rx_queue_setup(p.port_id, q, rx_desc, static_cast<unsigned>(info.socket), &rxconf,
                                            p.rx_pools[q]);
            rc != 0)
            throw PortError(fmt::format("port {}: rx queue {} setup failed: {}", p.port_id, q, error_text(rc)));
        rte_eth_txconf txconf = dev.default_txconf;
        txconf.offloads = conf.txmode.offloads;
        if (int rc = rte_eth_tx_queue_setup(p.port_id, q, tx_desc, static_cast<unsigned>(info.socket), &txconf);
            rc != 0)
            throw PortError(fmt::format("port {}: tx queue {} setup failed: {}", p.port_id, q, error_text(rc)));
    }

    // Not every virtual device can change its MTU (net_ring, net_pcap): keep
    // what it has and say so, rather than refuse to start.
    std::uint16_t mtu = p.mtu;
    if (int rc = rte_eth_dev_set_mtu(p.port_id, mtu); rc != 0) {
        std::uint16_t current = 0;
        if (rte_eth_dev_get_mtu(p.port_id, &current) == 0 && current != 0 && current < mtu) mtu = current;
    }
    info.mtu = mtu;

    if (int rc = rte_eth_dev_start(p.port_id); rc != 0)
        throw PortError(fmt::format("port {} ({}): start failed: {}", p.port_id, dev.driver_name, error_text(rc)));
    // Unicast to our (possibly configured) MAC, ARP broadcasts: promiscuous
    // mode is not needed; the Ethernet layer filters anyway.
    rte_ether_addr mac{};
    if (int rc = rte_eth_macaddr_get(p.port_id, &mac); rc != 0)
        throw PortError(fmt::format("port {}: cannot read MAC address: {}", p.port_id, error_text(rc)));
    info.mac = wire::MacAddr::load(mac.addr_bytes);
    if (info.mac.is_zero()) {
        // Devices without an address of their own (net_ring, the in-memory
        // wire) get a locally administered one, stable per port id, so that
        // ARP has something to answer with and tests are reproducible.
        info.mac = wire::MacAddr{{0x02, 0x4c, 0x54, 0x00, static_cast<std::uint8_t>(p.port_id >> 8),
                                  static_cast<std::uint8_t>(p.port_id & 0xff)}};
        rte_ether_addr assigned{};
        info.mac.store(assigned.addr_bytes);
        rte_eth_dev_default_mac_addr_set(p.port_id, &assigned); // best effort: the ring PMD ignores it
    }
    return info;
}

void stop_port(std::uint16_t port_id) {
    rte_eth_dev_stop(port_id);
    rte_eth_dev_close(port_id);
}

std::string describe_link(std::uint16_t port_id) {
    rte_eth_link link{};
    rte_eth_dev_info dev{};
    rte_eth_dev_info_get(port_id, &dev);
    if (rte_eth_link_get_nowait(port_id, &link) != 0) return fmt::format("port {} ({}): link unknown", port_id,
                                                                         dev.driver_name ? dev.driver_name : "?");
    // rte_eth_link_to_str() is still experimental in 22.11; format it here.
    std::string speed = link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? std::string("unknown speed")
                                                                       : fmt::format("{} Mbps", link.link_speed);
    return fmt::format("port {} ({}): link {}, {}, {} duplex", port_id, dev.driver_name ? dev.driver_name : "?",
                       link.link_status ? "up" : "down", speed,
                       link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? "full" : "half");
}

} // namespace lanetcp::drivers
