// HTTP/1.1 response heads: status lines, the few header fields we send, and
// Content-Type by file extension. Pure: formats into the caller's buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string_view>

namespace lanetcp::httpd {

// Room for any head format_head() writes.
constexpr std::size_t kMaxResponseHead = 384;

// "OK", "Not Found", ...; "Unknown" for a code not in our table.
std::string_view reason_phrase(int status) noexcept;

// A short text/plain body for an error status ("404 Not Found\n").
std::string_view error_body(int status) noexcept;

// From the path's extension: "text/html; charset=utf-8", "image/png", ...;
// "application/octet-stream" when unknown.
std::string_view content_type_for(std::string_view path) noexcept;

// An IMF-fixdate (RFC 9110 5.6.7) for `t`, "Sun, 06 Nov 1994 08:49:37 GMT":
// 29 characters into out[0..29).
constexpr std::size_t kDateLength = 29;
void format_date(std::time_t t, char* out) noexcept;

struct ResponseHead {
    int status = 200;
    std::string_view content_type;
    std::uint64_t content_length = 0;
    bool keep_alive = true;
    bool http10 = false;    // the client speaks 1.0: keep-alive must be said
    std::string_view date;  // empty: no Date field
    bool allow = false;     // Allow: GET, HEAD (405)
};

// Status line and header fields, blank line included, into out[0..cap).
// Returns the length, or 0 if it does not fit.
std::size_t format_head(const ResponseHead& h, char* out, std::size_t cap) noexcept;

} // namespace lanetcp::httpd
