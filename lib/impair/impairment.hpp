// The impairment model of one direction of a wire (doc/impairment.md): for
// each packet offered at time `now`, in this order,
//   loss       random loss, then Gilbert-Elliott burst loss;
//   bottleneck a link of `rate` with a queue of `queue` packets: tail drop
//              when full, CE on ECT packets when `ecn` or more are queued;
//   delay      fixed delay plus jitter, order kept;
//   then       corruption (one byte flipped), duplication, reordering
//              (held back until `reorder_gap` later packets have passed).
// Every kind of decision draws from its own random stream derived from the
// seed, so the loss pattern of seed 7 is the same whether or not, say,
// duplication is on, and the same on every run: the n-th packet offered meets
// the same fate. No allocation after construction, no DPDK.
#pragma once

#include <cstdint>
#include <vector>

#include "impair/random.hpp"
#include "impair/spec.hpp"
#include "util/clock.hpp"

namespace lanetcp::impair {

// What happened to the packets of one direction. One list drives the struct
// and its printing.
#define LANETCP_IMPAIR_STATS(X)                                                       \
    X(offered, "packets handed to the wire")                                          \
    X(delivered, "packets that came out, duplicates included")                         \
    X(lost_random, "dropped by random loss")                                          \
    X(lost_burst, "dropped by Gilbert-Elliott burst loss")                            \
    X(tail_dropped, "dropped at the bottleneck: queue full")                          \
    X(overflow_dropped, "dropped: the wire already held `limit` packets")             \
    X(ce_marked, "marked CE at the bottleneck")                                       \
    X(corrupted, "one byte flipped")                                                  \
    X(duplicated, "delivered twice")                                                  \
    X(reordered, "held back behind later packets")

struct Stats {
#define LANETCP_IMPAIR_FIELD(name, text) std::uint64_t name = 0;
    LANETCP_IMPAIR_STATS(LANETCP_IMPAIR_FIELD)
#undef LANETCP_IMPAIR_FIELD
    std::uint64_t lost() const noexcept { return lost_random + lost_burst + tail_dropped + overflow_dropped; }
};

// "offered 1000, delivered 990, lost_random 10" (non-zero fields only).
std::string to_string(const Stats& s);

struct Verdict {
    enum class Fate : std::uint8_t { deliver, lost_random, lost_burst, tail_drop };
    Fate fate = Fate::deliver;
    bool mark_ce = false;
    bool corrupt = false;
    bool duplicate = false;
    bool reorder = false;
    std::uint64_t corrupt_bits = 0; // where and what to flip (see corrupt_frame)
    TimeNs deliver_at = 0;
    TimeNs hold_until = 0;          // reorder: due at the latest by then
};

class Impairment {
public:
    explicit Impairment(const Spec& spec);

    // The fate of a packet of `bytes` bytes on the wire offered at `now`
    // (times never go backwards); `ect`: its IP header carries ECT(0) or ECT(1).
    Verdict decide(TimeNs now, std::uint32_t bytes, bool ect) noexcept;

    const Spec& spec() const noexcept { return spec_; }
    Stats& stats() noexcept { return stats_; }
    const Stats& stats() const noexcept { return stats_; }
    // Packets in the bottleneck at `now` (waiting or being sent).
    std::uint32_t queued(TimeNs now) noexcept;

private:
    Spec spec_;
    Stats stats_;
    Probability loss_, ge_p_, ge_r_, ge_loss_bad_, ge_loss_good_, corrupt_, duplicate_, reorder_;
    Random rng_loss_, rng_ge_, rng_corrupt_, rng_duplicate_, rng_reorder_, rng_jitter_;
    bool ge_bad_ = false;
    // The bottleneck: departure times of the packets in it, oldest first.
    std::vector<TimeNs> departures_;
    std::uint32_t dep_head_ = 0, dep_count_ = 0;
    TimeNs busy_until_ = 0;
    std::uint64_t busy_remainder_ = 0; // sub-nanosecond carry, in bit·ns/s units
    TimeNs last_deliver_ = 0;
};

} // namespace lanetcp::impair
