// lanetcp-perf's two ends on one lanetcp Lcore: PerfServer answers every
// mode of the protocol (protocol.hpp), PerfClient drives one of them over
// N connections. Both run inside the lcore's callbacks; nothing on the
// per-packet path allocates (sessions come from a free list).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "perf/protocol.hpp"
#include "perf/results.hpp"
#include "stack/lcore.hpp"
#include "tcp/connection.hpp"

namespace lanetcp::perf {

// Single writer (the lcore), any reader (the progress printer).
struct Progress {
    std::atomic<std::uint64_t> bytes{0};
    std::atomic<std::uint64_t> transactions{0};
    std::atomic<std::uint64_t> connections{0};
    void add(std::atomic<std::uint64_t>& a, std::uint64_t n) noexcept {
        a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
};

class PerfServer {
public:
    PerfServer(Lcore& lcore, std::uint16_t port);
    ~PerfServer();
    PerfServer(const PerfServer&) = delete;
    PerfServer& operator=(const PerfServer&) = delete;

    Progress& progress() noexcept { return progress_; }  // payload bytes received, requests answered, accepted
    std::uint64_t bad_headers() const noexcept { return bad_headers_; }

private:
    struct Session {
        PerfServer* server = nullptr;
        tcp::Connection* conn = nullptr;
        ServerProtocol proto;
        std::uint64_t to_send = 0;    // response bytes not yet queued
        std::uint8_t trailer[kBulkTrailerSize]{};
        std::uint32_t trailer_left = 0;
        bool close_when_sent = false;
        bool live = false;
    };
    static void on_accept(tcp::Connection& c, void* self);
    static void on_data(tcp::Connection& c, tcp::Chunk data, void* session);
    static void on_peer_fin(tcp::Connection& c, void* session);
    static void on_writable(tcp::Connection& c, void* session);
    static void on_closed(tcp::Connection& c, int error, void* session);
    void flush(tcp::Connection& c, Session& s);
    void end(Session& s);

    static const tcp::ConnectionHandler kHandler;
    Lcore& lcore_;
    tcp::Listener* listener_ = nullptr;
    std::vector<std::unique_ptr<Session>> sessions_;
    std::vector<Session*> free_;
    Progress progress_;
    std::uint64_t bad_headers_ = 0;
};

class PerfClient {
public:
    // `connections`, `bytes` and `transactions` are this lcore's share.
    PerfClient(Lcore& lcore, wire::Ipv4Addr remote, std::uint16_t port, const ClientOptions& options,
               std::uint32_t connections, std::uint64_t bytes, std::uint64_t transactions);
    ~PerfClient();
    PerfClient(const PerfClient&) = delete;
    PerfClient& operator=(const PerfClient&) = delete;

    void start();
    // Ends a time-bound run once its time is up; call now and then from the poll loop.
    void tick(TimeNs now);
    bool done() const noexcept { return done_.load(std::memory_order_acquire); }
    Progress& progress() noexcept { return progress_; } // payload bytes sent, transactions, connections
    Results results() const;

private:
    struct Slot {
        PerfClient* client = nullptr;
        tcp::Connection* conn = nullptr;
        std::uint64_t sent = 0;        // bulk payload queued on this connection
        std::uint64_t budget = 0;      // bulk: payload to send (~0: until time is up)
        std::uint32_t header_left = 0; // header bytes not yet queued
        std::uint32_t request_left = 0;
        std::uint32_t response_left = 0;
        std::uint8_t trailer[kBulkTrailerSize]{};
        std::uint32_t trailer_got = 0;
        TimeNs started = 0;            // of the current transaction
        bool shut = false;             // our FIN is queued
        bool in_transaction = false;
    };
    static void on_established(tcp::Connection& c, void* slot);
    static void on_data(tcp::Connection& c, tcp::Chunk data, void* slot);
    static void on_peer_fin(tcp::Connection& c, void* slot);
    static void on_writable(tcp::Connection& c, void* slot);
    static void on_closed(tcp::Connection& c, int error, void* slot);
    bool open(Slot& s);                      // connect; false if it could not
    void push(tcp::Connection& c, Slot& s);  // queue what is due
    bool claim_transaction() noexcept;
    void begin_transaction(Slot& s);
    void shut(tcp::Connection& c, Slot& s);
    void slot_over(Slot& s, bool ok);
    void maybe_done();
    TimeNs now() const noexcept { return lcore_.clock().now(); }

    static const tcp::ConnectionHandler kHandler;
    Lcore& lcore_;
    wire::Ipv4Addr remote_;
    std::uint16_t port_;
    ClientOptions options_;
    std::uint64_t bytes_;
    std::uint64_t transactions_;
    std::vector<Slot> slots_;
    std::uint32_t active_ = 0;
    std::uint64_t issued_ = 0;
    bool stopping_ = false;
    TimeNs started_ = 0;
    TimeNs deadline_ = 0;
    TimeNs finished_ = 0;
    std::atomic<bool> done_{false};
    Progress progress_;
    std::uint64_t confirmed_ = 0;
    std::uint64_t sent_ = 0;
    std::uint64_t completed_ = 0;
    std::uint64_t errors_ = 0;
    std::uint64_t opened_ = 0;
    std::uint32_t mss_ = 0;
    Histogram latency_;
};

} // namespace lanetcp::perf
