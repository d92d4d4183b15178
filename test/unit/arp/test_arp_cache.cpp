// The neighbour cache on a manual clock: resolution, queueing, retries and
// give-up, expiry to stale, delay and probing, permanent entries, table
// pressure, what may create or change an entry (Linux's arp_process), and
// the per-lcore bound on waiting packets.
#include <gtest/gtest.h>

#include <vector>

#include "arp/arp_cache.hpp"

namespace lanetcp::arp {
namespace {

using wire::Ipv4Addr;
using wire::MacAddr;

constexpr Ipv4Addr kHostA{0x0a090001}; // 10.9.0.1
constexpr Ipv4Addr kHostB{0x0a090002};
constexpr MacAddr kMacA{{0x02, 0, 0, 0, 0, 0xa}};
constexpr MacAddr kMacB{{0x02, 0, 0, 0, 0, 0xb}};

// Stand-ins for packets: the cache only stores the pointers.
int packets[64];
Packet pkt(int i) { return &packets[i]; }

struct Recorder {
    struct Request {
        Ipv4Addr ip;
        bool unicast;
    };
    std::vector<Request> requests;
    std::vector<Packet> given_up;
    std::vector<std::pair<Packet, MacAddr>> transmitted;

    auto send() {
        return [this](Ipv4Addr ip, const MacAddr* unicast) { requests.push_back({ip, unicast != nullptr}); };
    }
    auto give_up() {
        return [this](Packet p) { given_up.push_back(p); };
    }
    auto transmit() {
        return [this](Packet p, MacAddr m) { transmitted.emplace_back(p, m); };
    }
};

// What ARP packets say (ArpService makes these from the frames).
constexpr Sighting kUnicastReply{.create = false, .confirms = true, .gratuitous = false};
constexpr Sighting kRequestForUs{.create = true, .confirms = false, .gratuitous = false};
constexpr Sighting kOther{}; // a request for someone else, or a broadcast reply
constexpr Sighting kGratuitous{.create = false, .confirms = false, .gratuitous = true};

ArpParams small_params() {
    ArpParams p;
    p.max_entries = 4;
    p.max_pending = 3;
    p.retries = 3;
    p.retry = 1 * kNsPerSec;
    p.reachable = 30 * kNsPerSec;
    p.stale_lifetime = 60 * kNsPerSec;
    return p;
}

TEST(ArpCache, FirstPacketQueuesAndAsksForBroadcastRequest) {
    ArpCache cache(small_params());
    auto r = cache.resolve(kHostA, pkt(0), 0);
    EXPECT_EQ(r.status, ArpCache::Status::send_request);
    EXPECT_EQ(cache.pending_packets(), 1u);
    auto r2 = cache.resolve(kHostA, pkt(1), 10);
    EXPECT_EQ(r2.status, ArpCache::Status::queued); // one request in flight is enough
    EXPECT_EQ(cache.pending_packets(), 2u);
}

TEST(ArpCache, ReplyFlushesQueuedPacketsInOrder) {
    ArpCache cache(small_params());
    Recorder rec;
    cache.resolve(kHostA, pkt(0), 0);
    cache.resolve(kHostA, pkt(1), 0);
    EXPECT_TRUE(cache.learn(kHostA, kMacA, kUnicastReply, 5, rec.transmit()));
    ASSERT_EQ(rec.transmitted.size(), 2u);
    EXPECT_EQ(rec.transmitted[0].first, pkt(0));
    EXPECT_EQ(rec.transmitted[1].first, pkt(1));
    EXPECT_EQ(rec.transmitted[0].second, kMacA);
    EXPECT_EQ(cache.pending_packets(), 0u);
    auto r = cache.resolve(kHostA, pkt(2), 6);
    EXPECT_EQ(r.status, ArpCache::Status::ready);
    EXPECT_EQ(r.mac, kMacA);
    EXPECT_EQ(cache.find(kHostA)->state, NeighState::reachable);
}

TEST(ArpCache, RetriesThenGivesUpAndDropsQueue) {
    ArpCache cache(small_params());
    Recorder rec;
    cache.resolve(kHostA, pkt(0), 0); // request 1 sent by the caller
    cache.resolve(kHostA, pkt(1), 0);
    cache.tick(kNsPerSec - 1, rec.send(), rec.give_up());
    EXPECT_TRUE(rec.requests.empty()) << "no retry before the retry interval";
    cache.tick(kNsPerSec, rec.send(), rec.give_up()); // request 2
    cache.tick(2 * kNsPerSec, rec.send(), rec.give_up()); // request 3
    ASSERT_EQ(rec.requests.size(), 2u);
    EXPECT_FALSE(rec.requests[0].unicast);
    EXPECT_TRUE(rec.given_up.empty());
    cache.tick(3 * kNsPerSec, rec.send(), rec.give_up()); // retries exhausted
    EXPECT_EQ(rec.requests.size(), 2u);
    ASSERT_EQ(rec.given_up.size(), 2u);
    EXPECT_EQ(cache.size(), 0u);
    EXPECT_EQ(cache.pending_packets(), 0u);
    // The next packet starts over with a fresh broadcast request.
    EXPECT_EQ(cache.resolve(kHostA, pkt(3), 4 * kNsPerSec).status, ArpCache::Status::send_request);
}

TEST(ArpCache, QueueOverflowPushesOutTheOldest) {
    ArpCache cache(small_params()); // max_pending 3
    for (int i = 0; i < 3; ++i) EXPECT_EQ(cache.resolve(kHostA, pkt(i), 0).overflowed, nullptr);
    auto r = cache.resolve(kHostA, pkt(3), 0);
    EXPECT_EQ(r.status, ArpCache::Status::queued);
    EXPECT_EQ(r.overflowed, pkt(0));
    Recorder rec;
    cache.learn(kHostA, kMacA, kUnicastReply, 1, rec.transmit());
    ASSERT_EQ(rec.transmitted.size(), 3u);
    EXPECT_EQ(rec.transmitted[0].first, pkt(1));
    EXPECT_EQ(rec.transmitted[2].first, pkt(3));
}

TEST(ArpCache, OnlyARequestForUsCreatesAnEntry) {
    // arp_accept=0: unsolicited replies, gratuitous ARP and requests for
    // others never make an entry; a request for our address does, stale.
    ArpCache cache(small_params());
    Recorder rec;
    EXPECT_FALSE(cache.learn(kHostA, kMacA, kOther, 0, rec.transmit()));
    EXPECT_FALSE(cache.learn(kHostA, kMacA, kUnicastReply, 0, rec.transmit()));
    EXPECT_FALSE(cache.learn(kHostA, kMacA, kGratuitous, 0, rec.transmit()));
    EXPECT_EQ(cache.find(kHostA), nullptr);
    EXPECT_EQ(cache.size(), 0u);
    EXPECT_TRUE(cache.learn(kHostA, kMacA, kRequestForUs, 0, rec.transmit()));
    ASSERT_NE(cache.find(kHostA), nullptr);
    EXPECT_EQ(cache.find(kHostA)->state, NeighState::stale) << "a request does not assert reachability";
    // Now that it exists, any ARP packet from it updates it; a unicast reply confirms it.
    EXPECT_TRUE(cache.learn(kHostA, kMacA, kOther, 1, rec.transmit()));
    EXPECT_EQ(cache.find(kHostA)->state, NeighState::stale);
    EXPECT_TRUE(cache.learn(kHostA, kMacA, kUnicastReply, 2, rec.transmit()));
    EXPECT_EQ(cache.find(kHostA)->state, NeighState::reachable);
    // A request with the same address does not demote a reachable entry.
    EXPECT_TRUE(cache.learn(kHostA, kMacA, kOther, 3, rec.transmit()));
    EXPECT_EQ(cache.find(kHostA)->state, NeighState::reachable);
    // Nor does it extend reachability: only the reply at 2 counts.
    const ArpParams p = small_params();
    cache.tick(2 + p.reachable - 1, rec.send(), rec.give_up());
    EXPECT_EQ(cache.find(kHostA)->state, NeighState::reachable);
    cache.tick(2 + p.reachable, rec.send(), rec.give_up());
    EXPECT_EQ(cache.find(kHostA)->state, NeighState::stale);
}

TEST(ArpCache, ARequestFromANeighbourWeResolveSendsItsPackets) {
    ArpCache cache(small_params());
    Recorder rec;
    cache.resolve(kHostA, pkt(0), 0);
    EXPECT_TRUE(cache.learn(kHostA, kMacA, kOther, 1, rec.transmit())) << "an incomplete entry exists";
    ASSERT_EQ(rec.transmitted.size(), 1u);
    EXPECT_EQ(cache.find(kHostA)->state, NeighState::stale);
}

TEST(ArpCache, LocktimeKeepsTheFirstAnswerUnlessGratuitousOrForUs) {
    ArpParams p = small_params(); // locktime 1 s
    ArpCache cache(p);
    Recorder rec;
    const MacAddr kMacC{{0x02, 0, 0, 0, 0, 0xc}};
    const MacAddr kMacD{{0x02, 0, 0, 0, 0, 0xd}};
    cache.resolve(kHostA, pkt(0), 0);
    EXPECT_TRUE(cache.learn(kHostA, kMacA, kUnicastReply, 0, rec.transmit()));
    // A second, different answer right after: the first one stands (proxies racing).
    EXPECT_FALSE(cache.learn(kHostA, kMacB, kUnicastReply, p.locktime / 2, rec.transmit()));
    EXPECT_EQ(cache.find(kHostA)->mac, kMacA);
    // After locktime a new address is taken.
    EXPECT_TRUE(cache.learn(kHostA, kMacB, kUnicastReply, p.locktime + 1, rec.transmit()));
    EXPECT_EQ(cache.find(kHostA)->mac, kMacB);
    // Gratuitous ARP and a request for our address replace it at once, stale.
    EXPECT_TRUE(cache.learn(kHostA, kMacC, kGratuitous, p.locktime + 2, rec.transmit()));
    EXPECT_EQ(cache.find(kHostA)->mac, kMacC);
    EXPECT_EQ(cache.find(kHostA)->state, NeighState::stale);
    EXPECT_TRUE(cache.learn(kHostA, kMacD, kRequestForUs, p.locktime + 3, rec.transmit()));
    EXPECT_EQ(cache.find(kHostA)->mac, kMacD);
}

TEST(ArpCache, RequestFloodWithRandomSendersCannotFillTheTable) {
    // A flood of requests for our address from ever new senders makes stale
    // entries only; they push out each other, never the entries we use.
    ArpParams p = small_params(); // 4 entries
    ArpCache cache(p);
    Recorder rec;
    cache.resolve(kHostA, pkt(0), 0);
    cache.learn(kHostA, kMacA, kUnicastReply, 1, rec.transmit()); // in use: reachable
    cache.resolve(kHostB, pkt(1), 2);                            // being resolved: incomplete
    std::uint32_t x = 1;
    for (TimeNs t = 10; t < 10010; ++t) {
        x = x * 1664525u + 1013904223u;
        cache.learn(Ipv4Addr{0x0a098000u | (x >> 17)}, kMacB, kRequestForUs, t, rec.transmit()); // 10.9.128.0/17
    }
    EXPECT_LE(cache.size(), p.max_entries);
    ASSERT_NE(cache.find(kHostA), nullptr);
    EXPECT_EQ(cache.find(kHostA)->state, NeighState::reachable);
    EXPECT_EQ(cache.find(kHostA)->mac, kMacA);
    ASSERT_NE(cache.find(kHostB), nullptr);
    EXPECT_EQ(cache.find(kHostB)->state, NeighState::incomplete);
    EXPECT_EQ(cache.pending_packets(), 1u);
    // And a new next hop still gets an entry, in place of a flood's.
    EXPECT_EQ(cache.resolve(Ipv4Addr{0x0a0900ffu}, pkt(2), 20000).status, ArpCache::Status::send_request);
}

TEST(ArpCache, StaleEntryIsUsedThenProbedAfterTheDelay) {
    ArpParams p = small_params();
    ArpCache cache(p);
    Recorder rec;
    cache.resolve(kHostA, pkt(9), 0);
    cache.learn(kHostA, kMacA, kUnicastReply, 0, rec.transmit());
    cache.tick(p.reachable - 1, rec.send(), rec.give_up());
    EXPECT_EQ(cache.find(kHostA)->state, NeighState::reachable);
    cache.tick(p.reachable, rec.send(), rec.give_up());
    EXPECT_EQ(cache.find(kHostA)->state, NeighState::stale);

    // A stale entry is still used; its use starts the delay, not a request.
    const TimeNs used = p.reachable + 1;
    auto r = cache.resolve(kHostA, pkt(0), used);
    EXPECT_EQ(r.status, ArpCache::Status::ready);
    EXPECT_EQ(r.mac, kMacA);
    EXPECT_EQ(cache.find(kHostA)->state, NeighState::delay);
    cache.tick(used + p.delay_probe - 1, rec.send(), rec.give_up());
    EXPECT_TRUE(rec.requests.empty()) << "a reply may still come within the delay";
    cache.tick(used + p.delay_probe, rec.send(), rec.give_up());
    ASSERT_EQ(rec.requests.size(), 1u);
    EXPECT_TRUE(rec.requests[0].unicast);
    EXPECT_EQ(cache.find(kHostA)->state, NeighState::probe);
    EXPECT_EQ(cache.resolve(kHostA, pkt(1), used + p.delay_probe + 1).status, ArpCache::Status::ready);

    // Unanswered probes: unicast retries, then the entry is forgotten.
    TimeNs t = used + p.delay_probe;
    for (int i = 0; i < 3; ++i) {
        t += p.retry;
        cache.tick(t, rec.send(), rec.give_up());
    }
    ASSERT_EQ(rec.requests.size(), 3u);
    EXPECT_TRUE(rec.requests[2].unicast);
    EXPECT_EQ(cache.find(kHostA), nullptr);
    EXPECT_TRUE(rec.given_up.empty()) << "probing never holds packets";
}

TEST(ArpCache, ReplyWithinTheDelayConfirmsWithoutProbe) {
    ArpParams p = small_params();
    ArpCache cache(p);
    Recorder rec;
    cache.learn(kHostA, kMacA, kRequestForUs, 0, rec.transmit()); // stale
    cache.resolve(kHostA, pkt(0), 1);
    EXPECT_EQ(cache.find(kHostA)->state, NeighState::delay);
    cache.learn(kHostA, kMacA, kUnicastReply, 2, rec.transmit());
    EXPECT_EQ(cache.find(kHostA)->state, NeighState::reachable);
    cache.tick(p.delay_probe + 10, rec.send(), rec.give_up());
    EXPECT_TRUE(rec.requests.empty());
}

TEST(ArpCache, ProbeAnsweredReturnsToReachable) {
    ArpParams p = small_params();
    ArpCache cache(p);
    Recorder rec;
    cache.learn(kHostA, kMacA, kRequestForUs, 0, rec.transmit());
    cache.resolve(kHostA, pkt(0), 0);
    cache.tick(p.delay_probe, rec.send(), rec.give_up());
    ASSERT_EQ(cache.find(kHostA)->state, NeighState::probe);
    cache.learn(kHostA, kMacA, kUnicastReply, p.delay_probe + 10, rec.transmit());
    EXPECT_EQ(cache.find(kHostA)->state, NeighState::reachable);
    cache.tick(p.delay_probe + 5 * p.retry, rec.send(), rec.give_up());
    EXPECT_NE(cache.find(kHostA), nullptr);
}

TEST(ArpCache, UnusedStaleEntriesAreForgotten) {
    ArpParams p = small_params();
    ArpCache cache(p);
    Recorder rec;
    cache.learn(kHostA, kMacA, kRequestForUs, 0, rec.transmit()); // stale from the start
    cache.tick(p.stale_lifetime - 1, rec.send(), rec.give_up());
    EXPECT_NE(cache.find(kHostA), nullptr);
    cache.tick(p.stale_lifetime, rec.send(), rec.give_up());
    EXPECT_EQ(cache.find(kHostA), nullptr);
}

TEST(ArpCache, PermanentEntriesNeverExpireNorChange) {
    ArpCache cache(small_params());
    Recorder rec;
    ASSERT_TRUE(cache.add_permanent(kHostA, kMacA));
    EXPECT_FALSE(cache.learn(kHostA, kMacB, kRequestForUs, 0, rec.transmit()));
    EXPECT_FALSE(cache.learn(kHostA, kMacB, kGratuitous, 0, rec.transmit()));
    cache.tick(1000 * kNsPerSec, rec.send(), rec.give_up());
    auto r = cache.resolve(kHostA, pkt(0), 1000 * kNsPerSec);
    EXPECT_EQ(r.status, ArpCache::Status::ready);
    EXPECT_EQ(r.mac, kMacA);
    EXPECT_TRUE(rec.requests.empty());
}

TEST(ArpCache, FullTableReclaimsStaleButNeverIncomplete) {
    ArpParams p = small_params(); // 4 entries
    ArpCache cache(p);
    Recorder rec;
    for (std::uint32_t i = 0; i < 4; ++i) cache.resolve(Ipv4Addr{kHostA.v + 10 + i}, pkt(static_cast<int>(i)), 0);
    EXPECT_EQ(cache.size(), 4u);
    EXPECT_EQ(cache.resolve(kHostB, pkt(9), 0).status, ArpCache::Status::table_full);

    // Resolve all four, let them go stale: now a new address can take one's place.
    for (std::uint32_t i = 0; i < 4; ++i) cache.learn(Ipv4Addr{kHostA.v + 10 + i}, kMacA, kUnicastReply, 1, rec.transmit());
    cache.tick(p.reachable + 1, rec.send(), rec.give_up());
    EXPECT_EQ(cache.resolve(kHostB, pkt(9), p.reachable + 2).status, ArpCache::Status::send_request);
    EXPECT_EQ(cache.size(), 4u);
}

TEST(ArpCache, DrainHandsBackEveryWaitingPacket) {
    ArpCache cache(small_params());
    Recorder rec;
    cache.resolve(kHostA, pkt(0), 0);
    cache.resolve(kHostB, pkt(1), 0);
    cache.resolve(kHostB, pkt(2), 0);
    cache.drain(rec.give_up());
    EXPECT_EQ(rec.given_up.size(), 3u);
    EXPECT_EQ(cache.pending_packets(), 0u);
}

TEST(ArpCache, WaitingPacketsAreBoundedPerLcore) {
    ArpParams p = small_params();
    p.max_entries = 8;
    p.max_pending = 3;
    p.max_pending_total = 5;
    ArpCache cache(p);
    const Ipv4Addr h1{0x0a090101}, h2{0x0a090102}, h3{0x0a090103};
    for (int i = 0; i < 3; ++i) EXPECT_FALSE(cache.resolve(h1, pkt(i), 0).refused);
    EXPECT_FALSE(cache.resolve(h2, pkt(3), 0).refused);
    EXPECT_FALSE(cache.resolve(h2, pkt(4), 0).refused);
    EXPECT_EQ(cache.pending_packets(), 5u);
    // At the bound, a next hop that already holds packets trades its oldest.
    auto r = cache.resolve(h2, pkt(5), 0);
    EXPECT_FALSE(r.refused);
    EXPECT_EQ(r.overflowed, pkt(3));
    EXPECT_EQ(cache.pending_packets(), 5u);
    // A new next hop is still asked for, but its packet is refused.
    auto n = cache.resolve(h3, pkt(6), 0);
    EXPECT_EQ(n.status, ArpCache::Status::send_request);
    EXPECT_TRUE(n.refused);
    EXPECT_EQ(n.overflowed, nullptr);
    auto again = cache.resolve(h3, pkt(7), 0);
    EXPECT_EQ(again.status, ArpCache::Status::queued);
    EXPECT_TRUE(again.refused);
    EXPECT_EQ(cache.pending_packets(), 5u);
    // Once h1 answers, there is room again.
    Recorder rec;
    cache.learn(h1, kMacA, kUnicastReply, 1, rec.transmit());
    EXPECT_EQ(rec.transmitted.size(), 3u);
    EXPECT_FALSE(cache.resolve(h3, pkt(8), 1).refused);
    EXPECT_EQ(cache.pending_packets(), 3u);
    cache.drain(rec.give_up());
    EXPECT_EQ(rec.given_up.size(), 3u);
}

TEST(ArpCache, RejectsZeroSizes) {
    ArpParams p = small_params();
    p.max_entries = 0;
    EXPECT_THROW(ArpCache{p}, std::invalid_argument);
    p = small_params();
    p.max_pending = 0;
    EXPECT_THROW(ArpCache{p}, std::invalid_argument);
    p = small_params();
    p.max_pending_total = 0;
    EXPECT_THROW(ArpCache{p}, std::invalid_argument);
}

} // namespace
} // namespace lanetcp::arp
