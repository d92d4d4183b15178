// lanetcp-perf-linux: lanetcp-perf's protocol and logic over POSIX sockets
// and epoll, one thread, no DPDK: a Linux server for lanetcp-perf clients,
// a Linux client for lanetcp-perf servers, and Linux against itself for
// comparison (lanetcp-bench).
//
//   lanetcp-perf-linux --server [--port 5201]
//   lanetcp-perf-linux --client 10.9.0.2 --mode crr --connections 64 --seconds 5 --json out.json
//
// Exit codes: 0 the run completed as the protocol says, 1 it did not, 2 bad arguments.

#include <fmt/format.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "perf/options.hpp"
#include "perf/protocol.hpp"
#include "perf/results.hpp"
#include "perf/session.hpp"

namespace {

using namespace lanetcp::perf;

constexpr const char* kName = "lanetcp-perf-linux";
volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_signal(int) { g_stop = 1; }

std::uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

alignas(64) std::uint8_t g_rx[256 * 1024];

void set_nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// TCP_CONGESTION; throws when the kernel refuses the name (a module that is
// neither built in nor loaded, or not in tcp_allowed_congestion_control).
// A namespace inherits the host's net.ipv4.tcp_congestion_control, which is
// not necessarily lanetcp's default (CUBIC), so comparisons set it.
void set_congestion_control(int fd, const std::string& name) {
    if (setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name.data(), static_cast<socklen_t>(name.size())) != 0)
        throw std::runtime_error(fmt::format("TCP_CONGESTION {}: {} (see /proc/sys/net/ipv4/tcp_available_congestion_control)",
                                             name, std::strerror(errno)));
}

// Writes what it can of [data, data+len); returns bytes written, 0 when the
// socket is full, -1 on error.
long write_some(int fd, const std::uint8_t* data, std::size_t len) {
    for (;;) {
        const ssize_t n = ::send(fd, data, len, MSG_NOSIGNAL);
        if (n >= 0) return n;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        return -1;
    }
}

// ------------------------------------------------------------------ server ---

struct ServerConn {
    int fd = -1;
    ServerProtocol proto;
    std::uint64_t to_send = 0;
    std::uint8_t trailer[kBulkTrailerSize]{};
    std::uint32_t trailer_left = 0;
    bool close_when_sent = false;
    bool want_out = false;
};

struct ServerTotals {
    std::uint64_t bytes = 0, requests = 0, connections = 0, bad = 0;
};

class Server {
public:
    Server(std::uint16_t port, const std::string& congestion_control) {
        ep_ = epoll_create1(0);
        lfd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        set_congestion_control(lfd_, congestion_control); // accepted sockets inherit it
        int one = 1;
        setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_ANY);
        if (bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(lfd_, 4096) != 0)
            throw std::runtime_error(fmt::format("cannot listen on TCP port {}: {}", port, std::strerror(errno)));
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = lfd_;
        epoll_ctl(ep_, EPOLL_CTL_ADD, lfd_, &ev);
    }
    ~Server() {
        for (auto& c : conns_)
            if (c.fd >= 0) close(c.fd);
        close(lfd_);
        close(ep_);
    }

    void run(bool quiet) {
        epoll_event events[256];
        std::uint64_t next = now_ns() + 1'000'000'000ull, t0 = now_ns();
        std::uint64_t last_bytes = 0, last_req = 0;
        while (!g_stop) {
            const int n = epoll_wait(ep_, events, 256, 100);
            for (int i = 0; i < n; ++i) {
                if (events[i].data.fd == lfd_) accept_all();
                else handle(conns_[static_cast<std::size_t>(events[i].data.fd)], events[i].events);
            }
            const std::uint64_t t = now_ns();
            if (t >= next) {
                if (!quiet) {
                    fmt::print("{} (received)\n",
                               format_progress(last_mode_, static_cast<double>(t - t0) / 1e9,
                                               1.0 + static_cast<double>(t - next) / 1e9, totals_.bytes - last_bytes,
                                               totals_.requests - last_req));
                    std::fflush(stdout);
                }
                last_bytes = totals_.bytes;
                last_req = totals_.requests;
                next = t + 1'000'000'000ull;
            }
        }
    }
    const ServerTotals& totals() const { return totals_; }

private:
    void accept_all() {
        for (;;) {
            const int fd = accept4(lfd_, nullptr, nullptr, SOCK_NONBLOCK);
            if (fd < 0) return;
            set_nodelay(fd);
            if (conns_.size() <= static_cast<std::size_t>(fd)) conns_.resize(static_cast<std::size_t>(fd) * 2 + 64);
            ServerConn& c = conns_[static_cast<std::size_t>(fd)];
            c = ServerConn{};
            c.fd = fd;
            ++totals_.connections;
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.fd = fd;
            epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
        }
    }

    void finish(ServerConn& c) {
        epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
        close(c.fd);
        c.fd = -1;
    }

    void handle(ServerConn& c, std::uint32_t events) {
        if (c.fd < 0) return;
        if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
            for (;;) {
                const ssize_t n = ::recv(c.fd, g_rx, sizeof g_rx, 0);
                if (n > 0) {
                    totals_.bytes += static_cast<std::uint64_t>(n);
                    const ServerFeed f = feed_server(c.proto, g_rx, static_cast<std::size_t>(n));
                    totals_.requests += f.requests;
                    if (f.bad) {
                        ++totals_.bad;
                        return finish(c);
                    }
                    c.to_send += f.response_bytes;
                    if (f.close) c.close_when_sent = true;
                    if (c.proto.have_header()) last_mode_ = c.proto.header().mode;
                    if (static_cast<std::size_t>(n) < sizeof g_rx) break;
                    continue;
                }
                if (n == 0) { // the peer's FIN
                    if (c.proto.have_header() && c.proto.header().mode == Mode::bulk) {
                        store_be64(c.trailer, c.proto.payload_bytes());
                        c.trailer_left = kBulkTrailerSize;
                    }
                    c.close_when_sent = true;
                    break;
                }
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) break;
                return finish(c);
            }
        }
        flush(c);
    }

    void flush(ServerConn& c) {
        while (c.to_send > 0) {
            const long n = write_some(c.fd, pattern(), static_cast<std::size_t>(std::min<std::uint64_t>(c.to_send, kPatternSize)));
            if (n < 0) return finish(c);
            if (n == 0) return want(c, true);
            c.to_send -= static_cast<std::uint64_t>(n);
        }
        while (c.trailer_left > 0) {
            const long n = write_some(c.fd, c.trailer + (kBulkTrailerSize - c.trailer_left), c.trailer_left);
            if (n < 0) return finish(c);
            if (n == 0) return want(c, true);
            c.trailer_left -= static_cast<std::uint32_t>(n);
        }
        if (c.close_when_sent) return finish(c);
        want(c, false);
    }

    void want(ServerConn& c, bool out) {
        if (c.want_out == out) return;
        c.want_out = out;
        epoll_event ev{};
        ev.events = EPOLLIN | (out ? EPOLLOUT : 0u);
        ev.data.fd = c.fd;
        epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    }

    int ep_ = -1;
    int lfd_ = -1;
    std::vector<ServerConn> conns_;
    ServerTotals totals_;
    Mode last_mode_ = Mode::bulk;
};

// ------------------------------------------------------------------ client ---

class Client {
public:
    Client(const sockaddr_in& remote, const ClientOptions& o, std::string congestion_control)
        : remote_(remote), o_(o), congestion_control_(std::move(congestion_control)), slots_(o.connections) {
        ep_ = epoll_create1(0);
        // Fail at start-up, not on every connection, when the name is refused.
        const int probe = socket(AF_INET, SOCK_STREAM, 0);
        try {
            set_congestion_control(probe, congestion_control_);
        } catch (...) {
            close(probe);
            close(ep_);
            throw;
        }
        close(probe);
    }
    ~Client() {
        for (auto& s : slots_)
            if (s.fd >= 0) close(s.fd);
        close(ep_);
    }

    void run() {
        started_ = now_ns();
        const bool bounded = o_.mode == Mode::bulk ? o_.bytes > 0 : o_.transactions > 0;
        deadline_ = bounded ? 0 : started_ + static_cast<std::uint64_t>(o_.seconds * 1e9);
        const auto n = static_cast<std::uint64_t>(slots_.size());
        for (std::size_t i = 0; i < slots_.size(); ++i) {
            Slot& s = slots_[i];
            if (o_.mode == Mode::bulk) {
                s.budget = bulk_budget(o_.bytes, n, i);
                if (s.budget == 0) continue;
            } else if (o_.mode == Mode::crr && !claim()) {
                break;
            }
            open(s);
        }
        epoll_event events[256];
        std::uint64_t next = started_ + 1'000'000'000ull, last_bytes = 0, last_tx = 0;
        const std::uint64_t hard = started_ + static_cast<std::uint64_t>((bounded ? 120 : o_.seconds + 30) * 1e9);
        while (active_ > 0 && !g_stop) {
            const int k = epoll_wait(ep_, events, 256, 50);
            for (int i = 0; i < k; ++i) io(*static_cast<Slot*>(events[i].data.ptr), events[i].events);
            const std::uint64_t t = now_ns();
            tick(t);
            if (t > hard) break;
            if (t >= next) {
                if (!o_.quiet) {
                    fmt::print("{}\n", format_progress(o_.mode, static_cast<double>(t - started_) / 1e9,
                                                       1.0 + static_cast<double>(t - next) / 1e9, sent_ - last_bytes,
                                                       completed_ - last_tx));
                    std::fflush(stdout);
                }
                last_bytes = sent_;
                last_tx = completed_;
                next = t + 1'000'000'000ull;
            }
        }
        finished_ = now_ns();
    }

    Results results() const {
        Results r = client_results("linux", o_, static_cast<std::uint32_t>(slots_.size()),
                                   static_cast<double>(finished_ - started_) / 1e9,
                                   {confirmed_, sent_, completed_, opened_, errors_, mss_}, latency_,
                                   active_ == 0 && errors_ == 0);
        r.congestion_control = congestion_control_;
        return r;
    }

private:
    struct Slot {
        int fd = -1;
        bool connecting = false;
        bool want_out = false;
        std::uint64_t sent = 0, budget = 0;
        std::uint32_t header_left = 0, request_left = 0, response_left = 0;
        std::uint8_t trailer[kBulkTrailerSize]{};
        std::uint32_t trailer_got = 0;
        std::uint64_t started = 0;
        bool shut = false, in_transaction = false;
    };

    bool claim() { return claim_transaction(stopping_, o_.transactions, issued_); }

    void open(Slot& s) {
        const std::uint64_t budget = s.budget;
        s = Slot{};
        s.budget = budget;
        s.started = now_ns();
        s.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (s.fd < 0) {
            ++errors_;
            return;
        }
        if (o_.mode != Mode::bulk) set_nodelay(s.fd);
        setsockopt(s.fd, IPPROTO_TCP, TCP_CONGESTION, congestion_control_.data(),
                   static_cast<socklen_t>(congestion_control_.size())); // checked in the constructor
        if (connect(s.fd, reinterpret_cast<const sockaddr*>(&remote_), sizeof remote_) != 0 && errno != EINPROGRESS) {
            close(s.fd);
            s.fd = -1;
            ++errors_;
            return;
        }
        s.connecting = true;
        s.want_out = true;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT;
        ev.data.ptr = &s;
        epoll_ctl(ep_, EPOLL_CTL_ADD, s.fd, &ev);
        ++active_;
        ++opened_;
    }

    void end(Slot& s, bool ok) {
        if (!ok) ++errors_;
        epoll_ctl(ep_, EPOLL_CTL_DEL, s.fd, nullptr);
        close(s.fd);
        s.fd = -1;
        --active_;
    }

    void want(Slot& s, bool out) {
        if (s.want_out == out) return;
        s.want_out = out;
        epoll_event ev{};
        ev.events = EPOLLIN | (out ? EPOLLOUT : 0u);
        ev.data.ptr = &s;
        epoll_ctl(ep_, EPOLL_CTL_MOD, s.fd, &ev);
    }

    void begin(Slot& s) {
        s.request_left = o_.request_size;
        s.response_left = o_.response_size;
        s.in_transaction = true;
        if (o_.mode == Mode::rr) s.started = now_ns();
    }

    void shut(Slot& s) {
        if (s.shut) return;
        s.shut = true;
        ::shutdown(s.fd, SHUT_WR);
    }

    // false: the connection failed and is gone
    bool push(Slot& s) {
        if (s.header_left > 0) {
            std::uint8_t h[kHeaderSize];
            encode(Header{o_.mode, o_.request_size, o_.response_size}, h);
            const long n = write_some(s.fd, h + (kHeaderSize - s.header_left), s.header_left);
            if (n < 0) return false;
            s.header_left -= static_cast<std::uint32_t>(n);
            if (s.header_left > 0) {
                want(s, true);
                return true;
            }
        }
        if (o_.mode == Mode::bulk) {
            while (!stopping_ && !s.shut && s.sent < s.budget) {
                const auto at = static_cast<std::size_t>(s.sent % kPatternSize);
                const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(s.budget - s.sent, kPatternSize - at));
                const long n = write_some(s.fd, pattern() + at, len);
                if (n < 0) return false;
                if (n == 0) {
                    want(s, true);
                    return true;
                }
                s.sent += static_cast<std::uint64_t>(n);
                sent_ += static_cast<std::uint64_t>(n);
            }
            shut(s);
            want(s, false);
            return true;
        }
        while (s.request_left > 0) {
            const long n = write_some(s.fd, pattern(), std::min<std::size_t>(s.request_left, kPatternSize));
            if (n < 0) return false;
            if (n == 0) {
                want(s, true);
                return true;
            }
            s.request_left -= static_cast<std::uint32_t>(n);
        }
        want(s, false);
        return true;
    }

    void io(Slot& s, std::uint32_t events) {
        if (s.fd < 0) return;
        if (s.connecting) {
            if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0) return end(s, false);
            s.connecting = false;
            if (mss_ == 0) {
                int mss = 0;
                socklen_t ml = sizeof mss;
                if (getsockopt(s.fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &ml) == 0) mss_ = static_cast<std::uint32_t>(mss);
            }
            s.header_left = kHeaderSize;
            if (o_.mode == Mode::crr) begin(s);
            else if (o_.mode == Mode::rr && claim()) begin(s);
            if (!push(s)) return end(s, false);
            if (o_.mode == Mode::rr && !s.in_transaction) shut(s);
        } else if (events & EPOLLOUT) {
            if (!push(s)) return end(s, false);
        }
        if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
        for (;;) {
            const ssize_t n = ::recv(s.fd, g_rx, sizeof g_rx, 0);
            if (n > 0) {
                const auto len = static_cast<std::uint32_t>(n);
                if (o_.mode == Mode::bulk) {
                    if (s.trailer_got + len > kBulkTrailerSize) return end(s, false);
                    std::memcpy(s.trailer + s.trailer_got, g_rx, len);
                    s.trailer_got += len;
                    continue;
                }
                if (!s.in_transaction || len > s.response_left) return end(s, false);
                s.response_left -= len;
                if (s.response_left > 0) continue;
                const std::uint64_t t = now_ns();
                s.in_transaction = false;
                latency_.record(t - s.started);
                ++completed_;
                if (o_.mode == Mode::rr) {
                    if (claim()) {
                        begin(s);
                        if (!push(s)) return end(s, false);
                    } else {
                        shut(s);
                    }
                }
                continue;
            }
            if (n == 0) { // the server's FIN
                const bool ok = fin_ok(o_.mode, {s.shut, s.trailer, s.trailer_got, s.sent, s.in_transaction}, confirmed_);
                end(s, ok);
                if (ok && o_.mode == Mode::crr && claim()) open(s);
                return;
            }
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            return end(s, false);
        }
    }

    void tick(std::uint64_t t) {
        if (stopping_ || deadline_ == 0 || t < deadline_) return;
        stopping_ = true;
        for (auto& s : slots_) {
            if (s.fd < 0 || s.connecting) continue;
            if (shut_at_deadline(o_.mode, s.in_transaction)) shut(s);
        }
    }

    sockaddr_in remote_;
    ClientOptions o_;
    std::string congestion_control_;
    std::vector<Slot> slots_;
    int ep_ = -1;
    std::uint32_t active_ = 0;
    std::uint64_t issued_ = 0, sent_ = 0, confirmed_ = 0, completed_ = 0, errors_ = 0, opened_ = 0;
    std::uint32_t mss_ = 0;
    bool stopping_ = false;
    std::uint64_t started_ = 0, deadline_ = 0, finished_ = 0;
    Histogram latency_;
};

} // namespace

int main(int argc, char** argv) {
    CommonFlags flags;
    std::uint16_t port = 5201;
    std::string congestion_control = "cubic";
    CLI::App app{"lanetcp-perf-linux: lanetcp-perf's protocol over Linux sockets (bulk, rr, crr)", kName};
    add_common_flags(app, flags);
    app.add_option("--port", port, "TCP port to serve or connect to (default 5201)")->check(CLI::Range(1, 65535));
    app.add_option("--congestion-control", congestion_control,
                   "Linux congestion control for every socket (TCP_CONGESTION; default cubic, as lanetcp's default; "
                   "a namespace otherwise inherits the host's)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    if (flags.server == !flags.client.empty()) {
        fmt::print(stderr, "{}: error: give exactly one of --server, --client ADDR\n", kName);
        return 2;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGPIPE, SIG_IGN);
    try {
        if (flags.server) {
            Server server(port, congestion_control);
            fmt::print("{}: serving bulk, rr and crr on port {}, congestion control {}\n", kName, port,
                       congestion_control);
            std::fflush(stdout);
            server.run(flags.quiet);
            const ServerTotals& t = server.totals();
            return report_server(kName, "linux", t.connections, t.bytes, t.requests, t.bad, flags.json);
        }
        const std::optional<ClientOptions> parsed = client_options_or_complain(kName, flags);
        if (!parsed) return 2;
        const ClientOptions& options = *parsed;
        sockaddr_in remote{};
        remote.sin_family = AF_INET;
        remote.sin_port = htons(port);
        if (inet_pton(AF_INET, flags.client.c_str(), &remote.sin_addr) != 1) {
            fmt::print(stderr, "{}: error: --client {}: not an IPv4 address\n", kName, flags.client);
            return 2;
        }
        Client client(remote, options, congestion_control);
        fmt::print("{}: {} to {}:{}, {} connection(s), congestion control {}\n", kName, to_string(options.mode),
                   flags.client, port, options.connections, congestion_control);
        std::fflush(stdout);
        client.run();
        return report_client(kName, client.results(), flags.json);
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}: error: {}\n", kName, e.what());
        return 1;
    }
}
