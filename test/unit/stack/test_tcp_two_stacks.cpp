// TCP end to end between two stacks over the in-memory wire, on manual
// clocks: handshake both ways, 100 MB each way checked by SHA-256, half-close,
// close from each side, connection refused, and no mbuf left behind.
#include <gtest/gtest.h>

#include <deque>
#include <sodium.h>
#include <string>

#include "api/tcp_api.hpp"
#include "impair/spec.hpp"
#include "two_stacks.hpp"

namespace lanetcp::testing {
namespace {

const wire::Ipv4Addr kA = *wire::Ipv4Addr::parse("10.9.0.1");
const wire::Ipv4Addr kB = *wire::Ipv4Addr::parse("10.9.0.2");

std::string hex(const unsigned char* d, std::size_t n) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
        s += digits[d[i] >> 4];
        s += digits[d[i] & 15];
    }
    return s;
}

// Echoes what arrives, in the same buffers, and closes after the peer's FIN.
struct Echo {
    struct Session {
        std::deque<tcp::Chunk> waiting;
        bool peer_done = false;
    };
    std::uint64_t accepted = 0;
    std::deque<Session> sessions;

    static void drain(tcp::Connection& c, Session& s) {
        while (!s.waiting.empty() && c.send(s.waiting.front()) == 0) {
            c.consumed(s.waiting.front().length);
            s.waiting.pop_front();
        }
        if (s.peer_done && s.waiting.empty()) c.close();
    }
    static const tcp::ConnectionHandler kHandler;
    static void on_accept(tcp::Connection& c, void* self) {
        auto& e = *static_cast<Echo*>(self);
        ++e.accepted;
        e.sessions.emplace_back();
        c.set_handler(&kHandler, &e.sessions.back());
    }
};

const tcp::ConnectionHandler Echo::kHandler{
    .on_established = nullptr,
    .on_data =
        [](tcp::Connection& c, tcp::Chunk d, void* u) {
            auto& s = *static_cast<Echo::Session*>(u);
            s.waiting.push_back(d);
            drain(c, s);
        },
    .on_peer_fin =
        [](tcp::Connection& c, void* u) {
            auto& s = *static_cast<Echo::Session*>(u);
            s.peer_done = true;
            drain(c, s);
        },
    .on_writable = [](tcp::Connection& c, void* u) { drain(c, *static_cast<Echo::Session*>(u)); },
    .on_closed = [](tcp::Connection&, int, void* u) {
        for (auto& ch : static_cast<Echo::Session*>(u)->waiting) ch.release();
        static_cast<Echo::Session*>(u)->waiting.clear();
    },
};

// Sends `total` bytes of a pattern, hashes what it sends and what comes back.
struct Sender {
    Lcore* lcore = nullptr;
    tcp::Connection* conn = nullptr;
    std::uint64_t total = 0, sent = 0, received = 0;
    std::vector<std::uint8_t> pattern = std::vector<std::uint8_t>(65536);
    crypto_hash_sha256_state sent_hash{}, received_hash{};
    bool established = false, peer_fin = false, closed = false;
    int error = 0;

    Sender() {
        std::uint32_t x = 12345;
        for (auto& b : pattern) {
            x = x * 1103515245u + 12345u;
            b = static_cast<std::uint8_t>(x >> 16);
        }
        crypto_hash_sha256_init(&sent_hash);
        crypto_hash_sha256_init(&received_hash);
    }
    void fill() {
        while (sent < total) {
            const std::size_t at = sent % pattern.size();
            const std::size_t len = std::min<std::uint64_t>(pattern.size() - at, total - sent);
            long n = api::send_bytes(*conn, lcore->pool(), pattern.data() + at, len);
            if (n <= 0) return;
            crypto_hash_sha256_update(&sent_hash, pattern.data() + at, static_cast<unsigned long long>(n));
            sent += static_cast<std::uint64_t>(n);
        }
        conn->shutdown();
    }
    std::string digest(crypto_hash_sha256_state& st) {
        unsigned char out[crypto_hash_sha256_BYTES];
        crypto_hash_sha256_final(&st, out);
        return hex(out, sizeof out);
    }
    static const tcp::ConnectionHandler kHandler;
};

const tcp::ConnectionHandler Sender::kHandler{
    .on_established =
        [](tcp::Connection&, void* u) {
            auto& s = *static_cast<Sender*>(u);
            s.established = true;
            s.fill();
        },
    .on_data =
        [](tcp::Connection& c, tcp::Chunk d, void* u) {
            auto& s = *static_cast<Sender*>(u);
            crypto_hash_sha256_update(&s.received_hash, d.data, d.length);
            s.received += d.length;
            c.consumed(d.length);
            d.release();
        },
    .on_peer_fin = [](tcp::Connection&, void* u) { static_cast<Sender*>(u)->peer_fin = true; },
    .on_writable =
        [](tcp::Connection&, void* u) {
            auto& s = *static_cast<Sender*>(u);
            if (s.sent < s.total) s.fill();
        },
    .on_closed =
        [](tcp::Connection&, int err, void* u) {
            auto& s = *static_cast<Sender*>(u);
            s.closed = true;
            s.error = err;
            s.conn = nullptr;
        },
};

// Polls both sides; when the wire is quiet, moves time on a millisecond so
// that delayed ACKs and other timers can fire.
template <class Done>
void run_until(TwoStacks& s, Done&& done, TimeNs limit = 600 * kNsPerSec) {
    for (TimeNs t = 0; t < limit && !done();) {
        unsigned n = s.a->poll_once() + s.b->poll_once();
        if (n == 0 && s.wire.in_flight() == 0) {
            s.a->clock().advance(kNsPerMs);
            s.b->clock().advance(kNsPerMs);
            t += kNsPerMs;
        }
    }
}

TEST(TcpTwoStacks, EchoHundredMegabytesEachWayBySha256) {
    ASSERT_GE(sodium_init(), 0);
    TwoStacks s;
    Echo echo;
    int err = 0;
    ASSERT_NE(s.a->tcp().listen(7, &Echo::on_accept, &echo, &err), nullptr);
    Sender client;
    client.lcore = s.b.get();
    client.total = 100ull << 20;
    client.conn = s.b->tcp().connect(kA, 7, &Sender::kHandler, &client, s.b->clock().now(), &err);
    ASSERT_NE(client.conn, nullptr) << err;
    run_until(s, [&] { return client.peer_fin && client.received == client.total; });
    ASSERT_TRUE(client.established);
    EXPECT_EQ(client.sent, client.total);
    EXPECT_EQ(client.received, client.total);
    EXPECT_EQ(client.digest(client.sent_hash), client.digest(client.received_hash));
    EXPECT_EQ(echo.accepted, 1u);
    // We shut down after sending and the peer's FIN came: the connection
    // ended for the application (on_closed(0)); TCP finishes the rest.
    EXPECT_TRUE(client.closed);
    EXPECT_EQ(client.error, 0);
    EXPECT_EQ(client.conn, nullptr);
    run_until(s, [&] { return s.a->tcp().connections() == 0; }, 5 * kNsPerSec);
    EXPECT_EQ(s.a->tcp().connections(), 0u) << "the echo side closed after our FIN: LAST_ACK then CLOSED";
    EXPECT_EQ(s.b->tcp().connections(), 1u) << "we closed first: TIME_WAIT";
    run_until(s, [&] { return s.b->tcp().connections() == 0; }, 70 * kNsPerSec);
    EXPECT_EQ(s.b->tcp().connections(), 0u) << "TIME_WAIT expired";
    EXPECT_EQ(s.a->counters().tcp_passive_opens.get(), 1u);
    EXPECT_EQ(s.b->counters().tcp_active_opens.get(), 1u);
    EXPECT_EQ(s.mbufs_in_use_after_shutdown(), 0u);
}

// An 8 MiB echo between the two stacks over the impaired in-memory wire
// (drivers/impaired_rx.hpp), on the lcores' manual clocks; returns what the
// wire did to frames A and B sent.
struct ImpairedEcho {
    impair::Stats from_a, from_b;
    unsigned mbufs_left = 0;
};

ImpairedEcho impaired_echo(TwoStacks& s, const char* spec_a_to_b, const char* spec_b_to_a) {
    ImpairedEcho r;
    s.wire.impair(impair::parse_spec(spec_a_to_b), impair::parse_spec(spec_b_to_a), &s.b->clock(), &s.a->clock());
    Echo echo;
    int err = 0;
    EXPECT_NE(s.a->tcp().listen(7, &Echo::on_accept, &echo, &err), nullptr);
    Sender client;
    client.lcore = s.b.get();
    client.total = 8ull << 20;
    client.conn = s.b->tcp().connect(kA, 7, &Sender::kHandler, &client, s.b->clock().now(), &err);
    EXPECT_NE(client.conn, nullptr) << err;
    if (client.conn == nullptr) return r;
    run_until(s, [&] { return client.peer_fin && client.received == client.total; });
    EXPECT_EQ(client.received, client.total);
    EXPECT_EQ(client.digest(client.sent_hash), client.digest(client.received_hash));
    r.from_a = s.wire.impair_stats(true);
    r.from_b = s.wire.impair_stats(false);
    s.wire.unimpair();
    r.mbufs_left = s.mbufs_in_use_after_shutdown();
    return r;
}

// Duplicates are deep copies (rte_pktmbuf_copy) the receiver frees like any
// frame: the echo comes back bit for bit and every mbuf goes home.
TEST(TcpTwoStacks, EchoOverTheImpairedWireWithDuplicates) {
    ASSERT_GE(sodium_init(), 0);
    TwoStacks s;
    const ImpairedEcho r = impaired_echo(s, "dup=2%,seed=1", "dup=2%,seed=2");
    EXPECT_GT(r.from_a.duplicated, 0u);
    EXPECT_GT(r.from_b.duplicated, 0u);
    EXPECT_EQ(r.mbufs_left, 0u);
}

// Corrupted frames carry a really flipped byte that the receiving stack must
// catch, every one of them: by the TCP checksum, or, when the byte is the
// data offset of a segment without payload (frame_corrupt flips the header
// then), by the header check that runs first.
TEST(TcpTwoStacks, EchoOverTheImpairedWireWithCorruption) {
    ASSERT_GE(sodium_init(), 0);
    TwoStacks s;
    const ImpairedEcho r = impaired_echo(s, "corrupt=1%,seed=1", "corrupt=1%,seed=2");
    EXPECT_GT(r.from_a.corrupted, 0u);
    EXPECT_GT(r.from_b.corrupted, 0u);
    const auto caught = [](Lcore& st) {
        return st.counters().dropped(Drop::tcp_bad_checksum) + st.counters().dropped(Drop::tcp_bad_header);
    };
    EXPECT_EQ(caught(*s.b), r.from_a.corrupted);
    EXPECT_EQ(caught(*s.a), r.from_b.corrupted);
    EXPECT_GT(s.b->counters().dropped(Drop::tcp_bad_checksum) + s.a->counters().dropped(Drop::tcp_bad_checksum), 0u);
    EXPECT_EQ(s.a->counters().dropped(Drop::ipv4_bad_checksum) + s.b->counters().dropped(Drop::ipv4_bad_checksum),
              0u);
    EXPECT_EQ(r.mbufs_left, 0u);
}

// Loss puts data out of order, and out-of-order small pieces are copied into
// the lcore's compact buffer (lib/tcp/tcp_memory.hpp); Lcore::shutdown gives
// that buffer back too. Every mbuf goes home.
TEST(TcpTwoStacks, EchoUnderLossReturnsEveryMbuf) {
    ASSERT_GE(sodium_init(), 0);
    TwoStacks s;
    const ImpairedEcho r = impaired_echo(s, "loss=1%,seed=1", "loss=1%,seed=2");
    EXPECT_GT(r.from_a.lost_random, 0u);
    EXPECT_EQ(r.mbufs_left, 0u);
}

TEST(TcpTwoStacks, HandshakeBothWays) {
    TwoStacks s;
    Echo echo_a, echo_b;
    int err = 0;
    ASSERT_NE(s.a->tcp().listen(7, &Echo::on_accept, &echo_a, &err), nullptr);
    ASSERT_NE(s.b->tcp().listen(7, &Echo::on_accept, &echo_b, &err), nullptr);
    Sender to_a, to_b;
    to_a.lcore = s.b.get();
    to_b.lcore = s.a.get();
    to_a.total = to_b.total = 100000;
    to_a.conn = s.b->tcp().connect(kA, 7, &Sender::kHandler, &to_a, s.b->clock().now(), &err);
    to_b.conn = s.a->tcp().connect(kB, 7, &Sender::kHandler, &to_b, s.a->clock().now(), &err);
    run_until(s, [&] { return to_a.peer_fin && to_b.peer_fin; });
    EXPECT_EQ(to_a.received, 100000u);
    EXPECT_EQ(to_b.received, 100000u);
    EXPECT_EQ(echo_a.accepted, 1u);
    EXPECT_EQ(echo_b.accepted, 1u);
    EXPECT_TRUE(to_a.closed && to_b.closed) << "shutdown() plus the peer's FIN: on_closed(0)";
    run_until(s, [&] { return false; }, 70 * kNsPerSec);
    EXPECT_EQ(s.a->tcp().connections() + s.b->tcp().connections(), 0u);
    EXPECT_EQ(s.mbufs_in_use_after_shutdown(), 0u);
}

TEST(TcpTwoStacks, HalfCloseKeepsTheOtherDirectionOpen) {
    TwoStacks s;
    // A accepts and, on the client's FIN, sends 50 kB and then closes.
    struct Late {
        bool fin_seen = false;
        tcp::Connection* conn = nullptr;
        Lcore* lcore = nullptr;
        std::vector<std::uint8_t> data = std::vector<std::uint8_t>(50000, 0x5a);
    } late;
    late.lcore = s.a.get();
    static constexpr tcp::ConnectionHandler kLate{
        .on_established = nullptr,
        .on_data = [](tcp::Connection& c, tcp::Chunk d, void*) {
            c.consumed(d.length);
            d.release();
        },
        .on_peer_fin =
            [](tcp::Connection& c, void* u) {
                auto& l = *static_cast<Late*>(u);
                l.fin_seen = true;
                EXPECT_EQ(api::send_bytes(c, l.lcore->pool(), l.data.data(), l.data.size()), 50000);
                c.close();
            },
        .on_writable = nullptr,
        .on_closed = nullptr,
    };
    int err = 0;
    s.a->tcp().listen(9, [](tcp::Connection& c, void* u) { c.set_handler(&kLate, u); }, &late, &err);
    Sender client;
    client.lcore = s.b.get();
    client.total = 1000; // then shutdown(): half-close
    client.conn = s.b->tcp().connect(kA, 9, &Sender::kHandler, &client, s.b->clock().now(), &err);
    run_until(s, [&] { return client.peer_fin; });
    EXPECT_TRUE(late.fin_seen);
    EXPECT_EQ(client.received, 50000u) << "data still flows to the side that half-closed";
    run_until(s, [&] { return client.closed; }, 5 * kNsPerSec);
    EXPECT_TRUE(client.closed) << "shutdown() + the peer's FIN ends the connection: on_closed(0)";
    EXPECT_EQ(client.error, 0);
    EXPECT_EQ(s.mbufs_in_use_after_shutdown(), 0u);
}

TEST(TcpTwoStacks, ConnectionRefused) {
    TwoStacks s;
    Sender client;
    client.lcore = s.b.get();
    int err = 0;
    client.conn = s.b->tcp().connect(kA, 4242, &Sender::kHandler, &client, s.b->clock().now(), &err);
    run_until(s, [&] { return client.closed; }, 5 * kNsPerSec);
    EXPECT_TRUE(client.closed);
    EXPECT_EQ(client.error, ECONNREFUSED);
    EXPECT_EQ(s.a->counters().tcp_resets_sent.get(), 1u);
    EXPECT_EQ(s.b->tcp().connections(), 0u);
    EXPECT_EQ(s.mbufs_in_use_after_shutdown(), 0u);
}

} // namespace
} // namespace lanetcp::testing
