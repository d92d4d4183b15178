// Test scaffolding for lib/tcp: a TcpLayer with its fakes (Node), an
// application that records every callback (App, Server), a fixture that plays
// the peer by hand (OneLayer), and two layers wired back to back (Pair).
// Time is manual everywhere: the TimeNs handed to input() and advance().
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fake_platform.hpp"
#include "impair/link.hpp"
#include "netif/counters.hpp"
#include "tcp/tcp_layer.hpp"

namespace lanetcp::tcp::test {

namespace tf = wire::tcpflag;

inline constexpr TimeNs kMs = kNsPerMs;
inline constexpr TimeNs kSec = kNsPerSec;
inline constexpr wire::Ipv4Addr kIpA{0x0a000001}; // 10.0.0.1
inline constexpr wire::Ipv4Addr kIpB{0x0a000002}; // 10.0.0.2
inline constexpr std::uint16_t kMss = 1460;       // both sides, MTU 1500

// Defaults with pools small enough for a test.
TcpConfig test_config();

// The byte at `offset` of a bulk stream: position-dependent, so a lost,
// duplicated or reordered byte shows.
inline std::uint8_t pattern_byte(std::uint64_t offset, std::uint32_t salt) noexcept {
    std::uint64_t x = (offset + salt * 0x100000001ull) * 0x9e3779b97f4a7c15ull;
    return static_cast<std::uint8_t>(x >> 56);
}

// One connection as the application sees it.
struct App {
    Connection* conn = nullptr;

    // Receive side.
    bool keep_data = true;        // append to `data` (off for bulk streams)
    bool consume = true;          // consumed() at once in on_data
    std::string data;
    std::uint64_t received = 0;   // bytes delivered
    std::uint32_t unconsumed = 0; // when !consume
    std::uint32_t pattern_salt_in = 0;
    bool check_pattern = false;   // compare every byte with pattern_byte()
    std::uint64_t pattern_errors = 0;

    // Send side: a bulk stream of `to_send` pattern bytes, written as space allows.
    std::uint64_t to_send = 0;
    std::uint64_t queued = 0;
    std::uint32_t pattern_salt_out = 0;
    std::uint32_t write_size = 4000;
    bool shutdown_when_sent = false;
    bool close_when_sent = false;
    bool close_on_peer_fin = false;

    // Callback counts.
    int established = 0;
    int peer_fin = 0;
    int writable = 0;
    int closed = 0;
    int error = -1;

    std::function<void(App&)> on_data_hook; // runs after each on_data

    // Queues pattern bytes while the connection takes them.
    void pump();
};

extern const ConnectionHandler kAppHandler;

// A listener's application: every accepted connection gets an App.
struct Server {
    std::deque<App> apps;
    bool refuse = false;                 // leave the handler unset in on_accept
    std::function<void(App&)> configure; // before set_handler takes effect
    static void on_accept(Connection& c, void* self);
};

// One TcpLayer and its fakes.
struct Node {
    explicit Node(wire::Ipv4Addr ip, const TcpConfig& cfg = test_config(), TimeNs now = 0,
                  std::uint8_t key_seed = 1);
    ~Node();
    Counters counters;
    TcpOutput out;
    std::unique_ptr<TcpLayer> tcp;
    wire::Ipv4Addr ip;
};

// Checks a transmitted segment field by field; `len` is the payload length
// and `window` is skipped when negative.
testing::AssertionResult is_segment(const SentSegment& s, TcpFlags flags, SeqNum seq, SeqNum ack, std::size_t len,
                                    int window = -1);

// One layer under test (10.0.0.1), the peer (10.0.0.2:40000) played by the test.
class OneLayer : public testing::Test {
protected:
    static constexpr std::uint16_t kPort = 80;
    static constexpr std::uint16_t kPeerPort = 40000;

    explicit OneLayer(const TcpConfig& cfg = test_config()) : node(kIpA, cfg) {}
    void TearDown() override;

    TcpLayer& tcp() { return *node.tcp; }
    Counters& counters() { return node.counters; }

    // The segment from the peer, at the current time.
    void input(InSegment s) { node.tcp->input(s, now); }
    void peer(TcpFlags f, SeqNum seq, SeqNum ack, std::string_view payload = {}, std::uint16_t window = 65535) {
        input(fake::make_segment(tuple, seq, ack, f, window, payload));
    }
    // Time moves to `t` and due timers run.
    void at(TimeNs t) {
        now = t;
        node.tcp->advance(now);
    }
    std::vector<SentSegment> sent() { return node.out.take(); }
    // Exactly one segment was sent: that one.
    SentSegment only_one();
    void expect_nothing_sent(int line);

    // Passive open on kPort to the end: returns the accepted connection (app 0).
    Connection* accept_one(std::uint16_t peer_mss = kMss);
    // Active open to the peer to the end.
    Connection* connect_one(std::uint16_t peer_mss = kMss);

    Node node;
    TimeNs now = 0;
    FourTuple tuple{kIpA, kIpB, kPort, kPeerPort}; // our view
    Server server;
    Listener* listener = nullptr;
    App client;        // for active opens
    SeqNum peer_isn{1000000};
    SeqNum peer_nxt{};  // next sequence number the peer sends
    SeqNum our_nxt{};   // next sequence number we send (what the peer acknowledges)
};

// A segment on an impaired wire: `corrupted` stands for the flipped byte that
// the receiver's checksum would catch (the fake platform carries no checksum).
struct WireSegment {
    SentSegment segment;
    bool corrupted = false;
};

// Two layers, A (10.0.0.1) and B (10.0.0.2), joined by a wire that delivers
// at once and may drop or delay chosen segments (`filter`), or, after
// impair(), that applies the impairment model of lib/impair to each
// direction on the manual clock: same seed, same fates, same run.
class Pair {
public:
    // mark_ce: delivered, with CE in place of an ECT codepoint (a router
    // marking instead of dropping, RFC 3168 5); a not-ECT segment as is.
    enum class Fate { deliver, drop, delay, mark_ce };
    using Filter = std::function<Fate(const SentSegment&, bool from_a)>;
    using ImpairedLink = impair::Link<WireSegment>;

    explicit Pair(const TcpConfig& cfg = test_config());

    // What A sends meets `a_to_b`, what B sends meets `b_to_a` (one model
    // each). `filter` still runs first; Fate::delay means deliver there.
    void impair(const impair::Spec& a_to_b, const impair::Spec& b_to_a);
    void impair(const std::string& a_to_b, const std::string& b_to_a) {
        impair(impair::parse_spec(a_to_b), impair::parse_spec(b_to_a));
    }
    bool impaired() const noexcept { return a_to_b_ != nullptr; }
    const impair::Stats& impair_stats(bool from_a) const { return (from_a ? a_to_b_ : b_to_a_)->stats(); }

    // Moves segments both ways until neither side has anything to send and
    // nothing on the wire is due.
    // Delayed segments go after the rest of the batch they were in.
    void flush();
    // flush(), then time on to the next timer or the next segment due on the
    // impaired wire, until `done` or `limit`.
    bool run_until(const std::function<bool()>& done, TimeNs limit);

    Node a;
    Node b;
    TimeNs now = 0;
    Filter filter;
    std::uint64_t delivered = 0;
    std::uint64_t dropped = 0;
    std::uint64_t delayed = 0;
    std::uint64_t corrupted_discarded = 0; // impaired wire: corrupted segments the receiver's checksum caught
    std::uint64_t marked = 0;
    std::vector<SentSegment> log; // every segment that went over the wire, when log_all
    bool log_all = false;

private:
    void deliver(Node& to, std::vector<SentSegment>& batch, bool from_a);
    void deliver_one(Node& to, const SentSegment& s);
    bool flush_impaired_once();

    std::unique_ptr<ImpairedLink> a_to_b_;
    std::unique_ptr<ImpairedLink> b_to_a_;
};

} // namespace lanetcp::tcp::test
