// The application side of the benchmark workloads, shared by
// lanetcp-insncount (lib/tcp on the no-copy platform), lanetcp-insncount-stack
// (the whole stack on DPDK) and the microbenchmarks: a sink that counts what
// it is delivered, the request/response driver, and the drivers' command
// line. Header-only and platform-free: each program links its own platform.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "tcp/connection.hpp"

namespace lanetcp::bench {

// ---------------------------------------------------------------- sink ----

struct Sink {
    std::uint64_t received = 0;   // payload bytes delivered
    std::uint64_t deliveries = 0; // on_data calls
};

inline void sink_data(tcp::Connection& c, tcp::Chunk data, void* user) {
    auto& s = *static_cast<Sink*>(user);
    s.received += data.length;
    ++s.deliveries;
    const std::uint32_t len = data.length;
    data.release();
    c.consumed(len);
}

// Receives into the Sink its user pointer names; sends nothing.
inline const tcp::ConnectionHandler kSinkHandler{
    .on_established = nullptr,
    .on_data = &sink_data,
    .on_peer_fin = nullptr,
    .on_writable = nullptr,
    .on_closed = nullptr,
};

// ---------------------------------------------------------------- bulk ----

// The sending side of a bulk transfer of `to_send` bytes into a Sink. Side
// (CRTP) supplies pump(): queue what it can from `queued` on; it runs when the
// connection is established and again whenever send space comes back.
template <class Side>
struct BulkDriver {
    tcp::Connection* conn = nullptr;
    std::uint64_t to_send = 0;
    std::uint64_t queued = 0;

    static void on_ready(tcp::Connection&, void* user) { static_cast<Side*>(user)->pump(); }

    static constexpr tcp::ConnectionHandler kHandler{
        .on_established = &on_ready,
        .on_data = &sink_data, // never called: the receiver sends nothing
        .on_peer_fin = nullptr,
        .on_writable = &on_ready,
        .on_closed = nullptr,
    };
};

// The listener's accept callback for the receiving side: into the Sink.
inline void accept_sink(tcp::Connection& c, void* user) { c.set_handler(&kSinkHandler, user); }

// ------------------------------------------------------------------ rr ----

inline constexpr std::uint32_t kMessage = 64;

// One side of request/response with kMessage-byte messages: the client sends
// a request, waits for the whole response, and goes on until `target`; the
// server answers each whole request. Side (CRTP) supplies send_message().
template <class Side>
struct RrDriver {
    tcp::Connection* conn = nullptr;
    bool client = false;
    std::uint64_t target = 0;       // client: transactions to run
    std::uint64_t transactions = 0; // client: completed; server: answered
    std::uint32_t partial = 0;      // bytes of the current message so far

    static void on_established(tcp::Connection&, void* user) {
        auto& s = *static_cast<Side*>(user);
        if (s.client && s.target > 0) s.send_message();
    }

    static void on_data(tcp::Connection& c, tcp::Chunk data, void* user) {
        auto& s = *static_cast<Side*>(user);
        s.partial += data.length;
        const std::uint32_t len = data.length;
        data.release();
        c.consumed(len);
        while (s.partial >= kMessage) {
            s.partial -= kMessage;
            ++s.transactions;
            if (!s.client || s.transactions < s.target) s.send_message();
        }
    }

    static constexpr tcp::ConnectionHandler kHandler{
        .on_established = &on_established,
        .on_data = &on_data,
        .on_peer_fin = nullptr,
        .on_writable = nullptr,
        .on_closed = nullptr,
    };

    // The listener's accept callback: the server side takes the connection.
    static void accept(tcp::Connection& c, void* user) {
        static_cast<Side*>(user)->conn = &c;
        c.set_handler(&kHandler, user);
    }
};

// ------------------------------------------------------------- drivers ----

struct Workload {
    bool bulk = false; // else rr
    std::uint64_t n = 0;
};

inline int usage(const char* name) {
    std::fprintf(stderr, "usage: %s bulk MIB | rr COUNT\n", name);
    return 2;
}

// `NAME bulk N` or `NAME rr N`; nothing (after the usage line) otherwise.
inline std::optional<Workload> parse_workload(int argc, char** argv, const char* name) {
    if (argc != 3) {
        usage(name);
        return std::nullopt;
    }
    char* end = nullptr;
    const unsigned long long n = std::strtoull(argv[2], &end, 10);
    const bool bulk = std::strcmp(argv[1], "bulk") == 0;
    if (end == argv[2] || *end != '\0' || (!bulk && std::strcmp(argv[1], "rr") != 0)) {
        usage(name);
        return std::nullopt;
    }
    return Workload{bulk, n};
}

// The drivers' main(): `NAME bulk N` or `NAME rr N` to run(workload), its
// exit code; 2 (after the usage line) on anything else.
template <class Run>
int workload_main(int argc, char** argv, const char* name, Run&& run) {
    const std::optional<Workload> w = parse_workload(argc, argv, name);
    return w ? run(*w) : 2;
}

// The lines for a run that stopped making progress; the exit code.
inline int bulk_stalled(const char* name, std::uint64_t received) {
    std::fprintf(stderr, "%s: bulk transfer stalled at %llu bytes\n", name, static_cast<unsigned long long>(received));
    return 1;
}
inline int rr_stalled(const char* name, std::uint64_t transactions) {
    std::fprintf(stderr, "%s: request/response stalled after %llu transactions\n", name,
                 static_cast<unsigned long long>(transactions));
    return 1;
}

} // namespace lanetcp::bench
