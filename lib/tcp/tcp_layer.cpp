#include "tcp/tcp_layer.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <memory>

namespace lanetcp::tcp {

namespace tf = wire::tcpflag;

TcpLayer::TcpLayer(const TcpConfig& config, TcpOutput& output, Counters& counters, const IsnGenerator::Key& key,
                   wire::Ipv4Addr local_ip, std::uint16_t mtu, TimeNs now)
    : config_(config),
      output_(output),
      counters_(counters),
      isn_(key),
      hasher_(IsnGenerator::derive_key(key, "lanetcp 4-tuple table hash")),
      cookies_(IsnGenerator::derive_key(key, "lanetcp SYN cookies")),
      local_ip_(local_ip),
      // RFC 9293 3.7.1: MTU less the fixed IPv4 and TCP headers.
      local_mss_(static_cast<std::uint16_t>(std::min<unsigned>(config.mss, mtu - 40u))),
      timers_(now),
      chunks_(config.chunk_pool),
      held_(config.reassembly_segments),
      pool_(std::make_unique<Connection[]>(config.max_connections)),
      buckets_(std::bit_ceil(std::max<std::size_t>(config.max_connections, 16))),
      table_(Table::bucket_traits(buckets_.data(), buckets_.size()), TupleHash{hasher_}),
      syncache_(config.syncache_entries, hasher_),
      now_(now),
      challenge_budget_(key),
      cc_trace_(config.trace_rows) {
    for (std::uint32_t i = 0; i < config.max_connections; ++i) free_.push_back(pool_[i]);
    memory_.configure(config.memory_pressure, config.memory_limit);
}

TcpLayer::~TcpLayer() {
    // Give back every buffer the connections hold; the pool goes with us.
    for (std::uint32_t i = 0; i < config_.max_connections; ++i) {
        Connection& c = pool_[i];
        if (c.table_hook.is_linked()) drop_resources(c);
    }
    table_.clear();
    free_.clear();
    syncache_.for_each([this](SynRequest& r) { timers_.cancel(r.timer); });
}

Connection* TcpLayer::find(const FourTuple& t) noexcept {
    // A one-entry cache in front of the table (4.4BSD's tcp_last_inpcb): the
    // segments of a burst mostly belong to one connection, and the keyed hash
    // (SipHash-2-4, about 180 instructions) is the dearest part of a lookup.
    if (last_found_ != nullptr && last_found_->tuple() == t) return last_found_;
    auto it = table_.find(t, table_.hash_function(), TupleEqual{});
    if (it == table_.end()) return nullptr;
    last_found_ = &*it;
    return last_found_;
}

Connection* TcpLayer::allocate() noexcept {
    if (free_.empty()) return nullptr;
    Connection& c = free_.front();
    free_.pop_front();
    return &c;
}

void TcpLayer::drop_resources(Connection& c) noexcept {
    timers_.cancel(c.rtx_timer_);
    timers_.cancel(c.delack_timer_);
    timers_.cancel(c.persist_timer_);
    timers_.cancel(c.time_wait_timer_);
    timers_.cancel(c.keepalive_timer_);
    c.send_queue_.clear(chunks_);
    c.release_receive_state();
}

void TcpLayer::release(Connection& c) noexcept {
    drop_resources(c);
    memory_.add(-c.mem_charged_);
    c.leave_orphans();
    if (c.listener_ != nullptr) --c.listener_->syn_received;
    if (c.table_hook.is_linked()) table_.erase(table_.iterator_to(c));
    if (last_found_ == &c) last_found_ = nullptr;
    // A fresh control block for the next user.
    std::destroy_at(&c);
    std::construct_at(&c);
    free_.push_back(c);
}

void TcpLayer::end_event(Connection& c, TimeNs now) noexcept {
    c.dispatch(now);
    if (!c.dead_) {
        c.push(now);
        if (c.rcv_.ack_due != Connection::AckDue::no) c.send_due_ack(now);
    }
    if (c.dead_)
        release(c);
    else
        sync_memory(c);
}

void TcpLayer::end_app_call(Connection& c) noexcept {
    // Inside a callback the event that called it finishes the work.
    if (c.in_dispatch_) return;
    end_event(c, now_);
}

void TcpLayer::passive_open_done(Connection& c) noexcept {
    Listener* l = c.listener_;
    c.listener_ = nullptr;
    if (l == nullptr) return; // simultaneous open: no listener involved
    --l->syn_received;
    c.listener_accepting_ = l;
    c.pending_.accepted = true;
}

void TcpLayer::input(InSegment& seg, TimeNs now) noexcept {
    now_ = now;
    counters_.tcp_rx_segments.add();
    // Combinations no stack sends (RFC 9293 leaves them undefined; Linux
    // drops SYN+RST and SYN+FIN outright).
    if (seg.flags.syn() && seg.flags.any_of(tf::rst | tf::fin)) {
        counters_.drop(Drop::tcp_bad_flags);
        seg.payload.release();
        return;
    }
    Listener* l = listener_by_port_[seg.tuple.local_port];
    if (Connection* c = find(seg.tuple)) {
        // A new SYN for a 4-tuple in TIME_WAIT, past everything the old
        // connection received, starts the new connection at once instead of
        // bouncing off the old one (RFC 9293 3.6.1 and Linux's TCP_TW_SYN). Its
        // ISS is far beyond the old one's sequence space, as Linux picks it,
        // so no old duplicate can be taken for new data.
        if (c->state() == State::time_wait && l != nullptr && seg.flags.syn() && !seg.flags.ack() &&
            wire::seq_gt(seg.seq, c->rcv_nxt())) {
            const SeqNum iss = c->snd_nxt() + 65535 + 2;
            release(*c);
            return input_listen(*l, seg, now, &iss);
        }
        c->input(seg, now);
        end_event(*c, now);
        return;
    }
    if (SynRequest* r = syncache_.find(seg.tuple)) return input_request(*r, seg, now);
    if (l != nullptr) return input_listen(*l, seg, now);
    // RFC 9293 3.10.7.1: CLOSED. Everything but a RST gets a RST.
    counters_.drop(Drop::tcp_no_listener);
    send_reset_for(seg);
    seg.payload.release();
}

void TcpLayer::input_listen(Listener& l, InSegment& seg, TimeNs now, const SeqNum* iss) noexcept {
    // RFC 9293 3.10.7.2.
    if (seg.flags.rst()) return seg.payload.release();
    if (seg.flags.ack()) {
        // The ACK that completes a cookie handshake (it may carry data).
        if (input_cookie(l, seg, now)) return;
        seg.payload.release();
        counters_.drop(Drop::tcp_no_listener);
        return send_reset_for(seg);
    }
    seg.payload.release(); // no data on a SYN (no TCP Fast Open)
    if (!seg.flags.syn()) {
        counters_.drop(Drop::tcp_bad_flags);
        return;
    }
    // A half-open connection is a request entry, bounded per listener by
    // its backlog and per lcore by the syncache; past either, a SYN cookie
    // (RFC 4987 3.6) keeps nothing at all.
    SynRequest* r = l.syn_received < l.backlog ? syncache_.insert(seg.tuple) : nullptr;
    if (r == nullptr) {
        if (config_.syncookies) return send_cookie(l, seg, now);
        counters_.drop(Drop::tcp_syn_backlog_full);
        return;
    }
    ++l.syn_received;
    r->listener = &l;
    r->iss = iss != nullptr ? *iss : isn_.next(seg.tuple, now);
    r->irs = seg.seq;
    r->synack_sent = now;
    r->retransmits = 0;
    r->resent = false;
    // Each extension is on only if both SYNs carry it (RFC 2018 2, RFC 7323
    // 2.2 and 3.2): the SYN-ACK offers only what the SYN did.
    const wire::TcpOptions& o = seg.options;
    r->peer_mss = o.mss.value_or(0);
    r->peer_window = seg.window;
    r->wscale_ok = l.options.window_scale && o.window_scale.has_value();
    r->peer_wscale = o.window_scale.value_or(0);
    r->sack_ok = l.options.sack && o.sack_permitted;
    r->ts_ok = l.options.timestamps && o.timestamps.has_value();
    r->ts_recent = r->ts_ok ? o.timestamps->value : 0;
    r->ecn_ok = ecn_accept_syn(l.options.ecn, seg);
    counters_.tcp_passive_opens.add();
    send_request_synack(*r, now);
    timers_.arm(r->timer, now + config_.initial_rto);
}

void TcpLayer::send_reset_for(const InSegment& seg) noexcept {
    if (seg.flags.rst()) return;
    OutSegment out;
    out.tuple = seg.tuple;
    if (seg.flags.ack()) {
        out.seq = seg.ack;
        out.flags = tf::rst;
    } else {
        out.seq = SeqNum{0};
        out.ack = seg.seq + seg.length();
        out.flags = tf::rst | tf::ack;
    }
    transmit(output_, out);
    counters_.tcp_tx_segments.add();
    counters_.tcp_resets_sent.add();
}

bool TcpLayer::challenge_ack_allowed(TimeNs now) noexcept {
    if (!challenge_budget_.take(now, config_.challenge_ack_limit)) {
        counters_.tcp_challenge_acks_limited.add();
        return false;
    }
    counters_.tcp_challenge_acks.add();
    return true;
}

void TcpLayer::advance(TimeNs now) noexcept {
    now_ = now;
    timers_.advance(now, [this, now](Timer& t) {
        // Applications' timers share the wheel and carry their own handler.
        if (CallbackTimer::dispatch(t, now)) return;
        if (t.kind() == kSynAckRetransmit) return on_request_timer(*t.owner_as<SynRequest>(), now);
        Connection& c = *t.owner_as<Connection>();
        c.on_timer(t.kind(), now);
        end_event(c, now);
    });
}

Listener* TcpLayer::listen(std::uint16_t port, void (*on_accept)(Connection&, void*), void* user, int* error) {
    if (listener_by_port_[port] != nullptr) {
        if (error) *error = -EADDRINUSE;
        return nullptr;
    }
    auto l = std::make_unique<Listener>();
    l->port = port;
    l->local_ip = local_ip_;
    l->on_accept = on_accept;
    l->user = user;
    l->backlog = config_.syn_backlog;
    l->options = ConnectionOptions::from(config_);
    listener_by_port_[port] = l.get();
    listeners_.push_back(std::move(l));
    if (error) *error = 0;
    return listeners_.back().get();
}

void TcpLayer::unlisten(Listener* l) noexcept {
    if (l == nullptr) return;
    // Half-open connections die with their listener (as with Linux's close
    // of a listening socket).
    for (Connection& c : table_) {
        if (c.listener_ == l) {
            c.listener_ = nullptr;
            --l->syn_received;
            c.abort_in_event();
        }
    }
    for (auto it = table_.begin(); it != table_.end();) {
        Connection& c = *it++;
        if (c.dead_) release(c);
    }
    syncache_.for_each([this, l](SynRequest& r) {
        if (r.listener != l) return;
        send_request_reset(r);
        drop_request(r);
    });
    listener_by_port_[l->port] = nullptr;
    std::erase_if(listeners_, [l](const std::unique_ptr<Listener>& p) { return p.get() == l; });
}

Connection* TcpLayer::connect(wire::Ipv4Addr remote_ip, std::uint16_t remote_port, const ConnectionHandler* handler,
                              void* user, TimeNs now, int* error, std::uint16_t local_port,
                              const ConnectionOptions* options) noexcept {
    now_ = now;
    FourTuple t{local_ip_, remote_ip, local_port, remote_port};
    if (local_port != 0) {
        if (find(t) != nullptr) {
            if (error) *error = -EADDRINUSE;
            return nullptr;
        }
    } else {
        // RFC 6056 algorithm 3: a per-destination offset, then the first free port.
        const std::uint32_t range = static_cast<std::uint32_t>(config_.ephemeral_last - config_.ephemeral_first) + 1;
        const std::uint32_t offset = isn_.port_offset(local_ip_, remote_ip, remote_port);
        bool found = false;
        for (std::uint32_t i = 0; i < range; ++i) {
            t.local_port = static_cast<std::uint16_t>(config_.ephemeral_first + (offset + next_ephemeral_ + i) % range);
            if (listener_by_port_[t.local_port] == nullptr && find(t) == nullptr) {
                next_ephemeral_ += i + 1;
                found = true;
                break;
            }
        }
        if (!found) {
            if (error) *error = -EADDRNOTAVAIL;
            return nullptr;
        }
    }
    Connection* c = allocate();
    if (c == nullptr) {
        counters_.drop(Drop::tcp_table_full);
        if (error) *error = -ENOBUFS;
        return nullptr;
    }
    c->init(*this, t, isn_.next(t, now), options != nullptr ? *options : ConnectionOptions::from(config_));
    c->set_handler(handler, user);
    table_.insert(*c);
    c->open_active(now);
    if (error) *error = 0;
    // Nothing to dispatch yet; the SYN is on its way.
    return c;
}

} // namespace lanetcp::tcp
