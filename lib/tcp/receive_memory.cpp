// Receive memory: received data is charged by what it pins (Chunk::truesize),
// in order (delivered, not yet consumed) and out of order, against twice the
// receive buffer per connection and the lcore's TcpMemory. Linux's
// tcp_try_rmem_schedule, tcp_collapse and tcp_prune_ofo_queue do the same
// for skbs: a peer sending one byte per segment fills the buffer by memory
// long before it fills the window by bytes.
#include <algorithm>

#include "tcp/connection.hpp"
#include "tcp/tcp_layer.hpp"

namespace lanetcp::tcp {

const TcpMemory Connection::kNoMemoryBound{};

bool Connection::rcv_mem_fits(std::uint32_t charge) const noexcept {
    if (rcv_mem() + charge > rcv_mem_limit()) return false;
    // Past the lcore's limit only a connection that holds nothing takes a
    // segment: every reader still makes progress, and none can take the
    // reserve that received frames and control segments need.
    return rcv_mem() == 0 || !layer_->memory().exceeds(mem_unsynced(), charge);
}

void Connection::compact(Chunk& c) noexcept {
    if (layer_->memory().compact(layer_->output(), c)) layer_->counters().tcp_collapsed_segments.add();
}

bool Connection::admit_under_pressure(SeqNum seq, Chunk& data) noexcept {
    // Small segments each in a whole mbuf: copied out on arrival once memory
    // matters (a quarter of the connection's limit, or lcore pressure), so a
    // flood of them pins a few compact buffers, not an mbuf apiece.
    compact(data);
    if (rcv_mem_fits(data.charge())) return true;
    // tcp_prune_queue: collapse what is held out of order, then give up held
    // data from the far end, after this segment (RFC 2018 8 lets a receiver
    // discard what it SACKed; the blocks it reports come from the queue).
    reassembly_.compact_each([this](Chunk& c) { compact(c); });
    if (rcv_mem_fits(data.charge())) return true;
    const std::uint32_t others = rcv_.unconsumed_mem + data.charge();
    const std::uint32_t target = rcv_mem_limit() > others ? rcv_mem_limit() - others : 0;
    const std::uint32_t pruned = reassembly_.prune(seq, target, layer_->held_segments());
    if (pruned > 0) layer_->counters().drop(Drop::tcp_ofo_pruned, pruned);
    return rcv_mem_fits(data.charge());
}

} // namespace lanetcp::tcp
