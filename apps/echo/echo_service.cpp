#include "echo/echo_service.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace lanetcp::apps {

const tcp::ConnectionHandler EchoService::kHandler{
    .on_established = nullptr,
    .on_data = &EchoService::on_data,
    .on_peer_fin = &EchoService::on_peer_fin,
    .on_writable = &EchoService::on_writable,
    .on_closed = &EchoService::on_closed,
};

EchoService::EchoService(Lcore& lcore, std::uint16_t port) : lcore_(lcore) {
    int error = 0;
    listener_ = lcore_.tcp().listen(port, &EchoService::on_accept, this, &error);
    if (listener_ == nullptr) throw std::runtime_error(fmt::format("cannot listen on TCP port {}: error {}", port, -error));
}

EchoService::~EchoService() {
    lcore_.tcp().unlisten(listener_);
    while (!sessions_.empty()) end(*sessions_.begin());
}

void EchoService::on_accept(tcp::Connection& c, void* self) {
    auto* service = static_cast<EchoService*>(self);
    ++service->accepted_;
    auto* s = new Session{service, {}, false};
    service->sessions_.insert(s);
    c.set_handler(&kHandler, s);
}

void EchoService::drain(tcp::Connection& c, Session& s) {
    while (!s.waiting.empty()) {
        tcp::Chunk chunk = s.waiting.front();
        const std::uint32_t len = chunk.length;
        if (c.send(chunk) != 0) return; // full: on_writable brings us back
        s.waiting.pop_front();
        s.service->echoed_ += len;
        c.consumed(len);
    }
}

void EchoService::on_data(tcp::Connection& c, tcp::Chunk data, void* session) {
    auto& s = *static_cast<Session*>(session);
    s.waiting.push_back(data);
    drain(c, s);
}

void EchoService::on_writable(tcp::Connection& c, void* session) {
    auto& s = *static_cast<Session*>(session);
    drain(c, s);
    if (s.peer_done && s.waiting.empty()) {
        c.close();
        end(&s);
    }
}

void EchoService::on_peer_fin(tcp::Connection& c, void* session) {
    auto& s = *static_cast<Session*>(session);
    s.peer_done = true;
    drain(c, s);
    if (s.waiting.empty()) {
        // Everything the peer sent is on its way back; our FIN follows it.
        c.close();
        end(&s);
    }
}

void EchoService::on_closed(tcp::Connection&, int, void* session) { end(static_cast<Session*>(session)); }

void EchoService::end(Session* s) {
    for (tcp::Chunk& chunk : s->waiting) chunk.release();
    s->service->sessions_.erase(s);
    delete s;
}

} // namespace lanetcp::apps
