#include "perf/lanetcp_perf.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "api/tcp_api.hpp"
#include "perf/session.hpp"

namespace lanetcp::perf {

// ------------------------------------------------------------------ server ---

const tcp::ConnectionHandler PerfServer::kHandler{
    .on_established = nullptr,
    .on_data = &PerfServer::on_data,
    .on_peer_fin = &PerfServer::on_peer_fin,
    .on_writable = &PerfServer::on_writable,
    .on_closed = &PerfServer::on_closed,
};

PerfServer::PerfServer(Lcore& lcore, std::uint16_t port) : lcore_(lcore) {
    int error = 0;
    listener_ = lcore_.tcp().listen(port, &PerfServer::on_accept, this, &error);
    if (listener_ == nullptr)
        throw std::runtime_error(fmt::format("cannot listen on TCP port {}: error {}", port, -error));
    // Requests and responses go out whole, at once: no Nagle.
    listener_->options.nodelay = true;
}

PerfServer::~PerfServer() {
    lcore_.tcp().unlisten(listener_);
    for (auto& s : sessions_)
        if (s->live && s->conn != nullptr) s->conn->abort();
}

void PerfServer::on_accept(tcp::Connection& c, void* self) {
    auto& server = *static_cast<PerfServer*>(self);
    Session* s = nullptr;
    if (server.free_.empty()) {
        server.sessions_.push_back(std::make_unique<Session>());
        s = server.sessions_.back().get();
    } else {
        s = server.free_.back();
        server.free_.pop_back();
        *s = Session{};
    }
    s->server = &server;
    s->conn = &c;
    s->live = true;
    server.progress_.add(server.progress_.connections, 1);
    c.set_handler(&kHandler, s);
}

void PerfServer::on_data(tcp::Connection& c, tcp::Chunk data, void* session) {
    auto& s = *static_cast<Session*>(session);
    auto& server = *s.server;
    const std::uint32_t total = data.length;
    const ServerFeed f = feed_server(s.proto, data.data, data.length);
    s.to_send += f.response_bytes;
    if (f.requests != 0) server.progress_.add(server.progress_.transactions, f.requests);
    if (f.close) s.close_when_sent = true;
    const bool bad = f.bad;
    server.progress_.add(server.progress_.bytes, total);
    c.consumed(total);
    data.release();
    if (bad) {
        ++server.bad_headers_;
        c.abort();
        server.end(s);
        return;
    }
    server.flush(c, s);
}

void PerfServer::flush(tcp::Connection& c, Session& s) {
    while (s.to_send > 0) {
        const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(s.to_send, kPatternSize));
        const long n = api::send_bytes(c, lcore_.pool(), pattern(), len);
        if (n <= 0) return; // full: on_writable brings us back
        s.to_send -= static_cast<std::uint64_t>(n);
    }
    while (s.trailer_left > 0) {
        const long n = api::send_bytes(c, lcore_.pool(), s.trailer + (kBulkTrailerSize - s.trailer_left), s.trailer_left);
        if (n <= 0) return;
        s.trailer_left -= static_cast<std::uint32_t>(n);
    }
    if (s.close_when_sent) {
        c.close(); // FIN after the response; the stack finishes the close
        end(s);
    }
}

void PerfServer::on_peer_fin(tcp::Connection& c, void* session) {
    auto& s = *static_cast<Session*>(session);
    if (s.proto.have_header() && s.proto.header().mode == Mode::bulk) {
        store_be64(s.trailer, s.proto.payload_bytes());
        s.trailer_left = kBulkTrailerSize;
    }
    s.close_when_sent = true;
    s.server->flush(c, s);
}

void PerfServer::on_writable(tcp::Connection& c, void* session) {
    auto& s = *static_cast<Session*>(session);
    s.server->flush(c, s);
}

void PerfServer::on_closed(tcp::Connection&, int, void* session) {
    auto& s = *static_cast<Session*>(session);
    s.server->end(s);
}

void PerfServer::end(Session& s) {
    s.live = false;
    s.conn = nullptr;
    free_.push_back(&s);
}

// ------------------------------------------------------------------ client ---

const tcp::ConnectionHandler PerfClient::kHandler{
    .on_established = &PerfClient::on_established,
    .on_data = &PerfClient::on_data,
    .on_peer_fin = &PerfClient::on_peer_fin,
    .on_writable = &PerfClient::on_writable,
    .on_closed = &PerfClient::on_closed,
};

PerfClient::PerfClient(Lcore& lcore, wire::Ipv4Addr remote, std::uint16_t port, const ClientOptions& options,
                       std::uint32_t connections, std::uint64_t bytes, std::uint64_t transactions)
    : lcore_(lcore), remote_(remote), port_(port), options_(options), bytes_(bytes), transactions_(transactions),
      slots_(connections) {
    for (auto& s : slots_) s.client = this;
}

PerfClient::~PerfClient() {
    for (auto& s : slots_)
        if (s.conn != nullptr) s.conn->abort();
}

void PerfClient::start() {
    started_ = now();
    const bool bounded = options_.mode == Mode::bulk ? bytes_ > 0 : transactions_ > 0;
    deadline_ = bounded ? 0 : started_ + static_cast<TimeNs>(options_.seconds * kNsPerSec);
    const auto n = static_cast<std::uint64_t>(slots_.size());
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        Slot& s = slots_[i];
        if (options_.mode == Mode::bulk) {
            s.budget = bulk_budget(bytes_, n, i);
            if (s.budget == 0) continue;
        } else if (options_.mode == Mode::crr && !claim_transaction()) {
            break;
        }
        open(s);
    }
    maybe_done();
}

bool PerfClient::open(Slot& s) {
    const std::uint64_t budget = s.budget;
    s = Slot{};
    s.client = this;
    s.budget = budget;
    tcp::ConnectionOptions o = tcp::ConnectionOptions::from(lcore_.tcp().config());
    o.nodelay = options_.mode != Mode::bulk;
    int error = 0;
    s.started = now();
    s.conn = lcore_.tcp().connect(remote_, port_, &kHandler, &s, s.started, &error, 0, &o);
    if (s.conn == nullptr) {
        ++errors_;
        return false;
    }
    ++active_;
    ++opened_;
    progress_.add(progress_.connections, 1);
    return true;
}

bool PerfClient::claim_transaction() noexcept {
    return perf::claim_transaction(stopping_, transactions_, issued_);
}

void PerfClient::begin_transaction(Slot& s) {
    s.request_left = options_.request_size;
    s.response_left = options_.response_size;
    s.in_transaction = true;
    if (options_.mode == Mode::rr) s.started = now(); // crr: from connect()
}

void PerfClient::shut(tcp::Connection& c, Slot& s) {
    if (s.shut) return;
    s.shut = true;
    c.shutdown();
}

void PerfClient::push(tcp::Connection& c, Slot& s) {
    if (s.header_left > 0) {
        std::uint8_t header[kHeaderSize];
        encode(Header{options_.mode, options_.request_size, options_.response_size}, header);
        const long n = api::send_bytes(c, lcore_.pool(), header + (kHeaderSize - s.header_left), s.header_left);
        if (n <= 0) return;
        s.header_left -= static_cast<std::uint32_t>(n);
        if (s.header_left > 0) return;
    }
    if (options_.mode == Mode::bulk) {
        while (!stopping_ && !s.shut && s.sent < s.budget) {
            const auto at = static_cast<std::size_t>(s.sent % kPatternSize);
            const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(s.budget - s.sent, kPatternSize - at));
            const long n = api::send_bytes(c, lcore_.pool(), pattern() + at, len);
            if (n <= 0) return;
            s.sent += static_cast<std::uint64_t>(n);
            sent_ += static_cast<std::uint64_t>(n);
            progress_.add(progress_.bytes, static_cast<std::uint64_t>(n));
        }
        shut(c, s); // everything queued, or time is up: FIN after it
        return;
    }
    while (s.request_left > 0) {
        const long n = api::send_bytes(c, lcore_.pool(), pattern(), std::min<std::size_t>(s.request_left, kPatternSize));
        if (n <= 0) return;
        s.request_left -= static_cast<std::uint32_t>(n);
    }
}

void PerfClient::on_established(tcp::Connection& c, void* slot) {
    auto& s = *static_cast<Slot*>(slot);
    auto& cl = *s.client;
    if (cl.mss_ == 0) cl.mss_ = c.mss();
    s.header_left = kHeaderSize;
    if (cl.options_.mode == Mode::crr) cl.begin_transaction(s); // claimed when it was opened
    else if (cl.options_.mode == Mode::rr && cl.claim_transaction()) cl.begin_transaction(s);
    cl.push(c, s);
    if (cl.options_.mode == Mode::rr && !s.in_transaction) cl.shut(c, s);
}

void PerfClient::on_writable(tcp::Connection& c, void* slot) {
    auto& s = *static_cast<Slot*>(slot);
    auto& cl = *s.client;
    if (cl.deadline_ != 0) cl.tick(cl.now());
    cl.push(c, s);
}

void PerfClient::on_data(tcp::Connection& c, tcp::Chunk data, void* slot) {
    auto& s = *static_cast<Slot*>(slot);
    auto& cl = *s.client;
    const std::uint32_t len = data.length;
    bool bad = false;
    bool completed = false;
    if (cl.options_.mode == Mode::bulk) {
        if (s.trailer_got + len > kBulkTrailerSize) {
            bad = true;
        } else {
            std::copy(data.data, data.data + len, s.trailer + s.trailer_got);
            s.trailer_got += len;
        }
    } else if (!s.in_transaction || len > s.response_left) {
        bad = true;
    } else {
        s.response_left -= len;
        completed = s.response_left == 0;
    }
    c.consumed(len);
    data.release();
    if (bad) {
        c.abort();
        s.conn = nullptr;
        cl.slot_over(s, false);
        cl.maybe_done();
        return;
    }
    if (!completed) return;
    const TimeNs t = cl.now();
    s.in_transaction = false;
    cl.latency_.record(t - s.started);
    ++cl.completed_;
    cl.progress_.add(cl.progress_.transactions, 1);
    if (cl.deadline_ != 0) cl.tick(t);
    if (cl.options_.mode == Mode::rr) {
        if (cl.claim_transaction()) {
            cl.begin_transaction(s);
            cl.push(c, s);
        } else {
            cl.shut(c, s);
        }
    }
    // crr: the server closes after its response; on_peer_fin goes on.
}

void PerfClient::on_peer_fin(tcp::Connection& c, void* slot) {
    auto& s = *static_cast<Slot*>(slot);
    auto& cl = *s.client;
    const bool ok = fin_ok(cl.options_.mode, {s.shut, s.trailer, s.trailer_got, s.sent, s.in_transaction}, cl.confirmed_);
    c.close();
    s.conn = nullptr;
    cl.slot_over(s, ok);
    if (ok && cl.options_.mode == Mode::crr && cl.claim_transaction()) cl.open(s);
    cl.maybe_done();
}

void PerfClient::on_closed(tcp::Connection&, int, void* slot) {
    auto& s = *static_cast<Slot*>(slot);
    auto& cl = *s.client;
    s.conn = nullptr;
    cl.slot_over(s, false);
    cl.maybe_done();
}

void PerfClient::slot_over(Slot&, bool ok) {
    if (!ok) ++errors_;
    --active_;
}

void PerfClient::maybe_done() {
    if (active_ == 0 && !done()) {
        finished_ = now();
        done_.store(true, std::memory_order_release);
    }
}

void PerfClient::tick(TimeNs t) {
    if (stopping_ || deadline_ == 0 || t < deadline_) return;
    stopping_ = true;
    for (auto& s : slots_) {
        if (s.conn == nullptr) continue;
        if (shut_at_deadline(options_.mode, s.in_transaction)) shut(*s.conn, s);
    }
}

Results PerfClient::results() const {
    return client_results("lanetcp", options_, static_cast<std::uint32_t>(slots_.size()),
                          static_cast<double>((finished_ != 0 ? finished_ : now()) - started_) / kNsPerSec,
                          {confirmed_, sent_, completed_, opened_, errors_, mss_}, latency_, done() && errors_ == 0);
}

} // namespace lanetcp::perf
