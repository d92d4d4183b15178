#include "harness.hpp"

#include <algorithm>

#include "wire/ipv4.hpp"

namespace lanetcp::tcp::test {

TcpConfig test_config() {
    TcpConfig c;
    c.max_connections = 64;
    c.chunk_pool = 4096;
    return c;
}

// ------------------------------------------------------------------ App ----

void App::pump() {
    while (conn != nullptr && queued < to_send) {
        const auto len = static_cast<std::uint32_t>(
            std::min<std::uint64_t>({write_size, to_send - queued, conn->send_space()}));
        if (len == 0) return; // on_writable brings us back
        std::string bytes(len, '\0');
        for (std::uint32_t i = 0; i < len; ++i)
            bytes[i] = static_cast<char>(pattern_byte(queued + i, pattern_salt_out));
        Chunk c = fake::make_chunk(bytes);
        const int rc = conn->send(c);
        if (rc != 0) {
            c.release();
            return;
        }
        queued += len;
    }
    if (conn != nullptr && to_send > 0 && queued == to_send) {
        Connection* c = conn;
        if (close_when_sent) {
            close_when_sent = false;
            conn = nullptr;
            c->close();
        } else if (shutdown_when_sent) {
            shutdown_when_sent = false;
            c->shutdown();
        }
    }
}

namespace {

App& app_of(void* user) { return *static_cast<App*>(user); }

void app_established(Connection& c, void* user) {
    App& a = app_of(user);
    EXPECT_EQ(a.conn, &c);
    ++a.established;
    a.pump();
}

void app_data(Connection& c, Chunk data, void* user) {
    App& a = app_of(user);
    EXPECT_GT(data.length, 0u);
    if (a.check_pattern) {
        for (std::uint32_t i = 0; i < data.length; ++i)
            if (data.data[i] != pattern_byte(a.received + i, a.pattern_salt_in)) ++a.pattern_errors;
    }
    if (a.keep_data) a.data.append(reinterpret_cast<const char*>(data.data), data.length);
    a.received += data.length;
    const std::uint32_t len = data.length;
    data.release();
    if (a.consume)
        c.consumed(len);
    else
        a.unconsumed += len;
    if (a.on_data_hook) a.on_data_hook(a);
}

void app_peer_fin(Connection& c, void* user) {
    App& a = app_of(user);
    ++a.peer_fin;
    if (a.close_on_peer_fin) {
        a.conn = nullptr;
        c.close();
    }
}

void app_writable(Connection&, void* user) {
    App& a = app_of(user);
    ++a.writable;
    a.pump();
}

void app_closed(Connection& c, int error, void* user) {
    App& a = app_of(user);
    EXPECT_TRUE(a.conn == &c || a.conn == nullptr);
    ++a.closed;
    a.error = error;
    a.conn = nullptr;
}

} // namespace

const ConnectionHandler kAppHandler{
    .on_established = &app_established,
    .on_data = &app_data,
    .on_peer_fin = &app_peer_fin,
    .on_writable = &app_writable,
    .on_closed = &app_closed,
};

void Server::on_accept(Connection& c, void* self) {
    auto& s = *static_cast<Server*>(self);
    if (s.refuse) return;
    App& a = s.apps.emplace_back();
    a.conn = &c;
    if (s.configure) s.configure(a);
    c.set_handler(&kAppHandler, &a);
    a.pump();
}

// ----------------------------------------------------------------- Node ----

Node::Node(wire::Ipv4Addr address, const TcpConfig& cfg, TimeNs now, std::uint8_t key_seed) : ip(address) {
    IsnGenerator::Key key{};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(key_seed * 31 + i);
    tcp = std::make_unique<TcpLayer>(cfg, out, counters, key, ip, 1500, now);
}

Node::~Node() { tcp.reset(); }

testing::AssertionResult is_segment(const SentSegment& s, TcpFlags flags, SeqNum seq, SeqNum ack, std::size_t len,
                                    int window) {
    auto fail = [&](const char* what) {
        return testing::AssertionFailure()
               << what << ": got " << fake::flags_string(s.flags) << " seq=" << s.seq.raw() << " ack=" << s.ack.raw()
               << " win=" << s.window << " len=" << s.payload.size() << ", want " << fake::flags_string(flags)
               << " seq=" << seq.raw() << " ack=" << ack.raw() << " win=" << window << " len=" << len;
    };
    if (s.flags != flags) return fail("flags");
    if (s.seq != seq) return fail("seq");
    if (flags.ack() && s.ack != ack) return fail("ack");
    if (s.payload.size() != len) return fail("payload length");
    if (window >= 0 && s.window != window) return fail("window");
    return testing::AssertionSuccess();
}

// ------------------------------------------------------------- OneLayer ----

void OneLayer::TearDown() {
    node.tcp.reset();
    EXPECT_EQ(fake::live_buffers(), 0) << "packet buffers leaked";
}

SentSegment OneLayer::only_one() {
    auto s = sent();
    EXPECT_EQ(s.size(), 1u);
    if (s.empty()) return SentSegment{};
    return s.front();
}

void OneLayer::expect_nothing_sent(int line) {
    auto s = sent();
    EXPECT_TRUE(s.empty()) << "line " << line << ": " << s.size() << " segments sent, first "
                           << fake::flags_string(s.front().flags) << " seq=" << s.front().seq.raw();
}

Connection* OneLayer::accept_one(std::uint16_t peer_mss) {
    if (listener == nullptr) {
        int err = 1;
        listener = tcp().listen(kPort, &Server::on_accept, &server, &err);
        EXPECT_EQ(err, 0);
    }
    InSegment syn = fake::make_segment(tuple, peer_isn, SeqNum{}, tf::syn, 65535);
    syn.options.mss = peer_mss;
    input(syn);
    SentSegment synack = only_one();
    EXPECT_EQ(synack.flags, tf::syn | tf::ack);
    EXPECT_EQ(synack.ack, peer_isn + 1);
    peer_nxt = peer_isn + 1;
    our_nxt = synack.seq + 1;
    peer(tf::ack, peer_nxt, our_nxt);
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(server.apps.size(), 1u);
    if (server.apps.empty()) return nullptr;
    Connection* c = server.apps.front().conn;
    EXPECT_NE(c, nullptr);
    if (c != nullptr) {
        EXPECT_EQ(c->state(), State::established);
    }
    return c;
}

Connection* OneLayer::connect_one(std::uint16_t peer_mss) {
    int err = 1;
    Connection* c = tcp().connect(kIpB, kPeerPort, &kAppHandler, &client, now, &err, 0);
    EXPECT_EQ(err, 0);
    if (c == nullptr) return nullptr;
    client.conn = c;
    tuple = c->tuple();
    SentSegment syn = only_one();
    EXPECT_EQ(syn.flags, tf::syn);
    our_nxt = syn.seq + 1;
    InSegment synack = fake::make_segment(tuple, peer_isn, our_nxt, tf::syn | tf::ack, 65535);
    synack.options.mss = peer_mss;
    input(synack);
    peer_nxt = peer_isn + 1;
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, peer_nxt, 0, 65535));
    EXPECT_EQ(c->state(), State::established);
    EXPECT_EQ(client.established, 1);
    return c;
}

// ----------------------------------------------------------------- Pair ----

Pair::Pair(const TcpConfig& cfg) : a(kIpA, cfg, 0, 1), b(kIpB, cfg, 0, 2) {}

namespace {

// impair::Link's operations on a test segment.
struct WireOps {
    std::uint32_t wire_bytes(const WireSegment& w) {
        return static_cast<std::uint32_t>(w.segment.payload.size()) + 54; // Ethernet, IPv4, TCP headers
    }
    bool ect(const WireSegment& w) {
        const unsigned ecn = w.segment.tos & 3u;
        return ecn == 1 || ecn == 2;
    }
    void mark_ce(WireSegment& w) { w.segment.tos |= 3u; }
    bool corrupt(WireSegment& w, std::uint64_t bits) {
        std::string& p = w.segment.payload;
        if (!p.empty()) p[bits % p.size()] = static_cast<char>(p[bits % p.size()] ^ static_cast<char>(((bits >> 32) % 255) + 1));
        w.corrupted = true;
        return true;
    }
    bool copy(const WireSegment& w, WireSegment& out) {
        out = w;
        return true;
    }
    void drop(WireSegment& w) { w.segment.payload.clear(); }
};

} // namespace

void Pair::impair(const impair::Spec& a_to_b, const impair::Spec& b_to_a) {
    a_to_b_ = std::make_unique<ImpairedLink>(a_to_b);
    b_to_a_ = std::make_unique<ImpairedLink>(b_to_a);
}

void Pair::deliver_one(Node& to, const SentSegment& s) {
    if (log_all) log.push_back(s);
    InSegment in = fake::to_input(s);
    to.tcp->input(in, now);
    ++delivered;
}

void Pair::deliver(Node& to, std::vector<SentSegment>& batch, bool from_a) {
    std::vector<SentSegment> later;
    for (SentSegment& s : batch) {
        Fate f = filter ? filter(s, from_a) : Fate::deliver;
        if (f == Fate::drop) {
            ++dropped;
            continue;
        }
        if (f == Fate::delay) {
            ++delayed;
            later.push_back(std::move(s));
            continue;
        }
        if (f == Fate::mark_ce && (s.tos & wire::ecn::mask) != wire::ecn::not_ect) {
            s.tos |= wire::ecn::ce;
            ++marked;
        }
        deliver_one(to, s);
    }
    for (SentSegment& s : later) deliver_one(to, s);
}

bool Pair::flush_impaired_once() {
    WireOps ops;
    auto from_a = a.out.take();
    auto from_b = b.out.take();
    bool moved = !from_a.empty() || !from_b.empty();
    auto offer = [&](std::vector<SentSegment>& batch, bool is_a) {
        ImpairedLink& link = is_a ? *a_to_b_ : *b_to_a_;
        for (SentSegment& s : batch) {
            if (filter && filter(s, is_a) == Fate::drop) {
                ++dropped;
                continue;
            }
            link.send(now, WireSegment{std::move(s), false}, ops);
        }
    };
    offer(from_a, true);
    offer(from_b, false);
    WireSegment w;
    auto arrive = [&](ImpairedLink& link, Node& to) {
        while (link.receive(now, w)) {
            moved = true;
            if (w.corrupted) {
                ++corrupted_discarded; // the receiver's checksum check
                continue;
            }
            deliver_one(to, w.segment);
        }
    };
    arrive(*a_to_b_, b);
    arrive(*b_to_a_, a);
    return moved;
}

void Pair::flush() {
    if (impaired()) {
        while (flush_impaired_once()) {
        }
        return;
    }
    for (;;) {
        auto from_a = a.out.take();
        auto from_b = b.out.take();
        if (from_a.empty() && from_b.empty()) return;
        deliver(b, from_a, true);
        deliver(a, from_b, false);
    }
}

bool Pair::run_until(const std::function<bool()>& done, TimeNs limit) {
    for (;;) {
        flush();
        if (done()) return true;
        const TimeNs hint = std::min(a.tcp->timers().next_expiry_hint(), b.tcp->timers().next_expiry_hint());
        TimeNs next = ImpairedLink::kNever;
        if (hint != TimerWheel::kNever) {
            // Hints are lower bounds: round up to the tick in which they can fire.
            next = (hint + kMs - 1) / kMs * kMs;
            if (next <= now) next = now + kMs;
        }
        if (impaired()) next = std::min({next, a_to_b_->next_due(), b_to_a_->next_due()});
        if (next == ImpairedLink::kNever) return false;
        now = next;
        if (now > limit) return false;
        a.tcp->advance(now);
        b.tcp->advance(now);
    }
}

} // namespace lanetcp::tcp::test
