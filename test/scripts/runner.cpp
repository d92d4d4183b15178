// run_script: plays a segment-level script (doc/scripts.md) against one
// TcpLayer at 10.0.0.1 on the unit tests' fake platform, the script being
// the peer at 10.0.0.2. Time is virtual: before each line the clock moves to
// the line's time, stopping at every timer deadline on the way, and what the
// stack sends is stamped with the clock of the step that produced it.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <iostream>
#include <memory>

#include "harness.hpp"
#include "script.hpp"

namespace lanetcp::scripts {
namespace {

using namespace lanetcp::tcp;
using tcp::test::App;
using tcp::test::kIpA;
using tcp::test::kIpB;
using K = OptionItem::Kind;

// A check that did not hold: the runner reports it and the script fails.
struct Failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// 2^32 - 1000: the peer's first kilobyte of data crosses the sequence wrap.
constexpr std::uint32_t kDefaultPeerIsn = 4294966296u;

TcpConfig baseline() {
    TcpConfig c = tcp::test::test_config();
    c.sack = c.window_scale = c.timestamps = false; // a script states every extension it uses
    return c;
}

void apply(TcpConfig& c, std::uint32_t& peer_isn, const Setting& s, const std::string& file) {
    auto fail = [&](const std::string& what) { throw ScriptError(where(file, s.line) + ": " + what); };
    auto number = [&]() -> std::uint64_t {
        if (s.value.find_first_not_of("0123456789") != std::string::npos || s.value.size() > 10)
            fail("config " + s.key + ": expected a number, got '" + s.value + "'");
        return std::stoull(s.value);
    };
    auto u32 = [&](std::uint32_t& f) { f = static_cast<std::uint32_t>(number()); };
    auto ms = [&](TimeNs& f) { f = number() * kNsPerMs; };
    auto flag = [&](bool& f) {
        if (s.value != "on" && s.value != "off") fail("config " + s.key + ": expected on or off");
        f = s.value == "on";
    };
    const std::string& k = s.key;
    if (k == "receive_buffer") u32(c.receive_buffer);
    else if (k == "send_buffer") u32(c.send_buffer);
    else if (k == "mss") c.mss = static_cast<std::uint16_t>(number());
    else if (k == "sack") flag(c.sack);
    else if (k == "window_scale") flag(c.window_scale);
    else if (k == "timestamps") flag(c.timestamps);
    else if (k == "loss_probes") flag(c.loss_probes);
    else if (k == "frto") flag(c.frto);
    else if (k == "congestion_control") {
        const auto a = cc::parse_algorithm(s.value);
        if (!a) fail("config congestion_control: expected newreno, cubic or dctcp");
        c.congestion_control = *a;
    }
    else if (k == "challenge_ack_limit") u32(c.challenge_ack_limit);
    else if (k == "invalid_ratelimit") ms(c.invalid_ratelimit);
    else if (k == "orphan_retries") u32(c.orphan_retries);
    else if (k == "max_orphans") u32(c.max_orphans);
    else if (k == "user_timeout") ms(c.user_timeout);
    else if (k == "initial_rto") ms(c.initial_rto);
    else if (k == "min_rto") ms(c.min_rto);
    else if (k == "max_rto") ms(c.max_rto);
    else if (k == "retries2") u32(c.retries2);
    else if (k == "syn_retries") u32(c.syn_retries);
    else if (k == "synack_retries") u32(c.synack_retries);
    else if (k == "time_wait") ms(c.time_wait);
    else if (k == "delayed_ack") ms(c.delayed_ack);
    else if (k == "initial_cwnd") u32(c.initial_cwnd);
    else if (k == "syn_backlog") u32(c.syn_backlog);
    else if (k == "syncache_entries") u32(c.syncache_entries);
    else if (k == "syncookies") flag(c.syncookies);
    else if (k == "ecn") {
        const std::uint64_t v = number();
        if (v > 2) fail("config ecn: expected 0, 1 or 2 (as net.ipv4.tcp_ecn)");
        c.ecn = static_cast<tcp::EcnMode>(v);
    }
    else if (k == "peer_isn") u32(peer_isn);
    else fail("unknown config key '" + k + "'");
}

// ---- options as bytes on the wire: the stack's via its own emitter (so
// NOPs and order are what a peer would see), the script's through the real
// parser. SACK edges are relative to `base`.

std::vector<OptionItem> decode_options(const wire::TcpOptions& o, std::uint32_t base) {
    std::array<std::uint8_t, 64> b{};
    const std::size_t n = wire::emit_tcp_options(b.data(), o);
    auto be = [&](std::size_t i, int bytes) {
        std::uint32_t v = 0;
        for (int j = 0; j < bytes; ++j) v = v << 8 | b[i + j];
        return v;
    };
    std::vector<OptionItem> out;
    for (std::size_t i = 0; i < n;) {
        OptionItem it;
        const std::uint8_t kind = b[i];
        if (kind <= 1) {
            it.kind = kind == 0 ? K::eol : K::nop;
            out.push_back(it);
            if (kind == 0) break;
            ++i;
            continue;
        }
        const std::size_t len = b[i + 1];
        switch (kind) {
        case 2: it = {K::mss, {{false, be(i + 2, 2)}}}; break;
        case 3: it = {K::wscale, {{false, b[i + 2]}}}; break;
        case 4: it = {K::sack_ok, {}}; break;
        case 8: it = {K::ts, {{false, be(i + 2, 4)}, {false, be(i + 6, 4)}}}; break;
        case 5:
            it.kind = K::sack;
            for (std::size_t p = i + 2; p + 8 <= i + len; p += 8)
                it.values.insert(it.values.end(), {{false, be(p, 4) - base}, {false, be(p + 4, 4) - base}});
            break;
        default: throw Failure("the stack emitted option kind " + std::to_string(kind));
        }
        out.push_back(it);
        i += len;
    }
    return out;
}

std::vector<std::uint8_t> encode_options(const std::vector<OptionItem>& items, std::uint32_t base) {
    std::vector<std::uint8_t> b;
    auto be = [&](std::uint32_t v, int bytes) {
        for (int j = bytes - 1; j >= 0; --j) b.push_back(static_cast<std::uint8_t>(v >> (8 * j)));
    };
    for (const OptionItem& it : items) {
        switch (it.kind) {
        case K::eol: b.push_back(0); break;
        case K::nop: b.push_back(1); break;
        case K::mss: b.insert(b.end(), {2, 4}); be(it.values[0].v, 2); break;
        case K::wscale: b.insert(b.end(), {3, 3, static_cast<std::uint8_t>(it.values[0].v)}); break;
        case K::sack_ok: b.insert(b.end(), {4, 2}); break;
        case K::ts: b.insert(b.end(), {8, 10}); be(it.values[0].v, 4); be(it.values[1].v, 4); break;
        case K::sack:
            b.insert(b.end(), {5, static_cast<std::uint8_t>(2 + 4 * it.values.size())});
            for (const Value& v : it.values) be(v.v + base, 4);
            break;
        }
    }
    return b;
}

// ---- comparison ----

std::string mismatch(const SegmentSpec& want, const SegmentSpec& got) {
    auto differs = [](const Value& w, const Value& g) { return !w.any && w.v != g.v; };
    if (!want.any_ecn && want.ecn != got.ecn) return "ECN codepoint differs";
    if (want.flags != got.flags) return "flags differ";
    if (want.seq != got.seq || want.len != got.len) return "sequence numbers differ";
    if (want.ack && differs(*want.ack, *got.ack)) return "ack differs";
    if (differs(want.win, got.win)) return "window differs";
    if (want.any_options) return {};
    if (want.options.size() != got.options.size()) return "options differ";
    for (std::size_t i = 0; i < want.options.size(); ++i) {
        const OptionItem &w = want.options[i], &g = got.options[i];
        if (w.kind != g.kind || w.values.size() != g.values.size()) return "options differ";
        for (std::size_t j = 0; j < w.values.size(); ++j)
            if (differs(w.values[j], g.values[j])) return "option values differ";
    }
    return {};
}

const Counter* find_counter(const Counters& c, const std::string& name) {
#define LANETCP_SCRIPT_COUNTER(n) \
    if (name == #n) return &c.n;
    LANETCP_TRAFFIC_COUNTERS(LANETCP_SCRIPT_COUNTER)
#undef LANETCP_SCRIPT_COUNTER
    return nullptr;
}

struct ErrnoName {
    const char* name;
    int value;
};
constexpr ErrnoName kErrnos[] = {{"0", 0}, {"ECONNRESET", ECONNRESET}, {"ECONNREFUSED", ECONNREFUSED},
                                 {"ETIMEDOUT", ETIMEDOUT}};

std::string errno_name(int e) {
    for (const ErrnoName& n : kErrnos)
        if (n.value == e) return n.name;
    return std::to_string(e);
}

// ---- the run ----

// A segment the stack sent, when, and the ISS its numbers are relative to.
struct Stamped {
    TimeNs at;
    SentSegment seg;
    std::uint32_t iss;
};

class Runner {
public:
    Runner(const Script& s, bool verbose, bool explore) : s_(s), verbose_(verbose || explore), explore_(explore) {}
    void run();

private:
    TcpLayer& tcp() { return *node_->tcp; }
    // "file:line: what", the line as written, then `details`.
    [[noreturn]] void fail(const std::string& what, const std::string& details = {}) const {
        throw Failure(where(s_.file, ev_->line) + ": " + what + "\n  line:     " + ev_->text + details);
    }
    SegmentSpec relative(const Stamped& st) const;
    std::string show(const Stamped& st) const {
        return format_time(st.at) + " > " + format_segment(relative(st));
    }
    void step(TimeNs t);
    void advance_to(TimeNs t);
    void collect();
    void expect_segment(const SegmentSpec& want);
    void inject(const SegmentSpec& sp);
    void call(const std::vector<std::string>& w);
    void check(const std::vector<std::string>& w);
    App& app();
    Connection& conn();
    std::uint32_t number(const std::string& tok) const {
        if (tok.empty() || tok.size() > 10 || tok.find_first_not_of("0123456789") != std::string::npos)
            fail("expected a number, got '" + tok + "'");
        return static_cast<std::uint32_t>(std::stoull(tok));
    }

    const Script& s_;
    bool verbose_;
    bool explore_;
    const Event* ev_ = nullptr;
    TcpConfig cfg_ = baseline();
    std::uint32_t peer_isn_ = kDefaultPeerIsn;
    std::unique_ptr<tcp::test::Node> node_;
    TimeNs clock_ = 0;
    bool readvanced_ = false;
    std::deque<Stamped> sent_;
    std::uint32_t iss_ = 0; // 0 until the stack sends a SYN: numbers are absolute until then
    bool iss_known_ = false;
    tcp::test::Server server_;
    App client_;
    bool active_ = false;       // connect was used: the client is the current connection
    bool consume_ = true;       // read_stop/read_resume, for connections accepted later too
    std::uint16_t local_port_ = 8080;
    std::uint16_t remote_port_ = 40000;
};

SegmentSpec Runner::relative(const Stamped& st) const {
    const SentSegment& s = st.seg;
    SegmentSpec r;
    r.flags = s.flags.bits;
    r.ecn = s.tos & wire::ecn::mask;
    r.seq = s.seq.raw() - st.iss;
    r.len = static_cast<std::uint32_t>(s.payload.size());
    r.end = r.seq + r.len;
    if (s.flags.ack()) r.ack = Value{false, s.ack.raw() - peer_isn_};
    r.win = Value{false, s.window};
    r.options = decode_options(s.options, peer_isn_);
    return r;
}

void Runner::collect() {
    for (SentSegment& s : node_->out.take()) {
        // The first SYN (or SYN-ACK) gives the ISS that our sequence numbers
        // are relative to from then on, also for later connections.
        if (s.flags.syn() && !iss_known_) {
            iss_ = s.seq.raw();
            iss_known_ = true;
        }
        sent_.push_back({clock_, std::move(s), iss_});
        if (verbose_) std::cout << "    " << show(sent_.back()) << "\n";
    }
}

void Runner::step(TimeNs t) {
    if (t != clock_) readvanced_ = false;
    clock_ = t;
    tcp().advance(t);
    collect();
}

void Runner::advance_to(TimeNs t) {
    // Stop at every deadline on the way, so that each timer fires at its own
    // time and re-arms from there (the wheel's resolution is 1 ms: a
    // deadline fires at the next whole millisecond).
    for (;;) {
        const TimeNs hint = tcp().timers().next_expiry_hint();
        if (hint == TimerWheel::kNever) break;
        TimeNs next = (hint + kNsPerMs - 1) / kNsPerMs * kNsPerMs;
        if (next <= clock_) {
            // Armed for a tick already processed: due in the next advance().
            if (!readvanced_) {
                readvanced_ = true;
                step(clock_);
                continue;
            }
            next = clock_ + kNsPerMs;
        }
        if (next > t) break;
        step(next); // a hint for a far timer may be early: then nothing fires yet
    }
    if (t > clock_) step(t);
}

void Runner::expect_segment(const SegmentSpec& want) {
    if (sent_.empty()) fail("expected a segment at " + format_time(ev_->time) + "; the stack sent nothing");
    const Stamped st = sent_.front();
    sent_.pop_front();
    const SegmentSpec got = relative(st);
    std::string why = mismatch(want, got);
    const FourTuple& t = st.seg.tuple;
    if (t.local_ip != kIpA || t.remote_ip != kIpB || t.local_port != local_port_ || t.remote_port != remote_port_)
        why = "sent from port " + std::to_string(t.local_port) + " to " + std::to_string(t.remote_port) +
              ", expected " + std::to_string(local_port_) + " to " + std::to_string(remote_port_);
    if (why.empty() && st.at != ev_->time) why = "sent at the wrong time";
    if (!why.empty())
        fail(why, "\n  expected: " + format_time(ev_->time) + " > " + format_segment(want) + "\n  actual:   " + show(st));
}

void Runner::inject(const SegmentSpec& sp) {
    if (sp.win.v > 65535) fail("win " + std::to_string(sp.win.v) + " does not fit in 16 bits");
    const std::vector<std::uint8_t> bytes = encode_options(sp.options, iss_);
    if (bytes.size() > wire::kTcpMaxOptionsLen) fail("options longer than 40 bytes");
    const auto parsed = wire::TcpOptions::parse(wire::bytes(bytes.data(), bytes.size()));
    if (!parsed) fail("options do not parse: " + std::string(wire::to_string(parsed.error)));
    const FourTuple t{kIpA, kIpB, local_port_, remote_port_};
    // Payload bytes depend on their sequence number: a retransmission
    // carries the same bytes as the original.
    std::string payload(sp.len, '\0');
    for (std::uint32_t i = 0; i < sp.len; ++i) payload[i] = static_cast<char>(tcp::test::pattern_byte(sp.seq + i, 7));
    InSegment in = fake::make_segment(t, SeqNum{peer_isn_ + sp.seq}, SeqNum{sp.ack ? iss_ + sp.ack->v : 0},
                                      TcpFlags{sp.flags}, static_cast<std::uint16_t>(sp.win.v), payload);
    in.options = parsed.value;
    in.ecn = sp.ecn;
    if (verbose_) std::cout << "    " << format_time(clock_) << " < " << format_segment(sp) << "\n";
    tcp().input(in, clock_);
}

App& Runner::app() {
    if (active_) return client_;
    if (server_.apps.empty()) fail("no connection: nothing connected or accepted yet");
    return server_.apps.back();
}

Connection& Runner::conn() {
    App& a = app();
    if (a.conn == nullptr) fail("no open connection: it ended, or the application closed it");
    return *a.conn;
}

void Runner::call(const std::vector<std::string>& w) {
    const std::string& cmd = w[0];
    if (verbose_) std::cout << "    " << format_time(clock_) << " " << ev_->text.substr(ev_->text.find(cmd)) << "\n";
    if (cmd == "expect") return check(w);
    if (cmd == "listen") {
        local_port_ = static_cast<std::uint16_t>(number(w[1]));
        server_.configure = [this](App& a) { a.consume = consume_; };
        int err = 0;
        if (tcp().listen(local_port_, &tcp::test::Server::on_accept, &server_, &err) == nullptr)
            fail("listen failed: " + std::to_string(err));
    } else if (cmd == "connect") {
        remote_port_ = static_cast<std::uint16_t>(number(w[1]));
        int err = 0;
        client_.consume = consume_;
        Connection* c = tcp().connect(kIpB, remote_port_, &tcp::test::kAppHandler, &client_, clock_, &err);
        if (c == nullptr) fail("connect failed: " + std::to_string(err));
        client_.conn = c;
        local_port_ = c->tuple().local_port;
        active_ = true;
    } else if (cmd == "send") {
        App& a = app();
        conn();
        a.write_size = 0xffffffffu; // one send() per line, as much as fits; the rest on on_writable
        a.to_send += number(w[1]);
        a.pump();
    } else if (cmd == "shutdown") {
        conn().shutdown();
    } else if (cmd == "close" || cmd == "abort") {
        Connection& c = conn();
        app().conn = nullptr; // no callbacks after either
        cmd == "close" ? c.close() : c.abort();
    } else if (cmd == "nodelay") {
        if (w[1] != "on" && w[1] != "off") fail("nodelay on|off");
        conn().set_nodelay(w[1] == "on");
    } else if (cmd == "keepalive") {
        if (w[1] == "off") return conn().set_keepalive(false);
        if (w[1] != "on") fail("keepalive on [idle=S] [interval=S] [count=N], or keepalive off");
        TimeNs idle = 7200 * kNsPerSec, interval = 75 * kNsPerSec; // Linux's defaults
        std::uint32_t count = 9;
        for (std::size_t i = 2; i < w.size(); ++i) {
            const std::size_t eq = w[i].find('=');
            const std::string key = w[i].substr(0, eq);
            const std::uint32_t v = number(eq == std::string::npos ? "" : w[i].substr(eq + 1));
            if (key == "idle") idle = v * kNsPerSec;
            else if (key == "interval") interval = v * kNsPerSec;
            else if (key == "count") count = v;
            else fail("keepalive: unknown setting '" + key + "' (idle, interval, count)");
        }
        conn().set_keepalive(true, idle, interval, count);
    } else if (cmd == "user_timeout") {
        conn().set_user_timeout(number(w[1]) * kNsPerMs); // TCP_USER_TIMEOUT, in milliseconds as Linux
    } else if (cmd == "read_stop") {
        consume_ = false;
        if (active_ || !server_.apps.empty()) app().consume = false;
    } else if (cmd == "read_resume" || cmd == "read") {
        // read N: the application takes N of the bytes it holds and goes on
        // holding what comes; read_resume: takes them all and reads on.
        App& a = app();
        const std::uint32_t n = cmd == "read" ? number(w[1]) : a.unconsumed;
        if (n > a.unconsumed) fail("read " + std::to_string(n) + ": the application holds only " + std::to_string(a.unconsumed));
        if (cmd == "read_resume") consume_ = a.consume = true;
        a.unconsumed -= n;
        if (n > 0) conn().consumed(n);
    }
}

void Runner::check(const std::vector<std::string>& w) {
    const std::string& what = w[1];
    std::string actual;
    bool ok = false;
    if (what == "state") {
        const FourTuple t{kIpA, kIpB, local_port_, remote_port_};
        const Connection* c = tcp().find(t);
        // A half-open passive connection is a syncache entry, not a control block.
        actual = c != nullptr ? to_string(c->state()) : tcp().find_request(t) != nullptr ? "SYN_RECEIVED" : "CLOSED";
        ok = actual == w[2];
    } else if (what == "closed") {
        const App& a = app();
        actual = a.closed == 0 ? "none" : errno_name(a.error);
        if (w[2] != "none" && std::none_of(std::begin(kErrnos), std::end(kErrnos),
                                           [&](const ErrnoName& n) { return w[2] == n.name; }))
            fail("expect closed: none, 0, ECONNRESET, ECONNREFUSED or ETIMEDOUT");
        ok = actual == w[2] && a.closed <= 1;
    } else if (what == "received") {
        actual = std::to_string(app().received);
        ok = app().received == number(w[2]);
    } else if (what == "connections") {
        // Control blocks and half-open request entries alike.
        const std::size_t n = tcp().connections() + tcp().half_open();
        actual = std::to_string(n);
        ok = n == number(w[2]);
    } else if (what == "cwnd" || what == "ssthresh") {
        // The connection's congestion window or slow-start threshold, bytes.
        const std::uint32_t v = what == "cwnd" ? conn().cwnd() : conn().ssthresh();
        actual = std::to_string(v);
        ok = v == number(w[2]);
    } else if (what == "counter") {
        const Counter* c = find_counter(node_->counters, w[2]);
        if (c == nullptr) fail("no counter '" + w[2] + "' (see lib/netif/counters.hpp)");
        actual = std::to_string(c->get());
        ok = c->get() == number(w[3]);
    } else if (what == "drop") {
        const auto* p = std::find(kDropNames.begin(), kDropNames.end(), w[2]);
        if (p == kDropNames.end()) fail("no drop reason '" + w[2] + "' (see lib/netif/counters.hpp)");
        const std::uint64_t n = node_->counters.drops[static_cast<std::size_t>(p - kDropNames.begin())].get();
        actual = std::to_string(n);
        ok = n == number(w[3]);
    }
    if (!ok) fail("check failed: " + what + (w.size() > 3 ? " " + w[2] : "") + " is " + actual);
}

void Runner::run() {
    for (const Setting& s : s_.config) apply(cfg_, peer_isn_, s, s_.file);
    const std::int64_t live_before = fake::live_buffers();
    const int fake_errors_before = ::testing::UnitTest::GetInstance()->ad_hoc_test_result().total_part_count();
    node_ = std::make_unique<tcp::test::Node>(kIpA, cfg_);
    for (const Event& e : s_.events) {
        ev_ = &e;
        advance_to(e.time);
        if (explore_) { // -n: show what the stack sends, expect nothing
            sent_.clear();
            if (e.kind == Event::Kind::outbound) continue;
        }
        if (e.kind == Event::Kind::outbound) {
            expect_segment(e.seg);
            continue;
        }
        // Everything sent so far must have been expected before anything else happens.
        if (!sent_.empty()) fail("the stack sent a segment no '>' line expects", "\n  actual:   " + show(sent_.front()));
        if (e.kind == Event::Kind::inbound)
            inject(e.seg);
        else
            call(e.words);
        collect();
    }
    if (explore_) sent_.clear();
    if (!sent_.empty())
        fail("after the last line, the stack sent a segment no '>' line expects", "\n  actual:   " + show(sent_.front()));
    // Freeing the layer frees whatever its connections still hold: every
    // buffer must come back, open connections or not.
    node_.reset();
    if (fake::live_buffers() != live_before)
        fail(std::to_string(fake::live_buffers() - live_before) + " packet buffer(s) leaked");
    if (::testing::UnitTest::GetInstance()->ad_hoc_test_result().total_part_count() != fake_errors_before)
        fail("the fake platform reported an error (printed above)");
}

} // namespace
} // namespace lanetcp::scripts

int main(int argc, char** argv) {
    using namespace lanetcp::scripts;
    bool verbose = false, explore = false;
    int failed = 0, ran = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "-v" || arg == "-n") {
            (arg == "-v" ? verbose : explore) = true;
            continue;
        }
        if (arg == "-h" || arg == "--help") {
            std::cout << "usage: run_script [-v] [-n] FILE...\n"
                         "  -v  print every event and segment as it happens\n"
                         "  -n  print them and skip the '>' lines: what does the stack send?\n";
            return 0;
        }
        ++ran;
        const std::string name = arg.substr(arg.find_last_of('/') + 1);
        try {
            const Script s = parse_script(arg);
            Runner(s, verbose, explore).run();
            std::cout << "ok    " << name << "\n";
        } catch (const Failure& f) {
            ++failed;
            std::cout << "FAIL  " << name << "\n" << f.what() << "\n";
        } catch (const ScriptError& e) {
            ++failed;
            std::cout << "ERROR " << name << "\n" << e.what() << "\n";
        }
    }
    if (ran == 0) {
        std::cerr << "usage: run_script [-v] [-n] FILE...\n";
        return 2;
    }
    return failed == 0 ? 0 : 1;
}
