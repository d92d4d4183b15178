// TCP echo (RFC 862) on one lcore: what arrives goes back out in the same
// buffers, without copying. When the send buffer is full the data waits
// unconsumed, so the receive window closes and the peer slows to our pace.
#pragma once

#include <cstdint>
#include <deque>
#include <unordered_set>

#include "stack/lcore.hpp"
#include "tcp/connection.hpp"
#include "tcp/tcp_layer.hpp"

namespace lanetcp::apps {

class EchoService {
public:
    EchoService(Lcore& lcore, std::uint16_t port);
    ~EchoService();
    EchoService(const EchoService&) = delete;
    EchoService& operator=(const EchoService&) = delete;

    std::uint64_t accepted() const noexcept { return accepted_; }
    std::uint64_t echoed_bytes() const noexcept { return echoed_; }

private:
    struct Session {
        EchoService* service;
        std::deque<tcp::Chunk> waiting; // received, not yet queued for sending
        bool peer_done = false;
    };

    static void on_accept(tcp::Connection& c, void* self);
    static void on_data(tcp::Connection& c, tcp::Chunk data, void* session);
    static void on_peer_fin(tcp::Connection& c, void* session);
    static void on_writable(tcp::Connection& c, void* session);
    static void on_closed(tcp::Connection& c, int error, void* session);
    static void drain(tcp::Connection& c, Session& s);
    static void end(Session* s);

    static const tcp::ConnectionHandler kHandler;
    Lcore& lcore_;
    tcp::Listener* listener_ = nullptr;
    std::uint64_t accepted_ = 0;
    std::uint64_t echoed_ = 0;
    std::unordered_set<Session*> sessions_; // to free what is still open at shutdown
};

} // namespace lanetcp::apps
