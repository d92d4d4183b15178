// What the application calls (FreeBSD's tcp_usrreq): send, consumed,
// shutdown, close, abort; and delivery of the events gathered meanwhile.

#include "tcp/connection.hpp"

#include <algorithm>
#include <cerrno>

#include "tcp/tcp_layer.hpp"

namespace lanetcp::tcp {

using wire::seq_diff;
using wire::seq_geq;
using wire::seq_gt;
using wire::seq_leq;
using wire::seq_lt;
namespace tf = wire::tcpflag;

void Connection::set_keepalive(bool on, TimeNs idle, TimeNs interval, std::uint32_t count) noexcept {
    keepalive_ = on;
    keepalive_idle_ = std::max<TimeNs>(idle, kNsPerMs);
    keepalive_interval_ = std::max<TimeNs>(interval, kNsPerMs);
    keepalive_count_ = count;
    keepalive_probes_ = 0;
    if (!on) {
        layer_->timers().cancel(keepalive_timer_);
        return;
    }
    if (last_received_ == 0) last_received_ = layer_->now();
    layer_->timers().arm(keepalive_timer_, std::max(last_received_ + keepalive_idle_, layer_->now() + kNsPerMs));
}

int Connection::set_congestion_control(cc::Algorithm a) noexcept {
    if (!cc::valid(a)) return -EINVAL;
    opts_.congestion_control = a; // before the handshake: what init() will take
    cc_.change(a, layer_->now());
    return 0;
}

int Connection::send(Chunk data) noexcept {
    if (app_closed_ || snd_.fin_queued ||
        (state_ != State::established && state_ != State::close_wait && state_ != State::syn_sent &&
         state_ != State::syn_received))
        return -EPIPE;
    if (data.length > send_space()) return -EAGAIN;
    // By memory too, so that a peer that never opens its window pins at most
    // twice the send buffer, and the lcore's limit holds (Linux's
    // sk_stream_memory_free). An empty queue always takes one chunk: the
    // ACKs that an on_writable waits for need something in flight.
    if (!send_queue_.empty() &&
        (send_queue_.mem() + data.charge() > snd_mem_limit() ||
         layer_->memory().exceeds(mem_unsynced(), data.charge())))
        return -EAGAIN;
    if (data.length == 0) {
        data.release();
        return 0;
    }
    ChunkNode* node = layer_->chunks().get();
    if (node == nullptr) return -ENOBUFS;
    node->chunk = data;
    send_queue_.push_back(*node);
    layer_->end_app_call(*this);
    return 0;
}

std::uint32_t Connection::send_space() const noexcept {
    const std::uint32_t limit = opts_.send_buffer;
    const std::uint32_t by_bytes = send_queue_.size() < limit ? limit - send_queue_.size() : 0;
    const std::uint32_t by_mem = send_queue_.mem() < snd_mem_limit() ? snd_mem_limit() - send_queue_.mem() : 0;
    return std::min(by_bytes, by_mem);
}

void Connection::consumed(std::uint32_t n) noexcept {
    // The memory goes with the bytes, in proportion: which chunks the
    // application let go of is its own business.
    n = std::min(n, rcv_.unconsumed);
    if (n == rcv_.unconsumed)
        rcv_.unconsumed_mem = 0; // the usual case: all of it
    else
        rcv_.unconsumed_mem -= static_cast<std::uint32_t>(std::uint64_t{rcv_.unconsumed_mem} * n / rcv_.unconsumed);
    rcv_.unconsumed -= n;
    if (!in_dispatch_) layer_->sync_memory(*this); // else the event's end does it
    if (state_ != State::established && state_ != State::fin_wait_1 && state_ != State::fin_wait_2) return;
    // Tell the peer when the window opens by a useful amount, above all out
    // of a (nearly) closed window, or it may wait for a persist probe.
    // And, as Linux's tcp_cleanup_rbuf, send the ACK for more than one full
    // segment that ack_if_window_keeps_up held back while nothing was consumed.
    const std::uint32_t current = rcv_wnd();
    const std::uint32_t free = receive_space();
    const std::uint32_t mss = layer_->local_mss();
    if (free >= current + 2u * mss || (current < mss && free >= mss) || rcv_.ack_due == AckDue::if_window_keeps_up) {
        rcv_.ack_due = AckDue::now;
        layer_->end_app_call(*this);
    }
}

void Connection::shutdown() noexcept {
    if (snd_.fin_queued) return;
    snd_.fin_queued = true;
    if (state_ == State::syn_sent) return; // the FIN follows once established
    layer_->end_app_call(*this);
}

void Connection::close() noexcept {
    if (app_closed_) return;
    app_closed_ = true;
    handler_ = nullptr;
    if (state_ == State::syn_sent || state_ == State::closed) {
        state_ = State::closed;
        dead_ = true;
    } else {
        snd_.fin_queued = true;
        if (state_ == State::fin_wait_2) layer_->timers().arm(time_wait_timer_, layer_->now() + layer_->config().time_wait);
        become_orphan(); // reset at once if the lcore has too many
    }
    layer_->end_app_call(*this);
}

void Connection::abort() noexcept {
    if (dead_) return;
    if (state_ != State::syn_sent && state_ != State::closed && state_ != State::time_wait) {
        send_control(tf::rst | tf::ack, snd_.nxt, layer_->now());
        layer_->counters().tcp_resets_sent.add();
    }
    app_closed_ = true;
    handler_ = nullptr;
    state_ = State::closed;
    dead_ = true;
    layer_->end_app_call(*this);
}

void Connection::fail(int error) noexcept {
    state_ = State::closed;
    dead_ = true;
    pending_.closed = true;
    pending_.error = error;
}

void Connection::finish() noexcept {
    // The exchange of FINs is over. The app hears of it only if it has not
    // closed (after shutdown() plus the peer's FIN, say).
    pending_.closed = true;
    pending_.error = 0;
    if (state_ == State::closed) dead_ = true;
}

void Connection::dispatch(TimeNs) noexcept {
    Pending p = pending_;
    pending_ = Pending{};
    if (p.accepted && listener_accepting_ != nullptr) {
        Listener* l = listener_accepting_;
        listener_accepting_ = nullptr;
        in_dispatch_ = true;
        if (l->on_accept != nullptr) l->on_accept(*this, l->user);
        in_dispatch_ = false;
        if (handler_ == nullptr && !app_closed_) {
            // Nobody took it: refuse, as a full accept queue would.
            p.data.release();
            abort_in_event();
            return;
        }
    }
    if (app_closed_ || handler_ == nullptr) {
        discard_undelivered(p.data);
        discard_ready();
        return;
    }
    const ConnectionHandler* h = handler_;
    in_dispatch_ = true;
    if (p.established && !p.accepted && h->on_established) h->on_established(*this, user_);
    if (p.data.length > 0) {
        if (!app_closed_ && h->on_data)
            h->on_data(*this, p.data, user_);
        else
            discard_undelivered(p.data);
    }
    // Held data the segment made contiguous, in order, after it.
    while (!ready_.empty()) {
        HeldSegment& n = ready_.front();
        ready_.pop_front();
        Chunk c = n.chunk;
        n.chunk = Chunk{};
        layer_->held_segments().put(n);
        if (!app_closed_ && h->on_data)
            h->on_data(*this, c, user_);
        else
            discard_undelivered(c);
    }
    if (p.peer_fin && !app_closed_ && h->on_peer_fin) h->on_peer_fin(*this, user_);
    if (p.writable && !app_closed_ && h->on_writable) h->on_writable(*this, user_);
    if (p.closed && !app_closed_) {
        handler_ = nullptr;
        if (h->on_closed) h->on_closed(*this, p.error, user_);
    }
    in_dispatch_ = false;
}

void Connection::discard_ready() noexcept {
    while (!ready_.empty()) {
        HeldSegment& n = ready_.front();
        ready_.pop_front();
        discard_undelivered(n.chunk);
        layer_->held_segments().put(n);
    }
}

void Connection::release_receive_state() noexcept {
    HeldSegmentPool& pool = layer_->held_segments();
    reassembly_.clear(pool);
    while (!ready_.empty()) {
        HeldSegment& n = ready_.front();
        ready_.pop_front();
        n.chunk.release();
        pool.put(n);
    }
    pending_.data.release();
}

void Connection::discard_undelivered(Chunk& data) noexcept {
    // Data we acknowledged and the application closed before seeing: RST,
    // not a FIN that tells the peer all went well (RFC 2525 2.17, Linux's
    // tcp_close with unread data).
    if (data.length > 0 && app_closed_ && !dead_) {
        layer_->counters().drop(Drop::tcp_data_after_close);
        abort_in_event();
    }
    data.release();
}

void Connection::abort_in_event() noexcept {
    if (state_ != State::closed && state_ != State::time_wait) {
        send_control(tf::rst | tf::ack, snd_.nxt, layer_->now());
        layer_->counters().tcp_resets_sent.add();
    }
    app_closed_ = true;
    state_ = State::closed;
    dead_ = true;
}

} // namespace lanetcp::tcp
