// One active-open session of lanetcp-client: connect, send a byte stream,
// read what comes back, and check it by SHA-256.
#pragma once

#include <cstdint>
#include <sodium.h>
#include <string>
#include <vector>

#include "stack/lcore.hpp"
#include "tcp/connection.hpp"

namespace lanetcp::apps {

enum class ClientMode {
    echo,    // send, expect the same bytes back
    send,    // send, expect nothing back (a sink such as `nc -l > file`)
    receive, // send nothing, take everything until the peer's FIN
};

struct ClientOptions {
    wire::Ipv4Addr remote{};
    std::uint16_t port = 7;
    std::uint64_t bytes = 1 << 20;
    ClientMode mode = ClientMode::echo;
    std::vector<std::uint8_t> file; // what to send instead of the pattern, when non-empty
};

class ClientSession {
public:
    ClientSession(Lcore& lcore, const ClientOptions& options);
    ~ClientSession();
    ClientSession(const ClientSession&) = delete;
    ClientSession& operator=(const ClientSession&) = delete;

    bool done() const noexcept { return done_; }
    bool succeeded() const noexcept { return succeeded_; }
    std::string summary() const;
    const std::string& outcome() const noexcept { return outcome_; }

private:
    static void on_established(tcp::Connection& c, void* self);
    static void on_data(tcp::Connection& c, tcp::Chunk data, void* self);
    static void on_peer_fin(tcp::Connection& c, void* self);
    static void on_writable(tcp::Connection& c, void* self);
    static void on_closed(tcp::Connection& c, int error, void* self);
    void fill(tcp::Connection& c);
    void finish(bool ok, std::string why);
    const std::uint8_t* source(std::uint64_t offset, std::size_t& len) const noexcept;

    static const tcp::ConnectionHandler kHandler;
    Lcore& lcore_;
    ClientOptions options_;
    tcp::Connection* conn_ = nullptr;
    std::vector<std::uint8_t> pattern_;
    crypto_hash_sha256_state sent_hash_{};
    crypto_hash_sha256_state received_hash_{};
    std::uint64_t sent_ = 0;
    std::uint64_t received_ = 0;
    TimeNs started_ = 0;
    TimeNs established_at_ = 0;
    TimeNs finished_ = 0;
    bool done_ = false;
    bool succeeded_ = false;
    std::string outcome_;
    std::string sent_digest_, received_digest_;
};

} // namespace lanetcp::apps
