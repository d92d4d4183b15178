#include "api/tcp_glue.hpp"

#include <cstring>

#include "wire/tcp.hpp"
#include "wire/tcp_options.hpp"

namespace lanetcp {

// ---- platform functions for lib/tcp ----

namespace tcp {

// Chunks always hold a single segment (chains are split before they become
// chunks), so one segment is what a reference covers.
void buffer_ref(PacketBuffer* b) noexcept { rte_mbuf_refcnt_update(as_mbuf(b), 1); }
void buffer_unref(PacketBuffer* b) noexcept { rte_pktmbuf_free_seg(as_mbuf(b)); }

void transmit(TcpOutput& out, const OutSegment& seg) noexcept { out.send(seg); }

PacketBuffer* buffer_alloc(TcpOutput& out, std::uint8_t** data, std::uint32_t* room, std::uint32_t* truesize) noexcept {
    return out.alloc(data, room, truesize);
}

namespace {

constexpr std::uint32_t kCopyBelow = 256; // smaller payloads: a copy beats an indirect mbuf

std::uint16_t swap16(std::uint16_t v) noexcept { return static_cast<std::uint16_t>(v << 8 | v >> 8); }

} // namespace

PacketBuffer* TcpOutput::alloc(std::uint8_t** data, std::uint32_t* room, std::uint32_t* truesize) noexcept {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (m == nullptr) return nullptr;
    // The bytes are written past data_len: only chunks describe them, and
    // transmission attaches indirect mbufs by the chunk's own pointers.
    *data = rte_pktmbuf_mtod(m, std::uint8_t*);
    *room = rte_pktmbuf_tailroom(m);
    *truesize = mbuf_truesize(m);
    return as_buffer(m);
}

void TcpOutput::send(const OutSegment& seg) noexcept {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (m == nullptr) {
        counters_.drop(Drop::tx_no_mbuf);
        return; // TCP's timers recover a segment that never left
    }
    const std::size_t opt_len = wire::tcp_options_length(seg.options);
    const auto hdr_len = static_cast<std::uint16_t>(wire::kTcpMinHeaderLen + opt_len);
    auto* h = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, hdr_len));
    wire::emit_tcp(h, wire::TcpFields{.src_port = seg.tuple.local_port,
                                      .dst_port = seg.tuple.remote_port,
                                      .seq = seg.seq,
                                      .ack = seg.ack,
                                      .flags = seg.flags,
                                      .window = seg.window,
                                      .urgent_pointer = 0,
                                      .options_length = static_cast<std::uint8_t>(opt_len)});
    if (opt_len > 0) wire::emit_tcp_options(h + wire::kTcpMinHeaderLen, seg.options);

    // Payload: copied when small or when the device cannot send chains,
    // otherwise referenced where it lies in the send queue.
    const bool copy = seg.payload_length < kCopyBelow || !offloads_.multi_segment;
    bool ok = true;
    if (seg.payload_length > 0) {
        seg.queue->for_each_piece(seg.payload_offset, seg.payload_length,
                                  [&](const std::uint8_t* data, std::uint32_t len, PacketBuffer* buf) {
            if (!ok) return;
            if (copy) {
                char* dst = rte_pktmbuf_append(m, static_cast<std::uint16_t>(len));
                if (dst == nullptr) {
                    ok = false;
                    return;
                }
                std::memcpy(dst, data, len);
                return;
            }
            rte_mbuf* ind = rte_pktmbuf_alloc(pool_);
            if (ind == nullptr) {
                ok = false;
                return;
            }
            rte_mbuf* direct = as_mbuf(buf);
            rte_pktmbuf_attach(ind, direct);
            ind->data_off = static_cast<std::uint16_t>(data - static_cast<const std::uint8_t*>(ind->buf_addr));
            ind->data_len = static_cast<std::uint16_t>(len);
            ind->pkt_len = len;
            if (rte_pktmbuf_chain(m, ind) != 0) {
                rte_pktmbuf_free(ind);
                ok = false;
            }
        });
    }
    if (!ok) {
        rte_pktmbuf_free(m);
        counters_.drop(Drop::tx_no_mbuf);
        return;
    }

    const auto tcp_len = static_cast<std::uint16_t>(hdr_len + seg.payload_length);
    m->ol_flags = 0;
    m->l4_len = hdr_len;
    if (offloads_.no_checksum) {
        wire::store_be16(h + 16, 0);
    } else if (offloads_.tcp_checksum) {
        m->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
        wire::store_be16(h + 16, wire::tcp_offload_checksum_seed(ifc_.ip(), seg.tuple.remote_ip, tcp_len));
    } else {
        // Sum each segment's bytes; a piece that starts at an odd offset
        // contributes its sum byte-swapped (RFC 1071 2(B)).
        std::uint64_t sum = wire::pseudo_header_sum(ifc_.ip(), seg.tuple.remote_ip, wire::ipproto::tcp, tcp_len);
        bool odd = false;
        for (rte_mbuf* s = m; s != nullptr; s = s->next) {
            std::uint16_t part = wire::checksum_fold(
                wire::checksum_partial(rte_pktmbuf_mtod(s, const void*), rte_pktmbuf_data_len(s)));
            sum += odd ? swap16(part) : part;
            odd ^= (rte_pktmbuf_data_len(s) & 1u) != 0;
        }
        wire::store_be16(h + 16, static_cast<std::uint16_t>(~wire::checksum_fold(sum)));
    }
    ipv4_.output(m,
                 wire::Ipv4Fields{.src = ifc_.ip(),
                                  .dst = seg.tuple.remote_ip,
                                  .protocol = wire::ipproto::tcp,
                                  .ttl = 64,
                                  .tos = seg.tos,
                                  .id = 0,
                                  .dont_fragment = true,
                                  .payload_length = tcp_len},
                 ipv4_.clock_now());
}

} // namespace tcp

// ---- receive ----

void TcpReceiver::receive(rte_mbuf* m, const wire::Ipv4View& ip, TimeNs now) noexcept {
    // RFC 1122 4.2.3.10: TCP is unicast only.
    if (ip.dst() != ifc_.ip()) return drop(m, Drop::ipv4_not_for_us);
    const wire::bytes segment = ip.payload();
    auto parsed = wire::TcpView::parse(segment);
    if (!parsed) return drop(m, Drop::tcp_bad_header);
    const wire::TcpView& tcp = parsed.value;

    bool verify = !ifc_.in_process_wire;
    if (ifc_.rx_l4_checksum) {
        const auto flag = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
        if (flag == RTE_MBUF_F_RX_L4_CKSUM_BAD) return drop(m, Drop::tcp_bad_checksum);
        if (flag == RTE_MBUF_F_RX_L4_CKSUM_GOOD) verify = false;
    }
    if (verify && !wire::tcp_checksum_ok(ip.src(), ip.dst(), segment)) return drop(m, Drop::tcp_bad_checksum);

    auto options = wire::TcpOptions::parse(tcp.options());
    if (!options) return drop(m, Drop::tcp_bad_option);

    tcp::InSegment seg;
    seg.tuple = tcp::FourTuple{ip.dst(), ip.src(), tcp.dst_port(), tcp.src_port()};
    if (handed_off(m, seg.tuple)) return;
    seg.seq = tcp.seq();
    seg.ack = tcp.ack();
    seg.flags = tcp.flags();
    seg.window = tcp.window();
    seg.options = options.value;
    seg.ecn = ip.ecn();
    const wire::bytes payload = tcp.payload();
    if (!payload.empty()) {
        // The frame's mbuf becomes the chunk: its headers stay in front of
        // the data, unused, until the application is done with it.
        seg.payload = tcp::chunk_of_mbuf(m, payload.data(), static_cast<std::uint32_t>(payload.size()));
    } else {
        rte_pktmbuf_free(m);
    }
    layer_.input(seg, now);
}

bool TcpReceiver::handed_off(rte_mbuf* m, const tcp::FourTuple& t) noexcept {
    // Only segments we have no connection for, to a port another lcore hands
    // out: the reply to its active open, on our queue by the NIC's choice.
    if (handoff_.inboxes.size() < 2 || !handoff_.in_range(t.local_port)) return false;
    const std::uint16_t owner = handoff_.owner(t.local_port);
    if (owner == handoff_.self || layer_.find(t) != nullptr) return false;
    m->hash.usr = kInboxHandoff;
    if (rte_ring_enqueue(handoff_.inboxes[owner], m) != 0) {
        counters_.drop(Drop::tcp_handoff_full);
        rte_pktmbuf_free(m);
        return true;
    }
    counters_.tcp_handoffs.add();
    return true;
}

void tcp_receive(TcpReceiver& r, rte_mbuf* m, const wire::Ipv4View& ip, TimeNs now) noexcept { r.receive(m, ip, now); }

} // namespace lanetcp
