// Configuration: TOML keys, command-line overrides, and the one-line errors
// a user sees for every kind of mistake.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "config/command_line.hpp"
#include "config/config.hpp"

namespace lanetcp {
namespace {

using ::testing::HasSubstr;

Config from_toml(const std::string& text) {
    Config c;
    load_config_text(text, "test.toml", c);
    return c;
}

std::string toml_error(const std::string& text) {
    try {
        from_toml(text);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

CommandLine parse(std::vector<std::string> args) {
    std::vector<const char*> argv{"lanetcp-test"};
    for (const auto& a : args) argv.push_back(a.c_str());
    return parse_command_line(static_cast<int>(argv.size()), argv.data(), "test");
}

std::string parse_error(std::vector<std::string> args) {
    try {
        parse(std::move(args));
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(ConfigToml, ReadsEverySection) {
    Config c = from_toml(R"(
[interface]
ip = "10.9.0.2/24"
gateway = "10.9.0.1"
mac = "02:00:00:00:00:01"
dpdk_port = 1
mtu = 9000

[arp]
max_entries = 64
max_pending = 4
max_pending_total = 100
retries = 5
reachable_ms = 1000
retry_ms = 250
stale_ms = 5000
gratuitous = false
static = [ { ip = "10.9.0.1", mac = "02:00:00:00:00:fe" } ]

[engine]
burst = 64
stats_interval = 2.5
duration = 10
stats_json = "/tmp/x.json"

[app]
port = 8080

[eal]
args = ["--no-huge", "-m", "512"]
)");
    ASSERT_TRUE(c.interface.address);
    EXPECT_EQ(c.interface.address->to_string(), "10.9.0.2/24");
    EXPECT_EQ(c.interface.gateway->to_string(), "10.9.0.1");
    EXPECT_EQ(c.interface.mac->to_string(), "02:00:00:00:00:01");
    EXPECT_EQ(c.interface.dpdk_port, 1);
    EXPECT_EQ(c.interface.mtu, 9000);
    EXPECT_EQ(c.arp.params.max_entries, 64u);
    EXPECT_EQ(c.arp.params.max_pending, 4u);
    EXPECT_EQ(c.arp.params.max_pending_total, 100u);
    EXPECT_EQ(c.arp.params.retries, 5u);
    EXPECT_EQ(c.arp.params.reachable, 1000 * kNsPerMs);
    EXPECT_EQ(c.arp.params.retry, 250 * kNsPerMs);
    EXPECT_EQ(c.arp.params.stale_lifetime, 5000 * kNsPerMs);
    EXPECT_FALSE(c.arp.gratuitous);
    ASSERT_EQ(c.arp.static_entries.size(), 1u);
    EXPECT_EQ(c.arp.static_entries[0].mac.to_string(), "02:00:00:00:00:fe");
    EXPECT_EQ(c.engine.burst, 64);
    EXPECT_DOUBLE_EQ(c.engine.stats_interval_s, 2.5);
    EXPECT_DOUBLE_EQ(c.engine.duration_s, 10);
    EXPECT_EQ(c.engine.stats_json, "/tmp/x.json");
    EXPECT_EQ(c.app.port, 8080);
    EXPECT_EQ(c.eal.args, (std::vector<std::string>{"--no-huge", "-m", "512"}));
}

TEST(ConfigToml, ReadsOrphanAndRateLimitSettings) {
    Config c = from_toml(R"(
[tcp]
invalid_ratelimit_ms = 0
orphan_retries = 3
max_orphans = 100
user_timeout_ms = 30000
)");
    EXPECT_EQ(c.tcp.invalid_ratelimit, 0u);
    EXPECT_EQ(c.tcp.orphan_retries, 3u);
    EXPECT_EQ(c.tcp.max_orphans, 100u);
    EXPECT_EQ(c.tcp.user_timeout, 30 * kNsPerSec);
    EXPECT_EQ(from_toml("").tcp.invalid_ratelimit, 500 * kNsPerMs) << "Linux's tcp_invalid_ratelimit";
}

TEST(ConfigToml, ReadsSynFloodSettings) {
    Config c = from_toml(R"(
[tcp]
syn_backlog = 64
syncache_entries = 2048
syncookies = false
)");
    EXPECT_EQ(c.tcp.syn_backlog, 64u);
    EXPECT_EQ(c.tcp.syncache_entries, 2048u);
    EXPECT_FALSE(c.tcp.syncookies);
    EXPECT_TRUE(from_toml("").tcp.syncookies) << "on by default, as Linux's tcp_syncookies = 1";
    EXPECT_THROW(from_toml("[tcp]\nsyncache_entries = 0\n"), std::exception);
}

TEST(ConfigToml, CongestionControlByName) {
    EXPECT_EQ(from_toml("").tcp.congestion_control, tcp::cc::Algorithm::cubic) << "CUBIC by default, as Linux";
    EXPECT_EQ(from_toml("[tcp]\ncongestion_control = \"newreno\"\n").tcp.congestion_control,
              tcp::cc::Algorithm::newreno);
    EXPECT_EQ(from_toml("[tcp]\ncongestion_control = \"cubic\"\n").tcp.congestion_control,
              tcp::cc::Algorithm::cubic);
    EXPECT_EQ(from_toml("[tcp]\ncongestion_control = \"dctcp\"\n").tcp.congestion_control,
              tcp::cc::Algorithm::dctcp);
    EXPECT_EQ(tcp::ConnectionOptions::from(from_toml("[tcp]\ncongestion_control = \"dctcp\"\n").tcp)
                  .congestion_control,
              tcp::cc::Algorithm::dctcp)
        << "connections take it from the configuration";
    EXPECT_THAT(toml_error("[tcp]\ncongestion_control = \"bbr\"\n"),
                HasSubstr("'tcp.congestion_control': unknown algorithm \"bbr\"; expected one of \"newreno\", "
                          "\"cubic\", \"dctcp\""));
    EXPECT_THAT(toml_error("[tcp]\ncongestion_control = \"Cubic\"\n"), HasSubstr("unknown algorithm \"Cubic\""));
    EXPECT_THAT(toml_error("[tcp]\ncongestion_control = 2\n"),
                HasSubstr("'tcp.congestion_control': expected a string"));
}

TEST(ConfigToml, ReadsEcnAsLinuxTcpEcn) {
    EXPECT_EQ(from_toml("").tcp.ecn, tcp::EcnMode::accept) << "Linux's default net.ipv4.tcp_ecn = 2";
    EXPECT_EQ(from_toml("[tcp]\necn = 0\n").tcp.ecn, tcp::EcnMode::off);
    EXPECT_EQ(from_toml("[tcp]\necn = 1\n").tcp.ecn, tcp::EcnMode::request);
    EXPECT_EQ(from_toml("[tcp]\necn = 2\n").tcp.ecn, tcp::EcnMode::accept);
    EXPECT_EQ(tcp::ConnectionOptions::from(from_toml("[tcp]\necn = 1\n").tcp).ecn, tcp::EcnMode::request)
        << "connections take the setting";
    EXPECT_THROW(from_toml("[tcp]\necn = 3\n"), std::exception);
    EXPECT_THROW(from_toml("[tcp]\necn = -1\n"), std::exception);
    EXPECT_THROW(from_toml("[tcp]\necn = true\n"), std::exception);
}

TEST(ConfigCommandLine, CongestionControlFlag) {
    EXPECT_EQ(parse({"--", "--congestion-control", "newreno"}).config.tcp.congestion_control,
              tcp::cc::Algorithm::newreno);
    EXPECT_EQ(parse({"--"}).config.tcp.congestion_control, tcp::cc::Algorithm::cubic);
    EXPECT_THAT(parse_error({"--", "--congestion-control", "vegas"}),
                HasSubstr("--congestion-control: unknown algorithm \"vegas\"; expected one of"));
}

TEST(ConfigToml, ReadsTheCongestionTraceSettings) {
    Config c = from_toml("[engine]\ntrace_csv = \"/tmp/t.csv\"\n[tcp]\ntrace_rows = 4096\n");
    EXPECT_EQ(c.engine.trace_csv, "/tmp/t.csv");
    EXPECT_EQ(c.tcp.trace_rows, 4096u);
    EXPECT_EQ(from_toml("").tcp.trace_rows, 0u) << "off by default";
    EXPECT_EQ(from_toml("").engine.trace_csv, "");
    EXPECT_THAT(toml_error("[tcp]\ntrace_rows = -1\n"), HasSubstr("'tcp.trace_rows'"));
    EXPECT_THAT(toml_error("[tcp]\ntrace_rows = 100000000\n"), HasSubstr("'tcp.trace_rows'"));
}

TEST(CommandLine, TraceFlagSwitchesTheTraceOn) {
    // --trace alone: the default ring size; with tcp.trace_rows set, that size.
    CommandLine cl = parse({"--", "--trace", "/tmp/x.csv"});
    EXPECT_EQ(cl.config.engine.trace_csv, "/tmp/x.csv");
    EXPECT_EQ(cl.config.tcp.trace_rows, EngineConfig::kDefaultTraceRows);
    EXPECT_EQ(parse({"--"}).config.tcp.trace_rows, 0u);
    std::string path = ::testing::TempDir() + "lanetcp_trace_test.toml";
    {
        std::ofstream f(path);
        f << "[tcp]\ntrace_rows = 128\n";
    }
    EXPECT_EQ(parse({"--", "--config", path, "--trace", "/tmp/x.csv"}).config.tcp.trace_rows, 128u);
    std::remove(path.c_str());
}

TEST(ConfigToml, EmptyFileKeepsDefaults) {
    Config c = from_toml("");
    EXPECT_FALSE(c.interface.address);
    EXPECT_EQ(c.interface.mtu, 1500);
    EXPECT_EQ(c.engine.burst, 32);
    EXPECT_EQ(c.app.port, 7);
    EXPECT_EQ(c.arp.params.retries, 3u);
}

TEST(ConfigToml, UnknownKeysAreErrors) {
    EXPECT_THAT(toml_error("[interface]\nipaddr = \"10.0.0.1/24\"\n"), HasSubstr("unknown key 'interface.ipaddr'"));
    EXPECT_THAT(toml_error("[interfaces]\n"), HasSubstr("unknown key 'interfaces'"));
    EXPECT_THAT(toml_error("[arp]\nstatic = [{ ip = \"10.0.0.1\", mac = \"02:00:00:00:00:01\", vlan = 3 }]\n"),
                HasSubstr("unknown key 'arp.static[0].vlan'"));
}

TEST(ConfigToml, WrongTypesAndRangesAreErrors) {
    EXPECT_THAT(toml_error("[interface]\nmtu = \"big\"\n"), HasSubstr("'interface.mtu': expected an integer"));
    EXPECT_THAT(toml_error("[interface]\nmtu = 100\n"), HasSubstr("must be between 576 and 9000"));
    EXPECT_THAT(toml_error("[engine]\nburst = 0\n"), HasSubstr("'engine.burst'"));
    EXPECT_THAT(toml_error("[arp]\ngratuitous = 1\n"), HasSubstr("expected true or false"));
    EXPECT_THAT(toml_error("interface = 3\n"), HasSubstr("'interface': expected a table"));
    EXPECT_THAT(toml_error("[arp]\nstatic = [ { ip = \"10.0.0.1\" } ]\n"), HasSubstr("'arp.static[0].mac': missing"));
    EXPECT_THAT(toml_error("[eal]\nargs = [1, 2]\n"), HasSubstr("expected an array of strings"));
}

TEST(ConfigToml, BadAddressesAreErrors) {
    EXPECT_THAT(toml_error("[interface]\nip = \"10.9.0.2\"\n"), HasSubstr("'interface.ip'"));
    EXPECT_THAT(toml_error("[interface]\nip = \"10.9.0.256/24\"\n"), HasSubstr("not an address"));
    EXPECT_THAT(toml_error("[interface]\nmac = \"02:00:00:00:00\"\n"), HasSubstr("'interface.mac'"));
    EXPECT_THAT(toml_error("[interface]\ngateway = \"gw\"\n"), HasSubstr("'interface.gateway'"));
}

TEST(ConfigToml, SyntaxErrorsNameLineAndColumn) {
    EXPECT_THAT(toml_error("[interface\nip = 1\n"), HasSubstr("test.toml:1:"));
}

TEST(ConfigFile, MissingFileIsOneClearError) {
    Config c;
    try {
        load_config_file("/nonexistent/lanetcp.toml", c);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), HasSubstr("/nonexistent/lanetcp.toml: cannot open config file"));
    }
}

TEST(CommandLine, SplitsEalArgumentsAtDoubleDash) {
    CommandLine cl = parse({"--no-huge", "-m", "512", "--", "--ip", "10.9.0.2/24", "--port", "9"});
    EXPECT_EQ(cl.eal_args, (std::vector<std::string>{"lanetcp-test", "--no-huge", "-m", "512"}));
    EXPECT_EQ(cl.config.interface.address->to_string(), "10.9.0.2/24");
    EXPECT_EQ(cl.config.app.port, 9);
}

TEST(CommandLine, FlagsOverrideTheConfigFile) {
    std::string path = ::testing::TempDir() + "lanetcp_cli_test.toml";
    {
        std::ofstream f(path);
        f << "[interface]\nip = \"10.1.0.2/24\"\ngateway = \"10.1.0.1\"\n[app]\nport = 80\n"
             "[eal]\nargs = [\"--no-huge\"]\n";
    }
    CommandLine cl = parse({"--", "--config", path, "--ip", "10.2.0.2/16"});
    EXPECT_EQ(cl.config.interface.address->to_string(), "10.2.0.2/16"); // flag wins
    EXPECT_EQ(cl.config.interface.gateway->to_string(), "10.1.0.1");    // file kept
    EXPECT_EQ(cl.config.app.port, 80);
    // EAL args come from the file only when the command line has none.
    EXPECT_EQ(cl.eal_args, (std::vector<std::string>{"lanetcp-test", "--no-huge"}));
    CommandLine with_eal = parse({"-l", "0", "--", "--config", path});
    EXPECT_EQ(with_eal.eal_args, (std::vector<std::string>{"lanetcp-test", "-l", "0"}));
    std::remove(path.c_str());
}

TEST(CommandLine, StaticArpEntries) {
    CommandLine cl = parse({"--", "--ip", "10.9.0.2/24", "--arp-static", "10.9.0.1=02:00:00:00:00:01",
                            "--arp-static", "10.9.0.3=02:00:00:00:00:03"});
    ASSERT_EQ(cl.config.arp.static_entries.size(), 2u);
    EXPECT_EQ(cl.config.arp.static_entries[1].ip.to_string(), "10.9.0.3");
    EXPECT_THAT(parse_error({"--", "--arp-static", "10.9.0.1"}), HasSubstr("expected IP=MAC"));
    EXPECT_THAT(parse_error({"--", "--arp-static", "10.9.0.1=zz"}), HasSubstr("--arp-static"));
}

TEST(CommandLine, Errors) {
    EXPECT_THAT(parse_error({"--", "--ip", "10.9.0.2"}), HasSubstr("--ip 10.9.0.2: not an address"));
    EXPECT_THAT(parse_error({"--", "--bogus"}), HasSubstr("--bogus"));
    EXPECT_THAT(parse_error({"--", "--port", "70000"}), HasSubstr("--port"));
    EXPECT_THAT(parse_error({"--", "--mtu", "abc"}), HasSubstr("--mtu"));
    EXPECT_THAT(parse_error({"--ip", "10.9.0.2/24"}), HasSubstr("app flags go after `--`"));
    EXPECT_THAT(parse_error({"--", "--config", "/nonexistent.toml"}), HasSubstr("cannot open config file"));
}

TEST(CommandLine, HelpIsNotAnError) {
    try {
        parse({"--", "--help"});
        FAIL() << "expected HelpRequested";
    } catch (const HelpRequested& h) {
        EXPECT_THAT(h.text, HasSubstr("--ip"));
        EXPECT_THAT(h.text, HasSubstr("--stats-interval"));
    }
}

Config valid() {
    Config c;
    c.interface.address = wire::Ipv4Prefix::parse("10.9.0.2/24");
    return c;
}

std::string validate_error(const Config& c) {
    try {
        validate(c);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(Validate, AcceptsAPlainHost) { EXPECT_EQ(validate_error(valid()), ""); }

TEST(Validate, RejectsUnusableSetups) {
    EXPECT_THAT(validate_error(Config{}), HasSubstr("no IPv4 address"));
    Config c = valid();
    c.interface.address = wire::Ipv4Prefix::parse("10.9.0.255/24");
    EXPECT_THAT(validate_error(c), HasSubstr("not a usable host address"));
    c.interface.address = wire::Ipv4Prefix::parse("10.9.0.0/24");
    EXPECT_THAT(validate_error(c), HasSubstr("not a usable host address"));
    c.interface.address = wire::Ipv4Prefix::parse("224.0.0.1/24");
    EXPECT_THAT(validate_error(c), HasSubstr("not a usable host address"));
    c.interface.address = wire::Ipv4Prefix::parse("10.9.0.2/32");
    EXPECT_THAT(validate_error(c), HasSubstr("prefix length"));
    c = valid();
    c.interface.gateway = wire::Ipv4Addr::parse("10.8.0.1");
    EXPECT_THAT(validate_error(c), HasSubstr("not inside 10.9.0.2/24"));
    c = valid();
    c.interface.mac = wire::MacAddr::parse("01:00:5e:00:00:01");
    EXPECT_THAT(validate_error(c), HasSubstr("unicast"));
}

} // namespace
} // namespace lanetcp
