// Two lcores per side on a two-queue in-memory wire: what one lcore learns
// by ARP reaches the other through its inbox ring, so neither has to ask again.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "drivers/memwire.hpp"
#include "drivers/port.hpp"
#include "netif/mbuf_pool.hpp"
#include "stack/lcore.hpp"

namespace lanetcp::testing {
namespace {

struct Side {
    drivers::PortInfo port;
    Config config;
    std::vector<std::unique_ptr<Lcore>> lcores;
};

class MultiLcore : public ::testing::Test {
protected:
    void SetUp() override {
        pool_ = create_mbuf_pool("ml_pool", 4095, 0, 1500);
        a_ = make_side(wire_.port_a(), "10.7.0.1/24");
        b_ = make_side(wire_.port_b(), "10.7.0.2/24");
    }
    void TearDown() override {
        for (Side* s : {&a_, &b_}) {
            for (auto& lc : s->lcores) lc->shutdown();
        }
        settle();
        for (Side* s : {&a_, &b_}) {
            s->lcores.clear();
            drivers::stop_port(s->port.port_id);
        }
        EXPECT_EQ(mbufs_in_use(pool_), 0u);
        rte_mempool_free(pool_);
    }

    Side make_side(std::uint16_t port_id, const char* address) {
        Side s;
        s.config.interface.address = wire::Ipv4Prefix::parse(address);
        drivers::PortParams pp;
        pp.port_id = port_id;
        pp.queues = 2;
        pp.rx_pools = {pool_, pool_};
        s.port = drivers::start_port(pp);
        for (std::uint16_t q = 0; q < 2; ++q) {
            LcoreParams lp;
            lp.lcore_id = q;
            lp.interface.port_id = port_id;
            lp.interface.queue_id = q;
            lp.interface.mac = s.port.mac;
            lp.interface.address = *s.config.interface.address;
            lp.pool = pool_;
            s.lcores.push_back(std::make_unique<Lcore>(lp, s.config));
        }
        s.lcores[0]->set_peers({s.lcores[1]->inbox()});
        s.lcores[1]->set_peers({s.lcores[0]->inbox()});
        return s;
    }

    void settle() {
        for (int i = 0; i < 100; ++i) {
            unsigned n = 0;
            for (Side* s : {&a_, &b_})
                for (auto& lc : s->lcores) n += lc->poll_once();
            if (n == 0 && wire_.in_flight() == 0) {
                // One more turn so that inboxes filled in the last one drain.
                for (Side* s : {&a_, &b_})
                    for (auto& lc : s->lcores) lc->poll_once();
                return;
            }
        }
    }

    drivers::MemWire wire_{"mlw", 2};
    rte_mempool* pool_ = nullptr;
    Side a_, b_;
};

TEST_F(MultiLcore, ArpLearnedOnOneLcoreReachesTheOther) {
    const auto kA = *wire::Ipv4Addr::parse("10.7.0.1");
    const auto kB = *wire::Ipv4Addr::parse("10.7.0.2");
    // Lcore 1 of A pings B: the exchange happens entirely on queue 1.
    ASSERT_TRUE(a_.lcores[1]->ipv4().send_echo_request(kB, 1, 1, 32, 0));
    settle();
    EXPECT_EQ(a_.lcores[1]->counters().icmp_rx_echo_replies.get(), 1u);
    ASSERT_NE(a_.lcores[0]->arp().cache().find(kB), nullptr) << "A's lcore 0 learned B from lcore 1";
    EXPECT_EQ(a_.lcores[0]->arp().cache().find(kB)->mac, b_.port.mac);
    ASSERT_NE(b_.lcores[0]->arp().cache().find(kA), nullptr) << "B's lcore 0 learned A from lcore 1";

    // Now lcore 0 of A reaches B without an ARP request of its own.
    ASSERT_TRUE(a_.lcores[0]->ipv4().send_echo_request(kB, 1, 2, 32, 0));
    settle();
    EXPECT_EQ(a_.lcores[0]->counters().arp_tx_requests.get(), 0u);
    EXPECT_EQ(a_.lcores[0]->counters().icmp_rx_echo_replies.get(), 1u);
    // A peer's copy is learned from but not counted as received again.
    EXPECT_EQ(a_.lcores[0]->counters().arp_rx_replies.get(), 0u);
}

} // namespace
} // namespace lanetcp::testing
