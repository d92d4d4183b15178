#include "pair.hpp"

#include <algorithm>

namespace lanetcp::bench {

Node::Node(wire::Ipv4Addr address, const TcpConfig& cfg, std::uint8_t key_seed) : ip(address) {
    tcp::IsnGenerator::Key key{};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(key_seed * 31 + i);
    tcp = std::make_unique<TcpLayer>(cfg, out, counters, key, ip, 1500, 0);
}

Node::~Node() {
    tcp.reset();
    out.clear();
}

Pair::Pair(const TcpConfig& cfg) : a(kIpA, cfg, 1), b(kIpB, cfg, 2) {
    batch_a_.reserve(1024);
    batch_b_.reserve(1024);
}

void Pair::deliver(Node& to, std::vector<tcp::WireSegment>& batch) {
    for (tcp::WireSegment& s : batch) {
        if (s.payload.length > 0) ++data_delivered;
        tcp::InSegment in = tcp::nocopy::to_input(s);
        to.tcp->input(in, now);
        ++delivered;
    }
    batch.clear();
}

void Pair::flush() {
    for (;;) {
        batch_a_.swap(a.out.sent);
        batch_b_.swap(b.out.sent);
        if (batch_a_.empty() && batch_b_.empty()) return;
        if (step != 0) {
            now += step;
            a.tcp->advance(now);
            b.tcp->advance(now);
        }
        deliver(b, batch_a_);
        deliver(a, batch_b_);
    }
}

bool Pair::run_until(const std::function<bool()>& done, TimeNs limit) {
    for (;;) {
        flush();
        if (done()) return true;
        const TimeNs hint = std::min(a.tcp->timers().next_expiry_hint(), b.tcp->timers().next_expiry_hint());
        if (hint == TimerWheel::kNever) return false;
        const TimeNs next = (hint + kNsPerMs - 1) / kNsPerMs * kNsPerMs;
        now = next > now ? next : now + kNsPerMs;
        if (now > limit) return false;
        a.tcp->advance(now);
        b.tcp->advance(now);
    }
}

} // namespace lanetcp::bench
