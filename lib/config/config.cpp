#include "config/config.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>
#include <string_view>
#include <toml++/toml.h>

namespace lanetcp {

namespace {

// Reads a TOML document section by section, so that a key nobody asked for
// is reported instead of silently ignored.
class Reader {
public:
    Reader(const toml::table& table, std::string origin, std::string prefix)
        : table_(table), origin_(std::move(origin)), prefix_(std::move(prefix)) {}

    ~Reader() noexcept(false) {
        if (std::uncaught_exceptions() > 0) return;
        for (auto&& [key, _] : table_) {
            if (!seen_.contains(std::string(key.str())))
                throw ConfigError(fmt::format("{}: unknown key '{}{}'", origin_, prefix_, key.str()));
        }
    }

    const toml::node* take(std::string_view key) {
        seen_.emplace(key);
        return table_.get(key);
    }

    std::string name(std::string_view key) const { return prefix_ + std::string(key); }

    [[noreturn]] void fail(std::string_view key, std::string_view what) const {
        throw ConfigError(fmt::format("{}: '{}': {}", origin_, name(key), what));
    }

    template <class Int>
    void integer(std::string_view key, Int& out, std::int64_t min, std::int64_t max) {
        const toml::node* n = take(key);
        if (n == nullptr) return;
        auto v = n->value<std::int64_t>();
        if (!n->is_integer() || !v) fail(key, "expected an integer");
        if (*v < min || *v > max) fail(key, fmt::format("must be between {} and {}", min, max));
        out = static_cast<Int>(*v);
    }

    void number(std::string_view key, double& out, double min, double max) {
        const toml::node* n = take(key);
        if (n == nullptr) return;
        if (!n->is_number()) fail(key, "expected a number");
        double v = n->value<double>().value_or(0);
        if (!(v >= min && v <= max)) fail(key, fmt::format("must be between {} and {}", min, max));
        out = v;
    }

    void milliseconds(std::string_view key, TimeNs& out, std::int64_t min_ms, std::int64_t max_ms) {
        std::int64_t ms = static_cast<std::int64_t>(out / kNsPerMs);
        integer(key, ms, min_ms, max_ms);
        out = static_cast<TimeNs>(ms) * kNsPerMs;
    }

    void boolean(std::string_view key, bool& out) {
        const toml::node* n = take(key);
        if (n == nullptr) return;
        if (!n->is_boolean()) fail(key, "expected true or false");
        out = n->value<bool>().value_or(out);
    }

    std::optional<std::string> string(std::string_view key) {
        const toml::node* n = take(key);
        if (n == nullptr) return std::nullopt;
        if (!n->is_string()) fail(key, "expected a string");
        return n->value<std::string>();
    }

    template <class T>
    void address(std::string_view key, std::optional<T>& out, std::string_view example) {
        auto text = string(key);
        if (!text) return;
        auto parsed = T::parse(*text);
        if (!parsed) fail(key, fmt::format("'{}' is not an address like {}", *text, example));
        out = *parsed;
    }

    const toml::table* section(std::string_view key) {
        const toml::node* n = take(key);
        if (n == nullptr) return nullptr;
        if (!n->is_table()) fail(key, "expected a table");
        return n->as_table();
    }

    const toml::array* array(std::string_view key) {
        const toml::node* n = take(key);
        if (n == nullptr) return nullptr;
        if (!n->is_array()) fail(key, "expected an array");
        return n->as_array();
    }

    const std::string& origin() const { return origin_; }

private:
    const toml::table& table_;
    std::string origin_;
    std::string prefix_;
    std::set<std::string, std::less<>> seen_;
};

constexpr std::int64_t kU16 = std::numeric_limits<std::uint16_t>::max();
constexpr std::int64_t kU32 = std::numeric_limits<std::uint32_t>::max();

void read_interface(Reader& r, InterfaceConfig& c) {
    r.address<wire::Ipv4Prefix>("ip", c.address, "10.9.0.2/24");
    r.address<wire::Ipv4Addr>("gateway", c.gateway, "10.9.0.1");
    r.address<wire::MacAddr>("mac", c.mac, "02:00:00:00:00:01");
    r.integer("dpdk_port", c.dpdk_port, 0, kU16 - 1);
    r.integer("mtu", c.mtu, 576, 9000);
}

void read_arp(Reader& r, ArpConfig& c) {
    r.integer("max_entries", c.params.max_entries, 1, 1 << 20);
    r.integer("max_pending", c.params.max_pending, 1, 1024);
    r.integer("max_pending_total", c.params.max_pending_total, 1, 1 << 20);
    r.integer("retries", c.params.retries, 1, 100);
    r.milliseconds("reachable_ms", c.params.reachable, 1, 3'600'000);
    r.milliseconds("retry_ms", c.params.retry, 1, 60'000);
    r.milliseconds("stale_ms", c.params.stale_lifetime, 1, 86'400'000);
    r.boolean("gratuitous", c.gratuitous);
    if (const toml::array* entries = r.array("static")) {
        for (std::size_t i = 0; i < entries->size(); ++i) {
            const toml::table* t = (*entries)[i].as_table();
            std::string where = fmt::format("arp.static[{}].", i);
            if (t == nullptr) throw ConfigError(fmt::format("{}: '{}': expected a table {{ ip = ..., mac = ... }}",
                                                            r.origin(), where));
            Reader er(*t, r.origin(), where);
            std::optional<wire::Ipv4Addr> ip;
            std::optional<wire::MacAddr> mac;
            er.address("ip", ip, "10.9.0.1");
            er.address("mac", mac, "02:00:00:00:00:01");
            if (!ip) er.fail("ip", "missing");
            if (!mac) er.fail("mac", "missing");
            c.static_entries.push_back({*ip, *mac});
        }
    }
}

void read_engine(Reader& r, EngineConfig& c) {
    r.integer("burst", c.burst, 1, 512);
    r.integer("mbufs_per_lcore", c.mbufs_per_lcore, 1023, kU32);
    r.integer("rx_descriptors", c.rx_descriptors, 64, 32768);
    r.integer("tx_descriptors", c.tx_descriptors, 64, 32768);
    r.number("stats_interval", c.stats_interval_s, 0, 86400);
    r.number("duration", c.duration_s, 0, 365.0 * 86400);
    if (auto path = r.string("stats_json")) c.stats_json = *path;
    if (auto path = r.string("trace_csv")) c.trace_csv = *path;
}

void read_tcp(Reader& r, tcp::TcpConfig& c) {
    r.integer("max_connections", c.max_connections, 16, 1 << 24);
    r.integer("chunk_pool", c.chunk_pool, 1024, 1 << 26);
    r.integer("reassembly_segments", c.reassembly_segments, 256, 1 << 26);
    r.integer("send_buffer", c.send_buffer, 4096, 1 << 30);
    r.integer("receive_buffer", c.receive_buffer, 1024, 1 << 30);
    r.integer("mss", c.mss, 88, 8960);
    r.milliseconds("min_rto_ms", c.min_rto, 1, 60'000);
    r.milliseconds("max_rto_ms", c.max_rto, 100, 3'600'000);
    r.milliseconds("initial_rto_ms", c.initial_rto, 1, 60'000);
    r.integer("retries2", c.retries2, 1, 255);
    r.integer("syn_retries", c.syn_retries, 1, 255);
    r.integer("synack_retries", c.synack_retries, 1, 255);
    r.milliseconds("time_wait_ms", c.time_wait, 1, 600'000);
    r.milliseconds("delayed_ack_ms", c.delayed_ack, 1, 500);
    r.integer("initial_cwnd", c.initial_cwnd, 1, 1000);
    r.integer("ephemeral_first", c.ephemeral_first, 1, 65535);
    r.integer("ephemeral_last", c.ephemeral_last, 1, 65535);
    r.integer("syn_backlog", c.syn_backlog, 1, 1 << 24);
    r.integer("syncache_entries", c.syncache_entries, 16, 1 << 24);
    r.boolean("syncookies", c.syncookies);
    r.boolean("sack", c.sack);
    r.boolean("window_scale", c.window_scale);
    r.boolean("timestamps", c.timestamps);
    // As net.ipv4.tcp_ecn: 0 off, 1 ask and accept, 2 accept only.
    int ecn = static_cast<int>(c.ecn);
    r.integer("ecn", ecn, 0, 2);
    c.ecn = static_cast<tcp::EcnMode>(ecn);
    r.boolean("nodelay", c.nodelay);
    r.boolean("loss_probes", c.loss_probes);
    r.boolean("frto", c.frto);
    r.integer("trace_rows", c.trace_rows, 0, 1 << 26);
    r.boolean("keepalive", c.keepalive);
    r.milliseconds("keepalive_idle_ms", c.keepalive_idle, 1000, 365LL * 86400 * 1000);
    r.milliseconds("keepalive_interval_ms", c.keepalive_interval, 100, 86400LL * 1000);
    r.integer("keepalive_count", c.keepalive_count, 1, 255);
    r.integer("challenge_ack_limit", c.challenge_ack_limit, 1, 1u << 31);
    r.integer("memory_pressure", c.memory_pressure, 0, std::int64_t{1} << 40);
    r.integer("memory_limit", c.memory_limit, 0, std::int64_t{1} << 40);
    if (c.memory_limit != 0 && c.memory_pressure > c.memory_limit)
        r.fail("memory_pressure", "must not be above tcp.memory_limit");
    r.milliseconds("invalid_ratelimit_ms", c.invalid_ratelimit, 0, 60'000);
    r.integer("orphan_retries", c.orphan_retries, 0, 255);
    r.integer("max_orphans", c.max_orphans, 0, 1 << 24);
    r.milliseconds("user_timeout_ms", c.user_timeout, 0, 365LL * 86400 * 1000);
    if (c.ephemeral_first > c.ephemeral_last)
        r.fail("ephemeral_first", "must not be above tcp.ephemeral_last");
    if (auto text = r.string("congestion_control")) {
        const std::string what = fmt::format("{}: '{}'", r.origin(), r.name("congestion_control"));
        c.congestion_control = parse_congestion_control(what, *text);
    }
}

void read_eal(Reader& r, EalConfig& c) {
    if (const toml::array* args = r.array("args")) {
        c.args.clear();
        for (std::size_t i = 0; i < args->size(); ++i) {
            auto s = (*args)[i].value<std::string>();
            if (!s) r.fail("args", "expected an array of strings");
            c.args.push_back(*s);
        }
    }
}

} // namespace

tcp::cc::Algorithm parse_congestion_control(std::string_view what, std::string_view text) {
    if (auto algorithm = tcp::cc::parse_algorithm(text)) return *algorithm;
    std::string known;
    for (std::size_t i = 0; i < tcp::cc::kAlgorithmCount; ++i)
        known += fmt::format("{}\"{}\"", i == 0 ? "" : ", ", tcp::cc::name(static_cast<tcp::cc::Algorithm>(i)));
    throw ConfigError(fmt::format("{}: unknown algorithm \"{}\"; expected one of {}", what, text, known));
}

void load_config_text(std::string_view text, const std::string& origin, Config& config) {
    toml::table doc;
    try {
        doc = toml::parse(text, origin);
    } catch (const toml::parse_error& e) {
        throw ConfigError(fmt::format("{}:{}:{}: {}", origin, e.source().begin.line, e.source().begin.column,
                                      e.description()));
    }
    Reader top(doc, origin, "");
    if (const toml::table* t = top.section("interface")) {
        Reader r(*t, origin, "interface.");
        read_interface(r, config.interface);
    }
    if (const toml::table* t = top.section("arp")) {
        Reader r(*t, origin, "arp.");
        read_arp(r, config.arp);
    }
    if (const toml::table* t = top.section("engine")) {
        Reader r(*t, origin, "engine.");
        read_engine(r, config.engine);
    }
    if (const toml::table* t = top.section("tcp")) {
        Reader r(*t, origin, "tcp.");
        read_tcp(r, config.tcp);
    }
    if (const toml::table* t = top.section("app")) {
        Reader r(*t, origin, "app.");
        r.integer("port", config.app.port, 1, kU16);
    }
    if (const toml::table* t = top.section("eal")) {
        Reader r(*t, origin, "eal.");
        read_eal(r, config.eal);
    }
}

void load_config_file(const std::string& path, Config& config) {
    toml::table doc;
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) throw ConfigError(fmt::format("{}: cannot open config file: {}", path, std::strerror(errno)));
    std::string text;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    bool failed = std::ferror(f) != 0;
    std::fclose(f);
    if (failed) throw ConfigError(fmt::format("{}: cannot read config file", path));
    load_config_text(text, path, config);
}

void validate(const Config& config) {
    const InterfaceConfig& i = config.interface;
    if (!i.address) throw ConfigError("no IPv4 address: give --ip ADDR/PREFIX or interface.ip in the config file");
    if (i.address->length == 0 || i.address->length > 30)
        throw ConfigError(fmt::format("address {}: prefix length must be between 1 and 30", i.address->to_string()));
    wire::Ipv4Addr a = i.address->addr;
    if (a.is_any() || a.is_multicast() || a.is_loopback() || a.is_limited_broadcast() ||
        a == i.address->subnet_broadcast() || (a.v & i.address->mask()) == a.v)
        throw ConfigError(fmt::format("address {}: not a usable host address", i.address->to_string()));
    if (i.gateway && !i.address->contains(*i.gateway))
        throw ConfigError(fmt::format("gateway {}: not inside {}", i.gateway->to_string(), i.address->to_string()));
    if (i.mac && (i.mac->is_multicast() || i.mac->is_zero()))
        throw ConfigError(fmt::format("mac {}: must be a unicast address", i.mac->to_string()));
    if (config.arp.static_entries.size() > config.arp.params.max_entries)
        throw ConfigError("arp.static has more entries than arp.max_entries");
}

} // namespace lanetcp
