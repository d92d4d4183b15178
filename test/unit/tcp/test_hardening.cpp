// Connections that must end and answers that must be limited, whatever the
// peer does (issue 10): orphans (Linux's tcp_orphan_retries,
// tcp_max_orphans, tcp_out_of_resources), persist giving up by time
// (icsk_probes_tstamp), TCP_USER_TIMEOUT (RFC 5482), ACKs to invalid
// segments (tcp_invalid_ratelimit), the randomised challenge-ACK budget
// (CVE-2016-5696) and TS.Recent taken only after the ACK checks (RFC 7323 4.3).
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <functional>

#include "harness.hpp"

namespace lanetcp::tcp::test {
namespace {

class Hardening : public OneLayer {
protected:
    explicit Hardening(const TcpConfig& cfg = test_config()) : OneLayer(cfg) {}

    FourTuple from(std::uint16_t port) const { return FourTuple{kIpA, kIpB, kPort, port}; }

    // A passive open from 10.0.0.2:`port` to ESTABLISHED, the peer's window
    // `window`; the accepted connection.
    Connection* open_from(std::uint16_t port, std::uint16_t window = 65535) {
        if (listener == nullptr) {
            int err = 1;
            listener = tcp().listen(kPort, &Server::on_accept, &server, &err);
            EXPECT_EQ(err, 0);
        }
        InSegment syn = fake::make_segment(from(port), peer_isn, SeqNum{}, tf::syn, 65535);
        syn.options.mss = kMss;
        input(syn);
        const SentSegment synack = only_one();
        input(fake::make_segment(from(port), peer_isn + 1, synack.seq + 1, tf::ack, window));
        expect_nothing_sent(__LINE__);
        return server.apps.empty() ? nullptr : server.apps.back().conn;
    }

    // Time goes on 1 ms at a time until `done` or `limit`; `answer` sees each
    // segment the stack sends, at the time it is sent.
    void run(TimeNs limit, const std::function<bool()>& done,
             const std::function<void(const SentSegment&)>& answer = nullptr) {
        while (now < limit && !done()) {
            at(now + kMs);
            for (const SentSegment& s : sent())
                if (answer) answer(s);
        }
    }

    // The peer acknowledges everything, with a zero window.
    void zero_window_ack() { peer(tf::ack, peer_nxt, our_nxt, {}, 0); }

    // Passive open with timestamps, the peer's TSval `ts`.
    Connection* accept_with_timestamps(std::uint32_t ts) {
        int err = 1;
        listener = tcp().listen(kPort, &Server::on_accept, &server, &err);
        InSegment syn = fake::make_segment(tuple, peer_isn, SeqNum{}, tf::syn, 65535);
        syn.options.mss = kMss;
        syn.options.timestamps = wire::TcpTimestamps{ts, 0};
        input(syn);
        const SentSegment synack = only_one();
        EXPECT_TRUE(synack.options.timestamps.has_value());
        our_ts = synack.options.timestamps ? synack.options.timestamps->value : 0;
        peer_nxt = peer_isn + 1;
        our_nxt = synack.seq + 1;
        peer_ts(tf::ack, peer_nxt, our_nxt, ts);
        expect_nothing_sent(__LINE__);
        return server.apps.empty() ? nullptr : server.apps.front().conn;
    }
    void peer_ts(TcpFlags f, SeqNum seq, SeqNum ack, std::uint32_t ts, std::string_view payload = {}) {
        InSegment s = fake::make_segment(tuple, seq, ack, f, 65535, payload);
        s.options.timestamps = wire::TcpTimestamps{ts, our_ts};
        input(s);
    }
    std::uint32_t our_ts = 0;
};

TcpConfig with(const std::function<void(TcpConfig&)>& change) {
    TcpConfig c = test_config();
    change(c);
    return c;
}

// ------------------------------------------------------------- orphans ----

TEST_F(Hardening, AnOrphanGivesUpAfterEightRetransmissions) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    ASSERT_EQ(c->send(fake::make_chunk("data")), 0);
    c->close(); // the FIN follows the data; nobody ever answers
    server.apps[0].conn = nullptr;
    EXPECT_EQ(sent().size(), 2u);
    EXPECT_EQ(tcp().orphans(), 1u);
    run(1000 * kSec, [&] { return tcp().connections() == 0; });
    EXPECT_EQ(tcp().connections(), 0u);
    // tcp_orphan_retries 0: 8 while the RTO is below its maximum, where a
    // connection the application holds gets retries2 (15).
    EXPECT_EQ(counters().tcp_timeouts.get(), 8u);
    EXPECT_EQ(counters().tcp_connections_timed_out.get(), 1u);
    EXPECT_EQ(counters().tcp_resets_sent.get(), 0u) << "tcp_write_err: no RST";
    EXPECT_EQ(tcp().orphans(), 0u);
}

class OrphanRetries : public Hardening {
protected:
    OrphanRetries() : Hardening(with([](TcpConfig& c) { c.orphan_retries = 3; })) {}
};

TEST_F(OrphanRetries, AreTakenFromTheConfiguration) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    ASSERT_EQ(c->send(fake::make_chunk("data")), 0);
    c->close();
    run(1000 * kSec, [&] { return tcp().connections() == 0; });
    EXPECT_EQ(tcp().connections(), 0u);
    EXPECT_EQ(counters().tcp_timeouts.get(), 3u);
}

TEST_F(OrphanRetries, InPersistGiveUpOnceTheIntervalReachesTheMaximumEvenIfAnswered) {
    // Answers keep the count of unanswered probes below 3; the interval
    // reaching the maximum RTO is what ends it (tcp_probe_timer's
    // `!alive && icsk_backoff >= max_probes`).
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    zero_window_ack();
    ASSERT_EQ(c->send(fake::make_chunk(std::string(1000, 'x'))), 0);
    c->close();
    int probes = 0;
    run(1000 * kSec, [&] { return tcp().connections() == 0; }, [&](const SentSegment&) {
        ++probes;
        zero_window_ack();
    });
    EXPECT_EQ(tcp().connections(), 0u);
    EXPECT_EQ(probes, 10);
    EXPECT_EQ(now, 324600 * kMs);
}

class OrphanShortMaxRto : public Hardening {
protected:
    OrphanShortMaxRto() : Hardening(with([](TcpConfig& c) { c.max_rto = kSec; })) {}
};

TEST_F(OrphanShortMaxRto, GivesUpOnceTheRtoReachesItsMaximum) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    ASSERT_EQ(c->send(fake::make_chunk("data")), 0);
    c->close();
    // RTOs 0.2, 0.4, 0.8 s; the fourth is the maximum (1 s): when it
    // expires the peer is taken for dead, and tcp_orphan_retries 0 leaves
    // no retry.
    run(1000 * kSec, [&] { return tcp().connections() == 0; });
    EXPECT_EQ(tcp().connections(), 0u);
    EXPECT_EQ(counters().tcp_timeouts.get(), 3u);
    EXPECT_EQ(now, 2400 * kMs);
}

TEST_F(Hardening, AnOrphanInFinWait2IsFreedAfterTheFinTimeoutAndUncounted) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    c->close();
    EXPECT_TRUE(is_segment(only_one(), tf::fin | tf::ack, our_nxt, peer_nxt, 0));
    peer(tf::ack, peer_nxt, our_nxt + 1);
    EXPECT_EQ(c->state(), State::fin_wait_2);
    EXPECT_EQ(tcp().orphans(), 1u);
    at(60 * kSec - kMs);
    EXPECT_EQ(tcp().connections(), 1u);
    at(60 * kSec);
    EXPECT_EQ(tcp().connections(), 0u);
    EXPECT_EQ(tcp().orphans(), 0u);
}

TEST_F(Hardening, TimeWaitIsNoOrphan) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    c->close();
    sent();
    peer(tf::ack, peer_nxt, our_nxt + 1);
    peer(tf::fin | tf::ack, peer_nxt, our_nxt + 1);
    EXPECT_EQ(c->state(), State::time_wait);
    EXPECT_EQ(tcp().orphans(), 0u) << "Linux: a timewait sock, not an orphan";
    sent();
}

class MaxOrphans : public Hardening {
protected:
    MaxOrphans() : Hardening(with([](TcpConfig& c) { c.max_orphans = 2; })) {}
};

TEST_F(MaxOrphans, OneOrphanTooManyIsResetAtClose) {
    Connection* c[3];
    for (int i = 0; i < 3; ++i) {
        c[i] = open_from(static_cast<std::uint16_t>(41000 + i));
        ASSERT_NE(c[i], nullptr);
    }
    for (int i = 0; i < 2; ++i) {
        c[i]->close();
        EXPECT_EQ(only_one().flags, tf::fin | tf::ack);
    }
    EXPECT_EQ(tcp().orphans(), 2u);
    // tcp_close → tcp_check_oom: the third is reset, not left to finish.
    c[2]->close();
    const SentSegment rst = only_one();
    EXPECT_EQ(rst.flags, tf::rst | tf::ack);
    EXPECT_EQ(rst.tuple.remote_port, 41002);
    EXPECT_EQ(tcp().connections(), 2u);
    EXPECT_EQ(tcp().orphans(), 2u);
    EXPECT_EQ(counters().tcp_orphans_aborted.get(), 1u);
    // One finishes: room for the next.
    input(fake::make_segment(from(41000), peer_isn + 1, c[0]->snd_nxt(), tf::fin | tf::ack, 65535));
    EXPECT_EQ(c[0]->state(), State::time_wait);
    EXPECT_EQ(tcp().orphans(), 1u);
    sent();
    Connection* d = open_from(41003);
    ASSERT_NE(d, nullptr);
    d->close();
    EXPECT_EQ(only_one().flags, tf::fin | tf::ack);
    EXPECT_EQ(tcp().orphans(), 2u);
}

class MaxOrphansAtTimeout : public Hardening {
protected:
    MaxOrphansAtTimeout()
        : Hardening(with([](TcpConfig& c) {
              c.max_orphans = 3;
              c.max_rto = 2 * kSec;
          })) {}
};

TEST_F(MaxOrphansAtTimeout, AnOrphanIdleForLongCountsDoubleWhenItsTimerFires) {
    // Two peers with closed windows; 10 s later the application queues data
    // and closes: two orphans, within the limit of 3. At the first probe
    // (tcp_out_of_resources) each has sent no data for more than twice the
    // maximum RTO, so it counts double: 2 << 1 > 3 and the first is reset;
    // then 1 << 1 is not too many, and the second probes on.
    Connection* c[2];
    for (int i = 0; i < 2; ++i) {
        c[i] = open_from(static_cast<std::uint16_t>(42000 + i), 0);
        ASSERT_NE(c[i], nullptr);
    }
    at(10 * kSec);
    for (Connection* x : c) {
        ASSERT_EQ(x->send(fake::make_chunk("queued")), 0);
        x->close();
    }
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(tcp().orphans(), 2u);
    run(11 * kSec, [] { return false; });
    EXPECT_EQ(counters().tcp_orphans_aborted.get(), 1u);
    EXPECT_EQ(counters().tcp_resets_sent.get(), 1u);
    EXPECT_EQ(tcp().connections(), 1u);
    EXPECT_EQ(tcp().orphans(), 1u);
}

// ------------------------------------------------------------- persist ----

TEST_F(Hardening, AnOrphanInPersistGivesUpEvenWhenEveryProbeIsAnswered) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    zero_window_ack();
    ASSERT_EQ(c->send(fake::make_chunk(std::string(1000, 'x'))), 0);
    c->close();
    expect_nothing_sent(__LINE__);
    int probes = 0;
    run(1000 * kSec, [&] { return tcp().connections() == 0; }, [&](const SentSegment& s) {
        EXPECT_TRUE(is_segment(s, tf::ack, our_nxt - 1, peer_nxt, 0));
        ++probes;
        zero_window_ack(); // alive, window still closed
    });
    // Linux's tcp_probe_timer: the interval doubles from 0.2 s while the
    // window stays shut, answered or not; the timer that has backed off to
    // the maximum RTO (120 s) gives the orphan up: ten probes, the last at
    // 0.2 * (2^10 - 1) s, and 120 s later the end.
    EXPECT_EQ(tcp().connections(), 0u);
    EXPECT_EQ(probes, 10);
    EXPECT_EQ(now, 324600 * kMs);
    EXPECT_EQ(counters().tcp_connections_timed_out.get(), 1u);
}

TEST_F(Hardening, WithoutUserTimeoutAnsweredProbesKeepAConnectionTheAppHolds) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    zero_window_ack();
    ASSERT_EQ(c->send(fake::make_chunk(std::string(1000, 'x'))), 0);
    int probes = 0;
    run(1000 * kSec, [] { return false; }, [&](const SentSegment&) {
        ++probes;
        zero_window_ack();
    });
    EXPECT_EQ(c->state(), State::established) << "RFC 1122 4.2.2.17";
    EXPECT_GT(probes, 10);
    c->abort();
    sent();
}

TEST_F(Hardening, UserTimeoutEndsPersistEvenWhenEveryProbeIsAnswered) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    c->set_user_timeout(5 * kSec);
    zero_window_ack();
    ASSERT_EQ(c->send(fake::make_chunk(std::string(1000, 'x'))), 0);
    int probes = 0;
    run(1000 * kSec, [&] { return server.apps[0].closed > 0; }, [&](const SentSegment&) {
        ++probes;
        zero_window_ack();
    });
    // Probes at 0.2, 0.6, 1.4 and 3.0 s; the next (6.2 s) is brought forward
    // to 5 s after the first, where the user timeout ends it.
    EXPECT_EQ(server.apps[0].closed, 1);
    EXPECT_EQ(server.apps[0].error, ETIMEDOUT);
    EXPECT_EQ(now, 5200 * kMs);
    EXPECT_EQ(probes, 4);
    EXPECT_EQ(tcp().connections(), 0u);
}

TEST_F(Hardening, AWindowThatOpensByAByteDoesNotRestartTheOrphansWait) {
    // A peer that opens its window by a byte now and then, never enough for
    // the queued segment, would otherwise restart the backoff each time and
    // keep an orphan probing for ever (Linux's tcp_ack_probe keeps it).
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    zero_window_ack();
    ASSERT_EQ(c->send(fake::make_chunk(std::string(1000, 'x'))), 0);
    c->close();
    int probes = 0;
    run(1000 * kSec, [&] { return tcp().connections() == 0; }, [&](const SentSegment& s) {
        if (s.payload.empty()) ++probes;
        // An ACK with a 1-byte window, then the window shut again.
        peer(tf::ack, peer_nxt, s.payload.empty() ? our_nxt : s.end(), {}, 1);
        peer(tf::ack, peer_nxt, s.payload.empty() ? our_nxt : s.end(), {}, 0);
    });
    EXPECT_EQ(tcp().connections(), 0u);
    EXPECT_LE(now, 324600 * kMs);
}

// -------------------------------------------------------- user timeout ----

TEST_F(Hardening, UserTimeoutBoundsRetransmissions) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    c->set_user_timeout(2500 * kMs);
    ASSERT_EQ(c->send(fake::make_chunk("data")), 0);
    sent();
    std::vector<TimeNs> resent;
    run(1000 * kSec, [&] { return server.apps[0].closed > 0; }, [&](const SentSegment&) { resent.push_back(now); });
    // RTOs at 0.2, 0.6, 1.4 s; the next (3.0 s) is brought forward to the
    // user timeout, 2.5 s after the data went out (tcp_clamp_rto_to_user_timeout).
    EXPECT_EQ(resent, (std::vector<TimeNs>{200 * kMs, 600 * kMs, 1400 * kMs}));
    EXPECT_EQ(now, 2500 * kMs);
    EXPECT_EQ(server.apps[0].error, ETIMEDOUT);
    EXPECT_EQ(counters().tcp_connections_timed_out.get(), 1u);
}

class UserTimeoutOverRetries2 : public Hardening {
protected:
    UserTimeoutOverRetries2()
        : Hardening(with([](TcpConfig& c) {
              c.retries2 = 2;
              c.user_timeout = 10 * kSec; // for every connection, from the configuration
          })) {}
};

TEST_F(UserTimeoutOverRetries2, ReplacesTheCount) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->options().user_timeout, 10 * kSec);
    ASSERT_EQ(c->send(fake::make_chunk("data")), 0);
    sent();
    int resent = 0;
    run(1000 * kSec, [&] { return server.apps[0].closed > 0; }, [&](const SentSegment&) { ++resent; });
    // Linux's retransmits_timed_out with a user timeout: time, not retries2.
    EXPECT_EQ(now, 10 * kSec);
    EXPECT_EQ(resent, 5); // 0.2, 0.6, 1.4, 3.0, 6.2 s
    EXPECT_EQ(server.apps[0].error, ETIMEDOUT);
}

TEST_F(Hardening, UserTimeoutEndsKeepaliveBeforeTheCount) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    c->set_keepalive(true, 10 * kSec, 5 * kSec, 9);
    c->set_user_timeout(12 * kSec);
    std::vector<SentSegment> out;
    run(1000 * kSec, [&] { return server.apps[0].closed > 0; }, [&](const SentSegment& s) { out.push_back(s); });
    // A probe at 10 s; at 15 s the peer has been silent for 15 s >= 12 s and
    // one probe went unanswered: RST and ETIMEDOUT (tcp_keepalive_timer),
    // not 9 probes.
    ASSERT_EQ(out.size(), 2u);
    EXPECT_TRUE(is_segment(out[0], tf::ack, our_nxt - 1, peer_nxt, 0));
    EXPECT_EQ(out[1].flags, tf::rst | tf::ack);
    EXPECT_EQ(now, 15 * kSec);
    EXPECT_EQ(server.apps[0].error, ETIMEDOUT);
}

TEST_F(Hardening, UserTimeoutOffKeepsRetries2) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->options().user_timeout, 0u) << "off by default, as Linux";
    ASSERT_EQ(c->send(fake::make_chunk("data")), 0);
    sent();
    run(1000 * kSec, [&] { return server.apps[0].closed > 0; });
    EXPECT_EQ(counters().tcp_timeouts.get(), 15u);
}

// ------------------------------------------------- invalid-segment ACKs ----

TEST_F(Hardening, OutOfWindowPureAcksAreAnsweredOncePerInterval) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    peer(tf::ack, peer_nxt + 100000, our_nxt);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, peer_nxt, 0));
    at(now + 499 * kMs);
    peer(tf::ack, peer_nxt + 100000, our_nxt);
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(counters().tcp_ack_skipped_seq.get(), 1u);
    at(now + kMs); // 500 ms after the answer (net.ipv4.tcp_invalid_ratelimit)
    peer(tf::ack, peer_nxt + 100000, our_nxt);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, peer_nxt, 0));
    EXPECT_EQ(counters().dropped(Drop::tcp_out_of_window), 3u);
}

TEST_F(Hardening, OldDataIsAlwaysAnswered) {
    // Data is no part of an ACK loop (tcp_oow_rate_limited): a retransmission
    // of data we have is answered each time, so the sender stops resending.
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    peer(tf::ack, peer_nxt, our_nxt, "01234567890123456789");
    peer_nxt += 20;
    at(now + 40 * kMs);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, peer_nxt, 0)); // delayed ACK: RCV.WUP moves
    for (int i = 0; i < 3; ++i) {
        peer(tf::ack, peer_nxt - 20, our_nxt, "0123456789"); // wholly left of the window
        EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, peer_nxt, 0));
    }
    EXPECT_EQ(counters().dropped(Drop::tcp_out_of_window), 3u);
    EXPECT_EQ(counters().tcp_ack_skipped_seq.get(), 0u);
}

TEST_F(Hardening, AcksOfUnsentDataAreAnsweredOncePerInterval) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    peer(tf::ack, peer_nxt, our_nxt + 5000);
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, peer_nxt, 0));
    peer(tf::ack, peer_nxt, our_nxt + 5000);
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(counters().tcp_ack_skipped_bad_ack.get(), 1u);
    EXPECT_EQ(counters().dropped(Drop::tcp_bad_ack), 2u);
}

TEST_F(Hardening, PawsRejectedAcksAreAnsweredOncePerInterval) {
    Connection* c = accept_with_timestamps(100000);
    ASSERT_NE(c, nullptr);
    peer_ts(tf::ack, peer_nxt, our_nxt, 1000); // far older than TS.Recent
    EXPECT_EQ(only_one().flags, tf::ack);
    peer_ts(tf::ack, peer_nxt, our_nxt, 1000);
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(counters().tcp_ack_skipped_paws.get(), 1u);
    EXPECT_EQ(counters().dropped(Drop::tcp_paws), 2u);
}

TEST_F(Hardening, OneIntervalCoversEveryKindOfInvalidSegment) {
    // One last_oow_ack_time per connection in Linux: an answer to any kind
    // starts the interval for all.
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    peer(tf::ack, peer_nxt, our_nxt + 5000);
    EXPECT_EQ(sent().size(), 1u);
    peer(tf::ack, peer_nxt + 100000, our_nxt);
    peer(tf::rst, peer_nxt + 100, SeqNum{});
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(counters().tcp_ack_skipped_seq.get(), 1u);
    EXPECT_EQ(counters().tcp_ack_skipped_challenge.get(), 1u);
}

class NoInvalidRatelimit : public Hardening {
protected:
    NoInvalidRatelimit() : Hardening(with([](TcpConfig& c) { c.invalid_ratelimit = 0; })) {}
};

TEST_F(NoInvalidRatelimit, AnswersEveryInvalidSegment) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    for (int i = 0; i < 3; ++i) {
        peer(tf::ack, peer_nxt + 100000, our_nxt);
        EXPECT_EQ(sent().size(), 1u);
    }
    EXPECT_EQ(counters().tcp_ack_skipped_seq.get(), 0u);
}

// ------------------------------------------------------ challenge ACKs ----

TEST_F(Hardening, ChallengeAcksAreLimitedPerConnection) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    peer(tf::rst, peer_nxt + 100, SeqNum{});
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, peer_nxt, 0));
    at(now + 100 * kMs);
    peer(tf::rst, peer_nxt + 200, SeqNum{});
    peer(tf::syn, peer_nxt + 300, SeqNum{});
    expect_nothing_sent(__LINE__);
    EXPECT_EQ(counters().tcp_ack_skipped_challenge.get(), 2u);
    EXPECT_EQ(counters().tcp_challenge_acks.get(), 1u);
    EXPECT_EQ(counters().tcp_challenge_acks_limited.get(), 0u) << "the lcore's budget is not even asked";
    at(now + 400 * kMs);
    peer(tf::rst, peer_nxt + 100, SeqNum{});
    EXPECT_TRUE(is_segment(only_one(), tf::ack, our_nxt, peer_nxt, 0));
    EXPECT_EQ(c->state(), State::established);
}

class ChallengeBudget : public Hardening {
protected:
    ChallengeBudget()
        : Hardening(with([](TcpConfig& c) {
              c.challenge_ack_limit = 10;
              c.invalid_ratelimit = 0;
          })) {}
};

TEST_F(ChallengeBudget, IsDrawnAnewEachSecondAroundTheLimit) {
    Connection* c = accept_one();
    ASSERT_NE(c, nullptr);
    std::vector<int> per_second;
    for (int second = 1; second <= 200; ++second) {
        at(static_cast<TimeNs>(second) * kSec + 100 * kMs);
        for (int i = 0; i < 30; ++i) peer(tf::rst, peer_nxt + 100, SeqNum{});
        per_second.push_back(static_cast<int>(sent().size()));
    }
    // Linux: [ceil(limit/2), limit + ceil(limit/2) - 1] = [5, 14], `limit`
    // on average; a fixed budget is what CVE-2016-5696 counted.
    const auto [lo, hi] = std::minmax_element(per_second.begin(), per_second.end());
    EXPECT_GE(*lo, 5);
    EXPECT_LE(*hi, 14);
    EXPECT_LT(*lo, *hi) << "the same budget every second";
    double sum = 0;
    for (int n : per_second) sum += n;
    EXPECT_NEAR(sum / per_second.size(), 9.5, 1.0);
    EXPECT_EQ(c->state(), State::established);
}

TEST(ChallengeAckBudgetDraw, StaysInLinuxsRange) {
    IsnGenerator::Key key{};
    key[0] = 7;
    ChallengeAckBudget b(key);
    for (std::uint64_t s = 0; s < 1000; ++s) {
        EXPECT_EQ(b.draw(s, 1), 1u);
        const std::uint32_t v = b.draw(s, 1000);
        EXPECT_GE(v, 500u);
        EXPECT_LE(v, 1499u);
    }
    IsnGenerator::Key other = key;
    other[1] = 1;
    int same = 0;
    for (std::uint64_t s = 0; s < 100; ++s) same += b.draw(s, 1000) == ChallengeAckBudget(other).draw(s, 1000);
    EXPECT_LT(same, 10) << "another key, other budgets";
}

// ------------------------------------------------------------ TS.Recent ----

TEST_F(Hardening, ASegmentWithABadAckDoesNotMoveTsRecent) {
    Connection* c = accept_with_timestamps(1000);
    ASSERT_NE(c, nullptr);
    // In window, newer timestamp, but it acknowledges what was never sent:
    // dropped at the ACK check, so TS.Recent stays 1000 (RFC 7323 4.3;
    // Linux's tcp_replace_ts_recent runs after tcp_ack).
    peer_ts(tf::ack, peer_nxt, our_nxt + 5000, 900000);
    const SentSegment answer = only_one();
    ASSERT_TRUE(answer.options.timestamps.has_value());
    EXPECT_EQ(answer.options.timestamps->echo_reply, 1000u);
    // A valid segment newer than 1000 but older than the bad one: taken (had
    // TS.Recent moved, PAWS would drop it) and echoed.
    peer_ts(tf::ack | tf::psh, peer_nxt, our_nxt, 2000, "hello");
    EXPECT_EQ(server.apps[0].data, "hello");
    EXPECT_EQ(counters().dropped(Drop::tcp_paws), 0u);
    at(now + 40 * kMs); // delayed ACK
    const SentSegment ack = only_one();
    ASSERT_TRUE(ack.options.timestamps.has_value());
    EXPECT_EQ(ack.options.timestamps->echo_reply, 2000u);
}

TEST_F(Hardening, AValidSegmentStillMovesTsRecent) {
    Connection* c = accept_with_timestamps(1000);
    ASSERT_NE(c, nullptr);
    peer_ts(tf::ack | tf::psh, peer_nxt, our_nxt, 3000, "hello");
    at(now + 40 * kMs);
    const SentSegment ack = only_one();
    ASSERT_TRUE(ack.options.timestamps.has_value());
    EXPECT_EQ(ack.options.timestamps->echo_reply, 3000u);
}

} // namespace
} // namespace lanetcp::tcp::test
