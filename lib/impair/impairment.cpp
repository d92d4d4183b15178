#include "impair/impairment.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace lanetcp::impair {

namespace {

// Each kind of decision has its own stream: seed and kind through splitmix.
Random stream(std::uint64_t seed, std::uint64_t kind) {
    std::uint64_t s = seed ^ (kind * 0xd1b54a32d192ed03ull);
    return Random(splitmix64(s));
}

} // namespace

std::string to_string(const Stats& s) {
    std::string out;
#define LANETCP_IMPAIR_PRINT(name, text) \
    if (s.name != 0) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", #name, s.name);
    LANETCP_IMPAIR_STATS(LANETCP_IMPAIR_PRINT)
#undef LANETCP_IMPAIR_PRINT
    return out.empty() ? "nothing offered" : out;
}

Impairment::Impairment(const Spec& spec)
    : spec_(spec),
      loss_(Probability::of(spec.loss_pct / 100)),
      ge_p_(Probability::of(spec.ge.p_pct / 100)),
      ge_r_(Probability::of(spec.ge.r_pct / 100)),
      ge_loss_bad_(Probability::of(spec.ge.loss_bad_pct / 100)),
      ge_loss_good_(Probability::of(spec.ge.loss_good_pct / 100)),
      corrupt_(Probability::of(spec.corrupt_pct / 100)),
      duplicate_(Probability::of(spec.duplicate_pct / 100)),
      reorder_(Probability::of(spec.reorder_pct / 100)),
      rng_loss_(stream(spec.seed, 1)),
      rng_ge_(stream(spec.seed, 2)),
      rng_corrupt_(stream(spec.seed, 3)),
      rng_duplicate_(stream(spec.seed, 4)),
      rng_reorder_(stream(spec.seed, 5)),
      rng_jitter_(stream(spec.seed, 6)),
      departures_(spec.rate_bps != 0 ? spec.queue : 0) {}

std::uint32_t Impairment::queued(TimeNs now) noexcept {
    const auto cap = static_cast<std::uint32_t>(departures_.size());
    while (dep_count_ > 0 && departures_[dep_head_] <= now) {
        dep_head_ = dep_head_ + 1 == cap ? 0 : dep_head_ + 1;
        --dep_count_;
    }
    return dep_count_;
}

Verdict Impairment::decide(TimeNs now, std::uint32_t bytes, bool ect) noexcept {
    ++stats_.offered;
    Verdict v;
    // Every enabled stream draws for every packet, lost or not, so that each
    // kind of decision depends on the seed and the packet's index alone.
    const bool random_loss = !loss_.never() && loss_.draw(rng_loss_);
    bool burst_loss = false;
    if (spec_.ge.enabled()) {
        ge_bad_ = ge_bad_ ? !ge_r_.draw(rng_ge_) : ge_p_.draw(rng_ge_);
        burst_loss = (ge_bad_ ? ge_loss_bad_ : ge_loss_good_).draw(rng_ge_);
    }
    if (!corrupt_.never()) {
        v.corrupt = corrupt_.draw(rng_corrupt_);
        v.corrupt_bits = rng_corrupt_.next();
    }
    if (!duplicate_.never()) v.duplicate = duplicate_.draw(rng_duplicate_);
    if (!reorder_.never()) v.reorder = reorder_.draw(rng_reorder_);
    TimeNs jitter = 0;
    if (spec_.jitter != 0) jitter = rng_jitter_.below(2 * spec_.jitter + 1);

    if (random_loss) {
        ++stats_.lost_random;
        v.fate = Verdict::Fate::lost_random;
        return v;
    }
    if (burst_loss) {
        ++stats_.lost_burst;
        v.fate = Verdict::Fate::lost_burst;
        return v;
    }

    TimeNs t = now;
    if (spec_.rate_bps != 0) {
        const std::uint32_t q = queued(now);
        if (q >= spec_.queue) {
            ++stats_.tail_dropped;
            v.fate = Verdict::Fate::tail_drop;
            return v;
        }
        if (ect && spec_.ecn != 0 && q >= spec_.ecn) {
            v.mark_ce = true;
            ++stats_.ce_marked;
        }
        // Serialisation time, with the sub-nanosecond remainder carried while
        // the link stays busy so that the long-run rate is exact.
        if (busy_until_ <= now) {
            busy_until_ = now;
            busy_remainder_ = 0;
        }
        const unsigned __int128 numer =
            static_cast<unsigned __int128>(bytes) * 8 * kNsPerSec + busy_remainder_;
        busy_until_ += static_cast<TimeNs>(numer / spec_.rate_bps);
        busy_remainder_ = static_cast<std::uint64_t>(numer % spec_.rate_bps);
        const auto cap = static_cast<std::uint32_t>(departures_.size());
        std::uint32_t tail = dep_head_ + dep_count_;
        if (tail >= cap) tail -= cap;
        departures_[tail] = busy_until_;
        ++dep_count_;
        t = busy_until_;
    }
    // delay ± jitter; jitter never reorders (a packet leaves no earlier than
    // the one before it), reordering is its own decision.
    t = t + spec_.delay + jitter - spec_.jitter;
    t = std::max(t, last_deliver_);
    last_deliver_ = t;
    v.deliver_at = t;
    if (v.reorder) v.hold_until = t + spec_.reorder_hold;
    return v;
}

} // namespace lanetcp::impair
