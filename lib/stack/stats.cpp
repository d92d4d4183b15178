#include "stack/stats.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <rte_ethdev.h>

namespace lanetcp {

std::string format_counters(const CounterSnapshot& s) {
    std::string out;
    auto line = [&](std::string_view layer, auto... kv) {
        out += fmt::format("  {:<5}", layer);
        ((out += fmt::format(" {}={}", kv.first, kv.second)), ...);
        out += '\n';
    };
    using P = std::pair<std::string_view, std::uint64_t>;
    line("port", P{"rx_packets", s.port_rx_packets}, P{"rx_bytes", s.port_rx_bytes}, P{"tx_packets", s.port_tx_packets},
         P{"tx_bytes", s.port_tx_bytes});
    line("arp", P{"rx_requests", s.arp_rx_requests}, P{"rx_replies", s.arp_rx_replies},
         P{"tx_requests", s.arp_tx_requests}, P{"tx_replies", s.arp_tx_replies});
    line("ipv4", P{"rx_packets", s.ipv4_rx_packets}, P{"tx_packets", s.ipv4_tx_packets});
    line("icmp", P{"rx_echo_requests", s.icmp_rx_echo_requests}, P{"tx_echo_replies", s.icmp_tx_echo_replies},
         P{"tx_echo_requests", s.icmp_tx_echo_requests}, P{"rx_echo_replies", s.icmp_rx_echo_replies});
    line("tcp", P{"rx_segments", s.tcp_rx_segments}, P{"tx_segments", s.tcp_tx_segments}, P{"rx_bytes", s.tcp_rx_bytes},
         P{"tx_bytes", s.tcp_tx_bytes}, P{"retransmitted", s.tcp_retransmitted_segments},
         P{"fast_retransmits", s.tcp_fast_retransmits}, P{"timeouts", s.tcp_timeouts});
    line("tcp", P{"active_opens", s.tcp_active_opens}, P{"passive_opens", s.tcp_passive_opens},
         P{"established", s.tcp_established}, P{"resets_sent", s.tcp_resets_sent},
         P{"resets_received", s.tcp_resets_received}, P{"challenge_acks", s.tcp_challenge_acks},
         P{"timed_out", s.tcp_connections_timed_out}, P{"refused", s.tcp_connections_refused});
    out += fmt::format("  drops total={}", s.total_drops());
    for (std::size_t i = 0; i < kDropCount; ++i)
        if (s.drops[i] != 0) out += fmt::format(" {}={}", kDropNames[i], s.drops[i]);
    out += '\n';
    return out;
}

std::string format_port_stats(std::uint16_t port_id) {
    rte_eth_stats st{};
    if (rte_eth_stats_get(port_id, &st) != 0) return fmt::format("  nic   port {}: statistics unavailable\n", port_id);
    return fmt::format("  nic   ipackets={} opackets={} ibytes={} obytes={} imissed={} ierrors={} oerrors={} "
                       "rx_nombuf={}\n",
                       st.ipackets, st.opackets, st.ibytes, st.obytes, st.imissed, st.ierrors, st.oerrors,
                       st.rx_nombuf);
}

std::string format_mbuf_usage(unsigned in_use, unsigned size) {
    return fmt::format("  mbufs in_use={} size={}\n", in_use, size);
}

std::string counters_json(const CounterSnapshot& s, unsigned mbufs_leaked) {
    nlohmann::ordered_json counters = nlohmann::ordered_json::object();
#define LANETCP_JSON_FIELD(name) counters[#name] = s.name;
    LANETCP_TRAFFIC_COUNTERS(LANETCP_JSON_FIELD)
#undef LANETCP_JSON_FIELD
    nlohmann::ordered_json drops = nlohmann::ordered_json::object();
    for (std::size_t i = 0; i < kDropCount; ++i) drops[std::string(kDropNames[i])] = s.drops[i];
    nlohmann::ordered_json doc;
    doc["counters"] = std::move(counters);
    doc["drops"] = std::move(drops);
    doc["drops_total"] = s.total_drops();
    doc["mbufs_leaked"] = mbufs_leaked;
    return doc.dump(2) + "\n";
}

} // namespace lanetcp
