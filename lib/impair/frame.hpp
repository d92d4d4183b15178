// What the impairment model does to the bytes of an Ethernet frame carrying
// IPv4, for wires that carry real frames (drivers/impaired_rx.hpp). `frame`
// and `len` are the bytes the caller may write: an mbuf's first segment, which
// holds every header.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lanetcp::impair {

// The frame is IPv4 with ECN field ECT(0) or ECT(1) (RFC 3168 5).
bool frame_ect(const std::uint8_t* frame, std::size_t len) noexcept;

// Sets the ECN field of an ECT frame to CE (11) and updates the IPv4 header
// checksum (RFC 1624). False, frame unchanged, if it is not IPv4 ECT.
bool frame_mark_ce(std::uint8_t* frame, std::size_t len) noexcept;

// Flips one byte after the IPv4 header, chosen by `bits`: in the TCP payload
// when the frame holds some, else in the TCP header (any byte after the IPv4
// header for other protocols), so that the receiver's TCP (ICMP) checksum
// catches it. The mask is never zero. False, frame unchanged, if the frame is
// not IPv4 or has nothing after its IP header.
bool frame_corrupt(std::uint8_t* frame, std::size_t len, std::uint64_t bits) noexcept;

} // namespace lanetcp::impair
