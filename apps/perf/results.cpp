#include "perf/results.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <stdexcept>

namespace lanetcp::perf {

namespace {
alignas(64) std::uint8_t g_pattern[kPatternSize];
bool g_pattern_ready = [] {
    std::uint64_t x = 0x9e3779b97f4a7c15ull;
    for (auto& b : g_pattern) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        b = static_cast<std::uint8_t>(x >> 24);
    }
    return true;
}();

double us(std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; }
} // namespace

const std::uint8_t* pattern() noexcept { return g_pattern; }

std::string format_summary(const Results& r) {
    std::string s = fmt::format("{} {} connections={} time={:.3f}s", r.stack, to_string(r.mode), r.connections,
                                r.seconds);
    if (r.mss != 0) s += fmt::format(" mss={}", r.mss);
    if (!r.congestion_control.empty()) s += fmt::format(" cc={}", r.congestion_control);
    if (r.mode == Mode::bulk) {
        s += fmt::format(" bytes={} sent={} throughput={:.3f} Gbit/s", r.bytes, r.bytes_sent, r.gbits());
    } else {
        s += fmt::format(" request={} response={} transactions={} rate={:.0f} {}", r.request_size, r.response_size,
                         r.transactions, r.per_second(), r.unit());
        s += fmt::format("\n  latency us: mean={:.1f} min={:.1f} p50={:.1f} p99={:.1f} p999={:.1f} max={:.1f}",
                         r.latency.mean() / 1000.0, us(r.latency.min()), us(r.latency.quantile(0.5)),
                         us(r.latency.quantile(0.99)), us(r.latency.quantile(0.999)), us(r.latency.max()));
    }
    s += fmt::format("\n  connections opened={} errors={} {}", r.connections_opened, r.errors,
                     r.complete ? "complete" : "INCOMPLETE");
    return s;
}

nlohmann::json to_json(const Results& r) {
    nlohmann::json j;
    j["stack"] = r.stack;
    j["mode"] = to_string(r.mode);
    j["connections"] = r.connections;
    j["seconds"] = r.seconds;
    j["unit"] = r.unit();
    j["value"] = r.figure();
    j["bytes"] = r.bytes;
    j["bytes_sent"] = r.bytes_sent;
    j["gbits_per_second"] = r.gbits();
    j["transactions"] = r.transactions;
    j["transactions_per_second"] = r.per_second();
    j["request_size"] = r.request_size;
    j["response_size"] = r.response_size;
    j["connections_opened"] = r.connections_opened;
    j["errors"] = r.errors;
    j["complete"] = r.complete;
    if (r.mss != 0) j["mss"] = r.mss;
    if (!r.congestion_control.empty()) j["congestion_control"] = r.congestion_control;
    if (r.mode != Mode::bulk) {
        j["latency_ns"] = {{"count", r.latency.count()},        {"mean", r.latency.mean()},
                           {"min", r.latency.min()},            {"p50", r.latency.quantile(0.5)},
                           {"p99", r.latency.quantile(0.99)},   {"p999", r.latency.quantile(0.999)},
                           {"max", r.latency.max()}};
    }
    return j;
}

bool write_json(const std::string& path, const nlohmann::json& doc) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) return false;
    const std::string text = doc.dump(2) + "\n";
    const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    return std::fclose(f) == 0 && ok;
}

std::string format_progress(Mode mode, double at, double interval, std::uint64_t bytes, std::uint64_t transactions) {
    if (interval <= 0) interval = 1;
    if (mode == Mode::bulk)
        return fmt::format("[{:6.1f}s] {:8.3f} Gbit/s", at, static_cast<double>(bytes) * 8 / interval / 1e9);
    return fmt::format("[{:6.1f}s] {:10.0f} {}", at, static_cast<double>(transactions) / interval,
                       mode == Mode::rr ? "transactions/s" : "connections/s");
}

std::uint64_t parse_size(const std::string& text) {
    std::size_t used = 0;
    const unsigned long long v = std::stoull(text, &used);
    const std::string suffix = text.substr(used);
    std::uint64_t mult = 1;
    if (suffix == "K" || suffix == "k") mult = 1ull << 10;
    else if (suffix == "M" || suffix == "m") mult = 1ull << 20;
    else if (suffix == "G" || suffix == "g") mult = 1ull << 30;
    else if (!suffix.empty()) throw std::invalid_argument("unknown suffix '" + suffix + "'");
    return v * mult;
}

} // namespace lanetcp::perf
