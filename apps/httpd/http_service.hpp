// HTTP/1.1 on one lcore: accepts on the port, reads request heads into a
// fixed per-connection buffer, answers them in order (keep-alive,
// pipelining) from the shared Content, and closes politely: after a final
// response (Connection: close, an error) our FIN goes out, what still
// arrives is read and dropped until the peer's FIN (a lingering close, so
// that an RST does not destroy the response in the client's buffer).
// Each connection has one timer on the lcore's wheel (Lcore::timers(), a
// CallbackTimer), armed for the earliest of its deadlines, so they are kept
// whether or not the lcore has traffic:
//   - the request head: a connection that has not delivered a complete head
//     within the header timeout of starting to wait for it (from accept, or
//     from the first byte of the next request) gets 408 and is closed. More
//     bytes do not extend it: a client trickling a head (slowloris) holds a
//     connection for that long at most;
//   - idle: no traffic for the idle timeout (keep-alive between requests, or
//     a client that stopped reading): closed;
//   - lingering close: the peer's FIN did not come within kLingerNs.
//
// No allocation per request: sessions (with their buffers) are recycled
// through a free list; responses are copied straight into mbufs from the
// lcore's pool. Send queues may not take the pool's last quarter: TCP needs
// mbufs to send segments and ACKs, and with the pool all in send queues
// nothing would move. A response that finds the pool that low waits, and
// is resumed when acknowledgements have given mbufs back.
#pragma once

#include <boost/intrusive/list.hpp>
#include <cstdint>
#include <ctime>
#include <deque>
#include <memory>
#include <vector>

#include "httpd/content.hpp"
#include "httpd/http_counters.hpp"
#include "httpd/http_parser.hpp"
#include "httpd/http_response.hpp"
#include "stack/lcore.hpp"
#include "tcp/connection.hpp"
#include "tcp/tcp_layer.hpp"

namespace lanetcp::httpd {

class HttpService {
public:
    // How long a lingering close waits for the peer's FIN before closing anyway.
    static constexpr TimeNs kLingerNs = 2 * kNsPerSec;
    // Mbufs of the pool that responses leave to everything else.
    static constexpr unsigned kReserveDivisor = 4;
    // Responses up to this size take one mbuf and skip the reserve check.
    static constexpr std::uint64_t kOneMbuf = 2048;

    struct Timeouts {
        TimeNs idle = 60 * kNsPerSec;   // no traffic for that long: closed (0: never)
        TimeNs header = 20 * kNsPerSec; // no complete request head within that: 408, closed (0: never)
    };

    HttpService(Lcore& lcore, std::uint16_t port, const Content& content, Timeouts timeouts);
    ~HttpService();
    HttpService(const HttpService&) = delete;
    HttpService& operator=(const HttpService&) = delete;

    const HttpCounters& counters() const noexcept { return counters_; }

private:
    struct Session {
        HttpService* service = nullptr;
        tcp::Connection* conn = nullptr;
        // Unparsed request bytes are in[start, end); `scanned` is how far
        // find_head_end looked, from `start`.
        std::uint32_t start = 0, end = 0;
        std::size_t scanned = 0;
        std::uint64_t skip = 0;         // request body bytes still to drop
        std::deque<tcp::Chunk> held;    // came while `in` was full; not consumed yet
        // The response being queued: head, then body.
        std::uint32_t head_len = 0, head_sent = 0;
        const char* body = nullptr;
        std::uint64_t body_len = 0, body_sent = 0;
        std::uint32_t requests = 0;
        bool responding = false;
        bool close_after = false;       // final response: FIN after it
        bool peer_done = false;         // the peer's FIN came
        bool lingering = false;         // our FIN is queued; dropping input until the peer's
        TimeNs linger_since = 0;
        TimeNs last_active = 0;
        TimeNs head_deadline = 0;       // a complete request head is due by then (0: not waiting for one)
        CallbackTimer timer;            // at the earliest deadline (schedule())
        boost::intrusive::list_member_hook<> wait_hook; // waiting for mbufs
        char head[kMaxResponseHead];
        char in[kMaxHeadBytes];
    };
    using WaitList = boost::intrusive::list<
        Session, boost::intrusive::member_hook<Session, boost::intrusive::list_member_hook<>, &Session::wait_hook>>;

    static void on_accept(tcp::Connection& c, void* self);
    static void on_data(tcp::Connection& c, tcp::Chunk data, void* session);
    static void on_peer_fin(tcp::Connection& c, void* session);
    static void on_writable(tcp::Connection& c, void* session);
    static void on_closed(tcp::Connection& c, int error, void* session);
    static void on_timer(CallbackTimer& t, TimeNs now);

    // Parses and answers what is buffered, as far as the send buffer allows.
    // `s` may be gone afterwards.
    void run(Session& s);
    // Copies received bytes into `in` (what does not fit waits in `held`).
    void take(Session& s, tcp::Chunk& chunk);
    void refill(Session& s);
    void respond(Session& s, const Request& req, ParseStatus status);
    void respond_error(Session& s, int status);
    void start_response(Session& s, const ResponseHead& head, const char* body, std::uint64_t body_len);
    // Queues the response; false while it has not all gone (or `s` ended).
    bool pump(Session& s);
    // Mbufs responses may still take from the pool.
    std::uint32_t buffer_budget() const noexcept;
    bool wait_for_buffers(Session& s);
    // Resumes responses that waited for mbufs, while there are some.
    void resume_waiting();
    // After every callback: responses that waited for mbufs.
    void housekeeping();
    void linger(Session& s);
    void touch(Session& s);
    // Waiting for (more of) a request head: starts its deadline unless it runs.
    void await_head(Session& s);
    // Arms the session's timer for its earliest deadline.
    void schedule(Session& s);
    // The session's timer fired: whichever deadline is due.
    void expire(Session& s, TimeNs now);
    void head_timed_out(Session& s);
    void drop_held(Session& s);

    Session* acquire();
    void release(Session& s);
    std::string_view date();

    static const tcp::ConnectionHandler kHandler;
    Lcore& lcore_;
    const Content& content_;
    tcp::Listener* listener_ = nullptr;
    HttpCounters counters_;
    std::vector<std::unique_ptr<Session>> sessions_; // every session ever made
    std::vector<Session*> free_;
    Timeouts timeouts_;
    WaitList waiting_;                               // in the order they ran out
    std::uint32_t reserve_ = 0;                      // kept free for TCP
    std::time_t date_time_ = 0;
    char date_[kDateLength] = {};
    char path_[kMaxHeadBytes + 16];                  // decoded target
};

} // namespace lanetcp::httpd
