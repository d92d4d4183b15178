// The impairment model's random numbers: xoshiro256** (Blackman and Vigna,
// 2018) seeded through splitmix64. Small, fast, and the same sequence on
// every machine and every run for a given seed, which std::mt19937 paired
// with std::uniform_real_distribution does not promise across libraries.
#pragma once

#include <cstdint>

namespace lanetcp::impair {

// splitmix64: spreads one 64-bit seed over the generator's state, so that
// nearby seeds (1, 2, 3) give unrelated streams.
constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

class Random {
public:
    constexpr explicit Random(std::uint64_t seed = 0) noexcept {
        for (auto& w : s_) w = splitmix64(seed);
    }

    constexpr std::uint64_t next() noexcept {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    // True with the probability `threshold` / 2^64 (see Probability).
    constexpr bool chance(std::uint64_t threshold, bool always) noexcept { return always || next() < threshold; }

    // Uniform in [0, n), n > 0 (Lemire's multiply-shift; the bias is below
    // 2^-32 for the ranges used here).
    constexpr std::uint64_t below(std::uint64_t n) noexcept {
        return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
    }

private:
    static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
    std::uint64_t s_[4]{};
};

// A probability as an integer threshold, so a per-packet decision is one
// compare, no floating point.
struct Probability {
    std::uint64_t threshold = 0;
    bool always = false;

    static Probability of(double p) noexcept {
        Probability r;
        if (p >= 1.0) {
            r.always = true;
        } else if (p > 0.0) {
            const double scaled = p * 18446744073709551616.0; // 2^64
            if (scaled >= 18446744073709551616.0) r.always = true; // p within 2^-54 of 1 rounds up
            else r.threshold = static_cast<std::uint64_t>(scaled);
        }
        return r;
    }
    bool never() const noexcept { return !always && threshold == 0; }
    bool draw(Random& rng) const noexcept { return rng.chance(threshold, always); }
};

} // namespace lanetcp::impair
