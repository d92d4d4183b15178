#include "httpd/http_parser.hpp"

#include <cstring>

namespace lanetcp::httpd {

namespace {

constexpr bool is_tchar(unsigned char c) noexcept {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return true;
    default:
        return false;
    }
}

bool is_token(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (unsigned char c : s)
        if (!is_tchar(c)) return false;
    return true;
}

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

// Next line of `rest` without its LF (and CR before it); false at the end.
// A CR anywhere else is malformed.
bool next_line(std::string_view& rest, std::string_view& line, bool& bad) noexcept {
    const std::size_t lf = rest.find('\n');
    if (lf == std::string_view::npos) return false;
    line = rest.substr(0, lf);
    rest.remove_prefix(lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find('\r') != std::string_view::npos) bad = true;
    return true;
}

ParseStatus parse_request_line(std::string_view line, Request& out) noexcept {
    const std::size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos) return ParseStatus::bad_request;
    const std::size_t sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return ParseStatus::bad_request;
    const std::string_view method = line.substr(0, sp1);
    const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    if (!is_token(method) || target.empty()) return ParseStatus::bad_request;
    for (unsigned char c : target)
        if (c <= 0x20 || c >= 0x7f) return ParseStatus::bad_request;
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
        version[5] > '9' || version[7] < '0' || version[7] > '9')
        return ParseStatus::bad_request;
    if (version[5] != '1') return ParseStatus::version_not_supported;
    out.method_name = method;
    out.method = method == "GET" ? Method::get : method == "HEAD" ? Method::head : Method::other;
    out.target = target;
    out.version_minor = version[7] == '0' ? 0 : 1;
    return ParseStatus::complete;
}

bool parse_content_length(std::string_view v, std::uint64_t& out) noexcept {
    if (v.empty() || v.size() > 18) return false;
    std::uint64_t n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return false;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    out = n;
    return true;
}

// The comma-separated options of a Connection field.
void connection_options(std::string_view v, bool& close, bool& keep_alive) noexcept {
    while (!v.empty()) {
        const std::size_t comma = v.find(',');
        const std::string_view item = trim_ows(v.substr(0, comma));
        if (iequals(item, "close")) close = true;
        else if (iequals(item, "keep-alive")) keep_alive = true;
        if (comma == std::string_view::npos) break;
        v.remove_prefix(comma + 1);
    }
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

} // namespace

std::size_t leading_empty_lines(std::string_view buf) noexcept {
    std::size_t i = 0;
    for (;;) {
        if (i < buf.size() && buf[i] == '\n') ++i;
        else if (i + 1 < buf.size() && buf[i] == '\r' && buf[i + 1] == '\n') i += 2;
        else return i;
    }
}

std::size_t find_head_end(std::string_view buf, std::size_t& scanned) noexcept {
    std::size_t i = scanned;
    const std::size_t n = buf.size();
    while (i < n) {
        const void* p = std::memchr(buf.data() + i, '\n', n - i);
        if (p == nullptr) break;
        i = static_cast<std::size_t>(static_cast<const char*>(p) - buf.data());
        // LF, then LF or CR LF: the blank line.
        if (i + 1 >= n || (buf[i + 1] == '\r' && i + 2 >= n)) {
            scanned = i; // look at this LF again when more has come
            return 0;
        }
        if (buf[i + 1] == '\n') return i + 2;
        if (buf[i + 1] == '\r' && buf[i + 2] == '\n') return i + 3;
        ++i;
    }
    scanned = n;
    return 0;
}

ParseStatus parse_head(std::string_view head, Request& out) noexcept {
    out = Request{};
    std::string_view rest = head, line;
    bool bad = false;
    if (!next_line(rest, line, bad) || bad) return ParseStatus::bad_request;
    if (const ParseStatus s = parse_request_line(line, out); s != ParseStatus::complete) return s;

    bool close = false, keep_alive = false, have_length = false;
    int hosts = 0;
    for (;;) {
        if (!next_line(rest, line, bad) || bad) return ParseStatus::bad_request;
        if (line.empty()) break;
        if (is_ows(line.front())) return ParseStatus::bad_request; // obsolete line folding
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) return ParseStatus::bad_request;
        const std::string_view name = line.substr(0, colon);
        if (!is_token(name)) return ParseStatus::bad_request; // also: whitespace before the colon
        const std::string_view value = trim_ows(line.substr(colon + 1));
        for (unsigned char c : value)
            if ((c < 0x20 && c != '\t') || c == 0x7f) return ParseStatus::bad_request;
        if (iequals(name, "connection")) {
            connection_options(value, close, keep_alive);
        } else if (iequals(name, "content-length")) {
            std::uint64_t n = 0;
            if (!parse_content_length(value, n)) return ParseStatus::bad_request;
            if (have_length && n != out.content_length) return ParseStatus::bad_request;
            have_length = true;
            out.content_length = n;
        } else if (iequals(name, "transfer-encoding")) {
            out.transfer_encoding = true;
        } else if (iequals(name, "host")) {
            ++hosts;
        }
    }
    // RFC 9112 3.2: exactly one Host in HTTP/1.1; at most one in 1.0.
    if (hosts > 1 || (hosts == 0 && out.version_minor >= 1)) return ParseStatus::bad_request;
    // RFC 9112 6.1: both is a smuggling attempt, or a broken client.
    if (out.transfer_encoding && have_length) return ParseStatus::bad_request;
    out.keep_alive = out.version_minor >= 1 ? !close : (keep_alive && !close);
    return ParseStatus::complete;
}

ParseStatus parse_request(std::string_view buf, Request& out, std::size_t* consumed, std::size_t limit) noexcept {
    const std::size_t skip = leading_empty_lines(buf);
    const std::string_view rest = buf.substr(skip);
    std::size_t scanned = 0;
    const std::size_t end = find_head_end(rest, scanned);
    if (end == 0 || end > limit) {
        if (end > limit || rest.size() >= limit) return ParseStatus::too_large;
        return ParseStatus::incomplete;
    }
    if (consumed != nullptr) *consumed = skip + end;
    return parse_head(rest.substr(0, end), out);
}

PathStatus decode_target(std::string_view target, char* out, std::size_t cap, std::size_t& len) noexcept {
    len = 0;
    // Absolute form: drop scheme and authority.
    for (std::string_view scheme : {std::string_view("http://"), std::string_view("https://")}) {
        if (target.size() >= scheme.size() && iequals(target.substr(0, scheme.size()), scheme)) {
            target.remove_prefix(scheme.size());
            const std::size_t slash = target.find_first_of("/?#");
            if (slash == std::string_view::npos || target[slash] != '/') target = "/";
            else target.remove_prefix(slash);
            break;
        }
    }
    if (target.empty() || target.front() != '/') return PathStatus::bad;
    target = target.substr(0, target.find_first_of("?#"));

    // Decode segment by segment, so that an encoded "/" (%2F) or ".." (%2E%2E)
    // is judged like the plain one.
    std::size_t i = 0;
    bool trailing_slash = false;
    while (i < target.size()) {
        // target[i] == '/' here: a segment follows.
        std::size_t j = i + 1;
        char seg[3];
        std::size_t seg_len = 0;          // decoded length, first 3 bytes kept in seg
        const std::size_t seg_start = len;
        if (len + 1 > cap) return PathStatus::bad;
        out[len++] = '/';
        while (j < target.size() && target[j] != '/') {
            char c = target[j];
            if (c == '%') {
                if (j + 2 >= target.size()) return PathStatus::bad;
                const int hi = hex_value(target[j + 1]), lo = hex_value(target[j + 2]);
                if (hi < 0 || lo < 0) return PathStatus::bad;
                c = static_cast<char>(hi * 16 + lo);
                if (c == '\0') return PathStatus::bad;
                if (c == '/' || c == '\\') return PathStatus::forbidden; // a separator in disguise
                j += 3;
            } else {
                if (c == '\\') return PathStatus::forbidden;
                ++j;
            }
            if (seg_len < sizeof seg) seg[seg_len] = c;
            ++seg_len;
            if (len + 1 > cap) return PathStatus::bad;
            out[len++] = c;
        }
        const bool dotdot = seg_len == 2 && seg[0] == '.' && seg[1] == '.';
        if (dotdot) return PathStatus::forbidden;
        const bool dot = seg_len == 1 && seg[0] == '.';
        trailing_slash = j >= target.size() && (seg_len == 0 || dot);
        if (seg_len == 0 || dot) len = seg_start; // "//" and "/./" collapse
        i = j;
    }
    if (len == 0 || trailing_slash) {
        if (len + 1 > cap) return PathStatus::bad;
        out[len++] = '/';
    }
    return PathStatus::ok;
}

} // namespace lanetcp::httpd
