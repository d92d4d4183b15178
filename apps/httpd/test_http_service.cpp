// lanetcp-httpd's deadlines end to end and deterministic: the service on
// stack B, a client on stack A's TCP, the in-memory wire and manual clocks.
// The request-head deadline (slowloris: 408 and a close, however the bytes
// trickle), and the idle timeout kept by the session's timer on the lcore's
// wheel with no traffic at all (it used to be checked only when traffic came).
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "api/tcp_api.hpp"
#include "httpd/content.hpp"
#include "httpd/http_service.hpp"
#include "two_stacks.hpp"

namespace lanetcp::testing {
namespace {

const wire::Ipv4Addr kB = *wire::Ipv4Addr::parse("10.9.0.2");
constexpr TimeNs kStep = 100 * kNsPerMs;

struct Client {
    tcp::Connection* conn = nullptr;
    std::string data;
    bool established = false, peer_fin = false;
    static const tcp::ConnectionHandler kHandler;
};

const tcp::ConnectionHandler Client::kHandler{
    .on_established = [](tcp::Connection&, void* u) { static_cast<Client*>(u)->established = true; },
    .on_data =
        [](tcp::Connection& c, tcp::Chunk d, void* u) {
            static_cast<Client*>(u)->data.append(reinterpret_cast<const char*>(d.data), d.length);
            c.consumed(d.length);
            d.release();
        },
    .on_peer_fin =
        [](tcp::Connection& c, void* u) {
            auto& client = *static_cast<Client*>(u);
            client.peer_fin = true;
            c.close(); // no more callbacks: the connection is TCP's from here
            client.conn = nullptr;
        },
    .on_writable = nullptr,
    .on_closed = [](tcp::Connection&, int, void* u) { static_cast<Client*>(u)->conn = nullptr; },
};

class HttpDeadlines : public ::testing::Test {
protected:
    static constexpr TimeNs kHeader = 2 * kNsPerSec;
    static constexpr TimeNs kIdle = 5 * kNsPerSec;

    HttpDeadlines() : content(httpd::Content::fixed(16)) {
        service = std::make_unique<httpd::HttpService>(
            *s.b, 80, content, httpd::HttpService::Timeouts{.idle = kIdle, .header = kHeader});
    }
    ~HttpDeadlines() override {
        if (client.conn != nullptr) client.conn->abort();
        s.settle();
        service.reset();
    }

    void connect() {
        int err = 0;
        client.conn = s.a->tcp().connect(kB, 80, &Client::kHandler, &client, s.a->clock().now(), &err);
        ASSERT_NE(client.conn, nullptr) << err;
        s.settle();
        ASSERT_TRUE(client.established);
    }
    void send(std::string_view bytes) {
        ASSERT_EQ(api::send_bytes(*client.conn, s.a->pool(), bytes.data(), bytes.size()),
                  static_cast<long>(bytes.size()));
        s.settle();
    }
    TimeNs now() { return s.b->clock().now(); }

    TwoStacks s;
    httpd::Content content;
    std::unique_ptr<httpd::HttpService> service;
    Client client;
};

TEST_F(HttpDeadlines, TricklingHeadGets408AtTheHeaderDeadline) {
    connect();
    const TimeNs accepted = now();
    send("GET / HTTP/1.1\r\n");
    // One more byte of a header line every 300 ms: traffic, never a whole head.
    while (now() + 300 * kNsPerMs < accepted + kHeader) {
        s.advance(300 * kNsPerMs, kStep);
        send("X");
        ASSERT_TRUE(client.data.empty()) << "nothing before the deadline";
    }
    s.advance(accepted + kHeader + kStep - now(), kStep);
    EXPECT_TRUE(client.data.starts_with("HTTP/1.1 408 Request Timeout\r\n")) << client.data;
    EXPECT_NE(client.data.find("Connection: close\r\n"), std::string::npos);
    EXPECT_TRUE(client.peer_fin) << "and the server closes";
    EXPECT_EQ(service->counters().header_timeouts, 1u);
    EXPECT_EQ(service->counters().idle_timeouts, 0u);
}

TEST_F(HttpDeadlines, ConnectionThatSendsNothingGets408) {
    connect();
    const TimeNs accepted = now();
    s.advance(kHeader - kStep, kStep);
    EXPECT_TRUE(client.data.empty());
    s.advance(accepted + kHeader + kStep - now(), kStep);
    EXPECT_TRUE(client.data.starts_with("HTTP/1.1 408 ")) << client.data;
    EXPECT_EQ(service->counters().header_timeouts, 1u);
}

TEST_F(HttpDeadlines, SlowButCompleteHeadIsServedAndTheNextOneGetsItsOwnDeadline) {
    connect();
    const std::string_view req = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
    for (std::size_t i = 0; i < req.size(); i += 8) {
        send(req.substr(i, 8));
        s.advance(300 * kNsPerMs, kStep); // 4 pieces over 1.2 s, within the 2 s
    }
    EXPECT_TRUE(client.data.starts_with("HTTP/1.1 200 OK\r\n")) << client.data;
    client.data.clear();
    // Keep-alive: quiet for longer than the header timeout is only idle.
    s.advance(kHeader + kNsPerSec, kStep);
    EXPECT_TRUE(client.data.empty());
    EXPECT_FALSE(client.peer_fin);
    // The next request's head starts its own deadline.
    const TimeNs started = now();
    send("GET / HT");
    s.advance(started + kHeader + kStep - now(), kStep);
    EXPECT_TRUE(client.data.starts_with("HTTP/1.1 408 ")) << client.data;
    EXPECT_EQ(service->counters().header_timeouts, 1u);
}

TEST_F(HttpDeadlines, IdleKeepAliveIsClosedWithNoTrafficAtAll) {
    connect();
    send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    ASSERT_TRUE(client.data.starts_with("HTTP/1.1 200 OK\r\n"));
    const TimeNs answered = now();
    s.advance(kIdle - kStep, kStep); // nothing arrives on either lcore
    EXPECT_FALSE(client.peer_fin);
    s.advance(answered + kIdle + kStep - now(), kStep);
    EXPECT_TRUE(client.peer_fin) << "closed by the session's timer";
    EXPECT_EQ(service->counters().idle_timeouts, 1u);
    EXPECT_EQ(service->counters().header_timeouts, 0u);
}

TEST_F(HttpDeadlines, EveryMbufComesBack) {
    connect();
    send("GET / HTTP/1.1\r\nHost: t\r\n\r\nGET / HT");
    s.advance(kHeader + kNsPerSec, kStep);
    EXPECT_EQ(service->counters().header_timeouts, 1u);
    s.advance(5 * kNsPerSec, kStep);
    service.reset();
    EXPECT_EQ(s.mbufs_in_use_after_shutdown(), 0u);
}

} // namespace
} // namespace lanetcp::testing
