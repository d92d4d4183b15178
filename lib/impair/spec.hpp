// What an impaired wire does to the packets of one direction, and its text
// form, e.g. "loss=1%,delay=5ms,jitter=1ms,rate=1gbit,queue=100,ecn=20,seed=7"
// (doc/impairment.md lists every key with its unit and default).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "util/clock.hpp"

namespace lanetcp::impair {

// A malformed spec: the message names the key and says what was expected.
class SpecError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

// Gilbert-Elliott burst loss: a two-state Markov chain moved once per packet,
// with a loss probability in each state (netem's "loss gemodel p r 1-h 1-k").
// Probabilities are in percent, as written.
struct GilbertElliott {
    double p_pct = 0;           // good → bad, per packet
    double r_pct = 100;         // bad → good, per packet
    double loss_bad_pct = 100;  // loss probability in the bad state (1-h)
    double loss_good_pct = 0;   // loss probability in the good state (1-k)
    bool enabled() const noexcept { return p_pct > 0; }
    bool operator==(const GilbertElliott&) const = default;
};

// Probabilities are in percent, as written ("loss=1%" is loss_pct 1).
struct Spec {
    double loss_pct = 0;               // independent random loss, per packet
    GilbertElliott ge{};               // burst loss, on top of `loss`
    TimeNs delay = 0;                  // one-way propagation delay
    TimeNs jitter = 0;                 // delay varies uniformly in [delay - jitter, delay + jitter]; order is kept
    std::uint64_t rate_bps = 0;        // bottleneck rate in bits per second; 0: no bottleneck
    std::uint32_t queue = 1000;        // bottleneck queue, packets (tail drop when full)
    std::uint32_t ecn = 0;             // mark CE on ECT packets when this many are queued; 0: never
    double reorder_pct = 0;            // probability a packet is held back
    std::uint32_t reorder_gap = 3;     // ... until this many later packets have overtaken it
    TimeNs reorder_hold = kNsPerMs;    // ... or this long past its due time, whichever is first
    double duplicate_pct = 0;          // probability a packet is delivered twice
    double corrupt_pct = 0;            // probability one byte of a packet is flipped
    std::uint32_t limit = 10000;       // packets the wire holds at once (delayed or queued); more are dropped
    std::uint64_t seed = 1;

    // Anything at all to do: a Spec{} is a perfect wire.
    bool active() const noexcept;
    bool operator==(const Spec&) const = default;
};

// Parses "key=value,key=value"; the empty string is a perfect wire. Throws
// SpecError with a one-line reason.
Spec parse_spec(std::string_view text);

// The canonical text of `s`: only the keys that differ from the defaults, in
// a fixed order; parse_spec(to_string(s)) == s.
std::string to_string(const Spec& s);

} // namespace lanetcp::impair
