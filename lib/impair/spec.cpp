#include "impair/spec.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <charconv>
#include <functional>
#include <string>

namespace lanetcp::impair {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// A number at the front of `text`; `rest` is what follows it.
bool leading_number(std::string_view text, double& value, std::string_view& rest) {
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || !(value >= 0)) return false;
    rest = std::string_view(ptr, static_cast<std::size_t>(end - ptr));
    return true;
}

[[noreturn]] void bad(std::string_view key, std::string_view value, std::string_view expected) {
    throw SpecError(fmt::format("impairment {}={}: {}", key, value, expected));
}

double parse_percent(std::string_view key, std::string_view value) {
    double v = 0;
    std::string_view rest;
    if (!leading_number(value, v, rest) || rest != "%")
        bad(key, value, "expected a percentage like 1% or 0.5%");
    if (v > 100) bad(key, value, "a percentage from 0% to 100%");
    return v;
}

TimeNs parse_time(std::string_view key, std::string_view value) {
    double v = 0;
    std::string_view rest;
    if (!leading_number(value, v, rest)) bad(key, value, "expected a time like 5ms, 100us or 1s");
    const std::string unit = lower(rest);
    double scale = 0;
    if (unit == "s") scale = 1e9;
    else if (unit == "ms") scale = 1e6;
    else if (unit == "us") scale = 1e3;
    else if (unit == "ns") scale = 1;
    else if (unit.empty() && v == 0) scale = 1;
    else bad(key, value, "expected a time like 5ms, 100us or 1s (units s, ms, us, ns)");
    const double ns = v * scale;
    if (ns > 3600e9) bad(key, value, "at most an hour");
    return static_cast<TimeNs>(ns + 0.5);
}

std::uint64_t parse_rate(std::string_view key, std::string_view value) {
    double v = 0;
    std::string_view rest;
    if (!leading_number(value, v, rest)) bad(key, value, "expected a rate like 1gbit, 100mbit or 500kbit");
    const std::string unit = lower(rest);
    double scale = 0;
    if (unit == "bit") scale = 1;
    else if (unit == "kbit") scale = 1e3;
    else if (unit == "mbit") scale = 1e6;
    else if (unit == "gbit") scale = 1e9;
    else if (unit == "tbit") scale = 1e12;
    else bad(key, value, "expected a rate in bit, kbit, mbit, gbit or tbit per second, like 1gbit");
    const double bps = v * scale;
    if (bps < 1000 || bps > 1e13) bad(key, value, "a rate from 1kbit to 10tbit");
    return static_cast<std::uint64_t>(bps + 0.5);
}

std::uint64_t parse_count(std::string_view key, std::string_view value, std::uint64_t lo, std::uint64_t hi,
                          const char* what) {
    std::uint64_t v = 0;
    const char* end = value.data() + value.size();
    auto [ptr, ec] = std::from_chars(value.data(), end, v);
    if (ec != std::errc{} || ptr != end || v < lo || v > hi)
        bad(key, value, fmt::format("expected {} from {} to {}", what, lo, hi));
    return v;
}

GilbertElliott parse_ge(std::string_view key, std::string_view value) {
    GilbertElliott g;
    double* fields[] = {&g.p_pct, &g.r_pct, &g.loss_bad_pct, &g.loss_good_pct};
    std::size_t n = 0;
    std::string_view rest = value;
    for (;;) {
        const auto colon = rest.find(':');
        const std::string_view part = rest.substr(0, colon);
        if (n == 4) bad(key, value, "at most four fields P:R:LOSS_BAD:LOSS_GOOD");
        double v = 0;
        std::string_view after;
        if (!leading_number(part, v, after) || after != "%" || v > 100)
            bad(key, value, "expected P:R[:LOSS_BAD[:LOSS_GOOD]] as percentages, like 1%:30% or 1%:30%:100%:0%");
        *fields[n++] = v;
        if (colon == std::string_view::npos) break;
        rest = rest.substr(colon + 1);
    }
    if (n < 2) bad(key, value, "give at least P and R, like ge=1%:30%");
    if (g.p_pct == 0) bad(key, value, "P (good to bad) must be above 0%");
    if (g.r_pct == 0) bad(key, value, "R (bad to good) must be above 0%: the wire would stay bad for ever");
    return g;
}

std::string percent_text(double v) { return fmt::format("{}%", v); }

std::string time_text(TimeNs t) {
    if (t != 0 && t % kNsPerSec == 0) return fmt::format("{}s", t / kNsPerSec);
    if (t != 0 && t % kNsPerMs == 0) return fmt::format("{}ms", t / kNsPerMs);
    if (t != 0 && t % kNsPerUs == 0) return fmt::format("{}us", t / kNsPerUs);
    return fmt::format("{}ns", t);
}

std::string rate_text(std::uint64_t bps) {
    static constexpr std::pair<std::uint64_t, const char*> kUnits[] = {
        {1'000'000'000'000, "tbit"}, {1'000'000'000, "gbit"}, {1'000'000, "mbit"}, {1'000, "kbit"}};
    for (const auto& [scale, name] : kUnits)
        if (bps % scale == 0) return fmt::format("{}{}", bps / scale, name);
    return fmt::format("{}bit", bps);
}

// One row per key: this table drives parsing, printing and the list of keys
// in error messages.
struct Key {
    const char* name;
    void (*parse)(Spec&, std::string_view key, std::string_view value);
    std::string (*print)(const Spec&); // "" when the value is the default
};

template <class T>
std::string unless_default(const T& value, const T& def, std::string text) {
    return value == def ? std::string{} : std::move(text);
}

const Spec kDefaults{};

const std::array<Key, 15> kKeys{{
    {"loss", [](Spec& s, std::string_view k, std::string_view v) { s.loss_pct = parse_percent(k, v); },
     [](const Spec& s) { return unless_default(s.loss_pct, kDefaults.loss_pct, percent_text(s.loss_pct)); }},
    {"ge", [](Spec& s, std::string_view k, std::string_view v) { s.ge = parse_ge(k, v); },
     [](const Spec& s) {
         return unless_default(s.ge, kDefaults.ge,
                               fmt::format("{}:{}:{}:{}", percent_text(s.ge.p_pct), percent_text(s.ge.r_pct),
                                           percent_text(s.ge.loss_bad_pct), percent_text(s.ge.loss_good_pct)));
     }},
    {"delay", [](Spec& s, std::string_view k, std::string_view v) { s.delay = parse_time(k, v); },
     [](const Spec& s) { return unless_default(s.delay, kDefaults.delay, time_text(s.delay)); }},
    {"jitter", [](Spec& s, std::string_view k, std::string_view v) { s.jitter = parse_time(k, v); },
     [](const Spec& s) { return unless_default(s.jitter, kDefaults.jitter, time_text(s.jitter)); }},
    {"rate", [](Spec& s, std::string_view k, std::string_view v) { s.rate_bps = parse_rate(k, v); },
     [](const Spec& s) { return unless_default(s.rate_bps, kDefaults.rate_bps, rate_text(s.rate_bps)); }},
    {"queue",
     [](Spec& s, std::string_view k, std::string_view v) {
         s.queue = static_cast<std::uint32_t>(parse_count(k, v, 1, 1'000'000, "packets"));
     },
     [](const Spec& s) { return unless_default(s.queue, kDefaults.queue, std::to_string(s.queue)); }},
    {"ecn",
     [](Spec& s, std::string_view k, std::string_view v) {
         s.ecn = static_cast<std::uint32_t>(parse_count(k, v, 0, 1'000'000, "packets"));
     },
     [](const Spec& s) { return unless_default(s.ecn, kDefaults.ecn, std::to_string(s.ecn)); }},
    {"reorder", [](Spec& s, std::string_view k, std::string_view v) { s.reorder_pct = parse_percent(k, v); },
     [](const Spec& s) { return unless_default(s.reorder_pct, kDefaults.reorder_pct, percent_text(s.reorder_pct)); }},
    {"reorder_gap",
     [](Spec& s, std::string_view k, std::string_view v) {
         s.reorder_gap = static_cast<std::uint32_t>(parse_count(k, v, 1, 1000, "packets"));
     },
     [](const Spec& s) {
         return unless_default(s.reorder_gap, kDefaults.reorder_gap, std::to_string(s.reorder_gap));
     }},
    {"reorder_hold", [](Spec& s, std::string_view k, std::string_view v) { s.reorder_hold = parse_time(k, v); },
     [](const Spec& s) { return unless_default(s.reorder_hold, kDefaults.reorder_hold, time_text(s.reorder_hold)); }},
    {"dup", [](Spec& s, std::string_view k, std::string_view v) { s.duplicate_pct = parse_percent(k, v); },
     [](const Spec& s) {
         return unless_default(s.duplicate_pct, kDefaults.duplicate_pct, percent_text(s.duplicate_pct));
     }},
    {"corrupt", [](Spec& s, std::string_view k, std::string_view v) { s.corrupt_pct = parse_percent(k, v); },
     [](const Spec& s) { return unless_default(s.corrupt_pct, kDefaults.corrupt_pct, percent_text(s.corrupt_pct)); }},
    {"limit",
     [](Spec& s, std::string_view k, std::string_view v) {
         s.limit = static_cast<std::uint32_t>(parse_count(k, v, 1, 10'000'000, "packets"));
     },
     [](const Spec& s) { return unless_default(s.limit, kDefaults.limit, std::to_string(s.limit)); }},
    {"seed",
     [](Spec& s, std::string_view k, std::string_view v) {
         s.seed = parse_count(k, v, 0, UINT64_MAX, "an integer");
     },
     [](const Spec& s) { return unless_default(s.seed, kDefaults.seed, std::to_string(s.seed)); }},
    // Last: accepted so that "none" can be written for a perfect wire.
    {"none", [](Spec&, std::string_view, std::string_view) {}, [](const Spec&) { return std::string{}; }},
}};

std::size_t key_index(std::string_view name) {
    std::size_t i = 0;
    while (i < kKeys.size() && name != kKeys[i].name) ++i;
    return i;
}

std::string key_list() {
    std::string s;
    for (const Key& k : kKeys) {
        if (std::string_view(k.name) == "none") continue;
        s += s.empty() ? "" : ", ";
        s += k.name;
    }
    return s;
}

} // namespace

bool Spec::active() const noexcept {
    Spec perfect;
    perfect.seed = seed;
    perfect.limit = limit;
    perfect.queue = queue;
    perfect.reorder_gap = reorder_gap;
    perfect.reorder_hold = reorder_hold;
    return !(*this == perfect);
}

Spec parse_spec(std::string_view text) {
    Spec s;
    if (text.empty() || text == "none") return s;
    std::array<bool, kKeys.size()> seen{};
    std::string_view rest = text;
    for (;;) {
        const auto comma = rest.find(',');
        const std::string_view item = rest.substr(0, comma);
        const auto eq = item.find('=');
        if (eq == std::string_view::npos || eq == 0 || eq + 1 == item.size())
            throw SpecError(fmt::format("impairment '{}': expected key=value (keys: {})", item, key_list()));
        const std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
        const std::size_t i = key_index(key);
        if (i == kKeys.size() || key == "none")
            throw SpecError(fmt::format("impairment: unknown key '{}' (keys: {})", key, key_list()));
        if (seen[i]) throw SpecError(fmt::format("impairment: '{}' given twice", key));
        seen[i] = true;
        kKeys[i].parse(s, key, value);
        if (comma == std::string_view::npos) break;
        rest = rest.substr(comma + 1);
    }
    // Settings that only mean something together.
    if (s.ecn != 0 && s.rate_bps == 0)
        throw SpecError("impairment ecn=" + std::to_string(s.ecn) + ": needs a bottleneck (rate=...)");
    if (seen[key_index("queue")] && s.rate_bps == 0)
        throw SpecError("impairment queue=" + std::to_string(s.queue) + ": needs a bottleneck (rate=...)");
    if (s.ecn > s.queue)
        throw SpecError(fmt::format("impairment ecn={}: above queue={}, it would never mark", s.ecn, s.queue));
    if (s.jitter > s.delay)
        throw SpecError(fmt::format("impairment jitter={}: larger than delay={}", time_text(s.jitter),
                                    time_text(s.delay)));
    return s;
}

std::string to_string(const Spec& s) {
    std::string out;
    for (const Key& k : kKeys) {
        const std::string v = k.print(s);
        if (v.empty()) continue;
        out += fmt::format("{}{}={}", out.empty() ? "" : ",", k.name, v);
    }
    return out.empty() ? "none" : out;
}

} // namespace lanetcp::impair
