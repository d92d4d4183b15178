// The script syntax (doc/scripts.md): parsing and formatting. Every error
// names the file and line and says what was expected there.
#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "script.hpp"

namespace lanetcp::scripts {

namespace {

// Flag letters in header bit order (FIN = bit 0 ... CWR = bit 7); `.` is ACK.
constexpr std::array<char, 8> kFlagLetters = {'F', 'S', 'R', 'P', '.', 'U', 'E', 'W'};
constexpr std::uint8_t kAck = 0x10;
// ECN codepoints by value (RFC 3168 5), as packetdrill names them.
constexpr std::array<const char*, 4> kEcnNames = {"noecn", "ect1", "ect0", "ce"};

std::vector<std::string> split(const std::string& s, const char* separators = " \t") {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < s.size()) {
        const std::size_t start = s.find_first_not_of(separators, i);
        if (start == std::string::npos) break;
        const std::size_t stop = s.find_first_of(separators, start);
        out.push_back(s.substr(start, stop - start));
        i = stop == std::string::npos ? s.size() : stop;
    }
    return out;
}

std::string trim(const std::string& s) {
    const std::size_t a = s.find_first_not_of(" \t\r");
    if (a == std::string::npos) return {};
    return s.substr(a, s.find_last_not_of(" \t\r") - a + 1);
}

struct LineParser {
    const std::string& file;
    int line;
    bool outbound = false; // `*` allowed

    [[noreturn]] void fail(const std::string& what) const { throw ScriptError(where(file, line) + ": " + what); }

    std::uint32_t number(const std::string& tok, const char* what) const {
        if (tok.empty() || tok.size() > 10 || tok.find_first_not_of("0123456789") != std::string::npos)
            fail(std::string("expected a number for ") + what + ", got '" + tok + "'");
        const std::uint64_t v = std::stoull(tok);
        if (v > 0xffffffffu) fail(std::string(what) + " " + tok + " does not fit in 32 bits");
        return static_cast<std::uint32_t>(v);
    }

    Value value(const std::string& tok, const char* what) const {
        if (tok == "*") {
            if (!outbound) fail(std::string("'*' for ") + what + " only on '>' lines: an inbound segment needs a value");
            return Value{true, 0};
        }
        return Value{false, number(tok, what)};
    }

    // "+0.100" (after the previous line) or "0.250" (from the start).
    TimeNs time(const std::string& tok, TimeNs previous) const {
        const bool relative = tok[0] == '+';
        const std::string t = relative ? tok.substr(1) : tok;
        const std::size_t dot = t.find('.');
        const std::string whole = t.substr(0, dot);
        const std::string frac = dot == std::string::npos ? "" : t.substr(dot + 1);
        if (whole.empty() || whole.find_first_not_of("0123456789") != std::string::npos ||
            frac.find_first_not_of("0123456789") != std::string::npos || frac.size() > 9 || whole.size() > 9)
            fail("expected a time ('+0.100' or '1.250' seconds) at the start of the line, got '" + tok + "'");
        TimeNs ns = std::stoull(whole) * kNsPerSec;
        TimeNs unit = kNsPerSec;
        for (char c : frac) {
            unit /= 10;
            ns += static_cast<TimeNs>(c - '0') * unit;
        }
        if (relative) return previous + ns;
        if (ns < previous) fail("time " + tok + " is before the previous line's " + format_time(previous));
        return ns;
    }

    std::uint8_t flags(const std::string& tok) const {
        if (tok == "-") return 0;
        std::uint8_t f = 0;
        for (char c : tok) {
            const auto* p = std::find(kFlagLetters.begin(), kFlagLetters.end(), c);
            if (p == kFlagLetters.end())
                fail(std::string("unknown flag '") + c + "' in '" + tok + "' (flags: F S R P . U E W, or - for none)");
            const auto bit = static_cast<std::uint8_t>(1u << (p - kFlagLetters.begin()));
            if (f & bit) fail(std::string("flag '") + c + "' twice in '" + tok + "'");
            f |= bit;
        }
        return f;
    }

    OptionItem option(const std::string& text) const {
        const auto w = split(text);
        if (w.empty()) fail("empty option in the option list");
        using K = OptionItem::Kind;
        OptionItem o;
        auto arity = [&](std::size_t n) {
            if (w.size() != n) fail("option '" + text + "': expected " + std::to_string(n - 1) + " value(s)");
        };
        if (w[0] == "mss" || w[0] == "wscale") {
            arity(2);
            o.kind = w[0] == "mss" ? K::mss : K::wscale;
            o.values.push_back(value(w[1], w[0].c_str()));
        } else if (w[0] == "sackOK" || w[0] == "nop" || w[0] == "eol") {
            arity(1);
            o.kind = w[0] == "sackOK" ? K::sack_ok : w[0] == "nop" ? K::nop : K::eol;
        } else if (w[0] == "TS") {
            if (w.size() != 5 || w[1] != "val" || w[3] != "ecr") fail("option '" + text + "': expected 'TS val N ecr N'");
            o.kind = K::ts;
            o.values = {value(w[2], "TS val"), value(w[4], "TS ecr")};
        } else if (w[0] == "sack") {
            if (w.size() < 2) fail("option 'sack' needs at least one block 'left:right'");
            o.kind = K::sack;
            for (std::size_t i = 1; i < w.size(); ++i) {
                const std::size_t colon = w[i].find(':');
                if (colon == std::string::npos) fail("SACK block '" + w[i] + "': expected 'left:right'");
                o.values.push_back(value(w[i].substr(0, colon), "SACK left edge"));
                o.values.push_back(value(w[i].substr(colon + 1), "SACK right edge"));
            }
        } else {
            fail("unknown option '" + w[0] + "' (mss, sackOK, wscale, TS, sack, nop, eol)");
        }
        return o;
    }

    SegmentSpec segment(const std::string& rest) const {
        SegmentSpec s;
        std::string main = rest;
        const std::size_t lt = rest.find('<');
        if (lt != std::string::npos) {
            main = rest.substr(0, lt);
            const std::string opts = trim(rest.substr(lt));
            if (opts.back() != '>') fail("option list must end the line with '>'");
            const std::string body = trim(opts.substr(1, opts.size() - 2));
            if (body == "...") {
                if (!outbound) fail("'<...>' (any options) only on '>' lines");
                s.any_options = true;
            } else {
                for (const auto& item : split(body, ",")) s.options.push_back(option(trim(item)));
            }
        }
        auto w = split(main);
        if (!w.empty() && w[0].front() == '[') {
            const std::string& tok = w[0];
            if (tok.back() != ']') fail("ECN codepoint '" + tok + "': expected '[noecn]', '[ect0]', '[ect1]' or '[ce]'");
            const std::string name = tok.substr(1, tok.size() - 2);
            if (name == "*") {
                if (!outbound) fail("'[*]' (any ECN codepoint) only on '>' lines");
                s.any_ecn = true;
            } else {
                const auto* p = std::find_if(kEcnNames.begin(), kEcnNames.end(), [&](const char* n) { return name == n; });
                if (p == kEcnNames.end())
                    fail("unknown ECN codepoint '" + tok + "' (noecn, ect0, ect1, ce, or * on '>' lines)");
                s.ecn = static_cast<std::uint8_t>(p - kEcnNames.begin());
            }
            w.erase(w.begin());
        }
        if (w.size() < 2) fail("expected '[ECN] FLAGS SEQ:END(LEN) ...' after the direction");
        s.flags = flags(w[0]);
        const std::size_t colon = w[1].find(':'), open = w[1].find('('), close = w[1].find(')');
        if (colon == std::string::npos || open == std::string::npos || close != w[1].size() - 1 || open < colon)
            fail("expected 'SEQ:END(LEN)', got '" + w[1] + "'");
        s.seq = number(w[1].substr(0, colon), "SEQ");
        s.end = number(w[1].substr(colon + 1, open - colon - 1), "END");
        s.len = number(w[1].substr(open + 1, close - open - 1), "LEN");
        if (s.end - s.seq != s.len) fail("'" + w[1] + "': END - SEQ is not LEN");
        bool have_win = false;
        for (std::size_t i = 2; i < w.size(); i += 2) {
            if (i + 1 >= w.size()) fail("'" + w[i] + "' needs a value");
            if (w[i] == "ack" && !s.ack) {
                s.ack = value(w[i + 1], "ack");
            } else if (w[i] == "win" && !have_win) {
                s.win = value(w[i + 1], "win");
                have_win = true;
            } else {
                fail("unexpected '" + w[i] + "' (after SEQ:END(LEN) come 'ack N' and 'win N', once each)");
            }
        }
        if ((s.flags & kAck) && !s.ack) fail("the '.' (ACK) flag needs 'ack N' (or 'ack *' on '>' lines)");
        if (!(s.flags & kAck) && s.ack) fail("'ack N' without the '.' (ACK) flag");
        if (!have_win) fail("missing 'win N' (write 'win *' on a '>' line to accept any window)");
        return s;
    }

    void check_call(const std::vector<std::string>& w) const {
        struct Command {
            const char* name;
            std::size_t min_args, max_args;
        };
        static constexpr Command kCommands[] = {
            {"listen", 1, 1}, {"connect", 1, 1}, {"send", 1, 1},       {"shutdown", 0, 0},    {"close", 0, 0},
            {"abort", 0, 0},  {"nodelay", 1, 1}, {"keepalive", 1, 4}, {"read_stop", 0, 0},   {"read_resume", 0, 0},
            {"read", 1, 1},   {"expect", 2, 3},   {"user_timeout", 1, 1},
        };
        for (const Command& c : kCommands) {
            if (w[0] != c.name) continue;
            const std::size_t n = w.size() - 1;
            if (n < c.min_args || n > c.max_args) fail("'" + w[0] + "': wrong number of arguments");
            if (w[0] != "expect") return;
            const bool three = w[1] == "counter" || w[1] == "drop";
            const bool two = w[1] == "state" || w[1] == "closed" || w[1] == "received" || w[1] == "connections" ||
                             w[1] == "cwnd" || w[1] == "ssthresh";
            if (!two && !three)
                fail("unknown check 'expect " + w[1] +
                     "' (state, closed, received, connections, cwnd, ssthresh, counter, drop)");
            if (n != (three ? 3u : 2u)) fail("'expect " + w[1] + "': wrong number of arguments");
            return;
        }
        fail("unknown command '" + w[0] + "'");
    }
};

} // namespace

std::string where(const std::string& file, int line) { return file + ":" + std::to_string(line); }

Script parse_script(const std::string& file) {
    std::ifstream in(file);
    if (!in) throw ScriptError(file + ": cannot open");
    Script script;
    script.file = file;
    std::string raw;
    int line = 0;
    TimeNs previous = 0;
    while (std::getline(in, raw)) {
        ++line;
        const std::string text = trim(raw.substr(0, raw.find('#')));
        if (text.empty()) continue;
        LineParser p{file, line};
        auto w = split(text);
        if (w[0] == "config") {
            if (!script.events.empty()) p.fail("'config' lines come before the first event");
            if (w.size() < 2) p.fail("'config' needs key=value settings");
            for (std::size_t i = 1; i < w.size(); ++i) {
                const std::size_t eq = w[i].find('=');
                if (eq == std::string::npos || eq == 0 || eq + 1 == w[i].size())
                    p.fail("expected key=value, got '" + w[i] + "'");
                script.config.push_back({line, w[i].substr(0, eq), w[i].substr(eq + 1)});
            }
            continue;
        }
        Event e;
        e.line = line;
        e.text = text;
        e.time = previous = p.time(w[0], previous);
        if (w.size() < 2) p.fail("nothing after the time");
        if (w[1] == "<" || w[1] == ">") {
            e.kind = w[1] == "<" ? Event::Kind::inbound : Event::Kind::outbound;
            p.outbound = e.kind == Event::Kind::outbound;
            const std::size_t dir = text.find(w[1][0], w[0].size());
            e.seg = p.segment(text.substr(dir + 1));
        } else {
            e.words.assign(w.begin() + 1, w.end());
            p.check_call(e.words);
        }
        script.events.push_back(std::move(e));
    }
    if (script.events.empty()) throw ScriptError(file + ": no events");
    return script;
}

std::string format_flags(std::uint8_t flags) {
    if (flags == 0) return "-";
    std::string s;
    for (std::size_t i = 0; i < kFlagLetters.size(); ++i)
        if (flags & (1u << i)) s += kFlagLetters[i];
    return s;
}

std::string format_time(TimeNs t) {
    char buf[40];
    if (t % kNsPerMs == 0)
        std::snprintf(buf, sizeof buf, "%llu.%03llu", static_cast<unsigned long long>(t / kNsPerSec),
                      static_cast<unsigned long long>(t % kNsPerSec / kNsPerMs));
    else
        std::snprintf(buf, sizeof buf, "%llu.%09llu", static_cast<unsigned long long>(t / kNsPerSec),
                      static_cast<unsigned long long>(t % kNsPerSec));
    return buf;
}

std::string format_segment(const SegmentSpec& s) {
    auto v = [](const Value& x) { return x.any ? std::string("*") : std::to_string(x.v); };
    std::ostringstream o;
    if (s.any_ecn)
        o << "[*] ";
    else if (s.ecn != 0)
        o << '[' << kEcnNames[s.ecn & 3u] << "] ";
    o << format_flags(s.flags) << ' ' << s.seq << ':' << s.end << '(' << s.len << ')';
    if (s.ack) o << " ack " << v(*s.ack);
    o << " win " << v(s.win);
    if (s.any_options) o << " <...>";
    if (s.options.empty()) return o.str();
    o << " <";
    for (std::size_t i = 0; i < s.options.size(); ++i) {
        const OptionItem& it = s.options[i];
        if (i > 0) o << ',';
        switch (it.kind) {
        case OptionItem::Kind::mss: o << "mss " << v(it.values[0]); break;
        case OptionItem::Kind::wscale: o << "wscale " << v(it.values[0]); break;
        case OptionItem::Kind::sack_ok: o << "sackOK"; break;
        case OptionItem::Kind::nop: o << "nop"; break;
        case OptionItem::Kind::eol: o << "eol"; break;
        case OptionItem::Kind::ts: o << "TS val " << v(it.values[0]) << " ecr " << v(it.values[1]); break;
        case OptionItem::Kind::sack:
            o << "sack";
            for (std::size_t b = 0; b + 1 < it.values.size(); b += 2) o << ' ' << v(it.values[b]) << ':' << v(it.values[b + 1]);
            break;
        }
    }
    o << '>';
    return o.str();
}

} // namespace lanetcp::scripts
