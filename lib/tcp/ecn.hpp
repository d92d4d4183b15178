// Explicit Congestion Notification (RFC 3168) with Linux's net.ipv4.tcp_ecn
// semantics (EcnMode in tcp_config.hpp): 0 off, 1 ask on active opens and
// accept on passive ones, 2 accept only.
//
// The handshake (6.1.1): an ECN-setup SYN carries ECE and CWR, an
// ECN-setup SYN-ACK ECE alone; only then is the connection ECN-capable.
// Then the sender marks its new data segments ECT(0) in the IP header, never
// a retransmission, a pure ACK, a SYN, a RST or a probe (6.1.5, 6.1.6); the
// receiver, on a data segment marked CE, sets ECE on every segment it sends
// until a segment with CWR arrives (6.1.3); the sender, on an ACK with ECE,
// reduces its window at most once per window of data and sets CWR on the
// next new data segment (6.1.2), as after any other reduction.
//
// The rules are Connection's (ecn.cpp); this file holds what a connection
// keeps and the pure rule that the syncache and SYN cookies share with it.
#pragma once

#include <cstdint>

#include "tcp/segment.hpp"
#include "tcp/tcp_config.hpp"
#include "wire/ipv4.hpp"

namespace lanetcp::tcp {

// One connection's ECN state (Linux's tp->ecn_flags, spelled out).
struct EcnState {
    bool ok = false;         // the handshake agreed on ECN
    bool requested = false;  // our SYN asked for it (active open, EcnMode::request)
    // Receiver: a CE arrived; ECE on everything we send until the peer's CWR.
    bool demand_cwr = false;
    // Sender: the window was reduced; CWR on the next new data segment.
    bool queue_cwr = false;
    // Sender: an ECE reduction (or a loss episode that stood for one) was
    // made at SND.MAX = reduced_until; ECEs are not acted on again until
    // an ACK passes it.
    bool reduced = false;
    wire::SeqNum reduced_until{};
    // The loss episode (RecoveryState::recover) whose reduction the last
    // CWR announced: a new episode queues a CWR too (RFC 3168 6.1.2,
    // "reduces its congestion window for any reason").
    wire::SeqNum cwr_episode{};
};

// RFC 3168 6.1.1: an ECN-setup SYN has ECE and CWR set.
constexpr bool ecn_setup_syn(TcpFlags f) noexcept { return f.ece() && f.cwr(); }

// An ECN-setup SYN-ACK has ECE and not CWR (Linux's tcp_ecn_rcv_synack).
constexpr bool ecn_setup_synack(TcpFlags f) noexcept { return f.ece() && !f.cwr(); }

// Whether a passive open with `mode` makes the connection ECN-capable for
// `syn` (Linux's tcp_ecn_create_request): the SYN asks, ECN is not off, and
// the SYN is not itself ECT-marked: a SYN must never be (RFC 3168 6.1.1),
// so one that is comes from a broken sender or path, and ECN stays off.
constexpr bool ecn_accept_syn(EcnMode mode, const InSegment& syn) noexcept {
    return mode != EcnMode::off && ecn_setup_syn(syn.flags) && syn.ecn == wire::ecn::not_ect;
}

} // namespace lanetcp::tcp
