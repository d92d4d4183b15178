#include "httpd/http_service.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "api/tcp_glue.hpp"

namespace lanetcp::httpd {

const tcp::ConnectionHandler HttpService::kHandler{
    .on_established = nullptr,
    .on_data = &HttpService::on_data,
    .on_peer_fin = &HttpService::on_peer_fin,
    .on_writable = &HttpService::on_writable,
    .on_closed = &HttpService::on_closed,
};

HttpService::HttpService(Lcore& lcore, std::uint16_t port, const Content& content, Timeouts timeouts)
    : lcore_(lcore), content_(content), timeouts_(timeouts) {
    int error = 0;
    listener_ = lcore_.tcp().listen(port, &HttpService::on_accept, this, &error);
    if (listener_ == nullptr)
        throw std::runtime_error(fmt::format("cannot listen on TCP port {}: {}", port, std::strerror(-error)));
    reserve_ = lcore_.pool()->size / kReserveDivisor;
}

HttpService::~HttpService() {
    lcore_.tcp().unlisten(listener_);
    // The stack frees the connections themselves; give back what we hold.
    waiting_.clear();
    for (auto& s : sessions_) {
        lcore_.timers().cancel(s->timer);
        drop_held(*s);
    }
}

// ---------------------------------------------------------------- sessions

HttpService::Session* HttpService::acquire() {
    if (free_.empty()) {
        sessions_.push_back(std::make_unique<Session>());
        Session* fresh = sessions_.back().get();
        fresh->timer.bind(&HttpService::on_timer, fresh);
        free_.push_back(fresh);
    }
    Session* s = free_.back();
    free_.pop_back();
    s->service = this;
    s->start = s->end = s->scanned = 0;
    s->skip = 0;
    s->head_len = s->head_sent = 0;
    s->body = nullptr;
    s->body_len = s->body_sent = 0;
    s->requests = 0;
    s->responding = s->close_after = s->peer_done = s->lingering = false;
    s->linger_since = 0;
    s->head_deadline = 0;
    return s;
}

void HttpService::release(Session& s) {
    lcore_.timers().cancel(s.timer);
    if (s.wait_hook.is_linked()) waiting_.erase(waiting_.iterator_to(s));
    drop_held(s);
    s.conn = nullptr;
    free_.push_back(&s);
}

void HttpService::drop_held(Session& s) {
    for (tcp::Chunk& chunk : s.held) chunk.release();
    s.held.clear();
}

// --------------------------------------------------------------- callbacks

void HttpService::on_accept(tcp::Connection& c, void* self) {
    auto* service = static_cast<HttpService*>(self);
    Session* s = service->acquire();
    s->conn = &c;
    ++service->counters_.connections;
    c.set_nodelay(true); // responses are whole; no reason to hold one back
    c.set_handler(&kHandler, s);
    s->last_active = service->lcore_.clock().now();
    service->await_head(*s); // the first request's head is due from now
    service->housekeeping();
}

void HttpService::on_data(tcp::Connection& c, tcp::Chunk data, void* session) {
    auto& s = *static_cast<Session*>(session);
    HttpService& self = *s.service;
    if (s.lingering) {
        self.counters_.discarded_bytes += data.length;
        c.consumed(data.length);
        data.release();
        return;
    }
    self.counters_.bytes_received += data.length;
    self.touch(s);
    if (s.held.empty()) self.take(s, data);
    if (data.length > 0) s.held.push_back(data);
    else data.release();
    self.run(s);
    self.housekeeping();
}

void HttpService::on_peer_fin(tcp::Connection& c, void* session) {
    auto& s = *static_cast<Session*>(session);
    HttpService& self = *s.service;
    s.peer_done = true;
    ++self.counters_.closed_by_peer;
    if (s.lingering) {
        c.close();
        self.release(s);
    } else {
        self.run(s);
    }
    self.housekeeping();
}

void HttpService::on_writable(tcp::Connection&, void* session) {
    auto& s = *static_cast<Session*>(session);
    HttpService& self = *s.service;
    if (!s.lingering) self.touch(s);
    if (!s.lingering && !s.wait_hook.is_linked()) self.run(s);
    self.housekeeping();
}

void HttpService::on_closed(tcp::Connection&, int error, void* session) {
    auto& s = *static_cast<Session*>(session);
    HttpService& self = *s.service;
    if (error != 0) ++self.counters_.reset_or_timeout;
    self.release(s);
    self.housekeeping();
}

// ------------------------------------------------------------------- input

void HttpService::take(Session& s, tcp::Chunk& chunk) {
    // Make room at the end when what is left there is not enough.
    if (s.start > 0 && chunk.length > sizeof s.in - s.end) {
        std::memmove(s.in, s.in + s.start, s.end - s.start);
        s.end -= s.start;
        s.start = 0;
    }
    const std::uint32_t n = std::min<std::uint32_t>(chunk.length, static_cast<std::uint32_t>(sizeof s.in - s.end));
    if (n == 0) return;
    std::memcpy(s.in + s.end, chunk.data, n);
    s.end += n;
    chunk.trim_front(n);
    s.conn->consumed(n);
}

void HttpService::refill(Session& s) {
    while (!s.held.empty()) {
        tcp::Chunk& front = s.held.front();
        take(s, front);
        if (front.length > 0) return; // `in` is full
        front.release();
        s.held.pop_front();
    }
}

void HttpService::run(Session& s) {
    if (s.wait_hook.is_linked()) waiting_.erase(waiting_.iterator_to(s)); // back in the queue if it must wait again
    for (;;) {
        if (s.responding) {
            if (!pump(s)) return;
            s.responding = false;
            if (s.close_after) {
                linger(s);
                return;
            }
        }
        if (s.start == s.end) s.start = s.end = 0;
        refill(s);
        // A request body we do not use.
        while (s.skip > 0 && s.start < s.end) {
            const auto n = static_cast<std::uint32_t>(std::min<std::uint64_t>(s.skip, s.end - s.start));
            s.start += n;
            s.skip -= n;
            counters_.discarded_bytes += n;
            refill(s);
        }
        // Empty lines before a request line are allowed (RFC 9112 2.2).
        if (s.skip == 0 && s.start < s.end && s.scanned == 0 && (s.in[s.start] == '\r' || s.in[s.start] == '\n')) {
            const std::size_t empty = leading_empty_lines(std::string_view(s.in + s.start, s.end - s.start));
            if (empty > 0) {
                s.start += static_cast<std::uint32_t>(empty);
                continue; // refill and look again
            }
            if (s.start + 1 == s.end) { // a lone CR: its LF may follow
                if (s.peer_done) break;
                return await_head(s);
            }
            // A CR not followed by LF: the parser rejects it.
        }
        const std::string_view buffered(s.in + s.start, s.end - s.start);
        const std::size_t head_end = s.skip > 0 ? 0 : find_head_end(buffered, s.scanned);
        if (head_end == 0) {
            if (s.skip == 0 && buffered.size() >= sizeof s.in) {
                ++counters_.requests;
                respond_error(s, 431);
                continue;
            }
            if (s.peer_done) break; // nothing more will come: a partial request is dropped
            return await_head(s);
        }
        s.head_deadline = 0; // a whole head came in time
        Request req;
        const ParseStatus status = parse_head(buffered.substr(0, head_end), req);
        ++counters_.requests;
        if (s.requests++ > 0) ++counters_.keepalive_reuses;
        respond(s, req, status); // copies what it needs from `req` before the bytes go
        s.start += static_cast<std::uint32_t>(head_end);
        s.scanned = 0;
        if (status == ParseStatus::complete && !req.transfer_encoding) s.skip = req.content_length;
    }
    // The peer's FIN came and every complete request is answered.
    s.conn->close();
    release(s);
}

// ---------------------------------------------------------------- respond

std::string_view HttpService::date() {
    const std::time_t now = std::time(nullptr);
    if (now != date_time_) {
        format_date(now, date_);
        date_time_ = now;
    }
    return {date_, kDateLength};
}

void HttpService::respond(Session& s, const Request& req, ParseStatus status) {
    if (status == ParseStatus::bad_request) return respond_error(s, 400);
    if (status == ParseStatus::version_not_supported) return respond_error(s, 505);
    if (req.transfer_encoding) return respond_error(s, 501);

    ResponseHead head;
    head.keep_alive = req.keep_alive;
    head.http10 = req.version_minor == 0;
    int code = 200;
    Resource res;
    if (req.method == Method::other) {
        code = 405;
        head.allow = true;
    } else {
        std::size_t len = 0;
        switch (decode_target(req.target, path_, sizeof path_, len)) {
        case PathStatus::bad: code = 400; break;
        case PathStatus::forbidden: code = 403; break;
        case PathStatus::ok: code = content_.find(std::string_view(path_, len), res) ? 200 : 404; break;
        }
    }
    head.status = code;
    if (code != 200) res = Resource{error_body(code), "text/plain; charset=utf-8"};
    head.content_type = res.content_type;
    head.content_length = res.body.size();
    const bool with_body = req.method != Method::head;
    start_response(s, head, res.body.data(), with_body ? res.body.size() : 0);
}

void HttpService::respond_error(Session& s, int status) {
    // Bad framing: nothing after it can be trusted, so this is the last.
    ResponseHead head;
    head.status = status;
    head.keep_alive = false;
    const std::string_view body = error_body(status);
    head.content_type = "text/plain; charset=utf-8";
    head.content_length = body.size();
    start_response(s, head, body.data(), body.size());
}

void HttpService::start_response(Session& s, const ResponseHead& head_in, const char* body, std::uint64_t body_len) {
    ResponseHead head = head_in;
    head.date = date();
    s.head_len = static_cast<std::uint32_t>(format_head(head, s.head, sizeof s.head));
    s.head_sent = 0;
    s.body = body;
    s.body_len = body_len;
    s.body_sent = 0;
    s.responding = true;
    s.close_after = !head.keep_alive;
    ++counters_.by_status[static_cast<std::size_t>(head.status) % counters_.by_status.size()];
}

bool HttpService::pump(Session& s) {
    tcp::Connection& c = *s.conn;
    // Counting the pool's free mbufs walks every lcore's cache: skipped for
    // a response that fits one mbuf, which cannot hold the pool for long.
    const std::uint64_t left = (s.head_len - s.head_sent) + (s.body_len - s.body_sent);
    std::uint32_t budget = left > kOneMbuf ? buffer_budget() : 1;
    while (s.head_sent < s.head_len || s.body_sent < s.body_len) {
        const std::uint32_t space = c.send_space();
        if (space == 0) return false; // on_writable brings us back
        if (budget == 0) return wait_for_buffers(s);
        rte_mbuf* m = rte_pktmbuf_alloc(lcore_.pool());
        if (m == nullptr) return wait_for_buffers(s);
        --budget;
        const std::uint32_t room = std::min<std::uint32_t>(rte_pktmbuf_tailroom(m), space);
        auto* dst = rte_pktmbuf_mtod(m, std::uint8_t*);
        const std::uint32_t from_head = std::min(room, s.head_len - s.head_sent);
        std::memcpy(dst, s.head + s.head_sent, from_head);
        const auto from_body =
            static_cast<std::uint32_t>(std::min<std::uint64_t>(room - from_head, s.body_len - s.body_sent));
        std::memcpy(dst + from_head, s.body + s.body_sent, from_body);
        const std::uint32_t n = from_head + from_body;
        rte_pktmbuf_append(m, static_cast<std::uint16_t>(n));
        const int rc = c.send(tcp::chunk_of_mbuf(m, dst, n));
        if (rc != 0) {
            rte_pktmbuf_free(m);
            if (rc == -EAGAIN) return false;
            if (rc == -ENOBUFS) return wait_for_buffers(s); // the chunk pool
            // -EPIPE: this connection cannot send any more.
            ++counters_.aborted;
            c.abort();
            release(s);
            return false;
        }
        s.head_sent += from_head;
        s.body_sent += from_body;
        counters_.bytes_sent += n;
    }
    return true;
}

std::uint32_t HttpService::buffer_budget() const noexcept {
    const unsigned avail = rte_mempool_avail_count(lcore_.pool());
    return avail > reserve_ ? avail - reserve_ : 0;
}

bool HttpService::wait_for_buffers(Session& s) {
    ++counters_.out_of_buffers;
    if (!s.wait_hook.is_linked()) waiting_.push_back(s);
    return false;
}

void HttpService::resume_waiting() {
    // Each at most once: one that runs out again goes to the back.
    for (std::size_t n = waiting_.size(); n > 0 && !waiting_.empty() && buffer_budget() > 0; --n) {
        Session& s = waiting_.front();
        waiting_.pop_front();
        run(s);
    }
}

void HttpService::housekeeping() {
    if (!waiting_.empty()) resume_waiting();
}

// ------------------------------------------------------------------ close

void HttpService::linger(Session& s) {
    tcp::Connection& c = *s.conn;
    // Whatever was buffered or held is dropped, and the window reopens so
    // that the peer's FIN can come in.
    counters_.discarded_bytes += s.end - s.start;
    s.start = s.end = 0;
    for (tcp::Chunk& chunk : s.held) {
        counters_.discarded_bytes += chunk.length;
        c.consumed(chunk.length);
    }
    drop_held(s);
    if (s.peer_done) {
        c.close();
        release(s);
        return;
    }
    ++counters_.lingering_closes;
    s.lingering = true;
    s.linger_since = lcore_.clock().now();
    s.head_deadline = 0;
    schedule(s);
    c.shutdown();
}

void HttpService::touch(Session& s) {
    s.last_active = lcore_.clock().now();
    schedule(s); // usually a later deadline: arm_lazily makes that a store
}

void HttpService::await_head(Session& s) {
    if (s.skip > 0 || (s.start == s.end && s.requests > 0)) {
        // A body to drop, or keep-alive between requests: only idle applies.
        s.head_deadline = 0;
    } else if (s.head_deadline == 0 && timeouts_.header > 0) {
        s.head_deadline = lcore_.clock().now() + timeouts_.header;
    }
    schedule(s);
}

void HttpService::schedule(Session& s) {
    TimeNs due = TimerWheel::kNever;
    if (s.lingering) {
        due = s.linger_since + kLingerNs;
    } else {
        if (timeouts_.idle > 0) due = s.last_active + timeouts_.idle;
        if (s.head_deadline != 0) due = std::min(due, s.head_deadline);
    }
    if (due == TimerWheel::kNever) return lcore_.timers().cancel(s.timer);
    lcore_.timers().arm_lazily(s.timer, due);
}

void HttpService::on_timer(CallbackTimer& t, TimeNs now) {
    auto& s = *t.owner_as<Session>();
    s.service->expire(s, now);
    s.service->housekeeping();
}

void HttpService::expire(Session& s, TimeNs now) {
    if (s.conn == nullptr) return; // released; a timer is cancelled then, so never expected
    if (s.lingering) {
        if (now - s.linger_since < kLingerNs) return schedule(s);
        s.conn->close();
        return release(s);
    }
    if (s.head_deadline != 0 && now >= s.head_deadline) return head_timed_out(s);
    if (timeouts_.idle > 0 && now - s.last_active >= timeouts_.idle) {
        // Idle keep-alive, or a client that stopped reading: FIN after
        // whatever is queued, and forget it.
        ++counters_.idle_timeouts;
        s.conn->close();
        return release(s);
    }
    schedule(s); // not due yet
}

void HttpService::head_timed_out(Session& s) {
    // RFC 9110 15.5.9: 408, and the connection is closed. What came of the
    // head is dropped (linger()).
    ++counters_.header_timeouts;
    s.head_deadline = 0;
    respond_error(s, 408);
    if (!pump(s)) {
        // The client does not even read: no lingering for it.
        if (s.conn != nullptr) {
            s.conn->close();
            release(s);
        }
        return;
    }
    s.responding = false;
    linger(s);
}

} // namespace lanetcp::httpd
