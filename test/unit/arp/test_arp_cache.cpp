// The neighbour cache on a manual clock: resolution, queueing, retries and
// give-up, expiry to stale, probing, permanent entries, table pressure.
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
    EXPECT_TRUE(cache.learn(kHostA, kMacA, false, 5, rec.transmit()));
    ASSERT_EQ(rec.transmitted.size(), 2u);
    EXPECT_EQ(rec.transmitted[0].first, pkt(0));
    EXPECT_EQ(rec.transmitted[1].first, pkt(1));
    EXPECT_EQ(rec.transmitted[0].second, kMacA);
    EXPECT_EQ(cache.pending_packets(), 0u);
    auto r = cache.resolve(kHostA, pkt(2), 6);
    EXPECT_EQ(r.status, ArpCache::Status::ready);
    EXPECT_EQ(r.mac, kMacA);
    EXPECT_FALSE(r.send_probe);
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
    cache.learn(kHostA, kMacA, false, 1, rec.transmit());
    ASSERT_EQ(rec.transmitted.size(), 3u);
    EXPECT_EQ(rec.transmitted[0].first, pkt(1));
    EXPECT_EQ(rec.transmitted[2].first, pkt(3));
}

TEST(ArpCache, LearnCreatesOnlyWhenMeantForUs) {
    ArpCache cache(small_params());
    Recorder rec;
    EXPECT_FALSE(cache.learn(kHostA, kMacA, false, 0, rec.transmit()));
    EXPECT_EQ(cache.find(kHostA), nullptr);
    EXPECT_TRUE(cache.learn(kHostA, kMacA, true, 0, rec.transmit()));
    ASSERT_NE(cache.find(kHostA), nullptr);
    EXPECT_EQ(cache.find(kHostA)->state, NeighState::reachable);
    // An existing entry is updated even by a packet not meant for us (RFC 826).
    EXPECT_TRUE(cache.learn(kHostA, kMacB, false, 1, rec.transmit()));
    EXPECT_EQ(cache.find(kHostA)->mac, kMacB);
}

TEST(ArpCache, ReachableGoesStaleThenProbesWithUnicast) {
    ArpParams p = small_params();
    ArpCache cache(p);
    Recorder rec;
    cache.learn(kHostA, kMacA, true, 0, rec.transmit());
    cache.tick(p.reachable - 1, rec.send(), rec.give_up());
    EXPECT_EQ(cache.find(kHostA)->state, NeighState::reachable);
    cache.tick(p.reachable, rec.send(), rec.give_up());
    EXPECT_EQ(cache.find(kHostA)->state, NeighState::stale);

    // A stale entry is still used, and its use starts a unicast probe.
    auto r = cache.resolve(kHostA, pkt(0), p.reachable + 1);
    EXPECT_EQ(r.status, ArpCache::Status::ready);
    EXPECT_EQ(r.mac, kMacA);
    EXPECT_TRUE(r.send_probe);
    EXPECT_EQ(cache.find(kHostA)->state, NeighState::probe);
    auto again = cache.resolve(kHostA, pkt(1), p.reachable + 2);
    EXPECT_FALSE(again.send_probe) << "one probe at a time";

    // Unanswered probes: unicast retries, then the entry is forgotten.
    TimeNs t = p.reachable + 1;
    for (int i = 0; i < 3; ++i) {
        t += p.retry;
        cache.tick(t, rec.send(), rec.give_up());
    }
    ASSERT_EQ(rec.requests.size(), 2u);
    EXPECT_TRUE(rec.requests[0].unicast);
    EXPECT_EQ(cache.find(kHostA), nullptr);
    EXPECT_TRUE(rec.given_up.empty()) << "probing never holds packets";
}

TEST(ArpCache, ProbeAnsweredReturnsToReachable) {
    ArpParams p = small_params();
    ArpCache cache(p);
    Recorder rec;
    cache.learn(kHostA, kMacA, true, 0, rec.transmit());
    cache.tick(p.reachable, rec.send(), rec.give_up());
    cache.resolve(kHostA, pkt(0), p.reachable);
    cache.learn(kHostA, kMacA, false, p.reachable + 10, rec.transmit());
    EXPECT_EQ(cache.find(kHostA)->state, NeighState::reachable);
    cache.tick(p.reachable + 5 * p.retry, rec.send(), rec.give_up());
    EXPECT_NE(cache.find(kHostA), nullptr);
}

TEST(ArpCache, UnusedStaleEntriesAreForgotten) {
    ArpParams p = small_params();
    ArpCache cache(p);
    Recorder rec;
    cache.learn(kHostA, kMacA, true, 0, rec.transmit());
    cache.tick(p.reachable, rec.send(), rec.give_up());
    cache.tick(p.stale_lifetime - 1, rec.send(), rec.give_up());
    EXPECT_NE(cache.find(kHostA), nullptr);
    cache.tick(p.stale_lifetime, rec.send(), rec.give_up());
    EXPECT_EQ(cache.find(kHostA), nullptr);
}

TEST(ArpCache, PermanentEntriesNeverExpireNorChange) {
    ArpCache cache(small_params());
    Recorder rec;
    ASSERT_TRUE(cache.add_permanent(kHostA, kMacA));
    cache.learn(kHostA, kMacB, true, 0, rec.transmit());
    cache.tick(1000 * kNsPerSec, rec.send(), rec.give_up());
    auto r = cache.resolve(kHostA, pkt(0), 1000 * kNsPerSec);
    EXPECT_EQ(r.status, ArpCache::Status::ready);
    EXPECT_EQ(r.mac, kMacA);
    EXPECT_FALSE(r.send_probe);
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
    for (std::uint32_t i = 0; i < 4; ++i) cache.learn(Ipv4Addr{kHostA.v + 10 + i}, kMacA, false, 1, rec.transmit());
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

TEST(ArpCache, RejectsZeroSizes) {
    ArpParams p = small_params();
    p.max_entries = 0;
    EXPECT_THROW(ArpCache{p}, std::invalid_argument);
    p = small_params();
    p.max_pending = 0;
    EXPECT_THROW(ArpCache{p}, std::invalid_argument);
}

} // namespace
} // namespace lanetcp::arp
