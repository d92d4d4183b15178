// HTTP/1.x request heads (RFC 9112): finding where a head ends in bytes that
// arrive in pieces, parsing it, and turning its target into a path to look
// up. Pure: no I/O, no allocation, views into the caller's bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lanetcp::httpd {

// Request line plus header fields, blank line included: more is 431.
constexpr std::size_t kMaxHeadBytes = 8192;

enum class Method : std::uint8_t { get, head, other };

struct Request {
    Method method = Method::other;
    std::string_view method_name;
    std::string_view target;
    int version_minor = 1;             // HTTP/1.0 or 1.1 (1.2 and up read as 1.1)
    bool keep_alive = true;            // after version and Connection
    std::uint64_t content_length = 0;  // request body bytes that follow the head
    bool transfer_encoding = false;    // a body framed some other way (chunked): not supported
};

enum class ParseStatus : std::uint8_t {
    complete,
    incomplete,            // no blank line yet: wait for more bytes
    bad_request,           // 400
    too_large,             // 431: no blank line within the limit
    version_not_supported, // 505: HTTP/2.0 and friends in a request line
};

// Bytes to skip at the start of `buf`: empty lines a client may send before
// a request line (RFC 9112 2.2).
std::size_t leading_empty_lines(std::string_view buf) noexcept;

// Where the head that starts at buf[0] ends: the offset just past its blank
// line (CRLF CRLF, or LF LF), or 0 if it is not there yet. `scanned` carries
// how far earlier calls looked (start at 0; reset when buf[0] changes), so
// bytes arriving one at a time are not scanned again and again.
std::size_t find_head_end(std::string_view buf, std::size_t& scanned) noexcept;

// Parses a complete head (as delimited by find_head_end) into `out`, whose
// views point into `head`. Returns complete, bad_request or
// version_not_supported.
ParseStatus parse_head(std::string_view head, Request& out) noexcept;

// Both in one, for callers with all the bytes at hand (and tests): the head
// at the start of `buf` (after any leading empty lines), `*consumed` set to
// the bytes it took. too_large when there is no blank line within `limit`.
ParseStatus parse_request(std::string_view buf, Request& out, std::size_t* consumed,
                          std::size_t limit = kMaxHeadBytes) noexcept;

enum class PathStatus : std::uint8_t { ok, bad, forbidden };

// The path a request target names, percent-decoded and normalized into
// out[0..cap): origin form ("/a/b?q") or absolute form
// ("http://host/a/b"); query and fragment dropped, "//" and "/./" collapsed,
// a trailing '/' kept. forbidden for a ".." segment (before or after
// decoding), bad for anything that is not a path or decodes to NUL.
PathStatus decode_target(std::string_view target, char* out, std::size_t cap, std::size_t& len) noexcept;

} // namespace lanetcp::httpd
