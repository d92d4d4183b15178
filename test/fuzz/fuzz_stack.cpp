// libFuzzer target for a whole stack, stateful: one Lcore (Ethernet, ARP,
// IPv4, ICMP, TCP, timers) on one port of the in-memory wire, the fuzzer
// playing everything at the other port. Each input first sets up a live
// connection (a handshake with a listener, or an active open answered by the
// peer), then plays a list of operations: frames patched so that they land
// on the connection (its addresses, ports and, as the input chooses, in or
// near its windows, checksums fixed), frames as they are, steps of the
// virtual clock (timers run), and application calls. At the end everything
// is released and every mbuf must be back in the pool (abort otherwise).
//
// Input layout (test/fuzz/make_corpus.py writes seeds in it):
//   byte 0  scenario: bit 0 active open; bits 1-3 the peer offers
//           timestamps, SACK, window scaling; bits 4-5 the application
//           (echo, hold received data, sink); bits 6-7 the buffer sizes
//   then operations, each an opcode byte (op % 8) and its arguments:
//   0 frame   ctrl, len16, bytes: an Ethernet frame; ctrl says what to patch
//             (bit 0 MACs; 1 a plain IPv4 header with our addresses; 2 the
//             TCP ports of the first connection; 3 seq: what the stack
//             expects plus the field's low byte, or (bit 4) plus its low 16
//             bits less 32768; 5-6 ack: the same from the end of what the
//             stack sent; 7 the TCP checksum)
//   1 segment ctrl, flags, window16, delta16 seq, delta16 ack, optlen, opts,
//             paylen16, payload: a TCP segment built from the fields;
//             ctrl bits 0-1 which peer connection; 2-3 seq (0 what the stack
//             expects, 1 that plus delta, 2 minus delta, 3 raw); 4-5 ack
//             (0 all the stack sent, 1 minus delta, 2 plus delta, 3 raw);
//             6 a valid timestamp option first; 7 a wrong checksum
//   2 time    b: the clock moves on by (b % 32 + 1) units of
//             1 ms, 10 ms, 100 ms, 1 s, 10 s, 60 s, 600 s or 3600 s (b / 32),
//             in eight steps, the stack polled after each
//   3 app     which, arg: an application call on connection which / 8
//             (which % 8: send 2^(arg % 18) bytes, consume what is held,
//             shutdown, close, abort, set the receive buffer, connect a
//             new connection, switch echo on or off)
//   4 syn     a new peer connection: SYN from another port, then its ACK
//   5 ack     the peer acknowledges everything on every connection
//   6 arp     op, sender-ip byte, target-ip byte: an ARP request or reply
//   7 ping    len, bytes: an ICMP echo request with that payload
//
// Build (clang only): ninja -C build-asan test/fuzz/fuzz_stack; see
// doc/testing.md for running and reproducing.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "api/tcp_api.hpp"
#include "drivers/memwire.hpp"
#include "drivers/port.hpp"
#include "netif/mbuf_pool.hpp"
#include "stack/lcore.hpp"
#include "stack/stack.hpp"
#include "wire/arp.hpp"
#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"
#include "wire/tcp_options.hpp"

using namespace lanetcp;
using wire::Ipv4Addr;
using wire::MacAddr;
using wire::SeqNum;

namespace {

constexpr unsigned kPoolSize = 1023;
constexpr std::size_t kMaxFrame = 1514;
constexpr std::size_t kMaxPeers = 4;
constexpr std::uint16_t kListenPort = 7;
constexpr std::uint16_t kRemotePort = 80; // active opens go here
const Ipv4Addr kStackIp{0x0a090001};      // 10.9.0.1
const Ipv4Addr kPeerIp{0x0a090002};       // 10.9.0.2
const MacAddr kPeerMac{{0x02, 0, 0, 0, 0, 0x02}};

// Reads the input front to back; past its end every read is zero.
struct Reader {
    const std::uint8_t* p;
    std::size_t n;
    bool empty() const { return n == 0; }
    std::uint8_t u8() {
        if (n == 0) return 0;
        --n;
        return *p++;
    }
    std::uint16_t u16() {
        const unsigned hi = u8();
        return static_cast<std::uint16_t>(hi << 8 | u8());
    }
    std::size_t take(std::uint8_t* out, std::size_t want) {
        std::size_t k = std::min(want, n);
        if (k != 0) std::memcpy(out, p, k);
        std::memset(out + k, 0x5a, want - k);
        p += k;
        n -= k;
        return want;
    }
};

// What the fuzzer's side knows of one connection, learnt from the stack's
// segments.
struct Peer {
    bool used = false;
    std::uint16_t port = 0;       // ours (the peer's)
    std::uint16_t stack_port = 0; // the stack's
    SeqNum iss{};
    SeqNum snd_nxt{};             // what we sent so far
    bool have_stack = false;
    SeqNum stack_iss{};           // from its SYN or SYN-ACK
    SeqNum stack_seq_max{};       // end of what the stack sent
    SeqNum stack_ack{};           // what it last acknowledged (its RCV.NXT)
    std::uint32_t stack_tsval = 0;
};

// One application session per accepted or opened connection.
struct Session {
    tcp::Connection* conn = nullptr;
    std::deque<tcp::Chunk> held; // received, not consumed
    bool echo = false;
    bool sink = false;

    void release_held() {
        for (auto& c : held) c.release();
        held.clear();
    }
};

struct Fixed {
    std::string name = "fz" + std::to_string(::getpid());
    std::unique_ptr<drivers::MemWire> wire;
    rte_mempool* pool = nullptr;
    drivers::PortInfo port_a, port_b;
    tcp::IsnGenerator::Key isn_key{};
};
Fixed* fixed = nullptr;
// FUZZ_STACK_VERBOSE=1: print the connections at the end of each input.
bool verbose = false;

const tcp::ConnectionHandler kHandler{
    .on_established = nullptr,
    .on_data =
        [](tcp::Connection& c, tcp::Chunk d, void* u) {
            auto& s = *static_cast<Session*>(u);
            if (s.sink) {
                c.consumed(d.length);
                d.release();
                return;
            }
            if (s.echo) {
                const std::uint32_t len = d.length;
                if (c.send(d) == 0) {
                    c.consumed(len);
                    return;
                }
            }
            s.held.push_back(d);
        },
    .on_peer_fin = [](tcp::Connection&, void*) {},
    .on_writable = nullptr,
    .on_closed =
        [](tcp::Connection&, int, void* u) {
            auto& s = *static_cast<Session*>(u);
            s.release_held();
            s.conn = nullptr;
        },
};

struct World {
    Config config;
    std::unique_ptr<Lcore> lcore;
    std::deque<Session> sessions; // stable addresses
    Peer peers[kMaxPeers];
    std::uint16_t next_peer_port = 40000;
    std::uint8_t scenario = 0;
    bool offer_ts = false, offer_sack = false, offer_ws = false;

    explicit World(std::uint8_t scenario_byte) : scenario(scenario_byte) {
        offer_ts = scenario & 2;
        offer_sack = scenario & 4;
        offer_ws = scenario & 8;
        config.interface.address = wire::Ipv4Prefix{kStackIp, 24};
        config.arp.static_entries.push_back({kPeerIp, kPeerMac});
        // Small tables: they are built for every input.
        config.arp.params.max_entries = 16;
        config.arp.params.max_pending = 8;
        tcp::TcpConfig& t = config.tcp;
        t.max_connections = 8;
        t.chunk_pool = 512;
        t.reassembly_segments = 64;
        t.syn_backlog = 4;
        switch (scenario >> 6) {
        case 0: break;
        case 1: t.receive_buffer = t.send_buffer = 4096; break;
        case 2: t.receive_buffer = 65535; t.send_buffer = 16384; break;
        case 3: t.receive_buffer = 1024 * 1024; t.reassembly_segments = 16; break;
        }
        LcoreParams lp;
        lp.interface.port_id = fixed->port_a.port_id;
        lp.interface.mac = fixed->port_a.mac;
        lp.interface.address = *config.interface.address;
        lp.pool = fixed->pool;
        lp.clock = Clock::manual(1000 * kNsPerSec);
        lp.isn_key = &fixed->isn_key;
        lcore = std::make_unique<Lcore>(lp, config);
    }

    TimeNs now() { return lcore->clock().now(); }
    std::uint32_t ts_now() { return static_cast<std::uint32_t>(now() / kNsPerMs); }

    Session& new_session() {
        Session& s = sessions.emplace_back();
        const unsigned app = (scenario >> 4) & 3;
        s.echo = app == 0;
        s.sink = app == 2;
        return s;
    }

    Peer* peer_by_ports(std::uint16_t stack_port, std::uint16_t peer_port) {
        for (Peer& p : peers)
            if (p.used && p.port == peer_port && (p.stack_port == stack_port || p.stack_port == 0)) return &p;
        return nullptr;
    }

    // Every frame the stack sent: learn sequence numbers, then free.
    void drain_output() {
        rte_mbuf* out[32];
        for (;;) {
            const std::uint16_t n = rte_eth_rx_burst(fixed->port_b.port_id, 0, out, 32);
            for (std::uint16_t i = 0; i < n; ++i) {
                learn(out[i]);
                rte_pktmbuf_free(out[i]);
            }
            if (n < 32) return;
        }
    }

    void learn(rte_mbuf* m) {
        if (m->nb_segs != 1) {
            // Chained (headers + indirect data): linearise for parsing.
            std::uint8_t buf[kMaxFrame + 64];
            const std::uint32_t len = std::min<std::uint32_t>(rte_pktmbuf_pkt_len(m), sizeof buf);
            const void* p = rte_pktmbuf_read(m, 0, len, buf);
            if (p != nullptr) learn_bytes(static_cast<const std::uint8_t*>(p), len);
            return;
        }
        learn_bytes(rte_pktmbuf_mtod(m, const std::uint8_t*), rte_pktmbuf_data_len(m));
    }

    void learn_bytes(const std::uint8_t* data, std::size_t len) {
        auto eth = wire::EthernetView::parse(wire::bytes{data, len});
        if (!eth || eth->ethertype() != wire::ethertype::ipv4) return;
        auto ip = wire::Ipv4View::parse(eth->payload(), wire::Ipv4View::Checksum::skip);
        if (!ip || ip->protocol() != wire::ipproto::tcp) return;
        auto seg = wire::TcpView::parse(ip->payload());
        if (!seg) return;
        Peer* p = peer_by_ports(seg->src_port(), seg->dst_port());
        if (p == nullptr) return;
        if (p->stack_port == 0) p->stack_port = seg->src_port();
        const SeqNum end = seg->seq() + seg->sequence_length();
        if (!p->have_stack || wire::seq_lt(p->stack_seq_max, end)) p->stack_seq_max = end;
        if (seg->flags().ack()) p->stack_ack = seg->ack();
        if (seg->flags().syn()) p->stack_iss = seg->seq();
        p->have_stack = true;
        if (auto o = wire::TcpOptions::parse(seg->options()); o && o->timestamps)
            p->stack_tsval = o->timestamps->value;
    }

    // Polls until the stack has nothing more to do.
    void run() {
        for (int turn = 0; turn < 256; ++turn) {
            const unsigned n = lcore->poll_once();
            drain_output();
            if (n == 0 && fixed->wire->in_flight() == 0) break;
        }
        check_send_sequence();
    }

    // SND.UNA <= SND.NXT <= SND.MAX on every connection (RFC 9293 3.3.1 and
    // the highest sent): a SND.NXT past SND.MAX once made the loss scan
    // resend bytes never sent, forever.
    void check_send_sequence() const {
        for (const Session& s : sessions) {
            if (s.conn == nullptr) continue;
            const SeqNum una = s.conn->snd_una(), nxt = s.conn->snd_nxt(), max = s.conn->snd_max();
            if (wire::seq_leq(una, nxt) && wire::seq_leq(nxt, max)) continue;
            std::fprintf(stderr, "fuzz_stack: send sequence out of order: una %u nxt %u max %u\n", una.raw(),
                         nxt.raw(), max.raw());
            std::abort();
        }
    }

    void inject(const std::uint8_t* frame, std::size_t len) {
        rte_mbuf* m = rte_pktmbuf_alloc(fixed->pool);
        if (m == nullptr) return; // the stack holds the whole pool: nothing to send with
        char* d = rte_pktmbuf_append(m, static_cast<std::uint16_t>(len));
        if (d == nullptr) {
            rte_pktmbuf_free(m);
            return;
        }
        std::memcpy(d, frame, len);
        if (rte_eth_tx_burst(fixed->port_b.port_id, 0, &m, 1) != 1) rte_pktmbuf_free(m);
        run();
    }

    // ---- building frames ----

    static void eth_header(std::uint8_t* f, MacAddr dst) { wire::emit_ethernet(f, dst, kPeerMac, wire::ethertype::ipv4); }

    void ip_header(std::uint8_t* f, std::size_t ip_payload, std::uint8_t proto) {
        wire::Ipv4Fields ip;
        ip.src = kPeerIp;
        ip.dst = kStackIp;
        ip.protocol = proto;
        ip.payload_length = static_cast<std::uint16_t>(ip_payload);
        wire::emit_ipv4(f + wire::kEthernetHeaderLen, ip);
    }

    std::size_t ts_option(std::uint8_t* o, const Peer& p) {
        wire::TcpOptions opts;
        opts.timestamps = wire::TcpTimestamps{ts_now(), p.stack_tsval};
        return wire::emit_tcp_options(o, opts);
    }

    SeqNum pick_seq(const Peer& p, unsigned mode, std::uint16_t delta) {
        const SeqNum expected = p.have_stack ? p.stack_ack : p.snd_nxt;
        switch (mode & 3) {
        case 0: return expected;
        case 1: return expected + delta;
        case 2: return expected - delta;
        default: return p.iss + delta; // as a script's relative numbers
        }
    }
    SeqNum pick_ack(const Peer& p, unsigned mode, std::uint16_t delta) {
        switch (mode & 3) {
        case 0: return p.stack_seq_max;
        case 1: return p.stack_seq_max - delta;
        case 2: return p.stack_seq_max + delta;
        default: return p.stack_iss + delta;
        }
    }

    // A segment from peer `p`: header, `options` (padded), `payload`.
    void send_segment(Peer& p, wire::TcpFlags flags, SeqNum seq, SeqNum ack, std::uint16_t window,
                      const std::uint8_t* options, std::size_t optlen, const std::uint8_t* payload,
                      std::size_t paylen, bool bad_checksum = false) {
        std::uint8_t f[kMaxFrame];
        optlen = std::min<std::size_t>(optlen, wire::kTcpMaxOptionsLen) & ~std::size_t{3};
        const std::size_t tcp_off = wire::kEthernetHeaderLen + wire::kIpv4MinHeaderLen;
        paylen = std::min(paylen, kMaxFrame - tcp_off - wire::kTcpMinHeaderLen - optlen);
        eth_header(f, fixed->port_a.mac);
        wire::TcpFields t;
        t.src_port = p.port;
        t.dst_port = p.stack_port;
        t.seq = seq;
        t.ack = ack;
        t.flags = flags;
        t.window = window;
        t.options_length = static_cast<std::uint8_t>(optlen);
        const std::size_t hl = wire::emit_tcp(f + tcp_off, t);
        if (optlen != 0) std::memcpy(f + tcp_off + wire::kTcpMinHeaderLen, options, optlen);
        if (paylen != 0) std::memcpy(f + tcp_off + hl, payload, paylen);
        const std::size_t seg_len = hl + paylen;
        ip_header(f, seg_len, wire::ipproto::tcp);
        wire::fill_tcp_checksum(kPeerIp, kStackIp, wire::mutable_bytes{f + tcp_off, seg_len});
        if (bad_checksum) f[tcp_off + 16] ^= 0x40;
        const SeqNum end = seq + static_cast<std::uint32_t>(paylen) + (flags.syn() ? 1u : 0u) + (flags.fin() ? 1u : 0u);
        if (wire::seq_lt(p.snd_nxt, end)) p.snd_nxt = end;
        inject(f, std::max<std::size_t>(tcp_off + seg_len, wire::kEthernetMinFrameLen));
    }

    std::size_t syn_options(std::uint8_t* o, const Peer& p) {
        wire::TcpOptions opts;
        opts.mss = 1460;
        opts.sack_permitted = offer_sack;
        if (offer_ws) opts.window_scale = 7;
        if (offer_ts) opts.timestamps = wire::TcpTimestamps{ts_now(), p.stack_tsval};
        return wire::emit_tcp_options(o, opts);
    }

    void ack_all(Peer& p) {
        if (!p.used || !p.have_stack) return;
        std::uint8_t o[wire::kTcpMaxOptionsLen];
        const std::size_t ol = offer_ts ? ts_option(o, p) : 0;
        send_segment(p, wire::tcpflag::ack, pick_seq(p, 0, 0), p.stack_seq_max, 65535, o, ol, nullptr, 0);
    }

    Peer* free_peer() {
        for (Peer& p : peers)
            if (!p.used) return &p;
        return nullptr;
    }

    // A passive open: SYN to the listener, the SYN-ACK, our ACK.
    void passive_open() {
        Peer* p = free_peer();
        if (p == nullptr) return;
        *p = Peer{};
        p->used = true;
        p->port = next_peer_port++;
        p->stack_port = kListenPort;
        p->iss = SeqNum{0x10000000u + p->port * 7919u};
        p->snd_nxt = p->iss;
        std::uint8_t o[wire::kTcpMaxOptionsLen];
        const std::size_t ol = syn_options(o, *p);
        send_segment(*p, wire::tcpflag::syn, p->iss, SeqNum{0}, 65535, o, ol, nullptr, 0);
        ack_all(*p);
    }

    // An active open: connect(), the peer's SYN-ACK, the stack's ACK.
    void active_open() {
        Peer* p = free_peer();
        if (p == nullptr) return;
        Session& s = new_session();
        int err = 0;
        s.conn = lcore->tcp().connect(kPeerIp, kRemotePort, &kHandler, &s, now(), &err);
        if (s.conn == nullptr) return;
        *p = Peer{};
        p->used = true;
        p->port = kRemotePort;
        p->stack_port = s.conn->tuple().local_port;
        p->iss = SeqNum{0x20000000u + p->stack_port * 7919u};
        p->snd_nxt = p->iss;
        run(); // the SYN
        if (!p->have_stack) return;
        std::uint8_t o[wire::kTcpMaxOptionsLen];
        const std::size_t ol = syn_options(o, *p);
        send_segment(*p, wire::tcpflag::syn | wire::tcpflag::ack, p->iss, p->stack_seq_max, 65535, o, ol, nullptr, 0);
    }

    // ---- operations ----

    void op_frame(Reader& r) {
        const std::uint8_t ctrl = r.u8();
        const std::size_t len = std::min<std::size_t>(r.u16(), kMaxFrame);
        std::uint8_t f[kMaxFrame];
        r.take(f, len);
        const std::size_t tcp_off = wire::kEthernetHeaderLen + wire::kIpv4MinHeaderLen;
        if ((ctrl & 1) && len >= wire::kEthernetHeaderLen) {
            fixed->port_a.mac.store(f);
            kPeerMac.store(f + 6);
        }
        if ((ctrl & 2) && len >= tcp_off) {
            // A plain 20-byte header over whatever was there; protocol kept.
            const std::uint8_t proto = f[wire::kEthernetHeaderLen + 9];
            f[12] = 0x08;
            f[13] = 0x00;
            ip_header(f, len - tcp_off, proto);
        }
        Peer& p = peers[0];
        if (len >= tcp_off + wire::kTcpMinHeaderLen && f[wire::kEthernetHeaderLen + 9] == wire::ipproto::tcp) {
            std::uint8_t* t = f + tcp_off;
            if ((ctrl & 4) && p.used) {
                wire::store_be16(t, p.port);
                wire::store_be16(t + 2, p.stack_port);
            }
            // Near the window: the field's low 8 bits on, or +-32 K.
            auto near = [](std::uint32_t field, bool wide) {
                return wide ? (field & 0xffffu) - 0x8000u : field & 0xffu;
            };
            if (ctrl & 0x08)
                wire::store_be32(t + 4, (pick_seq(p, 0, 0) + near(wire::load_be32(t + 4), ctrl & 0x10)).raw());
            if (ctrl & 0x20)
                wire::store_be32(t + 8, (p.stack_seq_max + near(wire::load_be32(t + 8), ctrl & 0x40)).raw());
            if (ctrl & 0x80) {
                const std::size_t ip_total = wire::load_be16(f + wire::kEthernetHeaderLen + 2);
                const std::size_t ihl = (f[wire::kEthernetHeaderLen] & 15u) * 4;
                if (ihl >= wire::kIpv4MinHeaderLen && ip_total >= ihl + wire::kTcpMinHeaderLen &&
                    wire::kEthernetHeaderLen + ip_total <= len) {
                    std::uint8_t* seg = f + wire::kEthernetHeaderLen + ihl;
                    wire::fill_tcp_checksum(Ipv4Addr::load(f + wire::kEthernetHeaderLen + 12),
                                            Ipv4Addr::load(f + wire::kEthernetHeaderLen + 16),
                                            wire::mutable_bytes{seg, ip_total - ihl});
                }
            }
        }
        inject(f, len);
    }

    void op_segment(Reader& r) {
        const std::uint8_t ctrl = r.u8();
        const wire::TcpFlags flags{r.u8()};
        const std::uint16_t window = r.u16();
        const std::uint16_t dseq = r.u16();
        const std::uint16_t dack = r.u16();
        std::uint8_t opts[wire::kTcpMaxOptionsLen + 4] = {};
        std::size_t ol = 0;
        Peer& p = peers[ctrl & 3];
        if (ctrl & 0x40) ol = ts_option(opts, p);
        const std::size_t fuzzed = std::min<std::size_t>(r.u8(), wire::kTcpMaxOptionsLen);
        std::uint8_t tmp[wire::kTcpMaxOptionsLen];
        r.take(tmp, fuzzed);
        const std::size_t room = wire::kTcpMaxOptionsLen - ol;
        const std::size_t extra = std::min(fuzzed, room);
        std::memcpy(opts + ol, tmp, extra);
        ol += extra;
        while (ol % 4 != 0) opts[ol++] = wire::tcpopt::eol;
        const std::size_t paylen = std::min<std::size_t>(r.u16(), 1460);
        std::uint8_t payload[1460];
        r.take(payload, paylen);
        if (!p.used) return;
        send_segment(p, flags, pick_seq(p, ctrl >> 2, dseq), pick_ack(p, ctrl >> 4, dack), window, opts, ol, payload,
                     paylen, ctrl & 0x80);
    }

    void op_time(Reader& r) {
        static constexpr TimeNs kUnits[8] = {kNsPerMs,       10 * kNsPerMs,  100 * kNsPerMs,  kNsPerSec,
                                             10 * kNsPerSec, 60 * kNsPerSec, 600 * kNsPerSec, 3600 * kNsPerSec};
        const std::uint8_t b = r.u8();
        const TimeNs total = (b % 32 + 1) * kUnits[b / 32];
        for (int i = 0; i < 8; ++i) {
            lcore->clock().advance(total / 8);
            run();
        }
    }

    void op_app(Reader& r) {
        const std::uint8_t which = r.u8();
        const std::uint8_t arg = r.u8();
        if ((which & 7) == 6) {
            active_open();
            return;
        }
        if (sessions.empty()) return;
        Session& s = sessions[(which >> 3) % sessions.size()];
        if ((which & 7) == 7) {
            s.echo = !s.echo;
            return;
        }
        if ((which & 7) == 1) {
            // Consume what is held: the window reopens.
            while (!s.held.empty()) {
                tcp::Chunk c = s.held.front();
                s.held.pop_front();
                const std::uint32_t len = c.length;
                c.release();
                if (s.conn != nullptr) s.conn->consumed(len);
            }
            run();
            return;
        }
        if (s.conn == nullptr) return;
        switch (which & 7) {
        case 0: {
            static std::uint8_t data[1u << 17];
            const std::size_t len = std::size_t{1} << (arg % 18);
            api::send_bytes(*s.conn, fixed->pool, data, len);
            break;
        }
        case 2: s.conn->shutdown(); break;
        case 3:
            s.conn->close();
            s.conn = nullptr;
            s.release_held(); // close(): no more callbacks, the data is ours to drop
            break;
        case 4:
            s.conn->abort();
            s.conn = nullptr;
            s.release_held();
            break;
        case 5: s.conn->set_receive_buffer(std::uint32_t{arg} * 1024); break;
        }
        run();
    }

    void op_arp(Reader& r) {
        const std::uint8_t op = r.u8();
        const std::uint8_t sender = r.u8();
        const std::uint8_t target = r.u8();
        std::uint8_t f[wire::kEthernetMinFrameLen] = {};
        const bool request = (op & 1) == 0;
        wire::emit_ethernet(f, request && (op & 2) ? MacAddr::broadcast() : fixed->port_a.mac, kPeerMac,
                            wire::ethertype::arp);
        std::uint8_t* a = f + wire::kEthernetHeaderLen;
        wire::store_be16(a, 1);
        wire::store_be16(a + 2, wire::ethertype::ipv4);
        a[4] = 6;
        a[5] = 4;
        wire::store_be16(a + 6, request ? 1 : 2);
        MacAddr smac = kPeerMac;
        smac.b[5] = static_cast<std::uint8_t>(op >> 2);
        smac.store(a + 8);
        Ipv4Addr{(kStackIp.v & 0xffffff00u) | sender}.store(a + 14);
        if (!request) fixed->port_a.mac.store(a + 18);
        Ipv4Addr{(kStackIp.v & 0xffffff00u) | target}.store(a + 24);
        inject(f, sizeof f);
    }

    void op_ping(Reader& r) {
        const std::size_t len = std::min<std::size_t>(r.u8(), 255);
        std::uint8_t f[wire::kEthernetHeaderLen + wire::kIpv4MinHeaderLen + 8 + 256] = {};
        const std::size_t icmp_off = wire::kEthernetHeaderLen + wire::kIpv4MinHeaderLen;
        eth_header(f, fixed->port_a.mac);
        std::uint8_t* icmp = f + icmp_off;
        icmp[0] = 8; // echo request
        wire::store_be16(icmp + 4, 0x1234);
        wire::store_be16(icmp + 6, 1);
        r.take(icmp + 8, len);
        wire::store_be16(icmp + 2, wire::internet_checksum(icmp, 8 + len));
        ip_header(f, 8 + len, wire::ipproto::icmp);
        inject(f, std::max<std::size_t>(icmp_off + 8 + len, wire::kEthernetMinFrameLen));
    }

    void play(Reader& r) {
        if (scenario & 1)
            active_open();
        else
            passive_open();
        for (int ops = 0; !r.empty() && ops < 4096; ++ops) {
            switch (r.u8() & 7) {
            case 0: op_frame(r); break;
            case 1: op_segment(r); break;
            case 2: op_time(r); break;
            case 3: op_app(r); break;
            case 4: passive_open(); break;
            case 5:
                for (Peer& p : peers) ack_all(p);
                break;
            case 6: op_arp(r); break;
            case 7: op_ping(r); break;
            }
        }
    }

    // Releases everything; every mbuf must be home.
    void finish() {
        if (verbose) {
            const std::string text = lcore->describe_connections();
            std::fprintf(stderr, "%s", text.c_str());
        }
        for (Session& s : sessions) s.release_held();
        lcore.reset();
        drain_output();
        const unsigned in_use = mbufs_in_use(fixed->pool);
        if (in_use != 0) {
            std::fprintf(stderr, "fuzz_stack: %u mbuf(s) not back in the pool after the input\n", in_use);
            std::abort();
        }
    }
};

void listen_on(World& w) {
    int err = 0;
    w.lcore->tcp().listen(
        kListenPort,
        [](tcp::Connection& c, void* u) {
            auto& wd = *static_cast<World*>(u);
            Session& s = wd.new_session();
            s.conn = &c;
            c.set_handler(&kHandler, &s);
        },
        &w, &err);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fixed = new Fixed;
    verbose = std::getenv("FUZZ_STACK_VERBOSE") != nullptr;
    const std::string prefix = "lt_fuzz_" + std::to_string(::getpid());
    init_eal({"lanetcp-fuzz", "--no-huge", "-m", "128", "--no-pci", "-l", "0", "--no-telemetry", "--no-shconf",
              "--log-level", "*:error", "--file-prefix", prefix});
    fixed->wire = std::make_unique<drivers::MemWire>(fixed->name, 1, 1024);
    fixed->pool = create_mbuf_pool(fixed->name + "_pool", kPoolSize, 0, 1500);
    auto start = [](std::uint16_t port) {
        drivers::PortParams p;
        p.port_id = port;
        p.rx_pools = {fixed->pool};
        return drivers::start_port(p);
    };
    fixed->port_a = start(fixed->wire->port_a());
    fixed->port_b = start(fixed->wire->port_b());
    // EAL's runtime directory (empty with --no-shconf) goes at exit.
    std::atexit([] { ::rmdir(rte_eal_get_runtime_dir()); });
    for (std::size_t i = 0; i < fixed->isn_key.size(); ++i) fixed->isn_key[i] = static_cast<std::uint8_t>(i * 37 + 1);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    Reader r{data, size};
    World w(r.u8());
    listen_on(w);
    w.play(r);
    w.finish();
    return 0;
}
