// lanetcp-httpd's request parser and response formatting.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "httpd/http_parser.hpp"
#include "httpd/http_response.hpp"

using namespace lanetcp::httpd;
using namespace std::string_literals;

namespace {

ParseStatus parse(std::string_view text, Request& r, std::size_t* used = nullptr) {
    std::size_t consumed = 0;
    const ParseStatus s = parse_request(text, r, &consumed);
    if (used != nullptr) *used = consumed;
    return s;
}

std::string decode(std::string_view target, PathStatus expect = PathStatus::ok) {
    char out[256];
    std::size_t len = 0;
    EXPECT_EQ(decode_target(target, out, sizeof out, len), expect) << target;
    return std::string(out, len);
}

} // namespace

TEST(HttpParser, SimpleGet) {
    Request r;
    std::size_t used = 0;
    const std::string req = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_EQ(parse(req, r, &used), ParseStatus::complete);
    EXPECT_EQ(used, req.size());
    EXPECT_EQ(r.method, Method::get);
    EXPECT_EQ(r.target, "/index.html");
    EXPECT_EQ(r.version_minor, 1);
    EXPECT_TRUE(r.keep_alive);
    EXPECT_EQ(r.content_length, 0u);
}

TEST(HttpParser, HeadAndOtherMethods) {
    Request r;
    ASSERT_EQ(parse("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", r), ParseStatus::complete);
    EXPECT_EQ(r.method, Method::head);
    ASSERT_EQ(parse("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", r), ParseStatus::complete);
    EXPECT_EQ(r.method, Method::other);
    EXPECT_EQ(r.method_name, "POST");
    EXPECT_EQ(r.content_length, 5u);
    // Methods are case-sensitive: "get" is some other method.
    ASSERT_EQ(parse("get / HTTP/1.1\r\nHost: x\r\n\r\n", r), ParseStatus::complete);
    EXPECT_EQ(r.method, Method::other);
}

TEST(HttpParser, KeepAliveRules) {
    Request r;
    ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", r), ParseStatus::complete);
    EXPECT_FALSE(r.keep_alive);
    ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nconnection: Keep-Alive, CLOSE\r\n\r\n", r), ParseStatus::complete);
    EXPECT_FALSE(r.keep_alive);
    ASSERT_EQ(parse("GET / HTTP/1.0\r\n\r\n", r), ParseStatus::complete);
    EXPECT_EQ(r.version_minor, 0);
    EXPECT_FALSE(r.keep_alive);
    ASSERT_EQ(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", r), ParseStatus::complete);
    EXPECT_TRUE(r.keep_alive);
    ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\n\r\n", r), ParseStatus::complete);
    EXPECT_TRUE(r.keep_alive);
}

TEST(HttpParser, BareLfAndLeadingEmptyLines) {
    Request r;
    std::size_t used = 0;
    ASSERT_EQ(parse("\r\n\nGET / HTTP/1.1\nHost: x\n\n", r, &used), ParseStatus::complete);
    EXPECT_EQ(used, 3u + 15u + 8u + 1u); // empty lines, request line, Host, blank line
    EXPECT_EQ(r.target, "/");
}

TEST(HttpParser, Incomplete) {
    Request r;
    EXPECT_EQ(parse("", r), ParseStatus::incomplete);
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\n", r), ParseStatus::incomplete);
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\n\r", r), ParseStatus::incomplete);
}

TEST(HttpParser, PipelinedTakesOnlyTheFirst) {
    Request r;
    std::size_t used = 0;
    const std::string one = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
    const std::string two = one + "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_EQ(parse(two, r, &used), ParseStatus::complete);
    EXPECT_EQ(used, one.size());
    EXPECT_EQ(r.target, "/a");
}

TEST(HttpParser, SplitAtEveryByte) {
    // find_head_end fed one more byte at a time finds the end exactly once,
    // at the right place, whatever the line endings.
    for (const std::string& req : {"GET /x HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n"s,
                                  "GET /x HTTP/1.1\nHost: a\n\n"s}) {
        std::size_t scanned = 0, found_at = 0;
        for (std::size_t n = 1; n <= req.size(); ++n) {
            const std::size_t end = find_head_end(std::string_view(req).substr(0, n), scanned);
            if (end != 0) {
                EXPECT_EQ(found_at, 0u);
                found_at = n;
                EXPECT_EQ(end, req.size());
                break;
            }
            EXPECT_LE(scanned, n);
        }
        EXPECT_EQ(found_at, req.size());
        Request r;
        EXPECT_EQ(parse_head(req, r), ParseStatus::complete);
        EXPECT_EQ(r.target, "/x");
    }
}

TEST(HttpParser, BadRequests) {
    Request r;
    for (const std::string& bad : {
             "GARBAGE\r\n\r\n"s,
             "GET /\r\n\r\n"s,                               // HTTP/0.9 form
             "GET  / HTTP/1.1\r\nHost: x\r\n\r\n"s,          // two spaces
             "GET / HTTP/1.1 \r\nHost: x\r\n\r\n"s,          // trailing space
             "GET / HTTP/x.1\r\nHost: x\r\n\r\n"s,
             "GET / HTTP/1.10\r\nHost: x\r\n\r\n"s,
             "GET / http/1.1\r\nHost: x\r\n\r\n"s,
             "G(T / HTTP/1.1\r\nHost: x\r\n\r\n"s,          // not a token
             "GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n"s,      // control in target
             "GET / HTTP/1.1\r\n\r\n"s,                      // no Host in 1.1
             "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n"s,
             "GET / HTTP/1.1\r\nHost : x\r\n\r\n"s,          // space before colon
             "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n"s,
             "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n"s,
             "GET / HTTP/1.1\r\nHost: x\r\n: empty\r\n\r\n"s,
             "GET / HTTP/1.1\r\nHost: x\rY\r\n\r\n"s,        // bare CR
             "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"s,
             "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n"s,
             "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n"s,
             "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"s,
             "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"s,
             "GET / HTTP/1.1\r\nHost: x\r\nX: a\x7f\r\n\r\n"s,
         }) {
        EXPECT_EQ(parse(bad, r), ParseStatus::bad_request) << bad;
    }
}

TEST(HttpParser, VersionNotSupported) {
    Request r;
    EXPECT_EQ(parse("GET / HTTP/2.0\r\nHost: x\r\n\r\n", r), ParseStatus::version_not_supported);
    EXPECT_EQ(parse("GET / HTTP/0.9\r\n\r\n", r), ParseStatus::version_not_supported);
    ASSERT_EQ(parse("GET / HTTP/1.2\r\nHost: x\r\n\r\n", r), ParseStatus::complete);
    EXPECT_EQ(r.version_minor, 1);
}

TEST(HttpParser, TransferEncodingFlagged) {
    Request r;
    ASSERT_EQ(parse("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", r), ParseStatus::complete);
    EXPECT_TRUE(r.transfer_encoding);
}

TEST(HttpParser, TooLarge) {
    Request r;
    const std::string big = "GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(kMaxHeadBytes, 'a');
    EXPECT_EQ(parse(big, r), ParseStatus::too_large);
    EXPECT_EQ(parse(big + "\r\n\r\n", r), ParseStatus::too_large);
    // Exactly at the limit is fine.
    std::string fits = "GET / HTTP/1.1\r\nHost: x\r\nX: ";
    fits += std::string(kMaxHeadBytes - fits.size() - 4, 'b') + "\r\n\r\n";
    ASSERT_EQ(fits.size(), kMaxHeadBytes);
    EXPECT_EQ(parse(fits, r), ParseStatus::complete);
}

TEST(HttpParser, HeaderValuesTrimmed) {
    Request r;
    ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: \t 12 \t\r\n\r\n", r), ParseStatus::complete);
    EXPECT_EQ(r.content_length, 12u);
    ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\nContent-Length: 7\r\n\r\n", r),
              ParseStatus::complete);
    EXPECT_EQ(r.content_length, 7u);
}

TEST(DecodeTarget, Normalizes) {
    EXPECT_EQ(decode("/"), "/");
    EXPECT_EQ(decode("/a/b.txt"), "/a/b.txt");
    EXPECT_EQ(decode("/a/b.txt?x=1#f"), "/a/b.txt");
    EXPECT_EQ(decode("/a//b/./c"), "/a/b/c");
    EXPECT_EQ(decode("/a/"), "/a/");
    EXPECT_EQ(decode("/a/."), "/a/");
    EXPECT_EQ(decode("//"), "/");
    EXPECT_EQ(decode("/%61%62c"), "/abc");
    EXPECT_EQ(decode("/a%20b"), "/a b");
    EXPECT_EQ(decode("/...x"), "/...x");
    EXPECT_EQ(decode("/..."), "/...");
    EXPECT_EQ(decode("http://example.com/x/y?q"), "/x/y");
    EXPECT_EQ(decode("HTTP://example.com"), "/");
    EXPECT_EQ(decode("/?q=/../"), "/");
}

TEST(DecodeTarget, RejectsTraversalAndJunk) {
    decode("/../etc/passwd", PathStatus::forbidden);
    decode("/a/../../b", PathStatus::forbidden);
    decode("/a/..", PathStatus::forbidden);
    decode("/%2e%2e/etc/passwd", PathStatus::forbidden);
    decode("/.%2E/x", PathStatus::forbidden);
    decode("/a%2f..%2fb", PathStatus::forbidden);
    decode("/a\\b", PathStatus::forbidden);
    decode("/a%5c..", PathStatus::forbidden);
    decode("/a%00b", PathStatus::bad);
    decode("/a%zz", PathStatus::bad);
    decode("/a%4", PathStatus::bad);
    decode("/a%", PathStatus::bad);
    decode("a/b", PathStatus::bad);
    decode("*", PathStatus::bad);
}

TEST(DecodeTarget, TooLongForTheBuffer) {
    char out[8];
    std::size_t len = 0;
    EXPECT_EQ(decode_target("/abcdefghij", out, sizeof out, len), PathStatus::bad);
    EXPECT_EQ(decode_target("/abcdef", out, sizeof out, len), PathStatus::ok);
    EXPECT_EQ(std::string(out, len), "/abcdef");
}

TEST(HttpResponse, Head) {
    char buf[kMaxResponseHead];
    ResponseHead h;
    h.status = 200;
    h.content_type = "text/plain";
    h.content_length = 128;
    const std::size_t n = format_head(h, buf, sizeof buf);
    EXPECT_EQ(std::string(buf, n),
              "HTTP/1.1 200 OK\r\nServer: lanetcp\r\nContent-Type: text/plain\r\nContent-Length: 128\r\n\r\n");
    h.status = 405;
    h.keep_alive = false;
    h.allow = true;
    h.date = "Sun, 06 Nov 1994 08:49:37 GMT";
    const std::string text(buf, format_head(h, buf, sizeof buf));
    EXPECT_NE(text.find("HTTP/1.1 405 Method Not Allowed\r\n"), std::string::npos);
    EXPECT_NE(text.find("\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"), std::string::npos);
    EXPECT_NE(text.find("\r\nAllow: GET, HEAD\r\n"), std::string::npos);
    EXPECT_NE(text.find("\r\nConnection: close\r\n\r\n"), std::string::npos);
    h.keep_alive = true;
    h.http10 = true;
    EXPECT_NE(std::string(buf, format_head(h, buf, sizeof buf)).find("\r\nConnection: keep-alive\r\n"),
              std::string::npos);
    EXPECT_EQ(format_head(h, buf, 20), 0u); // does not fit
}

TEST(HttpResponse, DateAndTypes) {
    char d[kDateLength];
    format_date(784111777, d);
    EXPECT_EQ(std::string(d, kDateLength), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(content_type_for("/a/index.HTML"), "text/html; charset=utf-8");
    EXPECT_EQ(content_type_for("/x.png"), "image/png");
    EXPECT_EQ(content_type_for("/noext"), "application/octet-stream");
    EXPECT_EQ(content_type_for("/dir.d/noext"), "application/octet-stream");
    EXPECT_EQ(content_type_for("/x."), "application/octet-stream");
    EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
    EXPECT_EQ(error_body(404), "404 Not Found\n");
}
