// ECN (RFC 3168) between two layers over the in-memory wire: who agrees with
// whom under each tcp.ecn setting and per-connection override, and a bulk
// transfer through a "router" that marks CE instead of dropping: windows
// come down, every new data segment is ECT(0), nothing is retransmitted.
#include <optional>

#include "harness.hpp"
#include "wire/ipv4.hpp"

namespace lanetcp::tcp::test {
namespace {

constexpr std::uint16_t kPort = 80;

class Ecn : public testing::Test {
protected:
    void TearDown() override {
        pair.reset();
        EXPECT_EQ(fake::live_buffers(), 0) << "packet buffers leaked";
    }
    void start(const TcpConfig& cfg, const ConnectionOptions* client_options = nullptr,
               std::optional<EcnMode> listener_ecn = std::nullopt) {
        pair = std::make_unique<Pair>(cfg);
        pair->log_all = true;
        int err = 1;
        listener = pair->b.tcp->listen(kPort, &Server::on_accept, &server, &err);
        ASSERT_NE(listener, nullptr);
        if (listener_ecn) listener->options.ecn = *listener_ecn;
        client.conn = pair->a.tcp->connect(kIpB, kPort, &kAppHandler, &client, pair->now, &err, 0, client_options);
        ASSERT_NE(client.conn, nullptr);
        ASSERT_TRUE(pair->run_until([&] { return !server.apps.empty() && client.established; }, 10 * kSec));
    }
    bool agreed() const { return client.conn->ecn() && server.apps[0].conn->ecn(); }

    std::unique_ptr<Pair> pair;
    Server server;
    Listener* listener = nullptr;
    App client;
};

TcpConfig with_ecn(EcnMode m) {
    TcpConfig c = test_config();
    c.ecn = m;
    return c;
}

TEST_F(Ecn, BothAskAndAgree) {
    start(with_ecn(EcnMode::request));
    EXPECT_TRUE(agreed());
    EXPECT_EQ(pair->a.counters.tcp_ecn_negotiated.get(), 1u);
    EXPECT_EQ(pair->b.counters.tcp_ecn_negotiated.get(), 1u);
    EXPECT_NE(client.conn->describe(pair->now).find(" ecn"), std::string::npos) << "describe() shows it";
}

TEST_F(Ecn, DefaultAcceptsButNeverAsks) {
    start(with_ecn(EcnMode::accept));
    EXPECT_FALSE(client.conn->ecn());
    EXPECT_FALSE(server.apps[0].conn->ecn());
    ASSERT_FALSE(pair->log.empty());
    EXPECT_FALSE(pair->log[0].flags.ece()) << "a SYN that does not ask";
}

TEST_F(Ecn, ConnectOptionsAskWhereTheConfigDoesNot) {
    ConnectionOptions o = ConnectionOptions::from(with_ecn(EcnMode::accept));
    o.ecn = EcnMode::request;
    start(with_ecn(EcnMode::accept), &o);
    EXPECT_TRUE(agreed()) << "connect()'s options ask; the listener's default (2) accepts";
}

TEST_F(Ecn, ListenerOptionsTurnItOff) {
    start(with_ecn(EcnMode::request), nullptr, EcnMode::off);
    EXPECT_FALSE(client.conn->ecn());
    EXPECT_FALSE(server.apps[0].conn->ecn());
    ASSERT_GE(pair->log.size(), 2u);
    EXPECT_TRUE(pair->log[0].flags.ece() && pair->log[0].flags.cwr()) << "the SYN asks";
    EXPECT_FALSE(pair->log[1].flags.ece()) << "the SYN-ACK says no";
}

TEST_F(Ecn, MarkedBulkTransferReducesWithoutRetransmitting) {
    TcpConfig cfg = with_ecn(EcnMode::request);
    cfg.trace_rows = 1u << 16;
    start(cfg);
    ASSERT_TRUE(agreed());
    // One ECT segment in 25 arrives marked CE, each way.
    std::uint64_t seen = 0;
    pair->filter = [&seen](const SentSegment& s, bool) {
        if ((s.tos & wire::ecn::mask) == wire::ecn::not_ect) return Pair::Fate::deliver;
        return ++seen % 25 == 0 ? Pair::Fate::mark_ce : Pair::Fate::deliver;
    };
    constexpr std::uint64_t kBytes = 4u << 20;
    App& srv = server.apps[0];
    srv.keep_data = client.keep_data = false;
    srv.check_pattern = client.check_pattern = true;
    srv.pattern_salt_in = client.pattern_salt_out = 1;
    srv.pattern_salt_out = client.pattern_salt_in = 2;
    srv.to_send = client.to_send = kBytes;
    srv.shutdown_when_sent = client.shutdown_when_sent = true;
    client.pump();
    srv.pump();
    ASSERT_TRUE(pair->run_until([&] { return client.peer_fin == 1 && srv.peer_fin == 1; }, pair->now + 600 * kSec));
    EXPECT_EQ(client.received, kBytes);
    EXPECT_EQ(srv.received, kBytes);
    EXPECT_EQ(client.pattern_errors + srv.pattern_errors, 0u);
    EXPECT_GT(pair->marked, 0u);
    for (const Node* n : {&pair->a, &pair->b}) {
        const Counters& c = n->counters;
        EXPECT_GT(c.tcp_ecn_ce_received.get(), 0u);
        EXPECT_GT(c.tcp_ecn_ece_sent.get(), 0u);
        EXPECT_GT(c.tcp_ecn_ece_received.get(), 0u);
        EXPECT_GT(c.tcp_ecn_reductions.get(), 0u);
        EXPECT_GT(c.tcp_ecn_cwr_sent.get(), 0u);
        EXPECT_GT(c.tcp_ecn_cwr_received.get(), 0u);
        // A mark is not a loss: nothing resent, no recovery.
        EXPECT_EQ(c.tcp_retransmitted_segments.get(), 0u);
        EXPECT_EQ(c.tcp_recoveries.get(), 0u);
    }
    // The congestion trace has one `ece` row for each reduction, and the
    // window it shows right after it is no larger than before it.
    std::uint64_t ece_rows = 0;
    std::uint32_t cwnd_before = 0;
    pair->a.tcp->cc_trace().drain([&](const TraceRow& r) {
        if (r.event == TraceEvent::ece) {
            ++ece_rows;
            EXPECT_LE(r.cwnd, cwnd_before) << "at " << r.time;
        }
        cwnd_before = r.cwnd;
    });
    EXPECT_EQ(pair->a.tcp->cc_trace().dropped(), 0u);
    EXPECT_EQ(ece_rows, pair->a.counters.tcp_ecn_reductions.get());
    // At most one reduction per window: no more than the marks the peer saw.
    EXPECT_LE(pair->a.counters.tcp_ecn_reductions.get(), pair->b.counters.tcp_ecn_ce_received.get());
    EXPECT_LE(pair->b.counters.tcp_ecn_reductions.get(), pair->a.counters.tcp_ecn_ce_received.get());
    // ECT(0) on every data segment (all new here), never on anything else.
    std::uint64_t data = 0;
    for (const SentSegment& s : pair->log) {
        const std::uint8_t ecn = s.tos & wire::ecn::mask;
        if (s.payload.empty()) {
            EXPECT_EQ(ecn, wire::ecn::not_ect) << fake::flags_string(s.flags) << " without data";
        } else {
            ++data;
            EXPECT_NE(ecn, wire::ecn::not_ect) << "data segment " << s.seq.raw();
        }
    }
    EXPECT_GT(data, 2 * kBytes / 1460);
}

} // namespace
} // namespace lanetcp::tcp::test
