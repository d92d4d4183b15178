#include "httpd/http_response.hpp"

#include <fmt/format.h>

#include <array>
#include <utility>

namespace lanetcp::httpd {

namespace {

struct StatusText {
    int status;
    std::string_view reason;
    std::string_view body;
};

constexpr std::array kStatuses{
    StatusText{200, "OK", ""},
    StatusText{400, "Bad Request", "400 Bad Request\n"},
    StatusText{403, "Forbidden", "403 Forbidden\n"},
    StatusText{404, "Not Found", "404 Not Found\n"},
    StatusText{405, "Method Not Allowed", "405 Method Not Allowed\n"},
    StatusText{408, "Request Timeout", "408 Request Timeout\n"},
    StatusText{431, "Request Header Fields Too Large", "431 Request Header Fields Too Large\n"},
    StatusText{500, "Internal Server Error", "500 Internal Server Error\n"},
    StatusText{501, "Not Implemented", "501 Not Implemented\n"},
    StatusText{505, "HTTP Version Not Supported", "505 HTTP Version Not Supported\n"},
};

constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kTypes{{
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"txt", "text/plain; charset=utf-8"},
    {"css", "text/css"},
    {"js", "text/javascript"},
    {"json", "application/json"},
    {"xml", "application/xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"svg", "image/svg+xml"},
    {"ico", "image/x-icon"},
    {"pdf", "application/pdf"},
    {"wasm", "application/wasm"},
    {"bin", "application/octet-stream"},
}};

const StatusText* find_status(int status) noexcept {
    for (const auto& s : kStatuses)
        if (s.status == status) return &s;
    return nullptr;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

} // namespace

std::string_view reason_phrase(int status) noexcept {
    const StatusText* s = find_status(status);
    return s != nullptr ? s->reason : "Unknown";
}

std::string_view error_body(int status) noexcept {
    const StatusText* s = find_status(status);
    return s != nullptr ? s->body : "error\n";
}

std::string_view content_type_for(std::string_view path) noexcept {
    const std::size_t slash = path.rfind('/');
    const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
    const std::size_t dot = name.rfind('.');
    if (dot != std::string_view::npos && dot + 1 < name.size()) {
        const std::string_view ext = name.substr(dot + 1);
        for (const auto& [e, type] : kTypes)
            if (iequals(e, ext)) return type;
    }
    return "application/octet-stream";
}

void format_date(std::time_t t, char* out) noexcept {
    static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::tm tm{};
    gmtime_r(&t, &tm);
    fmt::format_to_n(out, kDateLength, "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", kDays[tm.tm_wday % 7],
                     tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::size_t format_head(const ResponseHead& h, char* out, std::size_t cap) noexcept {
    char* const end = out + cap;
    auto put = [&](char* at, std::string_view format, const auto&... args) -> char* {
        if (at == nullptr) return nullptr;
        const auto r = fmt::format_to_n(at, static_cast<std::size_t>(end - at), fmt::runtime(format), args...);
        return r.size > static_cast<std::size_t>(end - at) ? nullptr : r.out;
    };
    char* p = put(out, "HTTP/1.1 {} {}\r\nServer: lanetcp\r\n", h.status, reason_phrase(h.status));
    if (!h.date.empty()) p = put(p, "Date: {}\r\n", h.date);
    if (!h.content_type.empty()) p = put(p, "Content-Type: {}\r\n", h.content_type);
    p = put(p, "Content-Length: {}\r\n", h.content_length);
    if (h.allow) p = put(p, "Allow: GET, HEAD\r\n");
    // Keep-alive is HTTP/1.1's default; "close" is what clients must hear.
    if (!h.keep_alive) p = put(p, "Connection: close\r\n");
    else if (h.http10) p = put(p, "Connection: keep-alive\r\n");
    p = put(p, "\r\n");
    return p == nullptr ? 0 : static_cast<std::size_t>(p - out);
}

} // namespace lanetcp::httpd
